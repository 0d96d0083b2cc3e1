//! CodeArts (ProjectMan) projects, their members, custom roles and per-role privilege grants.

use crate::params;
use crate::store::{Conn, Row};

use super::{StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub domain_id: String,
    pub name: String,
    pub description: String,
    pub project_type: String,
    pub creator_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const PROJECT_COLS: &str =
    "id, domain_id, name, description, project_type, creator_id, created_at, updated_at";

fn project_from_row(r: &Row<'_>) -> StoreResult<Project> {
    Ok(Project {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        project_type: r.get(4)?,
        creator_id: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

pub fn insert_project(conn: &Conn, p: &Project) -> StoreResult<()> {
    conn.execute(
        &format!("INSERT INTO projects ({PROJECT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            p.id,
            p.domain_id,
            p.name,
            p.description,
            p.project_type,
            p.creator_id,
            p.created_at,
            p.updated_at
        ],
    )
    .map_err(|e| {
        let e: StoreError = e;
        if e.is_unique_violation() {
            StoreError::Conflict("a project with this name")
        } else {
            e
        }
    })?;
    Ok(())
}

pub fn update_project(conn: &Conn, p: &Project) -> StoreResult<()> {
    conn.execute(
        "UPDATE projects SET name = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
        params![p.id, p.name, p.description, p.updated_at],
    )
    .map_err(|e| {
        let e: StoreError = e;
        if e.is_unique_violation() {
            StoreError::Conflict("a project with this name")
        } else {
            e
        }
    })?;
    Ok(())
}

pub fn get_project(conn: &Conn, domain_id: &str, id: &str) -> StoreResult<Option<Project>> {
    conn.query_opt(
        &format!("SELECT {PROJECT_COLS} FROM projects WHERE id = ?1 AND domain_id = ?2"),
        params![id, domain_id],
        project_from_row,
    )
}

pub fn delete_project(conn: &Conn, id: &str) -> StoreResult<bool> {
    Ok(conn.execute("DELETE FROM projects WHERE id = ?1", params![id])? > 0)
}

/// Projects of a domain visible to `member` (all of them when `None`), newest first: `(total, page)`.
pub fn list_projects(
    conn: &Conn,
    domain_id: &str,
    member: Option<&str>,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> StoreResult<(i64, Vec<Project>)> {
    let filter = "WHERE domain_id = ?1 \
        AND (CAST(?2 AS TEXT) IS NULL OR id IN (SELECT project_id FROM project_members WHERE user_id = ?2)) \
        AND (CAST(?3 AS TEXT) IS NULL OR instr(lower(name), lower(?3)) > 0)";
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM projects {filter}"),
        params![domain_id, member, search],
        |r| r.get(0),
    )?;
    let rows = conn.query_map(&format!(
        "SELECT {PROJECT_COLS} FROM projects {filter} ORDER BY created_at DESC, id LIMIT ?4 OFFSET ?5"
    ),
        params![domain_id, member, search, limit, offset],
        project_from_row,
    )?;
    Ok((total, rows))
}

// ---- members --------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Member {
    pub project_id: String,
    pub user_id: String,
    pub user_name: String,
    pub role_id: i64,
    pub joined_at: i64,
}

pub fn upsert_member(
    conn: &Conn,
    project_id: &str,
    user_id: &str,
    role_id: i64,
    now: i64,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO project_members (project_id, user_id, role_id, joined_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (project_id, user_id) DO UPDATE SET role_id = excluded.role_id",
        params![project_id, user_id, role_id, now],
    )?;
    Ok(())
}

/// The roles in `project_id` of those of `user_ids` who are its members, as (user id, role id).
pub fn member_roles(
    conn: &Conn,
    project_id: &str,
    user_ids: &[&str],
) -> StoreResult<Vec<(String, i64)>> {
    crate::store::query_by_id_list(
        conn,
        "SELECT user_id, role_id FROM project_members WHERE project_id = ?1 AND user_id IN ({ids})",
        &project_id,
        user_ids,
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

pub fn remove_member(conn: &Conn, project_id: &str, user_id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM project_members WHERE project_id = ?1 AND user_id = ?2",
        params![project_id, user_id],
    )? > 0)
}

pub fn get_member(conn: &Conn, project_id: &str, user_id: &str) -> StoreResult<Option<Member>> {
    conn.query_opt(
        "SELECT m.project_id, m.user_id, u.name, m.role_id, m.joined_at FROM project_members m \
             JOIN users u ON u.id = m.user_id WHERE m.project_id = ?1 AND m.user_id = ?2",
        params![project_id, user_id],
        member_from_row,
    )
}

fn member_from_row(r: &Row<'_>) -> StoreResult<Member> {
    Ok(Member {
        project_id: r.get(0)?,
        user_id: r.get(1)?,
        user_name: r.get(2)?,
        role_id: r.get(3)?,
        joined_at: r.get(4)?,
    })
}

pub fn list_members(
    conn: &Conn,
    project_id: &str,
    role_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> StoreResult<(i64, Vec<Member>)> {
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM project_members WHERE project_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR role_id = ?2)",
        params![project_id, role_id],
        |r| r.get(0),
    )?;
    let rows = conn.query_map(
        "SELECT m.project_id, m.user_id, u.name, m.role_id, m.joined_at FROM project_members m \
         JOIN users u ON u.id = m.user_id WHERE m.project_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR m.role_id = ?2) \
         ORDER BY m.joined_at, m.user_id LIMIT ?3 OFFSET ?4", params![project_id, role_id, limit, offset], member_from_row)?;
    Ok((total, rows))
}

// ---- roles and grants -----------------------------------------------------------------------

/// A stored grant of a role in a project. Built-in roles without stored grants fall back to their
/// default operations on the whole project (see `authz::roles`).
#[derive(Debug, Clone)]
pub struct Grant {
    pub role_id: String,
    pub project_id: String,
    pub area_service_id: String,
    pub granted_object_path: String,
    pub granted_object_type_id: String,
    pub operations: i64,
}

pub fn grants_for_role(conn: &Conn, project_id: &str, role_id: &str) -> StoreResult<Vec<Grant>> {
    conn.query_map(
        "SELECT role_id, project_id, area_service_id, granted_object_path, granted_object_type_id, operations \
         FROM role_grants WHERE project_id = ?1 AND role_id = ?2 ORDER BY id", params![project_id, role_id], |r| {
        Ok(Grant {
            role_id: r.get(0)?,
            project_id: r.get(1)?,
            area_service_id: r.get(2)?,
            granted_object_path: r.get(3)?,
            granted_object_type_id: r.get(4)?,
            operations: r.get(5)?,
        })
    })
}

/// Replaces every grant of a role in a project with `grants`, atomically.
pub fn replace_grants(
    conn: &mut Conn,
    project_id: &str,
    role_id: &str,
    grants: &[Grant],
) -> StoreResult<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM role_grants WHERE project_id = ?1 AND role_id = ?2",
        params![project_id, role_id],
    )?;
    for g in grants {
        put_grant(&tx, g)?;
    }
    tx.commit()?;
    Ok(())
}

