//! Repositories shared into other projects of their account (`create_project_related_repository`).
//! A share gives the members of the project it names read access to the repository (README "Sharing
//! repositories with other projects"); the repository stays its own project's.

use crate::params;
use crate::store::repos::{repo_from_row, Repository, REPO_COLS};
use crate::store::Conn;

use super::StoreResult;

/// Makes `repo_ids` exactly the repositories shared into `project_id`.
pub fn set_shared_into(
    conn: &Conn,
    project_id: &str,
    repo_ids: &[String],
    by: &str,
    now: i64,
) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM repo_shares WHERE project_id = ?1",
        params![project_id],
    )?;
    for repo_id in repo_ids {
        conn.execute(
            "INSERT INTO repo_shares (repo_id, project_id, created_at, created_by) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![repo_id, project_id, now, by],
        )?;
    }
    Ok(())
}

/// The repositories shared into `project_id`, by name.
pub fn shared_into(conn: &Conn, project_id: &str) -> StoreResult<Vec<Repository>> {
    conn.query_map(
        &format!(
            "SELECT {REPO_COLS} FROM repositories WHERE id IN \
             (SELECT repo_id FROM repo_shares WHERE project_id = ?1) ORDER BY name"
        ),
        params![project_id],
        repo_from_row,
    )
}

/// The projects `repo_id` is shared into.
pub fn projects_of(conn: &Conn, repo_id: &str) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT project_id FROM repo_shares WHERE repo_id = ?1 ORDER BY project_id",
        params![repo_id],
        |r| r.get(0),
    )
}

/// Names of the repositories of `home_project_id` shared into a project `user_id` is a member of: what
/// the user may read through sharing.
pub fn readable_through_shares(
    conn: &Conn,
    home_project_id: &str,
    user_id: &str,
) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT name FROM repositories WHERE project_id = ?1 AND id IN \
         (SELECT s.repo_id FROM repo_shares s JOIN project_members m ON m.project_id = s.project_id \
          WHERE m.user_id = ?2) ORDER BY name",
        params![home_project_id, user_id],
        |r| r.get(0),
    )
}

/// `readable_through_shares` for several users at once: (user id, repository name), by name for each user.
pub fn readable_through_shares_of(
    conn: &Conn,
    home_project_id: &str,
    user_ids: &[&str],
) -> StoreResult<Vec<(String, String)>> {
    crate::store::query_by_id_list(
        conn,
        "SELECT DISTINCT m.user_id, r.name FROM repositories r \
         JOIN repo_shares s ON s.repo_id = r.id JOIN project_members m ON m.project_id = s.project_id \
         WHERE r.project_id = ?1 AND m.user_id IN ({ids}) ORDER BY m.user_id, r.name",
        &home_project_id,
        user_ids,
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::repos::{insert_repo, tests_support::repo_fixture};
    use crate::store::test_db;

    #[test]
    fn shares_replace_and_reach_members_only() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            insert_domain(
                conn,
                &Domain {
                    id: "d".into(),
                    name: "dom".into(),
                },
                0,
            )?;
            for p in ["home", "other"] {
                conn.execute(
                    "INSERT INTO projects (id, domain_id, name, project_type, creator_id, created_at, updated_at) \
                     VALUES (?1, 'd', ?1, 'scrum', 'u', 0, 0)",
                    params![p],
                )?;
            }
            conn.execute(
                "INSERT INTO users (id, domain_id, name, created_at, modified_at, created_by, modified_by) \
                 VALUES ('u', 'd', 'user', 0, 0, 'u', 'u')",
                params![],
            )?;
            let mut repo = repo_fixture();
            repo.domain_id = "d".into();
            repo.project_id = "home".into();
            insert_repo(conn, &repo)?;
            assert!(readable_through_shares(conn, "home", "u")?.is_empty());
            set_shared_into(conn, "other", std::slice::from_ref(&repo.id), "u", 1)?;
            // Shared, but the user is no member of the project it is shared into.
            assert!(readable_through_shares(conn, "home", "u")?.is_empty());
            conn.execute(
                "INSERT INTO project_members (project_id, user_id, role_id, joined_at) VALUES ('other', 'u', 8, 0)",
                params![],
            )?;
            assert_eq!(readable_through_shares(conn, "home", "u")?, vec![repo.name.clone()]);
            assert_eq!(shared_into(conn, "other")?.len(), 1);
            assert_eq!(projects_of(conn, &repo.id)?, vec!["other".to_string()]);
            set_shared_into(conn, "other", &[], "u", 2)?;
            assert!(readable_through_shares(conn, "home", "u")?.is_empty());
            Ok(())
        })
        .unwrap();
    }
}
