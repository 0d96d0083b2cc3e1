//! Authorization: who may do what. Pure logic, no I/O: callers load the facts (roles, grants, policy
//! documents) and ask these modules for a verdict.

pub mod grants;
pub mod policy;
pub mod privileges;
pub mod roles;
pub mod scope;
