//! What a failed write says about the data directory: full (answered 507) or read-only (503), as opposed to
//! any other I/O failure (an opaque 500). The blob store sees the operating system's error; SQLite reports
//! some causes only as a generic I/O error (a volume the kernel turned read-only under an open database), so
//! for those the directory itself is asked, by writing a small probe file.

use std::io::{self, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    /// No space (or quota) left on the data directory's volume.
    Full,
    /// The data directory's volume is read-only, or the directory is not writable by arca.
    ReadOnly,
}

/// The fault an operating-system error names, if it names one.
pub fn of_io(e: &io::Error) -> Option<StorageFault> {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Some(StorageFault::Full),
        io::ErrorKind::ReadOnlyFilesystem => Some(StorageFault::ReadOnly),
        _ => None,
    }
}

/// Whether `dir` takes a new page of data right now: writes and removes a probe file. `None` when it does
/// (the failure had another cause). Kernels that turn a volume read-only after an error may leave its
/// mount flags `rw`, so asking `statvfs` would not tell.
pub fn probe(dir: &Path) -> Option<StorageFault> {
    let path = dir.join(format!(".arca-probe-{}", crate::domain::new_hex_id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut file| file.write_all(&[0u8; 4096]));
    let _ = std::fs::remove_file(&path);
    match written {
        Ok(()) => None,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Some(StorageFault::ReadOnly),
        Err(e) => of_io(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_fault() {
        let full = io::Error::from(io::ErrorKind::StorageFull);
        let read_only = io::Error::from(io::ErrorKind::ReadOnlyFilesystem);
        assert_eq!(of_io(&full), Some(StorageFault::Full));
        assert_eq!(of_io(&read_only), Some(StorageFault::ReadOnly));
        assert_eq!(of_io(&io::Error::other("x")), None);
    }

    #[test]
    fn a_writable_directory_has_no_fault_and_keeps_no_probe() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(probe(dir.path()), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(
            probe(&dir.path().join("missing")),
            None,
            "a missing directory is not a storage fault"
        );
    }
}
