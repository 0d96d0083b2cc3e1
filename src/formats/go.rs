//! Go modules as the GOPROXY protocol serves them (`go help goproxy`, golang.org/x/mod): module paths
//! and versions, their case-encoding in URLs (`!x` for `X`, because proxies may sit on case-insensitive
//! file systems), the `module` line of a go.mod, and the module zip rules the go command itself checks
//! when it extracts a download. A zip is checked by walking its central directory, as `wheel` does, so
//! nothing is kept per entry except the case-folded names the duplicate check needs.

use std::collections::HashMap;
use std::io::Read;

use flate2::read::DeflateDecoder;
use rawzip::{CompressionMethod, ReaderAt, ZipLocator, RECOMMENDED_BUFFER_SIZE};

/// The go command's limits on a module zip (golang.org/x/mod/zip).
pub const MAX_ZIP_UNCOMPRESSED: u64 = 500 << 20;
/// Also the limit of a LICENSE file.
pub const MAX_GO_MOD: u64 = 16 << 20;
const MAX_PATH_BYTES: usize = 400;
const MAX_VERSION_BYTES: usize = 128;

/// A module path as `module.CheckPath` accepts it: slash-separated elements of ASCII letters, digits and
/// `-._~`, none empty or starting or ending with a dot; the first a lower-case host name with a dot;
/// a last element `vN` only for N ≥ 2.
pub fn check_module_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > MAX_PATH_BYTES {
        return Err(format!("must be 1 to {MAX_PATH_BYTES} bytes"));
    }
    let elements: Vec<&str> = path.split('/').collect();
    for element in &elements {
        if element.is_empty() {
            return Err("has an empty path element (a leading, trailing or double slash)".into());
        }
        if element.starts_with('.') || element.ends_with('.') {
            return Err(format!(
                "has the element `{element}`, which starts or ends with a dot"
            ));
        }
        if let Some(c) = element
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c)))
        {
            return Err(format!(
                "holds the character {c:?}, which module paths do not"
            ));
        }
    }
    let host = elements[0];
    if !host.contains('.')
        || host.starts_with('-')
        || host
            .chars()
            .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
    {
        return Err(
            "must start with a lower-case host name that has a dot (example.com/...)".into(),
        );
    }
    if elements.len() > 1 {
        if let Some(n) = elements[elements.len() - 1].strip_prefix('v') {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !is_major_suffix(n) {
                return Err("has a major version suffix other than /v2, /v3, ...".into());
            }
        }
    }
    Ok(())
}

/// `N` of a `/vN` suffix: a number ≥ 2 without leading zeros.
fn is_major_suffix(n: &str) -> bool {
    !n.starts_with('0') && n != "1" && n.bytes().all(|b| b.is_ascii_digit())
}

/// The major version a module path's suffix demands: `Some("v2")` for `…/v2` or gopkg.in's `….v2`,
/// `None` when it has none (then v0, v1 or `+incompatible`).
fn path_major(path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("gopkg.in/") {
        let (_, suffix) = rest.rsplit_once(".v")?;
        let n = suffix.strip_suffix("-unstable").unwrap_or(suffix);
        return Some(format!("v{n}"));
    }
    let (_, last) = path.rsplit_once('/')?;
    let n = last.strip_prefix('v')?;
    is_major_suffix(n).then(|| last.to_string())
}