pub fn put_grant(conn: &Conn, g: &Grant) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO role_grants (role_id, project_id, area_service_id, granted_object_path, granted_object_type_id, operations) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (role_id, project_id, granted_object_path) DO UPDATE SET operations = excluded.operations, \
         granted_object_type_id = excluded.granted_object_type_id",
        params![g.role_id, g.project_id, g.area_service_id, g.granted_object_path, g.granted_object_type_id, g.operations],
    )?;
    Ok(())
}

// ---- ProjectMan API views (migration 0002) --------------------------------------------------

/// A project with what the ProjectMan API shows alongside it.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub project: Project,
    pub num_id: i64,
    pub enterprise_id: String,
    /// Empty when the creator's user was deleted.
    pub creator_name: String,
    pub creator_num_id: Option<i64>,
    pub domain_name: String,
}

const PROJECT_ROW_SELECT: &str =
    "SELECT p.id, p.domain_id, p.name, p.description, p.project_type, p.creator_id, \
     p.created_at, p.updated_at, p.num_id, p.enterprise_id, coalesce(u.name, ''), u.num_id, d.name \
     FROM projects p JOIN domains d ON d.id = p.domain_id LEFT JOIN users u ON u.id = p.creator_id";

fn project_row_from_row(r: &Row<'_>) -> StoreResult<ProjectRow> {
    Ok(ProjectRow {
        project: project_from_row(r)?,
        num_id: r.get::<Option<i64>>(8)?.unwrap_or_default(),
        enterprise_id: r.get(9)?,
        creator_name: r.get(10)?,
        creator_num_id: r.get(11)?,
        domain_name: r.get(12)?,
    })
}

