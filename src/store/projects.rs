//! CodeArts (ProjectMan) projects, their members, custom roles and per-role privilege grants.

use rusqlite::{params, Connection, OptionalExtension, Row};

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

fn project_from_row(r: &Row<'_>) -> rusqlite::Result<Project> {
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

pub fn insert_project(conn: &Connection, p: &Project) -> StoreResult<()> {
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
        let e: StoreError = e.into();
        if e.is_unique_violation() {
            StoreError::Conflict("a project with this name")
        } else {
            e
        }
    })?;
    Ok(())
}

pub fn update_project(conn: &Connection, p: &Project) -> StoreResult<()> {
    conn.execute(
        "UPDATE projects SET name = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
        params![p.id, p.name, p.description, p.updated_at],
    )
    .map_err(|e| {
        let e: StoreError = e.into();
        if e.is_unique_violation() {
            StoreError::Conflict("a project with this name")
        } else {
            e
        }
    })?;
    Ok(())
}

pub fn get_project(conn: &Connection, domain_id: &str, id: &str) -> StoreResult<Option<Project>> {
    Ok(conn
        .query_row(
            &format!("SELECT {PROJECT_COLS} FROM projects WHERE id = ?1 AND domain_id = ?2"),
            [id, domain_id],
            project_from_row,
        )
        .optional()?)
}

pub fn delete_project(conn: &Connection, id: &str) -> StoreResult<bool> {
    Ok(conn.execute("DELETE FROM projects WHERE id = ?1", [id])? > 0)
}

/// Projects of a domain visible to `member` (all of them when `None`), newest first: `(total, page)`.
pub fn list_projects(
    conn: &Connection,
    domain_id: &str,
    member: Option<&str>,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> StoreResult<(i64, Vec<Project>)> {
    let filter = "WHERE domain_id = ?1 \
        AND (?2 IS NULL OR id IN (SELECT project_id FROM project_members WHERE user_id = ?2)) \
        AND (?3 IS NULL OR instr(lower(name), lower(?3)) > 0)";
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM projects {filter}"),
        params![domain_id, member, search],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {PROJECT_COLS} FROM projects {filter} ORDER BY created_at DESC, id LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt.query_map(
        params![domain_id, member, search, limit, offset],
        project_from_row,
    )?;
    Ok((total, rows.collect::<Result<_, _>>()?))
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
    conn: &Connection,
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

pub fn remove_member(conn: &Connection, project_id: &str, user_id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM project_members WHERE project_id = ?1 AND user_id = ?2",
        [project_id, user_id],
    )? > 0)
}

pub fn get_member(
    conn: &Connection,
    project_id: &str,
    user_id: &str,
) -> StoreResult<Option<Member>> {
    Ok(conn
        .query_row(
            "SELECT m.project_id, m.user_id, u.name, m.role_id, m.joined_at FROM project_members m \
             JOIN users u ON u.id = m.user_id WHERE m.project_id = ?1 AND m.user_id = ?2",
            [project_id, user_id],
            member_from_row,
        )
        .optional()?)
}

fn member_from_row(r: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        project_id: r.get(0)?,
        user_id: r.get(1)?,
        user_name: r.get(2)?,
        role_id: r.get(3)?,
        joined_at: r.get(4)?,
    })
}

pub fn list_members(
    conn: &Connection,
    project_id: &str,
    role_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> StoreResult<(i64, Vec<Member>)> {
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM project_members WHERE project_id = ?1 AND (?2 IS NULL OR role_id = ?2)",
        params![project_id, role_id],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(
        "SELECT m.project_id, m.user_id, u.name, m.role_id, m.joined_at FROM project_members m \
         JOIN users u ON u.id = m.user_id WHERE m.project_id = ?1 AND (?2 IS NULL OR m.role_id = ?2) \
         ORDER BY m.joined_at, m.user_id LIMIT ?3 OFFSET ?4",
    )?;
    let rows = stmt.query_map(params![project_id, role_id, limit, offset], member_from_row)?;
    Ok((total, rows.collect::<Result<_, _>>()?))
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

pub fn grants_for_role(
    conn: &Connection,
    project_id: &str,
    role_id: &str,
) -> StoreResult<Vec<Grant>> {
    let mut stmt = conn.prepare(
        "SELECT role_id, project_id, area_service_id, granted_object_path, granted_object_type_id, operations \
         FROM role_grants WHERE project_id = ?1 AND role_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map([project_id, role_id], |r| {
        Ok(Grant {
            role_id: r.get(0)?,
            project_id: r.get(1)?,
            area_service_id: r.get(2)?,
            granted_object_path: r.get(3)?,
            granted_object_type_id: r.get(4)?,
            operations: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces every grant of a role in a project with `grants`, atomically.
pub fn replace_grants(
    conn: &mut Connection,
    project_id: &str,
    role_id: &str,
    grants: &[Grant],
) -> StoreResult<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM role_grants WHERE project_id = ?1 AND role_id = ?2",
        [project_id, role_id],
    )?;
    for g in grants {
        put_grant(&tx, g)?;
    }
    tx.commit()?;
    Ok(())
}

pub fn put_grant(conn: &Connection, g: &Grant) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO role_grants (role_id, project_id, area_service_id, granted_object_path, granted_object_type_id, operations) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (role_id, project_id, granted_object_path) DO UPDATE SET operations = excluded.operations, \
         granted_object_type_id = excluded.granted_object_type_id",
        params![g.role_id, g.project_id, g.area_service_id, g.granted_object_path, g.granted_object_type_id, g.operations],
    )?;
    Ok(())
}