/// What a version says about compatibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub prerelease: bool,
    pub incompatible: bool,
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// A canonical semantic version as the go command writes it: `vMAJOR.MINOR.PATCH`, an optional
/// `-pre.release` of dot-separated identifiers (numeric ones without leading zeros), and no build
/// metadata other than `+incompatible`.
pub fn check_version(version: &str) -> Result<Version, String> {
    let bad = || format!("`{version}` is not a version vMAJOR.MINOR.PATCH[-pre][+incompatible]");
    if version.len() > MAX_VERSION_BYTES {
        return Err(format!("is longer than {MAX_VERSION_BYTES} bytes"));
    }
    let rest = version.strip_prefix('v').ok_or_else(bad)?;
    let (rest, incompatible) = match rest.split_once('+') {
        Some((core, "incompatible")) => (core, true),
        Some(_) => return Err(bad()),
        None => (rest, false),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() != 3 || !numbers.iter().all(|n| is_number(n)) {
        return Err(bad());
    }
    if let Some(pre) = pre {
        for id in pre.split('.') {
            let alnum =
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            let numeric = id.bytes().all(|b| b.is_ascii_digit());
            if !alnum || (numeric && !is_number(id)) {
                return Err(bad());
            }
        }
    }
    let major = numbers[0].parse().map_err(|_| bad())?;
    Ok(Version {
        major,
        prerelease: pre.is_some(),
        incompatible,
    })
}

/// A version fits its module path (`module.CheckPathMajor`): `/vN` paths take vN.x.y only; other paths
/// v0/v1, or vN+incompatible for N ≥ 2 (a pre-modules release tagged before the path grew a suffix).
pub fn check_path_major(path: &str, version: &str, v: &Version) -> Result<(), String> {
    match path_major(path) {
        Some(major) => {
            let wanted = if major == "v0" || major == "v1" {
                vec!["v0".to_string(), "v1".to_string()]
            } else {
                vec![major.clone()]
            };
            if v.incompatible || !wanted.contains(&format!("v{}", v.major)) {
                return Err(format!(
                    "`{version}` does not fit the module path's major version suffix {major}"
                ));
            }
        }
        None if v.major >= 2 && !v.incompatible => {
            return Err(format!(
                "`{version}` needs the module path to end in /v{} (or the version +incompatible)",
                v.major
            ));
        }
        None if v.major < 2 && v.incompatible => {
            return Err(format!(
                "`{version}`: +incompatible applies to v2 and later only"
            ));
        }
        None => {}
    }
    Ok(())
}

/// Case-encodes a module path or version for a URL: each upper-case letter becomes `!` and its lower
/// case. `None` for text with a `!`, which no valid path or version has.
pub fn escape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if c == '!' {
            return None;
        }
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Reverses `escape`. `None` when the text has an upper-case letter (an escaped form never does) or a
/// `!` not followed by a lower-case letter.
pub fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c.is_ascii_uppercase() {
            return None;
        }
        if c == '!' {
            let next = chars.next().filter(char::is_ascii_lowercase)?;
            out.push(next.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The module path a go.mod declares: its `module` directive (quoted or not, comments after it
/// ignored), `None` when it has none.
pub fn module_directive(go_mod: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(go_mod).ok()?;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        let Some(rest) = line.strip_prefix("module") else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let rest = rest.trim();
        let path = match rest.strip_prefix('"') {
            Some(quoted) => quoted.strip_suffix('"')?,
            None => rest,
        };
        return Some(path.to_string());
    }
    None
}

/// The go.mod the proxy serves for a module whose zip has none.
pub fn synthesized_go_mod(module: &str) -> Vec<u8> {
    format!("module {module}\n").into_bytes()
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("is not a valid zip file")]
    NotZip,
    #[error("holds `{0}`, which is not under `{1}`")]
    WrongPrefix(String, String),
    #[error("holds the file name `{0}`, which is not a clean relative path (`..`, `.`, empty elements, a leading `/` or a backslash)")]
    UncleanPath(String),
    #[error("holds `{0}`, whose name has a character module files may not")]
    BadCharacter(String),
    #[error("holds `{0}` and `{1}`, which differ only in case")]
    CaseCollision(String, String),
    #[error("holds `{0}` twice, or as both a file and a directory")]
    Duplicate(String),
    #[error("holds `{0}`: a go.mod belongs at the module root only, spelled go.mod")]
    MisplacedGoMod(String),
    #[error("has a total uncompressed size over 500 MiB")]
    TooLarge,
    #[error("has `{0}` over its limit of 16 MiB")]
    FileTooLarge(String),
    #[error("has a go.mod that declares module `{0}`, not `{1}`")]
    ModuleMismatch(String, String),
    #[error("has a go.mod without a module line")]
    NoModuleLine,
    #[error("has an unreadable go.mod (corrupt or an unsupported compression)")]
    Unreadable,
    #[error("holds a go.mod, so its version may not be +incompatible")]
    IncompatibleWithGoMod,
}

/// A checked module zip: its go.mod, if it has one.
#[derive(Debug, PartialEq, Eq)]
pub struct CheckedZip {
    pub go_mod: Option<Vec<u8>>,
}

/// A file name inside a module as `module.CheckFilePath` allows it: clean, relative, forward slashes,
/// printable characters other than the few Windows and shells cannot take.
fn check_file_name(name: &str, full: &str) -> Result<(), ZipError> {
    let unclean = || ZipError::UncleanPath(full.to_string());
    if name.starts_with('/') || name.contains('\\') {
        return Err(unclean());
    }
    if name
        .split('/')
        .any(|e| e.is_empty() || e == "." || e == "..")
    {
        return Err(unclean());
    }
    if name
        .chars()
        .any(|c| c.is_control() || "\"';*<>?`|:".contains(c))
    {
        return Err(ZipError::BadCharacter(full.to_string()));
    }
    Ok(())
}

/// The names a zip holds, by their case-folded form, to find what would collide when extracted on a
/// case-insensitive file system (golang.org/x/mod/zip's collision checker): two names equal but for
/// case, a file twice, or a name that is a file and a directory. A file's parent directories count as
/// directories whether or not the zip has entries for them.
#[derive(Default)]
struct Names {
    seen: HashMap<String, (String, bool)>,
}

impl Names {
    fn add(&mut self, name: &str, is_dir: bool) -> Result<(), ZipError> {
        let mut current = name;
        let mut current_is_dir = is_dir;
        loop {
            let folded = current.to_lowercase();
            match self.seen.get(&folded) {
                Some((other, _)) if other != current => {
                    return Err(ZipError::CaseCollision(other.clone(), current.to_string()));
                }
                Some((_, was_dir)) if *was_dir != current_is_dir || !current_is_dir => {
                    return Err(ZipError::Duplicate(current.to_string()));
                }
                // A directory met before: its parents were recorded with it.
                Some(_) => return Ok(()),
                None => {
                    self.seen
                        .insert(folded, (current.to_string(), current_is_dir));
                }
            }
            match current.rsplit_once('/') {
                Some((parent, _)) => {
                    current = parent;
                    current_is_dir = true;
                }
                None => return Ok(()),
            }
        }
    }
}

/// Checks a module zip by the rules of golang.org/x/mod/zip: every entry under `<module>@<version>/`
/// with a clean relative name, no two names equal when case-folded, a go.mod only at the root, at most
/// 500 MiB uncompressed, and a go.mod (if any) that declares `module`.
pub fn check_zip<R: ReaderAt>(
    reader: R,
    len: u64,
    module: &str,
    version: &str,
) -> Result<CheckedZip, ZipError> {
    check_zip_within(reader, len, module, version, Limits::GO)
}

/// The size limits a zip is checked against (smaller in tests and the fuzz target, which cannot afford
/// 500 MiB).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub total: u64,
    pub one_file: u64,
}

impl Limits {
    pub const GO: Limits = Limits {
        total: MAX_ZIP_UNCOMPRESSED,
        one_file: MAX_GO_MOD,
    };
}

/// `check_zip` within other limits.
pub fn check_zip_within<R: ReaderAt>(
    reader: R,
    len: u64,
    module: &str,
    version: &str,
    limits: Limits,
) -> Result<CheckedZip, ZipError> {
    let prefix = format!("{module}@{version}/");
    let mut buffer = vec![0u8; RECOMMENDED_BUFFER_SIZE];
    let archive = ZipLocator::new()
        .locate_in_reader(reader, &mut buffer, len)
        .map_err(|_| ZipError::NotZip)?;
    let mut names = Names::default();
    let mut total: u64 = 0;
    let mut go_mod = None;
    let mut entries = archive.entries(&mut buffer);
    while let Some(entry) = entries.next_entry().map_err(|_| ZipError::NotZip)? {
        let raw = entry.file_path();
        let full = String::from_utf8_lossy(raw.as_ref()).into_owned();
        if std::str::from_utf8(raw.as_ref()).is_err() {
            return Err(ZipError::BadCharacter(full));
        }
        let Some(name) = full.strip_prefix(&prefix) else {
            return Err(ZipError::WrongPrefix(full, prefix));
        };
        if name.is_empty() {
            continue;
        }
        let is_dir = name.ends_with('/');
        let name = name.strip_suffix('/').unwrap_or(name);
        check_file_name(name, &full)?;
        names.add(name, is_dir)?;
        if is_dir {
            continue;
        }
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.eq_ignore_ascii_case("go.mod") && name != "go.mod" {
            return Err(ZipError::MisplacedGoMod(full));
        }
        let size = entry.uncompressed_size_hint();
        total = total.saturating_add(size);
        if total > limits.total {
            return Err(ZipError::TooLarge);
        }
        if (name == "go.mod" || name == "LICENSE") && size > limits.one_file {
            return Err(ZipError::FileTooLarge(full));
        }
        if name == "go.mod" {
            go_mod = Some((entry.wayfinder(), entry.compression_method()));
        }
    }
    let Some((wayfinder, method)) = go_mod else {
        return Ok(CheckedZip { go_mod: None });
    };
    let entry = archive
        .get_entry(wayfinder)
        .map_err(|_| ZipError::Unreadable)?;
    // The declared size is a hint: reading stops past the limit whatever it says, and the verifying
    // reader checks the CRC and size at the end.
    let mut bytes = Vec::new();
    let read = match method {
        CompressionMethod::STORE => entry
            .verifying_reader(entry.reader())
            .take(limits.one_file + 1)
            .read_to_end(&mut bytes),
        CompressionMethod::DEFLATE => entry
            .verifying_reader(DeflateDecoder::new(entry.reader()))
            .take(limits.one_file + 1)
            .read_to_end(&mut bytes),
        _ => return Err(ZipError::Unreadable),
    };
    read.map_err(|_| ZipError::Unreadable)?;
    if bytes.len() as u64 > limits.one_file {
        return Err(ZipError::FileTooLarge(format!("{prefix}go.mod")));
    }
    check_go_mod(&bytes, module)?;
    Ok(CheckedZip {
        go_mod: Some(bytes),
    })
}

/// A go.mod must declare the module it is published as.
pub fn check_go_mod(go_mod: &[u8], module: &str) -> Result<(), ZipError> {
    match module_directive(go_mod) {
        None => Err(ZipError::NoModuleLine),
        Some(declared) if declared != module => {
            Err(ZipError::ModuleMismatch(declared, module.to_string()))
        }
        Some(_) => Ok(()),
    }
}

/// Orders versions as semantic versions (a release above its pre-releases).
pub fn semver_of(version: &str) -> Option<semver::Version> {
    semver::Version::parse(version.strip_prefix('v')?).ok()
}

/// What `@latest` answers: the highest release, else the highest pre-release.
pub fn latest<'a>(versions: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let parsed: Vec<(semver::Version, &str)> = versions
        .into_iter()
        .filter_map(|v| Some((semver_of(v)?, v)))
        .collect();
    let best = |release: bool| {
        parsed
            .iter()
            .filter(|(s, _)| s.pre.is_empty() == release)
            .max_by(|a, b| a.0.cmp_precedence(&b.0).then_with(|| a.0.cmp(&b.0)))
            .map(|(_, v)| *v)
    };
    best(true).or_else(|| best(false))
}

#[cfg(test)]
#[path = "go_tests.rs"]
mod tests;