pub fn get_project_row(conn: &Conn, domain_id: &str, id: &str) -> StoreResult<Option<ProjectRow>> {
    conn.query_opt(
        &format!("{PROJECT_ROW_SELECT} WHERE p.id = ?1 AND p.domain_id = ?2"),
        params![id, domain_id],
        project_row_from_row,
    )
}

pub fn set_project_enterprise_id(conn: &Conn, id: &str, enterprise_id: &str) -> StoreResult<()> {
    conn.execute(
        "UPDATE projects SET enterprise_id = ?2 WHERE id = ?1",
        params![id, enterprise_id],
    )?;
    Ok(())
}

pub fn project_name_exists(conn: &Conn, domain_id: &str, name: &str) -> StoreResult<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM projects WHERE domain_id = ?1 AND name = ?2",
            params![domain_id, name],
            |_| Ok(()),
        )?
        .is_some())
}

/// Which projects of the domain a listing covers, relative to one user.
#[derive(Debug, Clone, Copy)]
pub enum Membership<'a> {
    Any,
    MemberOf(&'a str),
    NotMemberOf(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectOrder {
    NameAsc,
    NameDesc,
    CreatedAsc,
    CreatedDesc,
}

impl ProjectOrder {
    fn sql(self) -> &'static str {
        match self {
            ProjectOrder::NameAsc => "p.name ASC, p.id",
            ProjectOrder::NameDesc => "p.name DESC, p.id",
            ProjectOrder::CreatedAsc => "p.created_at ASC, p.num_id ASC",
            ProjectOrder::CreatedDesc => "p.created_at DESC, p.num_id DESC",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProjectQuery<'a> {
    pub domain_id: &'a str,
    pub membership: Membership<'a>,
    /// Case-insensitive substring of the name or the description.
    pub search: Option<&'a str>,
    pub project_type: Option<&'a str>,
    pub order: ProjectOrder,
    pub offset: i64,
    pub limit: i64,
}

/// Projects matching `q`: `(total before paging, page)`.
pub fn query_projects(conn: &Conn, q: &ProjectQuery<'_>) -> StoreResult<(i64, Vec<ProjectRow>)> {
    let (member, not_member) = match q.membership {
        Membership::Any => (None, None),
        Membership::MemberOf(u) => (Some(u), None),
        Membership::NotMemberOf(u) => (None, Some(u)),
    };
    let filter = "WHERE p.domain_id = ?1 \
        AND (CAST(?2 AS TEXT) IS NULL OR p.id IN (SELECT project_id FROM project_members WHERE user_id = ?2)) \
        AND (CAST(?3 AS TEXT) IS NULL OR p.id NOT IN (SELECT project_id FROM project_members WHERE user_id = ?3)) \
        AND (CAST(?4 AS TEXT) IS NULL OR instr(lower(p.name), lower(?4)) > 0 OR instr(lower(p.description), lower(?4)) > 0) \
        AND (CAST(?5 AS TEXT) IS NULL OR p.project_type = ?5)";
    let args = params![q.domain_id, member, not_member, q.search, q.project_type];
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM projects p {filter}"),
        args,
        |r| r.get(0),
    )?;
    let rows = conn.query_map(
        &format!(
            "{PROJECT_ROW_SELECT} {filter} ORDER BY {} LIMIT ?6 OFFSET ?7",
            q.order.sql()
        ),
        params![
            q.domain_id,
            member,
            not_member,
            q.search,
            q.project_type,
            q.limit,
            q.offset
        ],
        project_row_from_row,
    )?;
    Ok((total, rows))
}

/// A member with what the ProjectMan member list shows.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub user_id: String,
    pub user_name: String,
    pub user_num_id: i64,
    pub role_id: i64,
    pub enabled: bool,
    pub domain_id: String,
    pub domain_name: String,
}

/// Members in joining order: `(total before paging, page)`.
pub fn list_member_rows(
    conn: &Conn,
    project_id: &str,
    role_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> StoreResult<(i64, Vec<MemberRow>)> {
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM project_members WHERE project_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR role_id = ?2)",
        params![project_id, role_id],
        |r| r.get(0),
    )?;
    let rows = conn.query_map(
        "SELECT u.id, u.name, coalesce(u.num_id, 0), m.role_id, u.enabled, d.id, d.name FROM project_members m \
         JOIN users u ON u.id = m.user_id JOIN domains d ON d.id = u.domain_id \
         WHERE m.project_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR m.role_id = ?2) \
         ORDER BY m.joined_at, m.user_id LIMIT ?3 OFFSET ?4", params![project_id, role_id, limit, offset], |r| {
        Ok(MemberRow {
            user_id: r.get(0)?,
            user_name: r.get(1)?,
            user_num_id: r.get(2)?,
            role_id: r.get(3)?,
            enabled: r.get(4)?,
            domain_id: r.get(5)?,
            domain_name: r.get(6)?,
        })
    })?;
    Ok((total, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::identity::{self, Domain, User};
    use crate::store::test_db;

    fn user(id: &str, domain_id: &str, name: &str) -> User {
        User {
            id: id.into(),
            domain_id: domain_id.into(),
            name: name.into(),
            password_hash: None,
            is_root: false,
            enabled: true,
            email: None,
            phone: None,
            description: None,
            created_at: 1,
            modified_at: 1,
            created_by: id.into(),
            modified_by: id.into(),
        }
    }

    fn project(id: &str, name: &str, creator: &str, at: i64) -> Project {
        Project {
            id: id.into(),
            domain_id: "d1".into(),
            name: name.into(),
            description: format!("about {name}"),
            project_type: "scrum".into(),
            creator_id: creator.into(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn numeric_ids_membership_filters_and_order() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            let d = Domain {
                id: "d1".into(),
                name: "acme".into(),
            };
            identity::insert_domain(conn, &d, 0)?;
            identity::insert_user(conn, &user("u1", "d1", "alice"))?;
            identity::insert_user(conn, &user("u2", "d1", "bob"))?;
            assert_eq!(identity::user_num_id(conn, "u1")?, Some(1));
            assert_eq!(identity::user_num_id(conn, "u2")?, Some(2));
            insert_project(conn, &project("p1", "Alpha", "u1", 10))?;
            insert_project(conn, &project("p2", "beta", "u1", 20))?;
            upsert_member(conn, "p1", "u1", -1, 10)?;
            upsert_member(conn, "p2", "u1", -1, 20)?;
            upsert_member(conn, "p2", "u2", 4, 21)?;

            let row = get_project_row(conn, "d1", "p2")?.unwrap();
            assert_eq!(row.num_id, 2);
            assert_eq!(row.enterprise_id, "0");
            assert_eq!(row.creator_name, "alice");
            assert_eq!(row.domain_name, "acme");
            assert!(get_project_row(conn, "other", "p2")?.is_none());

            let mut q = ProjectQuery {
                domain_id: "d1",
                membership: Membership::Any,
                search: None,
                project_type: None,
                order: ProjectOrder::CreatedDesc,
                offset: 0,
                limit: 10,
            };
            let ids = |(_, rows): (i64, Vec<ProjectRow>)| {
                rows.into_iter().map(|r| r.project.id).collect::<Vec<_>>()
            };
            assert_eq!(ids(query_projects(conn, &q)?), ["p2", "p1"]);
            q.order = ProjectOrder::NameAsc;
            assert_eq!(ids(query_projects(conn, &q)?), ["p1", "p2"]);
            q.membership = Membership::MemberOf("u2");
            assert_eq!(ids(query_projects(conn, &q)?), ["p2"]);
            q.membership = Membership::NotMemberOf("u2");
            assert_eq!(ids(query_projects(conn, &q)?), ["p1"]);
            q.membership = Membership::Any;
            q.search = Some("ABOUT BE");
            assert_eq!(query_projects(conn, &q)?.0, 1);
            q.search = None;
            q.project_type = Some("xboard");
            assert_eq!(query_projects(conn, &q)?.0, 0);

            let (total, members) = list_member_rows(conn, "p2", None, 0, 1)?;
            assert_eq!(total, 2);
            assert_eq!(members[0].user_name, "alice");
            assert_eq!(members[0].user_num_id, 1);
            assert_eq!(list_member_rows(conn, "p2", Some(4), 0, 10)?.0, 1);
            Ok(())
        })
        .unwrap();
    }
}
