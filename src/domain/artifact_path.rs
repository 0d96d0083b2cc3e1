//! Artifact paths and repository names, parsed from the wire (SPEC §9). A parsed `ArtifactPath` is
//! relative, normalised, and cannot escape its repository: everything else trusts it.

use percent_encoding::percent_decode_str;

pub const MAX_SEGMENT_BYTES: usize = 255;
pub const MAX_PATH_BYTES: usize = 1024;

/// A relative path inside a repository: segments joined by `/`, no empty, `.` or `..` segments, no
/// backslash, NUL, control characters or Unicode noncharacters. The empty path is the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactPath {
    path: String,
    /// The wire path ended in `/`: a directory was asked for.
    pub is_dir: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is longer than {MAX_PATH_BYTES} bytes")]
    TooLong,
    #[error("a path segment is longer than {MAX_SEGMENT_BYTES} bytes")]
    SegmentTooLong,
    #[error("the path has an empty, '.' or '..' segment")]
    Traversal,
    #[error(
        "the path holds an encoded '/', a backslash, NUL, a control character or a noncharacter"
    )]
    ForbiddenCharacter,
    #[error("the path is not valid percent-encoded UTF-8")]
    BadEncoding,
}

impl ArtifactPath {
    /// Parses the still percent-encoded remainder of a URL path (after `/artifactory/{repo}/`).
    pub fn parse_wire(raw: &str) -> Result<ArtifactPath, PathError> {
        if raw.len() > MAX_PATH_BYTES * 3 {
            return Err(PathError::TooLong);
        }
        let is_dir = raw.is_empty() || raw.ends_with('/');
        let trimmed = raw.strip_suffix('/').unwrap_or(raw);
        let mut segments = Vec::new();
        if !trimmed.is_empty() {
            for raw_segment in trimmed.split('/') {
                let segment = percent_decode_str(raw_segment)
                    .decode_utf8()
                    .map_err(|_| PathError::BadEncoding)?;
                check_segment(&segment)?;
                segments.push(segment.into_owned());
            }
        }
        Self::from_segments(segments, is_dir)
    }

    /// Parses an already decoded path, as the management API receives it in a query or a JSON body
    /// (`/dir/file.jar`, `dir/`, or empty for the root). One leading `/` is optional.
    pub fn parse_plain(raw: &str) -> Result<ArtifactPath, PathError> {
        if raw.len() > MAX_PATH_BYTES + 2 {
            return Err(PathError::TooLong);
        }
        let relative = raw.strip_prefix('/').unwrap_or(raw);
        let is_dir = relative.is_empty() || relative.ends_with('/');
        let trimmed = relative.strip_suffix('/').unwrap_or(relative);
        let mut segments = Vec::new();
        if !trimmed.is_empty() {
            for segment in trimmed.split('/') {
                check_segment(segment)?;
                segments.push(segment.to_string());
            }
        }
        Self::from_segments(segments, is_dir)
    }

    fn from_segments(segments: Vec<String>, is_dir: bool) -> Result<ArtifactPath, PathError> {
        let path = segments.join("/");
        if path.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong);
        }
        Ok(ArtifactPath { path, is_dir })
    }

    pub fn as_str(&self) -> &str {
        &self.path
    }

    pub fn is_root(&self) -> bool {
        self.path.is_empty()
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }

    /// The parent directory path ("" for top-level entries).
    pub fn parent(&self) -> &str {
        self.path.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
    }

    /// `dir/` form for prefix scans; empty for the root.
    pub fn dir_prefix(&self) -> String {
        if self.path.is_empty() {
            String::new()
        } else {
            format!("{}/", self.path)
        }
    }
}

fn check_segment(segment: &str) -> Result<(), PathError> {
    if segment.is_empty() || segment == "." || segment == ".." {
        return Err(PathError::Traversal);
    }
    if segment.contains(['/', '\\'])
        || segment
            .chars()
            .any(|c| c.is_control() || is_noncharacter(c))
    {
        return Err(PathError::ForbiddenCharacter);
    }
    if segment.len() > MAX_SEGMENT_BYTES {
        return Err(PathError::SegmentTooLong);
    }
    Ok(())
}

/// U+FDD0..U+FDEF and the last two code points of every plane: never text, and U+FFFE/U+FFFF cannot
/// appear in XML at all, while paths end up in generated `maven-metadata.xml`.
fn is_noncharacter(c: char) -> bool {
    let c = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE
}

