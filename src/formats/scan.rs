//! Offline checks of an uploaded file (`list_sec_guard_list`; README "Security scans"): archive entries
//! that escape the extraction root, links inside archives, compression bombs (by ratio and by size), and
//! secrets left in the bytes (private keys, cloud access key ids). Pure: callers hand a reader, these
//! functions answer findings. Every read is bounded, so a hostile file costs at most the limits.

use std::io::Read;

use flate2::read::{DeflateDecoder, GzDecoder};
use rawzip::{CompressionMethod, ReaderAt, ZipLocator, RECOMMENDED_BUFFER_SIZE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// `path_traversal`, `link`, `compression_bomb`, `private_key`, `cloud_access_key`,
    /// `unreadable_archive`, `checksum_mismatch`.
    pub kind: &'static str,
    /// The archive entry concerned; empty for the file itself.
    pub entry: String,
}

/// Bounds on what one scan reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Unpacked bytes per packed byte beyond which an archive is a bomb (once past `ratio_floor`).
    pub max_ratio: u64,
    pub ratio_floor: u64,
    /// Unpacked bytes beyond which an archive is a bomb whatever its ratio.
    pub max_unpacked: u64,
    /// Bytes of one entry (or of a plain file) searched for secrets.
    pub max_entry_scan: u64,
    /// Bytes of all entries searched for secrets.
    pub max_total_scan: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_ratio: 100,
            ratio_floor: 1 << 20,
            max_unpacked: 4 << 30,
            max_entry_scan: 4 << 20,
            max_total_scan: 64 << 20,
        }
    }
}

/// How a file is read, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    TarGz,
    Tar,
    Gzip,
    Plain,
}

pub fn kind_of(name: &str) -> Kind {
    let lower = name.to_ascii_lowercase();
    let ends = |exts: &[&str]| exts.iter().any(|e| lower.ends_with(e));
    if ends(&[
        ".zip", ".jar", ".war", ".ear", ".aar", ".whl", ".nupkg", ".apk",
    ]) {
        Kind::Zip
    } else if ends(&[".tgz", ".tar.gz", ".crate"]) {
        Kind::TarGz
    } else if ends(&[".tar"]) {
        Kind::Tar
    } else if ends(&[".gz"]) {
        Kind::Gzip
    } else {
        Kind::Plain
    }
}

