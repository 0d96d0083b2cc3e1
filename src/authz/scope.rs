//! The scope a ticket was issued with (`embed_id`, SPEC §4): everything its user may reach, one repository
//! (by name or id), or a path prefix `/<repository>/<dir>`. A scope only ever narrows the user's privileges.

use super::grants;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// No `embed_id`, or a credential other than a ticket.
    #[default]
    Everything,
    /// A repository name or id.
    Repository(String),
    /// `/<repository name or id>` followed by the directory inside it (possibly empty), without a trailing `/`.
    Path { repo: String, rest: String },
}

impl Scope {
    pub fn from_embed_id(embed_id: &str) -> Scope {
        if embed_id.is_empty() {
            return Scope::Everything;
        }
        let Some(path) = embed_id.strip_prefix('/') else {
            return Scope::Repository(embed_id.to_string());
        };
        let path = path.trim_end_matches('/');
        let (repo, rest) = path.split_once('/').unwrap_or((path, ""));
        Scope::Path {
            repo: repo.to_string(),
            rest: rest.to_string(),
        }
    }

    /// The repository name or id the scope names; `None` for `Everything`.
    pub fn repository_key(&self) -> Option<&str> {
        match self {
            Scope::Everything => None,
            Scope::Repository(key) | Scope::Path { repo: key, .. } => Some(key),
        }
    }

    /// Where the scope starts inside the repository `name` (whose id is `id`): the object path `/<name>` or
    /// `/<name>/<dir>`; `None` when nothing of the repository is in scope.
    pub fn root_in(&self, name: &str, id: &str) -> Option<String> {
        match self {
            Scope::Everything => Some(format!("/{name}")),
            Scope::Repository(key) => (key == name || key == id).then(|| format!("/{name}")),
            Scope::Path { repo, rest } if !repo.is_empty() && (repo == name || repo == id) => {
                Some(if rest.is_empty() {
                    format!("/{name}")
                } else {
                    format!("/{name}/{rest}")
                })
            }
            Scope::Path { .. } => None,
        }
    }

    /// Whether the object path `full_path` (`/<name>/...`) of the repository `name`/`id` is in scope.
    pub fn covers(&self, name: &str, id: &str, full_path: &str) -> bool {
        self.root_in(name, id)
            .is_some_and(|root| full_path == root || full_path.starts_with(&format!("{root}/")))
    }

    /// Whether a grant on `glob` reaches into the scope, which starts at `root` (from `root_in`): it covers
    /// the scope's root, or names a path below it.
    pub fn glob_reaches(root: &str, glob: &str) -> bool {
        grants::covers(glob, root) || glob.starts_with(&format!("{root}/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_ids_parse() {
        assert_eq!(Scope::from_embed_id(""), Scope::Everything);
        assert_eq!(
            Scope::from_embed_id("libs"),
            Scope::Repository("libs".into())
        );
        assert_eq!(
            Scope::from_embed_id("/libs/dir/"),
            Scope::Path {
                repo: "libs".into(),
                rest: "dir".into()
            }
        );
        assert_eq!(
            Scope::from_embed_id("/libs").root_in("libs", "rid"),
            Some("/libs".into())
        );
        assert_eq!(Scope::from_embed_id("/").root_in("libs", "rid"), None);
    }

    #[test]
    fn scopes_cover_their_repository_or_path_only() {
        let (name, id) = ("libs", "rid");
        assert!(Scope::Everything.covers(name, id, "/libs/a.txt"));
        assert!(Scope::from_embed_id("libs").covers(name, id, "/libs/a.txt"));
        assert!(Scope::from_embed_id("rid").covers(name, id, "/libs"));
        assert!(Scope::from_embed_id("/libs/dir").covers(name, id, "/libs/dir/a.txt"));
        assert!(Scope::from_embed_id("/rid/dir").covers(name, id, "/libs/dir"));
        assert!(!Scope::from_embed_id("/libs/dir").covers(name, id, "/libs/dir2/a.txt"));
        assert!(!Scope::from_embed_id("/libs/dir").covers(name, id, "/libs"));
        assert!(!Scope::from_embed_id("other").covers(name, id, "/libs/a.txt"));
        assert!(!Scope::from_embed_id("/other/libs").covers(name, id, "/libs/a.txt"));
        assert!(!Scope::from_embed_id("lib").covers(name, id, "/libs/a.txt"));
    }

    #[test]
    fn grants_reach_a_scope_from_above_or_below() {
        assert!(Scope::glob_reaches("/libs/dir", "/*"));
        assert!(Scope::glob_reaches("/libs/dir", "/libs/*"));
        assert!(Scope::glob_reaches("/libs/dir", "/libs/dir/sub/*"));
        assert!(!Scope::glob_reaches("/libs/dir", "/libs/other/*"));
        assert!(!Scope::glob_reaches("/libs", "/libs2/*"));
    }
}
