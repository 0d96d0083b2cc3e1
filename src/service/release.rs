//! The rules of release repositories: who may do what (through the same privilege engine as
//! repositories, on the object path `/.release/<path>`), what a project's folder holds, which versions
//! the retention settings expire, and when an account crosses its capacity threshold.

use std::collections::BTreeMap;

use crate::auth::{Credential, Principal};
use crate::authz::privileges::{allows, PrivilegeEntry};
use crate::authz::scope::Scope;
use crate::domain::operation::{Operation, OperationSet};
use crate::store::release::ReleaseFile;
use crate::store::release_settings::Retention;

/// The name the privilege engine and ticket scopes know a project's release repository by. Repository
/// names cannot start with `.`, so no repository grant reaches it by accident; a grant on the whole
/// project (`/*`) does.
pub const OBJECT_NAME: &str = ".release";

pub const CATEGORIES: [&str; 2] = ["test", "prod"];

/// The privilege engine's path of `path` (relative, may be empty) in a release repository.
pub fn object_path(path: &str) -> String {
    if path.is_empty() {
        format!("/{OBJECT_NAME}")
    } else {
        format!("/{OBJECT_NAME}/{path}")
    }
}

/// The caller's privileges in one project's release repository, narrowed by a ticket's scope.
#[derive(Debug, Clone)]
pub struct ReleaseAccess {
    pub entries: Vec<PrivilegeEntry>,
    pub scope: Scope,
}

impl ReleaseAccess {
    pub fn new(entries: Vec<PrivilegeEntry>, principal: &Principal) -> Self {
        ReleaseAccess {
            entries,
            // A ticket reaches what its `embed_id` names (as `http::artifact::access::scope_of`).
            scope: match &principal.credential {
                Credential::Ticket { embed_id, .. } => Scope::from_embed_id(embed_id),
                _ => Scope::Everything,
            },
        }
    }

    pub fn allows(&self, op: Operation, path: &str) -> bool {
        let full = object_path(path);
        self.scope.covers(OBJECT_NAME, OBJECT_NAME, &full) && allows(&self.entries, op, &full)
    }

    /// Whether a grant gives `op` anywhere in the repository (a folder grant counts).
    pub fn may_somewhere(&self, op: Operation) -> bool {
        let Some(root) = self.scope.root_in(OBJECT_NAME, OBJECT_NAME) else {
            return false;
        };
        self.entries.iter().any(|e| {
            e.operations.contains(op) && Scope::glob_reaches(&root, &e.granted_object_path)
        })
    }

    /// What moving `file` to the bin or out of it needs: a released (`prod`) package also needs
    /// `editRepository`, the right to change a package's state (decision).
    pub fn may_bin(&self, file: &ReleaseFile, op: Operation) -> bool {
        self.allows(op, &file.path)
            && (file.category != "prod" || self.allows(Operation::EditRepository, &file.path))
    }
}

/// A role's (or a caller's) operations on the whole release repository, as `ProjectRolePermissionDo`'s
/// flags: the mapping onto the operations catalog is arca's (decision, see README).
pub fn permission_flags(ops: OperationSet) -> serde_json::Value {
    let has = |op| ops.contains(op);
    serde_json::json!({
        "is_permission_config": has(Operation::ManagePrivileges),
        "is_change_pkg_status": has(Operation::EditRepository),
        "is_upload": has(Operation::Upload),
        "is_delete_restore_test_pkg": has(Operation::Delete) && has(Operation::Restore),
        "is_delete_restore_prod_pkg": has(Operation::Delete) && has(Operation::Restore) && has(Operation::EditRepository),
        "is_edit_test_pkg": has(Operation::EditRepository),
        "is_mkdir": has(Operation::Upload),
        "is_download": has(Operation::Download),
        "is_restore_all": has(Operation::Restore),
        "is_empty": has(Operation::ClearAll),
    })
}

/// The newest version of each full name among `versions` that pass `keep`.
pub fn latest(versions: &[ReleaseFile], keep: impl Fn(&ReleaseFile) -> bool) -> Vec<&ReleaseFile> {
    let mut by_path: BTreeMap<&str, &ReleaseFile> = BTreeMap::new();
    for v in versions.iter().filter(|v| keep(v)) {
        match by_path.get(v.path.as_str()) {
            Some(seen) if seen.version >= v.version => {}
            _ => {
                by_path.insert(&v.path, v);
            }
        }
    }
    by_path.into_values().collect()
}

/// Whether `path` lies directly in the folder `dir` ("" for the root).
pub fn is_child(dir: &str, path: &str) -> bool {
    let rest = if dir.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(dir).and_then(|r| r.strip_prefix('/'))
    };
    rest.is_some_and(|r| !r.is_empty() && !r.contains('/'))
}

