//! Privilege entries and the merged answer of seed 002 (SPEC §5).

use serde::Serialize;

use crate::domain::operation::{Operation, OperationSet};

use super::grants;

/// One privilege entry: a role's operations on a path glob in a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivilegeEntry {
    pub role_id: String,
    pub role_name: String,
    pub role_chinese_name: String,
    pub project_id: String,
    pub area_service_id: String,
    pub granted_object_path: String,
    pub granted_object_type_id: String,
    pub operations: OperationSet,
}

/// The `result` object of `GET /cloudartifact/v3/user/{project_id}/privileges`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergedPrivileges {
    pub operations: String,
    #[serde(rename = "operationsIndex")]
    pub operations_index: Vec<u32>,
    pub role_id: String,
    pub role_name: String,
    pub role_chinese_name: String,
    pub project_id: String,
    pub area_service_id: String,
    pub granted_object_path: String,
    pub granted_object_type_id: String,
}

/// Merges entries as the seed shows: the union of operations in catalog order; per-entry fields each
/// followed by a comma, in entry order; distinct object type ids comma-joined.
pub fn merge(entries: &[PrivilegeEntry]) -> MergedPrivileges {
    let ops = entries
        .iter()
        .fold(OperationSet::EMPTY, |acc, e| acc.union(e.operations));
    let each = |f: fn(&PrivilegeEntry) -> &str| -> String {
        entries.iter().map(|e| format!("{},", f(e))).collect()
    };
    let mut type_ids: Vec<&str> = Vec::new();
    for e in entries {
        if !type_ids.contains(&e.granted_object_type_id.as_str()) {
            type_ids.push(&e.granted_object_type_id);
        }
    }
    MergedPrivileges {
        operations: ops
            .iter()
            .map(Operation::name)
            .collect::<Vec<_>>()
            .join(","),
        operations_index: ops.iter().map(Operation::index).collect(),
        role_id: each(|e| &e.role_id),
        role_name: each(|e| &e.role_name),
        role_chinese_name: each(|e| &e.role_chinese_name),
        project_id: each(|e| &e.project_id),
        area_service_id: each(|e| &e.area_service_id),
        granted_object_path: each(|e| &e.granted_object_path),
        granted_object_type_id: type_ids.join(","),
    }
}

/// Whether any entry grants `op` on a glob covering `path` (the check every protocol request goes through).
pub fn allows(entries: &[PrivilegeEntry], op: Operation, path: &str) -> bool {
    entries
        .iter()
        .any(|e| e.operations.contains(op) && grants::covers(&e.granted_object_path, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(role: &str, path: &str, ops: &[Operation], type_id: &str) -> PrivilegeEntry {
        PrivilegeEntry {
            role_id: format!("{role}-id"),
            role_name: role.to_string(),
            role_chinese_name: format!("{role}-zh"),
            project_id: "p1".into(),
            area_service_id: "area".into(),
            granted_object_path: path.into(),
            granted_object_type_id: type_id.into(),
            operations: OperationSet::of(ops),
        }
    }

    #[test]
    fn merge_reproduces_the_seed_shape() {
        use Operation::*;
        let merged = merge(&[entry(
            "Developer",
            "/xxxx/aaa/bbb/*",
            &[ClearAll, EditRepository, Restore, PhysicDelete],
            "t1",
        )]);
        assert_eq!(
            merged.operations,
            "editRepository,restore,physicdelete,clearall"
        );
        assert_eq!(merged.operations_index, vec![2, 4, 5, 7]);
        assert_eq!(merged.role_name, "Developer,");
        assert_eq!(merged.granted_object_path, "/xxxx/aaa/bbb/*,");
        assert_eq!(merged.granted_object_type_id, "t1");
    }

    #[test]
    fn merge_unions_and_keeps_entry_order() {
        use Operation::*;
        let merged = merge(&[
            entry("Viewer", "/a/*", &[Download], "t1"),
            entry("Tester", "/b/*", &[Upload, Download], "t2"),
            entry("Tester", "/c/*", &[ManagePrivileges], "t1"),
        ]);
        assert_eq!(merged.operations, "download,upload,managePrivileges");
        assert_eq!(merged.operations_index, vec![0, 1, 8]);
        assert_eq!(merged.role_name, "Viewer,Tester,Tester,");
        assert_eq!(merged.granted_object_path, "/a/*,/b/*,/c/*,");
        assert_eq!(merged.granted_object_type_id, "t1,t2");
    }

    #[test]
    fn no_entries_give_the_empty_shape() {
        let merged = merge(&[]);
        assert_eq!(merged, MergedPrivileges::default());
        let json = serde_json::to_value(&merged).unwrap();
        assert_eq!(json["operationsIndex"], serde_json::json!([]));
        assert_eq!(json["operations"], "");
    }

    #[test]
    fn allows_needs_operation_and_covering_glob() {
        use Operation::*;
        let entries = [entry(
            "Developer",
            "/repo/com/acme/*",
            &[Download, Upload],
            "t",
        )];
        assert!(allows(&entries, Upload, "/repo/com/acme/x/1.0/x.jar"));
        assert!(!allows(&entries, Upload, "/repo/com/other/x.jar"));
        assert!(!allows(&entries, Delete, "/repo/com/acme/x.jar"));
    }
}
