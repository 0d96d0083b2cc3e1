//! Path globs of privilege grants (SPEC §5): `/maven-release/com/acme/*`, where `*` matches any rest of a path.

/// Whether `glob` is an acceptable granted object path: starts with `/`, and has only letters, digits,
/// `/ * - _ .` (the seed allows letters, digits, `/` and `*`; `-_.` are arca's decision).
pub fn is_valid_glob(glob: &str) -> bool {
    glob.starts_with('/')
        && glob.len() <= 1024
        && glob
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/*-_.".contains(&b))
        && !glob.split('/').any(|seg| seg == ".." || seg == ".")
}

/// Whether `glob` covers `path`. `*` matches any run of characters, including `/`; elsewhere the match is
/// exact. A glob ending in `/*` also covers the directory itself (`/repo/*` covers `/repo`).
pub fn covers(glob: &str, path: &str) -> bool {
    if let Some(dir) = glob.strip_suffix("/*") {
        if path == dir {
            return true;
        }
    }
    wildcard_match(glob.as_bytes(), path.as_bytes())
}

fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative matcher with a single backtrack point: linear in practice, no recursion to blow the stack.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_rest() {
        assert!(covers(
            "/maven-release/com/acme/*",
            "/maven-release/com/acme/lib/1.0/lib.jar"
        ));
        assert!(covers(
            "/maven-release/com/acme/*",
            "/maven-release/com/acme"
        ));
        assert!(!covers(
            "/maven-release/com/acme/*",
            "/maven-release/com/acmeX/lib.jar"
        ));
        assert!(!covers(
            "/maven-release/com/acme/*",
            "/maven-snapshot/com/acme/lib.jar"
        ));
        assert!(covers("/*", "/anything/at/all"));
        assert!(covers("/repo/exact.txt", "/repo/exact.txt"));
        assert!(!covers("/repo/exact.txt", "/repo/exact.txt2"));
        assert!(covers("/repo/*/1.0/*", "/repo/a/b/1.0/x.jar"));
    }

    #[test]
    fn globs_are_validated() {
        assert!(is_valid_glob("/maven-release/com/acme/*"));
        assert!(is_valid_glob("/a_b/c.d/*"));
        assert!(!is_valid_glob("relative/*"));
        assert!(!is_valid_glob("/a/../b"));
        assert!(!is_valid_glob("/a b"));
        assert!(!is_valid_glob("/a?b"));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let pattern = "/".to_string() + &"*a".repeat(50) + "b";
        let text = "/".to_string() + &"a".repeat(5000);
        assert!(!covers(&pattern, &text));
    }
}