/// Whether `path` lies anywhere under the folder `dir` ("" for the root).
pub fn is_under(dir: &str, path: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The versions a retention run moves to the bin and deletes for good at `now`, `day_ms` being the
/// length of a retention day (shortened in tests). Idempotent: a version already in the bin is never
/// binned again, and one deleted is gone from `versions`.
pub fn expired<'a>(
    retention: &Retention,
    versions: &'a [ReleaseFile],
    now: i64,
    day_ms: i64,
) -> (Vec<&'a ReleaseFile>, Vec<&'a ReleaseFile>) {
    let skip_paths: Vec<String> = serde_json::from_str::<Vec<String>>(&retention.skip_paths)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.trim_matches('/').to_string())
        .collect();
    let spared = |v: &ReleaseFile| {
        (!retention.skip_category.is_empty() && v.category == retention.skip_category)
            || skip_paths
                .iter()
                .any(|p| p.is_empty() || v.path == *p || is_under(p, &v.path))
    };
    let to_trash = if retention.to_trash {
        let limit = now.saturating_sub(retention.file_expire_days.saturating_mul(day_ms));
        versions
            .iter()
            .filter(|v| v.is_live() && v.created_at <= limit && !spared(v))
            .collect()
    } else {
        Vec::new()
    };
    let to_delete = if retention.to_delete {
        let limit = now.saturating_sub(retention.trash_expire_days.saturating_mul(day_ms));
        versions
            .iter()
            .filter(|v| v.deleted_at.is_some_and(|at| at <= limit))
            .collect()
    } else {
        Vec::new()
    };
    (to_trash, to_delete)
}

/// Whether usage is at or over `threshold_percent` of `total` (a total of 0 is never crossed).
pub fn is_over(used: i64, total: i64, threshold_percent: i64) -> bool {
    total > 0 && (used as i128) * 100 >= (total as i128) * (threshold_percent as i128)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::release::Provenance;

    fn version(
        path: &str,
        v: i64,
        created_at: i64,
        deleted_at: Option<i64>,
        cat: &str,
    ) -> ReleaseFile {
        ReleaseFile {
            id: format!("{path}#{v}"),
            file_id: path.into(),
            domain_id: "d".into(),
            project_id: "p".into(),
            path: path.into(),
            version: v,
            sha256: String::new(),
            md5: String::new(),
            sha1: String::new(),
            sha512: String::new(),
            size: 1,
            content_type: String::new(),
            category: cat.into(),
            provenance: Provenance::default(),
            created_at,
            created_by: String::new(),
            created_by_name: String::new(),
            deleted_at,
        }
    }

    fn retention(to_trash: bool, days: i64, to_delete: bool, bin_days: i64) -> Retention {
        Retention {
            project_id: "p".into(),
            domain_id: "d".into(),
            to_trash,
            file_expire_days: days,
            to_delete,
            trash_expire_days: bin_days,
            skip_category: String::new(),
            skip_paths: "[]".into(),
        }
    }

    #[test]
    fn folders_children_and_latest() {
        assert!(is_child("", "a.txt"));
        assert!(!is_child("", "a/b.txt"));
        assert!(is_child("a", "a/b.txt"));
        assert!(!is_child("a", "ab/b.txt"));
        assert!(is_under("a", "a/b/c"));
        assert!(!is_under("a", "ab/c"));
        let vs = [
            version("a/x", 1, 0, None, "test"),
            version("a/x", 2, 0, None, "test"),
            version("a/x", 3, 0, Some(5), "test"),
        ];
        let live = latest(&vs, ReleaseFile::is_live);
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].version, 2);
    }

    #[test]
    fn retention_bins_old_versions_spares_and_purges_old_bins() {
        let day = 1000;
        let vs = [
            version("v1/old.bin", 1, 0, None, "test"),
            version("v1/new.bin", 1, 9_500, None, "test"),
            version("v1/prod.bin", 1, 0, None, "prod"),
            version("keep/old.bin", 1, 0, None, "test"),
            version("v1/binned.bin", 1, 0, Some(1_000), "test"),
            version("v1/fresh-bin.bin", 1, 0, Some(9_900), "test"),
        ];
        let mut r = retention(true, 5, true, 3);
        r.skip_category = "prod".into();
        r.skip_paths = r#"["/keep"]"#.into();
        let (bin, gone) = expired(&r, &vs, 10_000, day);
        let names: Vec<_> = bin.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(names, ["v1/old.bin"]);
        let names: Vec<_> = gone.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(names, ["v1/binned.bin"]);
        let (bin, gone) = expired(&retention(false, 5, false, 3), &vs, 10_000, day);
        assert!(bin.is_empty() && gone.is_empty());
    }

    #[test]
    fn thresholds() {
        assert!(is_over(80, 100, 80));
        assert!(!is_over(79, 100, 80));
        assert!(!is_over(5, 0, 0));
        assert!(is_over(i64::MAX, i64::MAX, 100));
    }

    #[test]
    fn flags_follow_operations() {
        let f = permission_flags(OperationSet::of(&[Operation::Download]));
        assert_eq!(f["is_download"], true);
        assert_eq!(f["is_upload"], false);
        assert_eq!(f["is_delete_restore_prod_pkg"], false);
    }
}
