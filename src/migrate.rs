//! `arca migrate --from DIR`: copies an embedded installation (SQLite + a data directory) into the
//! configured PostgreSQL database and blob store (S3), so a team that outgrows one machine keeps its
//! repositories, accounts, keys and tickets. Blobs go first, each streamed and verified against its SHA-256
//! on the way (a blob that does not match its name stops the migration before any metadata is written);
//! then every table, parents before children, with `ON CONFLICT DO NOTHING` so that a run that was cut
//! short (or a second run after more uploads) copies only what is missing. The way to move: a bulk run
//! while the source still serves, then stop it, a second run for what changed meanwhile, then start the
//! nodes. Re-running once the nodes took writes is not supported: the source's newer rows may reuse ids
//! the nodes have given out since, and those rows would be skipped as present.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use futures_util::{StreamExt, TryStreamExt};
use postgres::types::ToSql;
use rusqlite::types::Value;
use rusqlite::OpenFlags;

use crate::blob::fs::FsBlobStore;
use crate::blob::BlobStore;
use crate::config::{BlobBackend, Config};
use crate::store::{DatabaseUrl, Db};

/// Transient tables: what they hold means nothing to another installation. The counters of migrations
/// 0016 and 0019 and the metadata generations of 0017 are kept by the target's triggers as the rows they count are
/// copied; copied too, they would count twice (or collide with the rows the triggers made).
const NOT_COPIED: &[&str] = &[
    "blob_leases",
    "blob_deletions",
    "ticket_counts",
    "user_counts",
    "repo_meta_gens",
    "repo_usage",
];
const BLOBS_IN_FLIGHT: usize = 4;
const ROWS_PER_TRANSACTION: usize = 1000;

/// What a migration copied.
#[derive(Debug, Default)]
pub struct Summary {
    pub blobs_copied: usize,
    pub blobs_present: usize,
    pub bytes_copied: u64,
    /// Rows inserted per table (rows already there are not counted).
    pub rows: BTreeMap<String, u64>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "blobs: {} copied and verified ({} bytes), {} already in the target",
            self.blobs_copied, self.bytes_copied, self.blobs_present
        )?;
        for (table, rows) in &self.rows {
            writeln!(f, "{table}: {rows} rows copied")?;
        }
        Ok(())
    }
}

