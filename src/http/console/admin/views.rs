//! The administration pages' templates and rows (`templates/console/admin_*.html`).

use askama::Template;

use crate::http::console::views::Chrome;

/// Which administration pages the caller may open (the sub-navigation), and the one shown.
pub struct Sections {
    pub users: bool,
    pub groups: bool,
    pub projects: bool,
    pub current: &'static str,
}

impl Sections {
    pub fn any(&self) -> bool {
        self.users || self.groups || self.projects
    }
}

pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub enabled: bool,
    pub created: String,
    pub is_root: bool,
}

#[derive(Template)]
#[template(path = "console/admin_users.html")]
pub struct Users {
    pub chrome: Chrome,
    pub sections: Sections,
    pub rows: Vec<UserRow>,
    pub can_create: bool,
    pub can_update: bool,
    pub can_delete: bool,
    /// The caller's own id: only the root user may change the root user.
    pub me: String,
    pub notice: Option<String>,
}

pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `None`: the caller may not list the group's members.
    pub members: Option<Vec<(String, String)>>,
}

#[derive(Template)]
#[template(path = "console/admin_groups.html")]
pub struct Groups {
    pub chrome: Chrome,
    pub sections: Sections,
    pub rows: Vec<GroupRow>,
    /// The account's users (id, name) for the add-member form; empty if the caller may not list them.
    pub users: Vec<(String, String)>,
    pub can_create: bool,
    pub can_delete: bool,
    pub can_add: bool,
    pub can_remove: bool,
    pub notice: Option<String>,
}

pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub creator: String,
    pub created: String,
    pub can_delete: bool,
}

#[derive(Template)]
#[template(path = "console/admin_projects.html")]
pub struct Projects {
    pub chrome: Chrome,
    pub sections: Sections,
    pub rows: Vec<ProjectRow>,
    pub notice: Option<String>,
}

pub struct MemberRow {
    pub user_id: String,
    pub name: String,
    pub role_id: i64,
    pub role_name: String,
    pub creator: bool,
}

pub struct GrantRow {
    pub index: usize,
    pub path: String,
    pub type_id: String,
    pub area_id: String,
    /// Every operation's name and whether this grant holds it.
    pub operations: Vec<(&'static str, bool)>,
}

pub struct RoleGrants {
    pub role_id: &'static str,
    pub role_name: &'static str,
    pub rows: Vec<GrantRow>,
    /// The empty row that adds a grant.
    pub next: usize,
}

#[derive(Template)]
#[template(path = "console/admin_project.html")]
pub struct Project {
    pub chrome: Chrome,
    pub sections: Sections,
    pub id: String,
    pub name: String,
    pub members: Vec<MemberRow>,
    pub can_manage: bool,
    /// Users who are not members yet (id, name); `None` when the caller may not list users.
    pub candidates: Option<Vec<(String, String)>>,
    /// Roles a member may be given (ProjectMan id, name).
    pub roles: Vec<(i64, &'static str)>,
    /// `None` when the caller lacks managePrivileges in the project.
    pub grants: Option<Vec<RoleGrants>>,
    pub operations: Vec<&'static str>,
    pub notice: Option<String>,
}

impl Project {
    pub fn everyone_is_a_member(&self) -> bool {
        self.candidates.as_ref().is_some_and(Vec::is_empty)
    }
}
