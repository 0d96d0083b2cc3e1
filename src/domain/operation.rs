//! The operations catalog of SPEC §5. The index of each operation is part of the wire contract
//! (`operationsIndex`), so the order here must never change; new operations are appended.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    Download = 0,
    Upload = 1,
    EditRepository = 2,
    Delete = 3,
    Restore = 4,
    PhysicDelete = 5,
    CreateRepository = 6,
    ClearAll = 7,
    ManagePrivileges = 8,
}

impl Operation {
    pub const ALL: [Operation; 9] = [
        Operation::Download,
        Operation::Upload,
        Operation::EditRepository,
        Operation::Delete,
        Operation::Restore,
        Operation::PhysicDelete,
        Operation::CreateRepository,
        Operation::ClearAll,
        Operation::ManagePrivileges,
    ];

    pub fn index(self) -> u32 {
        self as u32
    }

    pub fn name(self) -> &'static str {
        match self {
            Operation::Download => "download",
            Operation::Upload => "upload",
            Operation::EditRepository => "editRepository",
            Operation::Delete => "delete",
            Operation::Restore => "restore",
            Operation::PhysicDelete => "physicdelete",
            Operation::CreateRepository => "createRepository",
            Operation::ClearAll => "clearall",
            Operation::ManagePrivileges => "managePrivileges",
        }
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of operations, stored as a bit mask indexed by catalog position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationSet(u32);

impl OperationSet {
    pub const EMPTY: OperationSet = OperationSet(0);

    pub fn of(ops: &[Operation]) -> Self {
        OperationSet(ops.iter().fold(0, |m, op| m | (1 << op.index())))
    }

    pub fn from_bits(bits: i64) -> Self {
        OperationSet((bits as u32) & ((1 << Operation::ALL.len()) - 1))
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn contains(self, op: Operation) -> bool {
        self.0 & (1 << op.index()) != 0
    }

    pub fn union(self, other: OperationSet) -> Self {
        OperationSet(self.0 | other.0)
    }

    /// Members in catalog order.
    pub fn iter(self) -> impl Iterator<Item = Operation> {
        Operation::ALL
            .into_iter()
            .filter(move |op| self.contains(*op))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_indexes_match_the_seed() {
        let set = OperationSet::of(&[
            Operation::ClearAll,
            Operation::EditRepository,
            Operation::PhysicDelete,
            Operation::Restore,
        ]);
        let names: Vec<_> = set.iter().map(Operation::name).collect();
        assert_eq!(
            names,
            ["editRepository", "restore", "physicdelete", "clearall"]
        );
        let idx: Vec<_> = set.iter().map(Operation::index).collect();
        assert_eq!(idx, [2, 4, 5, 7]);
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
        }
    }
}

/// Parses a comma-separated operation list. Accepts the catalog names (any case) and the names of the
/// SDK's `PrivilegeParam.operations` vocabulary, mapped onto the catalog (decision):
/// `downloadorview`/`export` → download, `import` → upload, `deleterepository`/`deleteorredeploy` → delete,
/// `restoreall` → restore.
pub fn parse_operation_list(list: &str) -> Result<OperationSet, String> {
    let mut set = OperationSet::EMPTY;
    for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let lower = raw.to_ascii_lowercase();
        let op = Operation::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(&lower))
            .or(match lower.as_str() {
                "downloadorview" | "export" => Some(Operation::Download),
                "import" => Some(Operation::Upload),
                "deleterepository" | "deleteorredeploy" => Some(Operation::Delete),
                "restoreall" => Some(Operation::Restore),
                _ => None,
            })
            .ok_or_else(|| format!("unknown operation '{raw}'"))?;
        set = set.union(OperationSet::of(&[op]));
    }
    Ok(set)
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn operation_lists_accept_catalog_and_sdk_names() {
        let set = parse_operation_list("editRepository, restore,PHYSICDELETE,clearall").unwrap();
        assert_eq!(
            set.iter().map(Operation::index).collect::<Vec<_>>(),
            [2, 4, 5, 7]
        );
        let set = parse_operation_list("downloadorview,import,deleterepository").unwrap();
        assert_eq!(
            set.iter().map(Operation::index).collect::<Vec<_>>(),
            [0, 1, 3]
        );
        assert_eq!(parse_operation_list("").unwrap(), OperationSet::EMPTY);
        assert!(parse_operation_list("download,fly")
            .unwrap_err()
            .contains("fly"));
    }
}
