//! First start on an empty data directory (SPEC §10): a domain, its root user with a password and an
//! access key, and the IAM project of the configured region, written to `bootstrap.json` (mode 0600).
//! Later starts reuse what exists; the secrets are never logged.

use crate::params;
use crate::store::Conn;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::auth::secrets::{hash_password, write_private_file, SecretBox};
use crate::domain::{new_access_key, new_hex_id, random_alnum};
use crate::store::identity::{self, AccessKey, Domain, IamProject, User};
use crate::store::{now_ms, Db, StoreError};

#[derive(Debug, Serialize)]
pub struct BootstrapInfo {
    pub domain_id: String,
    pub domain_name: String,
    pub user_id: String,
    pub user_name: String,
    pub password: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub iam_project_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("the secret key (secret_key_file, or secret.key in the data directory) is not the one this database's secrets were encrypted with: give every node the same key file")]
    ForeignSecretKey,
}

pub fn bootstrap_path(data_dir: &Path) -> PathBuf {
    data_dir.join("bootstrap.json")
}

/// Creates the first account when the database has none; makes sure every domain has a project in
/// `region` (the region may change between starts).
pub fn ensure(
    db: &Db,
    secrets: &SecretBox,
    data_dir: &Path,
    region: &str,
) -> Result<(), BootstrapError> {
    let created = db.blocking(|conn| {
        let tx = conn.transaction()?;
        let domains: i64 = tx.query_row("SELECT count(*) FROM domains", params![], |r| r.get(0))?;
        let info = if domains == 0 {
            Some(create_first_account(&tx, secrets, region)?)
        } else {
            let ids: Vec<String> =
                tx.query_map("SELECT id FROM domains", params![], |r| r.get(0))?;
            for domain_id in ids {
                if identity::list_iam_projects(&tx, &domain_id, Some(region))?.is_empty() {
                    identity::insert_iam_project(
                        &tx,
                        &IamProject {
                            id: new_hex_id(),
                            domain_id,
                            name: region.to_string(),
                            description: String::new(),
                        },
                    )?;
                }
            }
            None
        };
        tx.commit()?;
        Ok(info)
    })?;
    let path = bootstrap_path(data_dir);
    match created {
        Some(info) => {
            let json = serde_json::to_vec_pretty(&info).expect("bootstrap info serialises");
            write_private_file(&path, &json).map_err(|e| BootstrapError::Write(path.clone(), e))?;
            tracing::info!(path = %path.display(), "first start: account created; credentials written");
        }
        None => tracing::info!(path = %path.display(), "existing data directory reused"),
    }
    Ok(())
}

/// Refuses to start with a key that cannot open the database's secrets: on a shared database that is a node
/// given another key file (or none), which would otherwise refuse every signed request it is sent.
pub fn check_secret_key(db: &Db, secrets: &SecretBox) -> Result<(), BootstrapError> {
    let sealed: Option<Vec<u8>> = db.blocking(|conn| {
        Ok(conn
            .query_map(
                "SELECT secret_enc FROM access_keys ORDER BY created_at LIMIT 1",
                params![],
                |r| r.get(0),
            )?
            .into_iter()
            .next())
    })?;
    match sealed {
        Some(sealed) if secrets.open(&sealed).is_err() => Err(BootstrapError::ForeignSecretKey),
        _ => Ok(()),
    }
}

/// `ensure` for a data directory that cannot be written: the account must exist already. A domain without
/// a project in `region` (the region changed) gets none; its users' region-scoped calls find nothing.
pub fn check_read_only(db: &Db, region: &str) -> Result<(), BootstrapError> {
    let missing = db.blocking(|conn| {
        let domains: i64 =
            conn.query_row("SELECT count(*) FROM domains", params![], |r| r.get(0))?;
        if domains == 0 {
            return Err(StoreError::ReadOnly(
                "the data directory holds no account yet, and a read-only one cannot be set up"
                    .into(),
            ));
        }
        let ids: Vec<String> = conn.query_map("SELECT id FROM domains", params![], |r| r.get(0))?;
        let mut missing = 0;
        for domain_id in ids {
            if identity::list_iam_projects(conn, &domain_id, Some(region))?.is_empty() {
                missing += 1;
            }
        }
        Ok(missing)
    })?;
    if missing > 0 {
        tracing::warn!(
            region,
            domains = missing,
            "domains without a project in this region; it is created once the data directory is writable"
        );
    }
    Ok(())
}

fn create_first_account(
    conn: &Conn,
    secrets: &SecretBox,
    region: &str,
) -> Result<BootstrapInfo, StoreError> {
    let now = now_ms();
    let domain = Domain {
        id: new_hex_id(),
        name: format!("arca_{}", random_alnum(8).to_ascii_lowercase()),
    };
    identity::insert_domain(conn, &domain, now)?;
    let user_id = new_hex_id();
    let password = random_alnum(24);
    identity::insert_user(
        conn,
        &User {
            id: user_id.clone(),
            domain_id: domain.id.clone(),
            name: domain.name.clone(),
            password_hash: Some(hash_password(&password)),
            is_root: true,
            enabled: true,
            email: None,
            phone: None,
            description: Some("account owner".into()),
            created_at: now,
            modified_at: now,
            created_by: user_id.clone(),
            modified_by: user_id.clone(),
        },
    )?;
    let access_key = new_access_key();
    let secret_key = random_alnum(40);
    identity::insert_access_key(
        conn,
        &AccessKey {
            access_key: access_key.clone(),
            user_id: user_id.clone(),
            secret_enc: secrets.seal(secret_key.as_bytes()),
            active: true,
            description: "bootstrap key".into(),
            created_at: now,
        },
    )?;
    let project = IamProject {
        id: new_hex_id(),
        domain_id: domain.id.clone(),
        name: region.to_string(),
        description: String::new(),
    };
    identity::insert_iam_project(conn, &project)?;
    Ok(BootstrapInfo {
        domain_id: domain.id,
        domain_name: domain.name.clone(),
        user_id,
        user_name: domain.name,
        password,
        access_key,
        secret_key,
        region: region.to_string(),
        iam_project_id: project.id,
    })
}