/// Repository names: 1..=64 letters, digits, `-`, `_`, `.`, not starting with `.`, and not `api`, which
/// `/artifactory/api/{npm,pypi,cargo}/` holds (decision).
pub fn is_valid_repo_name(name: &str) -> bool {
    !name.is_empty()
        && !name.eq_ignore_ascii_case("api")
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_paths_parse() {
        let p = ArtifactPath::parse_wire("com/acme/lib/1.0/lib-1.0.jar").unwrap();
        assert_eq!(p.as_str(), "com/acme/lib/1.0/lib-1.0.jar");
        assert_eq!(p.file_name(), "lib-1.0.jar");
        assert_eq!(p.parent(), "com/acme/lib/1.0");
        assert!(!p.is_dir);
        let d = ArtifactPath::parse_wire("com/acme/").unwrap();
        assert!(d.is_dir);
        assert_eq!(d.dir_prefix(), "com/acme/");
        assert!(ArtifactPath::parse_wire("").unwrap().is_root());
        assert_eq!(
            ArtifactPath::parse_wire("a%20b/c").unwrap().as_str(),
            "a b/c"
        );
    }

    #[test]
    fn plain_paths_parse_like_decoded_wire_paths() {
        let p = ArtifactPath::parse_plain("/com/acme/a%b.jar").unwrap();
        assert_eq!(p.as_str(), "com/acme/a%b.jar");
        assert!(!p.is_dir);
        assert!(ArtifactPath::parse_plain("/").unwrap().is_root());
        assert!(ArtifactPath::parse_plain("com/").unwrap().is_dir);
        for bad in ["/../x", "a/../b", "a\\b", "a\0b", "//a"] {
            assert!(ArtifactPath::parse_plain(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            ArtifactPath::parse_plain(&"x".repeat(256)),
            Err(PathError::SegmentTooLong)
        );
    }

    #[test]
    fn attacks_are_refused() {
        for (raw, err) in [
            ("../etc/passwd", PathError::Traversal),
            ("a/%2e%2e/b", PathError::Traversal),
            ("a/%2E%2E/b", PathError::Traversal),
            ("a/./b", PathError::Traversal),
            ("a//b", PathError::Traversal),
            ("a%2fb", PathError::ForbiddenCharacter),
            ("a%5c..%5cb", PathError::ForbiddenCharacter),
            ("a\\b", PathError::ForbiddenCharacter),
            ("a%00b", PathError::ForbiddenCharacter),
            ("a%0Ab", PathError::ForbiddenCharacter),
            ("a%ffb", PathError::BadEncoding),
        ] {
            assert_eq!(ArtifactPath::parse_wire(raw), Err(err), "{raw}");
        }
        assert_eq!(
            ArtifactPath::parse_wire(&"x".repeat(256)),
            Err(PathError::SegmentTooLong)
        );
        let long = vec!["y".repeat(200); 6].join("/");
        assert_eq!(ArtifactPath::parse_wire(&long), Err(PathError::TooLong));
    }

    /// Found with the `maven` fuzz target (its XML check, on an input written for it): a version
    /// directory named with U+FFFF was accepted, and the artifact's generated maven-metadata.xml, which
    /// lists every version, was no longer XML (`mvn` could resolve no version of the artifact). XML
    /// admits neither U+FFFE nor U+FFFF.
    #[test]
    fn fuzz_found_noncharacters_are_refused() {
        for raw in [
            "g/a/1.0%EF%BF%BF/a-1.0%EF%BF%BF.jar",
            "g/a/1.0%EF%BF%BE/a-1.0.jar",
            "g/a/%EF%B7%90/x",
            "x%F4%8F%BF%BF",
        ] {
            assert_eq!(
                ArtifactPath::parse_wire(raw),
                Err(PathError::ForbiddenCharacter),
                "{raw}"
            );
        }
        assert!(ArtifactPath::parse_plain("g/a/1.0\u{fffe}/a.jar").is_err());
        assert!(ArtifactPath::parse_wire("caf%C3%A9/%EF%BF%BD").is_ok());
    }

    #[test]
    fn repository_names() {
        assert!(is_valid_repo_name("maven-release"));
        assert!(is_valid_repo_name("a.b_c-1"));
        assert!(!is_valid_repo_name(".hidden"));
        assert!(!is_valid_repo_name("a/b"));
        assert!(!is_valid_repo_name(""));
        assert!(!is_valid_repo_name(&"a".repeat(65)));
    }
}
