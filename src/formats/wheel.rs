//! A wheel's `{name}-{version}.dist-info/METADATA` (PEP 427, served for PEP 658), found by walking the
//! zip's central directory one record at a time. Nothing is kept per entry, so a wheel of 300,000 entries
//! costs the same memory as one of three (a library that materialises the directory held ~300 bytes per
//! entry). Reads go through `rawzip::ReaderAt`, so the same code reads a file or, in tests, a buffer.

use std::io::Read;

use flate2::read::DeflateDecoder;
use rawzip::{CompressionMethod, ReaderAt, ZipLocator, RECOMMENDED_BUFFER_SIZE};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WheelError {
    #[error("is not a valid wheel (zip) file")]
    NotZip,
    #[error("is a wheel without .dist-info/METADATA")]
    NoMetadata,
    #[error("is a wheel with more than one .dist-info/METADATA")]
    SeveralMetadata,
    #[error("has an unreadable METADATA")]
    Unreadable,
}

/// A top-level `*.dist-info/METADATA`, the one place PEP 427 puts it.
fn is_metadata_path(path: &[u8]) -> bool {
    path.ends_with(b".dist-info/METADATA") && path.iter().filter(|b| **b == b'/').count() == 1
}

/// The METADATA of the wheel held by `reader` (`len` bytes long). `Ok(None)` when it is larger than `max`
/// bytes: such a wheel is stored without a PEP 658 file.
pub fn metadata<R: ReaderAt>(reader: R, len: u64, max: u64) -> Result<Option<Vec<u8>>, WheelError> {
    let mut buffer = vec![0u8; RECOMMENDED_BUFFER_SIZE];
    let archive = ZipLocator::new()
        .locate_in_reader(reader, &mut buffer, len)
        .map_err(|_| WheelError::NotZip)?;
    let mut found = None;
    let mut entries = archive.entries(&mut buffer);
    while let Some(entry) = entries.next_entry().map_err(|_| WheelError::NotZip)? {
        if is_metadata_path(entry.file_path().as_ref()) {
            if found.is_some() {
                return Err(WheelError::SeveralMetadata);
            }
            found = Some((
                entry.wayfinder(),
                entry.compression_method(),
                entry.uncompressed_size_hint(),
            ));
        }
    }
    let (wayfinder, method, size) = found.ok_or(WheelError::NoMetadata)?;
    if size > max {
        return Ok(None);
    }
    let entry = archive
        .get_entry(wayfinder)
        .map_err(|_| WheelError::Unreadable)?;
    // The declared size is only a hint: reading stops one byte past `max` whatever the entry says, and
    // the verifying reader checks the CRC and the size when it reaches the end.
    let mut bytes = Vec::with_capacity(size as usize);
    let read = match method {
        CompressionMethod::STORE => entry
            .verifying_reader(entry.reader())
            .take(max + 1)
            .read_to_end(&mut bytes),
        CompressionMethod::DEFLATE => entry
            .verifying_reader(DeflateDecoder::new(entry.reader()))
            .take(max + 1)
            .read_to_end(&mut bytes),
        _ => return Err(WheelError::Unreadable),
    };
    read.map_err(|_| WheelError::Unreadable)?;
    if bytes.len() as u64 > max {
        return Ok(None);
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut output = Vec::new();
        let mut archive = rawzip::ZipArchiveWriter::new(&mut output);
        for (name, data, deflate) in entries {
            let method = if *deflate {
                CompressionMethod::DEFLATE
            } else {
                CompressionMethod::STORE
            };
            let (mut entry, config) = archive
                .new_file(name)
                .compression_method(method)
                .start()
                .unwrap();
            if *deflate {
                let encoder =
                    flate2::write::DeflateEncoder::new(&mut entry, flate2::Compression::default());
                let mut writer = config.wrap(encoder);
                writer.write_all(data).unwrap();
                let (encoder, descriptor) = writer.finish().unwrap();
                encoder.finish().unwrap();
                entry.finish(descriptor).unwrap();
            } else {
                let mut writer = config.wrap(&mut entry);
                writer.write_all(data).unwrap();
                let (_, descriptor) = writer.finish().unwrap();
                entry.finish(descriptor).unwrap();
            }
        }
        archive.finish().unwrap();
        output
    }

    fn read(bytes: Vec<u8>, max: u64) -> Result<Option<Vec<u8>>, WheelError> {
        let len = bytes.len() as u64;
        metadata(bytes, len, max)
    }

    #[test]
    fn finds_metadata_stored_or_deflated() {
        let meta = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";
        for deflate in [false, true] {
            let wheel = zip(&[
                ("demo/__init__.py", b"x = 1\n", deflate),
                ("demo-1.0.dist-info/METADATA", meta, deflate),
                ("demo-1.0.dist-info/RECORD", b"", deflate),
            ]);
            assert_eq!(read(wheel, 1024).unwrap().as_deref(), Some(&meta[..]));
        }
    }

    #[test]
    fn refuses_what_is_not_a_single_metadata_wheel() {
        assert_eq!(read(b"not a zip".to_vec(), 1024), Err(WheelError::NotZip));
        let nested = zip(&[("a/demo-1.0.dist-info/METADATA", b"x", false)]);
        assert_eq!(read(nested, 1024), Err(WheelError::NoMetadata));
        let twice = zip(&[
            ("demo-1.0.dist-info/METADATA", b"x", false),
            ("other-1.0.dist-info/METADATA", b"y", false),
        ]);
        assert_eq!(read(twice, 1024), Err(WheelError::SeveralMetadata));
    }

    #[test]
    fn large_metadata_is_left_out_and_corruption_detected() {
        let big = vec![b'a'; 5000];
        let wheel = zip(&[("demo-1.0.dist-info/METADATA", &big, true)]);
        assert_eq!(read(wheel.clone(), 4999), Ok(None));
        assert_eq!(read(wheel, 5000).unwrap().map(|m| m.len()), Some(5000));
        let mut corrupt = zip(&[("demo-1.0.dist-info/METADATA", b"Name: demo\n", false)]);
        let at = corrupt.windows(4).position(|w| w == b"Name").unwrap();
        corrupt[at] = b'X';
        assert_eq!(read(corrupt, 1024), Err(WheelError::Unreadable));
    }

    #[test]
    fn many_entries_are_walked_without_being_kept() {
        let names: Vec<String> = (0..70_000).map(|i| format!("f/{i}")).collect();
        let mut entries: Vec<(&str, &[u8], bool)> = names
            .iter()
            .map(|n| (n.as_str(), &b""[..], false))
            .collect();
        entries.push(("demo-1.0.dist-info/METADATA", b"Name: demo\n", false));
        assert_eq!(
            read(zip(&entries), 1024).unwrap().as_deref(),
            Some(&b"Name: demo\n"[..])
        );
    }
}
