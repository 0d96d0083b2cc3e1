//! The built-in CodeArts roles of SPEC §5 and the ProjectMan numeric role ids of SPEC §10 that map to them.
//!
//! Default operations (decision): managers of the project hold everything; roles that build and release
//! software may publish and clean up; roles that only consume artifacts may download.

use crate::domain::operation::{Operation as Op, OperationSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinRole {
    pub id: &'static str,
    pub name: &'static str,
    pub chinese_name: &'static str,
    pub default_operations: &'static [Op],
}

impl BuiltinRole {
    pub fn operations(&self) -> OperationSet {
        OperationSet::of(self.default_operations)
    }
}

const ALL: &[Op] = &Op::ALL;
const PUBLISHER: &[Op] = &[
    Op::Download,
    Op::Upload,
    Op::EditRepository,
    Op::Delete,
    Op::Restore,
    Op::CreateRepository,
];
const CONTRIBUTOR: &[Op] = &[Op::Download, Op::Upload, Op::Delete, Op::Restore];
const READER: &[Op] = &[Op::Download];

pub const PROJECT_MANAGER: BuiltinRole = BuiltinRole {
    id: "0a2437aafd2249469a74aa383358f57c",
    name: "Project manager",
    chinese_name: "项目经理",
    default_operations: ALL,
};

pub const BUILTIN_ROLES: [BuiltinRole; 10] = [
    PROJECT_MANAGER,
    BuiltinRole {
        id: "0bda76de555845a0869ed2060d911542",
        name: "Product manager",
        chinese_name: "产品经理",
        default_operations: READER,
    },
    BuiltinRole {
        id: "b66e4c3d1a9d45ff9cfa26b4de1924f9",
        name: "Test manager",
        chinese_name: "测试经理",
        default_operations: CONTRIBUTOR,
    },
    BuiltinRole {
        id: "7ad2a18624164b4faa8f8c3670251928",
        name: "Operation manager",
        chinese_name: "运维经理",
        default_operations: PUBLISHER,
    },
    BuiltinRole {
        id: "2b0aef13ff65403c88cbab24c8e08dd9",
        name: "System engineer",
        chinese_name: "系统工程师",
        default_operations: PUBLISHER,
    },
    BuiltinRole {
        id: "3cf46724dc9b47bdbcc34f6bba083104",
        name: "Committer",
        chinese_name: "Committer",
        default_operations: CONTRIBUTOR,
    },
    BuiltinRole {
        id: "b87f4425770344beb186878820e3cbc2",
        name: "Developer",
        chinese_name: "开发人员",
        default_operations: CONTRIBUTOR,
    },
    BuiltinRole {
        id: "7d8033d5d1e040b4a5bf62ce28d556f2",
        name: "Tester",
        chinese_name: "测试人员",
        default_operations: READER,
    },
    BuiltinRole {
        id: "41e671d6749e4b6b8e67d4fe741a7d6a",
        name: "Participant",
        chinese_name: "参与者",
        default_operations: READER,
    },
    BuiltinRole {
        id: "11f8bf3e128b482fa007304fde572af9",
        name: "Viewer",
        chinese_name: "浏览者",
        default_operations: READER,
    },
];

/// Fixed id of the CodeArts Artifact area service in privilege entries.
pub const AREA_SERVICE_ID: &str = "2554405730284fd4a90039963039d2ed";
/// Fixed object type id of a grant on a whole project (`/*`).
pub const OBJECT_TYPE_PROJECT: &str = "d7cc6d23d01a40bab2963a4d7211437e";

pub fn builtin_by_id(id: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.id == id)
}

pub fn builtin_by_name(name: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.name == name)
}

/// ProjectMan numeric role id to built-in role name (SPEC §10).
pub fn from_projectman_role(role_id: i64) -> Option<&'static BuiltinRole> {
    let name = match role_id {
        -1 | 3 => "Project manager",
        4 => "Developer",
        5 => "Test manager",
        6 => "Tester",
        7 => "Participant",
        8 => "Viewer",
        9 => "Operation manager",
        10 => "Product manager",
        11 => "System engineer",
        12 => "Committer",
        _ => return None,
    };
    builtin_by_name(name)
}

/// The ProjectMan role names, as the member list shows them: the built-in role's English name, as
/// seed 002's `role_name` (decision), and "Project creator" for the creator's own role.
pub fn projectman_role_name(role_id: i64) -> Option<&'static str> {
    if role_id == -1 {
        return Some("Project creator");
    }
    from_projectman_role(role_id).map(|r| r.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::is_hex32;

    #[test]
    fn builtin_roles_are_well_formed_and_distinct() {
        let mut ids: Vec<_> = BUILTIN_ROLES.iter().map(|r| r.id).collect();
        ids.extend([AREA_SERVICE_ID, OBJECT_TYPE_PROJECT]);
        assert!(ids.iter().all(|id| is_hex32(id)));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 12);
    }

    #[test]
    fn projectman_ids_map_per_spec() {
        assert_eq!(from_projectman_role(-1).unwrap().name, "Project manager");
        assert_eq!(from_projectman_role(4).unwrap().name, "Developer");
        assert_eq!(from_projectman_role(12).unwrap().name, "Committer");
        assert!(from_projectman_role(2).is_none());
        assert!(from_projectman_role(13).is_none());
        assert!(PROJECT_MANAGER.operations().contains(Op::ManagePrivileges));
    }
}