pub fn run(config: &Config, from: &Path) -> anyhow::Result<Summary> {
    let DatabaseUrl::Postgres(url) =
        DatabaseUrl::parse(&config.database_url).map_err(anyhow::Error::msg)?
    else {
        bail!("arca migrate copies into PostgreSQL: set database_url (ARCA_DATABASE_URL) to a postgres:// URL");
    };
    let source_db = from.join("arca.db");
    if !source_db.is_file() {
        bail!(
            "{} holds no arca.db: --from names the data directory of the installation to copy",
            from.display()
        );
    }
    if config.blob_store == BlobBackend::Fs && same_dir(&config.data_dir, from) {
        bail!("the target's data directory is the source: give the target blob_store = \"s3\" (or another data_dir)");
    }
    // Both schemas at this arca's version before anything is read or written.
    Db::open(&source_db).context("cannot open the source database")?;
    Db::connect_postgres(&url)
        .context("cannot open the PostgreSQL database that database_url names")?;

    let sqlite =
        rusqlite::Connection::open_with_flags(&source_db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let digests: Vec<(String, i64)> = sqlite
        .prepare("SELECT sha256, size FROM blobs ORDER BY sha256")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut summary = Summary::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(copy_blobs(config, from, &digests, &mut summary))?;
    drop(runtime);

    let mut pg = postgres::Client::connect(&url, postgres::NoTls)
        .context("cannot connect to the PostgreSQL database that database_url names")?;
    for table in table_order(&sqlite)? {
        let rows = copy_table(&sqlite, &mut pg, &table)
            .with_context(|| format!("copying table {table}"))?;
        summary.rows.insert(table, rows);
    }
    Ok(summary)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

async fn copy_blobs(
    config: &Config,
    from: &Path,
    digests: &[(String, i64)],
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let source = Arc::new(FsBlobStore::open_read_only(from));
    let target = crate::server::open_blob_store(config, false)?;
    let outcomes: Vec<anyhow::Result<Option<u64>>> = futures_util::stream::iter(digests.iter())
        .map(|(sha256, size)| copy_blob(&source, &target, sha256, *size as u64))
        .buffer_unordered(BLOBS_IN_FLIGHT)
        .collect()
        .await;
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(Some(bytes)) => {
                summary.blobs_copied += 1;
                summary.bytes_copied += bytes;
            }
            Ok(None) => summary.blobs_present += 1,
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} blobs could not be copied, so no metadata was written:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Copies one blob unless the target has it; `Some(bytes)` when it was copied.
async fn copy_blob(
    source: &FsBlobStore,
    target: &Arc<dyn BlobStore>,
    sha256: &str,
    size: u64,
) -> anyhow::Result<Option<u64>> {
    // An object appears in the target only whole, and was verified when it was copied.
    if target.read(sha256, 0, 0).await.is_ok() {
        return Ok(None);
    }
    // Read what the file holds, not what its row says: a blob cut short or grown is then copied whole
    // and named by its digest below, rather than failing as unreadable half-way.
    let unreadable = || format!("blob {sha256}: missing or unreadable in the source");
    let local = source.local_copy(sha256).await.with_context(unreadable)?;
    let held = tokio::fs::metadata(local.path())
        .await
        .with_context(unreadable)?
        .len();
    let stream = source
        .read(sha256, 0, held)
        .await
        .with_context(unreadable)?;
    let mut reader = tokio_util::io::StreamReader::new(stream.map_err(std::io::Error::other));
    let info = target
        .put(&mut reader, u64::MAX)
        .await
        .with_context(|| format!("blob {sha256}: cannot be written to the target"))?;
    if info.sha256 != sha256 || info.size != size {
        // Stored under the digest of what was read: not the blob the metadata names.
        let _ = target.delete(&info.sha256).await;
        bail!(
            "blob {sha256}: its content does not match its name in the source (read {} bytes hashing to {})",
            info.size,
            info.sha256
        );
    }
    Ok(Some(size))
}

/// The tables to copy, each after the tables its foreign keys name.
fn table_order(sqlite: &rusqlite::Connection) -> anyhow::Result<Vec<String>> {
    let tables: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let tables: Vec<String> = tables
        .into_iter()
        .filter(|t| !NOT_COPIED.contains(&t.as_str()))
        // The trigram index and its shadow tables are SQLite's; PostgreSQL keeps its own.
        .filter(|t| !t.starts_with("user_name_trigrams"))
        .collect();
    let mut parents: HashMap<String, HashSet<String>> = HashMap::new();
    for table in &tables {
        let referenced: HashSet<String> = sqlite
            .prepare("SELECT \"table\" FROM pragma_foreign_key_list(?1)")?
            .query_map([table], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        parents.insert(
            table.clone(),
            referenced.into_iter().filter(|p| p != table).collect(),
        );
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < tables.len() {
        let ready: Vec<String> = tables
            .iter()
            .filter(|t| !ordered.contains(t))
            .filter(|t| parents[*t].iter().all(|p| ordered.contains(p)))
            .cloned()
            .collect();
        if ready.is_empty() {
            bail!("the source's tables reference each other in a cycle");
        }
        ordered.extend(ready);
    }
    Ok(ordered)
}

/// Copies the rows of `table` the target lacks; answers how many it inserted.
fn copy_table(
    sqlite: &rusqlite::Connection,
    pg: &mut postgres::Client,
    table: &str,
) -> anyhow::Result<u64> {
    let target_types: HashMap<String, String> = pg
        .query(
            "SELECT column_name, data_type FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&table],
        )?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    if target_types.is_empty() {
        bail!("the target has no table {table}");
    }
    let columns: Vec<String> = sqlite
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?
        .into_iter()
        .filter(|c| target_types.contains_key(c))
        .collect();
    // A table that references itself (a project under a project): parents first.
    let self_refs: Vec<String> = sqlite
        .prepare("SELECT \"from\" FROM pragma_foreign_key_list(?1) WHERE \"table\" = ?1")?
        .query_map([table], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let order = if self_refs.is_empty() {
        String::new()
    } else {
        let nulls_first: Vec<String> = self_refs
            .iter()
            .map(|c| format!("{} IS NOT NULL", quote(c)))
            .collect();
        format!(" ORDER BY {}", nulls_first.join(", "))
    };
    let quoted: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let select = format!("SELECT {} FROM {}{order}", quoted.join(", "), quote(table));
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
        quote(table),
        quoted.join(", "),
        placeholders.join(", ")
    );
    let types: Vec<&str> = columns.iter().map(|c| target_types[c].as_str()).collect();
    let mut statement = sqlite.prepare(&select)?;
    let mut rows = statement.query([])?;
    let mut inserted = 0u64;
    let mut tx = pg.transaction()?;
    let prepared = tx.prepare(&insert)?;
    let mut in_tx = 0;
    while let Some(row) = rows.next()? {
        let mut values: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
        for (i, ty) in types.iter().enumerate() {
            let value: Value = row.get(i)?;
            values.push(
                convert(value, ty)
                    .with_context(|| format!("column {} of table {table}", columns[i]))?,
            );
        }
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        inserted += tx.execute(&prepared, &params)?;
        in_tx += 1;
        if in_tx == ROWS_PER_TRANSACTION {
            tx.commit()?;
            tx = pg.transaction()?;
            in_tx = 0;
        }
    }
    tx.commit()?;
    // Identity columns were given explicit values: their sequences must start after them.
    let identities: Vec<String> = pg
        .query(
            "SELECT column_name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'",
            &[&table],
        )?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    for column in identities {
        pg.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max({}) FROM {}), 0) + 1, false)",
                quote(&column),
                quote(table)
            ),
            &[&table, &column],
        )?;
    }
    Ok(inserted)
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// An SQLite value as the PostgreSQL column type wants it.
fn convert(value: Value, pg_type: &str) -> anyhow::Result<Box<dyn ToSql + Sync>> {
    Ok(match (pg_type, value) {
        ("bigint", Value::Null) => Box::new(None::<i64>),
        ("integer", Value::Null) => Box::new(None::<i32>),
        ("smallint", Value::Null) => Box::new(None::<i16>),
        ("boolean", Value::Null) => Box::new(None::<bool>),
        ("text", Value::Null) => Box::new(None::<String>),
        ("bytea", Value::Null) => Box::new(None::<Vec<u8>>),
        ("double precision", Value::Null) => Box::new(None::<f64>),
        ("bigint", Value::Integer(i)) => Box::new(i),
        ("integer", Value::Integer(i)) => Box::new(i32::try_from(i)?),
        ("smallint", Value::Integer(i)) => Box::new(i16::try_from(i)?),
        ("boolean", Value::Integer(i)) => Box::new(i != 0),
        ("double precision", Value::Integer(i)) => Box::new(i as f64),
        ("double precision", Value::Real(r)) => Box::new(r),
        ("text", Value::Text(s)) => Box::new(s),
        ("text", Value::Integer(i)) => Box::new(i.to_string()),
        ("text", Value::Real(r)) => Box::new(r.to_string()),
        ("bytea", Value::Blob(b)) => Box::new(b),
        ("bytea", Value::Text(s)) => Box::new(s.into_bytes()),
        (ty, other) => bail!(
            "a {:?} value cannot go into a {ty} column",
            other.data_type()
        ),
    })
}