/// Whether an entry name would land outside the directory it is extracted into.
pub fn escapes_root(name: &str) -> bool {
    let name = name.replace('\\', "/");
    name.starts_with('/')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split('/').any(|segment| segment == "..")
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The kinds of secret `data` holds: a PEM private key, an AWS access key id (`AKIA`/`ASIA` and 16
/// upper-case letters or digits).
pub fn secrets_in(data: &[u8]) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    let mut at = 0;
    while let Some(i) = find(data, b"-----BEGIN ", at) {
        let window = &data[i..data.len().min(i + 64)];
        if find(window, b"PRIVATE KEY-----", 0).is_some() {
            kinds.push("private_key");
            break;
        }
        at = i + 1;
    }
    let is_key_char = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    for start in 0..data.len().saturating_sub(19) {
        let prefix = &data[start..start + 4];
        if (prefix == b"AKIA" || prefix == b"ASIA")
            && data[start + 4..start + 20].iter().all(is_key_char)
            && data.get(start + 20).is_none_or(|b| !is_key_char(b))
            && (start == 0 || !is_key_char(&data[start - 1]))
        {
            kinds.push("cloud_access_key");
            break;
        }
    }
    kinds
}

fn secret_findings(data: &[u8], entry: &str, out: &mut Vec<Finding>) {
    for kind in secrets_in(data) {
        out.push(Finding {
            severity: Severity::High,
            kind,
            entry: entry.to_string(),
        });
    }
}

fn finding(severity: Severity, kind: &'static str, entry: &str) -> Finding {
    Finding {
        severity,
        kind,
        entry: entry.to_string(),
    }
}

/// A plain file: secrets in its first `max_entry_scan` bytes.
pub fn scan_plain<R: Read>(reader: R, limits: &Limits) -> std::io::Result<Vec<Finding>> {
    let mut bytes = Vec::new();
    reader.take(limits.max_entry_scan).read_to_end(&mut bytes)?;
    let mut out = Vec::new();
    secret_findings(&bytes, "", &mut out);
    Ok(out)
}

/// A zip (jar, wheel…) of `len` bytes.
pub fn scan_zip<R: ReaderAt>(reader: R, len: u64, limits: &Limits) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut buffer = vec![0u8; RECOMMENDED_BUFFER_SIZE];
    let Ok(archive) = ZipLocator::new().locate_in_reader(reader, &mut buffer, len) else {
        return vec![finding(Severity::Low, "unreadable_archive", "")];
    };
    let mut to_read = Vec::new();
    let (mut unpacked, mut budget) = (0u64, limits.max_total_scan);
    let mut entries = archive.entries(&mut buffer);
    loop {
        let entry = match entries.next_entry() {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(_) => {
                out.push(finding(Severity::Low, "unreadable_archive", ""));
                break;
            }
        };
        let name = String::from_utf8_lossy(entry.file_path().as_ref()).into_owned();
        if escapes_root(&name) {
            out.push(finding(Severity::High, "path_traversal", &name));
        }
        if entry.mode().is_symlink() {
            out.push(finding(Severity::Medium, "link", &name));
        }
        let (packed, size) = (entry.compressed_size_hint(), entry.uncompressed_size_hint());
        unpacked = unpacked.saturating_add(size);
        if size > limits.ratio_floor && size / packed.max(1) > limits.max_ratio {
            out.push(finding(Severity::High, "compression_bomb", &name));
        }
        if !entry.is_dir() && size <= limits.max_entry_scan && size <= budget {
            budget -= size;
            to_read.push((entry.wayfinder(), entry.compression_method(), name));
        }
    }
    if unpacked > limits.max_unpacked {
        out.push(finding(Severity::High, "compression_bomb", ""));
    }
    for (wayfinder, method, name) in to_read {
        let Ok(entry) = archive.get_entry(wayfinder) else {
            continue;
        };
        let mut bytes = Vec::new();
        let limit = limits.max_entry_scan;
        let read = match method {
            CompressionMethod::STORE => entry.reader().take(limit).read_to_end(&mut bytes),
            CompressionMethod::DEFLATE => DeflateDecoder::new(entry.reader())
                .take(limit)
                .read_to_end(&mut bytes),
            _ => continue,
        };
        if read.is_ok() {
            secret_findings(&bytes, &name, &mut out);
        }
    }
    out
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// A gzip-compressed tar (npm tarball, crate, sdist) of `packed` bytes, or a plain tar (`gzip` false).
pub fn scan_tar<R: Read>(reader: R, packed: u64, gzip: bool, limits: &Limits) -> Vec<Finding> {
    let inner: Box<dyn Read> = if gzip {
        Box::new(GzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let mut stream = Counting { inner, read: 0 };
    let mut out = Vec::new();
    let mut budget = limits.max_total_scan;
    let mut long_name: Option<String> = None;
    let bomb = |read: u64| {
        read > limits.max_unpacked
            || (gzip && read > limits.ratio_floor && read / packed.max(1) > limits.max_ratio)
    };
    loop {
        let mut header = [0u8; 512];
        if stream.read_exact(&mut header).is_err() {
            break;
        }
        if header.iter().all(|b| *b == 0) {
            break;
        }
        let Some(size) = octal(&header[124..136]) else {
            out.push(finding(Severity::Low, "unreadable_archive", ""));
            break;
        };
        let mut name = long_name.take().unwrap_or_else(|| {
            let prefix = c_string(&header[345..500]);
            let base = c_string(&header[..100]);
            if &header[257..262] == b"ustar" && !prefix.is_empty() {
                format!("{prefix}/{base}")
            } else {
                base
            }
        });
        let padded = size.div_ceil(512) * 512;
        let typeflag = header[156];
        let mut data = Vec::new();
        let keep = match typeflag {
            b'L' | b'x' => size.min(1 << 20),
            b'0' | 0 | b'7' if size <= limits.max_entry_scan && size <= budget => size,
            _ => 0,
        };
        if (&mut stream).take(keep).read_to_end(&mut data).is_err() {
            out.push(finding(Severity::Low, "unreadable_archive", &name));
            break;
        }
        let rest = padded - data.len() as u64;
        if std::io::copy(&mut (&mut stream).take(rest), &mut std::io::sink()).is_err() {
            out.push(finding(Severity::Low, "unreadable_archive", &name));
            break;
        }
        match typeflag {
            b'L' => {
                long_name = Some(c_string(&data));
                continue;
            }
            b'x' => {
                // A pax header's `path=` names the next entry.
                let text = String::from_utf8_lossy(&data);
                if let Some(path) = text.lines().find_map(|l| l.split_once(" path=")) {
                    long_name = Some(path.1.to_string());
                }
                continue;
            }
            b'g' => continue,
            _ => {}
        }
        if name.starts_with("./") {
            name = name[2..].to_string();
        }
        if escapes_root(&name) {
            out.push(finding(Severity::High, "path_traversal", &name));
        }
        if typeflag == b'1' || typeflag == b'2' {
            out.push(finding(Severity::Medium, "link", &name));
        }
        if !data.is_empty() {
            budget -= data.len() as u64;
            secret_findings(&data, &name, &mut out);
        }
        if bomb(stream.read) {
            out.push(finding(Severity::High, "compression_bomb", ""));
            break;
        }
    }
    out
}

/// A lone gzip stream: a bomb check on the stream and secrets in its first unpacked bytes.
pub fn scan_gzip<R: Read>(reader: R, packed: u64, limits: &Limits) -> Vec<Finding> {
    let mut stream = Counting {
        inner: GzDecoder::new(reader),
        read: 0,
    };
    let mut out = Vec::new();
    let mut head = Vec::new();
    if (&mut stream)
        .take(limits.max_entry_scan)
        .read_to_end(&mut head)
        .is_err()
    {
        return vec![finding(Severity::Low, "unreadable_archive", "")];
    }
    secret_findings(&head, "", &mut out);
    let cap = limits.max_unpacked.saturating_add(1);
    let _ = std::io::copy(&mut (&mut stream).take(cap), &mut std::io::sink());
    let read = stream.read;
    if read > limits.max_unpacked
        || (read > limits.ratio_floor && read / packed.max(1) > limits.max_ratio)
    {
        out.push(finding(Severity::High, "compression_bomb", ""));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn tar_entry(name: &str, typeflag: u8, data: &[u8]) -> Vec<u8> {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        header[156] = typeflag;
        header[257..262].copy_from_slice(b"ustar");
        let mut out = header.to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn kinds(findings: &[Finding]) -> Vec<(&'static str, &str)> {
        findings
            .iter()
            .map(|f| (f.kind, f.entry.as_str()))
            .collect()
    }

    #[test]
    fn secrets_are_found_and_lookalikes_are_not() {
        assert_eq!(
            secrets_in(b"x\n-----BEGIN RSA PRIVATE KEY-----\nMII"),
            vec!["private_key"]
        );
        assert_eq!(
            secrets_in(b"id=AKIAIOSFODNN7EXAMPLE;"),
            vec!["cloud_access_key"]
        );
        assert!(
            secrets_in(b"-----BEGIN PUBLIC KEY----- AKIAshort XAKIAIOSFODNN7EXAMPLE").is_empty()
        );
        assert!(secrets_in(b"AKIAIOSFODNN7EXAMPLEX").is_empty());
    }

    #[test]
    fn tarballs_with_traversal_links_secrets_and_bombs() {
        let mut tar = tar_entry("package/index.js", b'0', b"module.exports = 1");
        tar.extend(tar_entry("../../etc/cron.d/x", b'0', b"* * * * * root sh"));
        tar.extend(tar_entry("package/link", b'2', b""));
        tar.extend(tar_entry(
            "package/.env",
            b'0',
            b"AWS_KEY=AKIAIOSFODNN7EXAMPLE\n",
        ));
        tar.extend([0u8; 1024]);
        let packed = gz(&tar);
        let found = scan_tar(&packed[..], packed.len() as u64, true, &Limits::default());
        assert_eq!(
            kinds(&found),
            vec![
                ("path_traversal", "../../etc/cron.d/x"),
                ("link", "package/link"),
                ("cloud_access_key", "package/.env"),
            ]
        );
        let mut big = tar_entry("package/zeros", b'0', &vec![0u8; 8 << 20]);
        big.extend([0u8; 1024]);
        let packed = gz(&big);
        let found = scan_tar(&packed[..], packed.len() as u64, true, &Limits::default());
        assert_eq!(kinds(&found), vec![("compression_bomb", "")]);
        assert_eq!(
            kinds(&scan_tar(&b"not gzip"[..], 8, true, &Limits::default())),
            Vec::<(&str, &str)>::new()
        );
    }

    #[test]
    fn zips_with_traversal_and_bombs() {
        // Names written verbatim: the writer would otherwise normalise `../` away, as an attacker's would not.
        let mut output = Vec::new();
        {
            let mut archive = rawzip::ZipArchiveWriter::new(&mut output);
            for (name, data) in [
                ("ok/a.txt", b"hello".to_vec()),
                ("../evil.txt", b"x".to_vec()),
                (
                    "keys/id_rsa",
                    b"-----BEGIN OPENSSH PRIVATE KEY-----\n".to_vec(),
                ),
                ("zeros.bin", vec![0u8; 8 << 20]),
            ] {
                let (mut entry, config) = archive
                    .new_file(rawzip::path::EntryPath::verbatim(name.as_bytes()))
                    .compression_method(CompressionMethod::DEFLATE)
                    .start()
                    .unwrap();
                let encoder = flate2::write::DeflateEncoder::new(&mut entry, Compression::best());
                let mut writer = config.wrap(encoder);
                writer.write_all(&data).unwrap();
                let (encoder, descriptor) = writer.finish().unwrap();
                encoder.finish().unwrap();
                entry.finish(descriptor).unwrap();
            }
            archive.finish().unwrap();
        }
        let found = scan_zip(&output[..], output.len() as u64, &Limits::default());
        let mut got = kinds(&found);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("compression_bomb", "zeros.bin"),
                ("path_traversal", "../evil.txt"),
                ("private_key", "keys/id_rsa"),
            ]
        );
        assert_eq!(
            kinds(&scan_zip(&b"PK not really"[..], 13, &Limits::default())),
            vec![("unreadable_archive", "")]
        );
        assert_eq!(kind_of("a-1.0.JAR"), Kind::Zip);
        assert_eq!(kind_of("pkg-1.0.0.tgz"), Kind::TarGz);
        assert_eq!(kind_of("notes.txt"), Kind::Plain);
    }
}
