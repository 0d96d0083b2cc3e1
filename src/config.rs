//! Typed configuration, layered: built-in defaults < TOML file < `ARCA_*` environment < command-line flags.
//! The merged value is passed around as state; nothing reads the environment after start-up.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Holds the SQLite database, the secret key file and `bootstrap.json`.
    pub data_dir: PathBuf,
    /// Where the metadata lives: empty or `sqlite://[PATH]` — the embedded SQLite database (in the data
    /// directory unless a path is given); `postgres://…` — a PostgreSQL database, shared by several nodes.
    pub database_url: String,
    /// The 32-byte key that encrypts secrets at rest (secret access keys). Empty: `secret.key` in the data
    /// directory, made on first start. Several nodes on one database must all be given the same file.
    pub secret_key_file: PathBuf,
    /// The region id every `region` field answers, and the name of the bootstrap IAM project.
    pub region: String,
    /// Offset (minutes east of UTC) in which ticket expiry times are displayed; +08:00 as the seeds.
    pub display_offset_minutes: i32,
    /// Lifetime of a ticket issued without an explicit one.
    pub ticket_lifetime_secs: u64,
    /// Uses of a ticket issued without an explicit count.
    pub ticket_uses: u32,
    /// Lifetime of an `X-Auth-Token`.
    pub token_lifetime_secs: u64,
    /// Largest accepted distance between a signature's `X-Sdk-Date` and the server clock.
    pub signature_skew_secs: u64,
    /// Largest management-API request body; beyond it the answer is 413.
    pub max_body_bytes: usize,
    /// Largest artifact (file, distribution, crate) accepted; bodies stream, so this bounds disk use.
    pub max_artifact_bytes: u64,
    /// Largest npm publish document (it carries the tarball base64-encoded and is read whole).
    pub max_package_document_bytes: usize,
    /// Longest wait for the next bytes of a request body: a body that stalls (a declared length larger
    /// than what is sent, a client gone silent) is dropped with 408. An idle timeout, not a total one, so
    /// a large upload that keeps streaming is never cut.
    pub request_body_timeout_secs: u64,
    /// Longest time a client may take to send a request head, and to start the next one on a kept-alive
    /// connection: slow or silent connections are closed after it.
    pub header_read_timeout_secs: u64,
    /// The URL clients reach arca at (`https://host[:port][/prefix]`), written into the URLs arca hands out
    /// (npm tarballs, the Cargo index's `dl`/`api`, repository URLs). Empty: taken from each request's
    /// `Host` (and `X-Forwarded-Proto`).
    pub public_url: String,
    /// Seconds between sweeps of the blob store for what a crash left (bytes whose row never committed,
    /// rows whose files were purged); one sweep always runs at start. 0: only at start.
    pub blob_sweep_interval_secs: u64,
    /// A blob without a row is reclaimed only once its bytes are this old. Uploads of this process are
    /// safe without it (they hold the collection lock from storing bytes to committing their row); the
    /// grace keeps the sweep away from writers that lock cannot see.
    pub blob_sweep_grace_secs: u64,
    /// Seconds between the container registry's collections (blobs no manifest references, stale
    /// upload sessions). 0: never.
    pub oci_gc_interval_secs: u64,
    /// A container blob no manifest references is collected only once its file is this old (a push
    /// uploads layers before the manifest that references them).
    pub oci_gc_grace_secs: u64,
    /// Seconds between runs of the release repositories' retention job; one run always happens at start.
    /// 0: only at start.
    pub release_retention_interval_secs: u64,
    /// The length of a retention "day" (`file_expire_time`, `trash_file_expire_time`), in seconds: 86400,
    /// shortened only to test the job.
    pub release_retention_day_secs: u64,
    /// Audit log entries older than this many days are deleted (at start, then hourly); 0 keeps them all.
    pub audit_retention_days: u64,
    /// Failed authentications from one client address, or naming one user, after which further attempts
    /// are refused (429) for `auth_failure_window_secs`; 0 turns the limit off.
    pub auth_failure_limit: u32,
    /// The window in which failures are counted, and how long a refusal lasts.
    pub auth_failure_window_secs: u64,
    /// Reverse proxies whose `X-Forwarded-For` names the client; without any, the TCP peer is the client
    /// (behind a proxy, then, every client shares the proxy's address).
    pub trusted_proxies: Vec<IpAddr>,
    /// Bearer token that `GET /metrics` requires; empty: no `/metrics` (404).
    pub metrics_token: String,
    /// Memory for generated metadata documents kept once built (packuments, simple pages, index files,
    /// maven-metadata.xml, each with its gzip and brotli forms), in MiB; 0 builds every one per request.
    pub metadata_cache_mib: u64,
    /// Memory for stored files of at most 64 KiB kept by their SHA-256 between downloads, in MiB; 0 reads
    /// each from the blob store per request.
    pub file_cache_mib: u64,
    /// Lets remote repositories (and the outbound proxy) reach loopback, private (RFC 1918, `fc00::/7`) and
    /// shared (`100.64.0.0/10`) addresses. Link-local addresses, where cloud metadata services answer, stay
    /// refused whatever this says.
    pub remote_allow_private_networks: bool,
    /// Longest time to open a connection to an upstream (name lookup, TCP, TLS, proxy tunnel).
    pub remote_connect_timeout_secs: u64,
    /// Longest wait for an upstream's next bytes (its answer, then each piece of its body). An idle
    /// timeout, not a total one, so a large download that keeps streaming is never cut.
    pub remote_read_timeout_secs: u64,
    /// Where blobs live: `fs` (the data directory) or `s3` (an S3-compatible bucket, the `s3_*` settings).
    pub blob_store: BlobBackend,
    /// The bucket blobs go to when `blob_store = "s3"`; it must exist.
    pub s3_bucket: String,
    /// A key prefix inside the bucket (`team/arca`), so that one bucket can hold several installations.
    pub s3_prefix: String,
    /// The S3 endpoint URL (`https://s3.example.com`, `http://127.0.0.1:9000`); empty: AWS for `s3_region`.
    pub s3_endpoint: String,
    /// The region requests are signed for.
    pub s3_region: String,
    /// Path-style requests (`endpoint/bucket/key`) instead of virtual-hosted ones (`bucket.endpoint/key`):
    /// what most self-hosted stores (MinIO, Garage, Ceph) want.
    pub s3_path_style: bool,
    /// Credentials; the standard `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` variables override them.
    /// The secret is never printed (`config show` masks it) nor logged.
    pub s3_access_key_id: String,
    pub s3_secret_access_key: String,
    /// `tracing` filter directive, e.g. `info` or `arca=debug`.
    pub log: String,
}

/// The blob store backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BlobBackend {
    #[default]
    Fs,
    S3,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./arca-data"),
            database_url: String::new(),
            secret_key_file: PathBuf::new(),
            region: "local-1".to_string(),
            display_offset_minutes: 8 * 60,
            ticket_lifetime_secs: 24 * 3600,
            ticket_uses: 1000,
            token_lifetime_secs: 24 * 3600,
            signature_skew_secs: 15 * 60,
            max_body_bytes: 1024 * 1024,
            max_artifact_bytes: 64 * 1024 * 1024 * 1024,
            max_package_document_bytes: 96 * 1024 * 1024,
            request_body_timeout_secs: 60,
            header_read_timeout_secs: 30,
            public_url: String::new(),
            blob_sweep_interval_secs: 3600,
            blob_sweep_grace_secs: 600,
            oci_gc_interval_secs: 3600,
            oci_gc_grace_secs: 3600,
            release_retention_interval_secs: 3600,
            release_retention_day_secs: 86400,
            audit_retention_days: 180,
            auth_failure_limit: 10,
            auth_failure_window_secs: 60,
            trusted_proxies: Vec::new(),
            metrics_token: String::new(),
            metadata_cache_mib: 32,
            file_cache_mib: 16,
            remote_allow_private_networks: false,
            remote_connect_timeout_secs: 10,
            remote_read_timeout_secs: 60,
            blob_store: BlobBackend::Fs,
            s3_bucket: String::new(),
            s3_prefix: String::new(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".to_string(),
            s3_path_style: false,
            s3_access_key_id: String::new(),
            s3_secret_access_key: String::new(),
            log: "info".to_string(),
        }
    }
}

/// Values given on the command line or in `ARCA_*` variables (clap merges those two, flags winning).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// TOML configuration file.
    #[arg(long, env = "ARCA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "ARCA_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory [default: ./arca-data].
    #[arg(long, env = "ARCA_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Metadata database: empty or sqlite://[PATH] (embedded), postgres://… [default: empty].
    #[arg(long, env = "ARCA_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Key file encrypting secrets at rest, shared by every node [default: DATA_DIR/secret.key].
    #[arg(long, env = "ARCA_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// Region id [default: local-1].
    #[arg(long, env = "ARCA_REGION")]
    pub region: Option<String>,
    /// Ticket expiry display offset in minutes east of UTC [default: 480].
    #[arg(long, env = "ARCA_DISPLAY_OFFSET_MINUTES", allow_hyphen_values = true)]
    pub display_offset_minutes: Option<i32>,
    /// Default ticket lifetime in seconds [default: 86400].
    #[arg(long, env = "ARCA_TICKET_LIFETIME_SECS")]
    pub ticket_lifetime_secs: Option<u64>,
    /// Default ticket uses [default: 1000].
    #[arg(long, env = "ARCA_TICKET_USES")]
    pub ticket_uses: Option<u32>,
    /// Token lifetime in seconds [default: 86400].
    #[arg(long, env = "ARCA_TOKEN_LIFETIME_SECS")]
    pub token_lifetime_secs: Option<u64>,
    /// Accepted signature clock skew in seconds [default: 900].
    #[arg(long, env = "ARCA_SIGNATURE_SKEW_SECS")]
    pub signature_skew_secs: Option<u64>,
    /// Largest management request body in bytes [default: 1048576].
    #[arg(long, env = "ARCA_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Largest artifact in bytes [default: 68719476736].
    #[arg(long, env = "ARCA_MAX_ARTIFACT_BYTES")]
    pub max_artifact_bytes: Option<u64>,
    /// Largest npm publish document in bytes [default: 100663296].
    #[arg(long, env = "ARCA_MAX_PACKAGE_DOCUMENT_BYTES")]
    pub max_package_document_bytes: Option<usize>,
    /// Seconds a request body may stall before it is dropped (408) [default: 60].
    #[arg(long, env = "ARCA_REQUEST_BODY_TIMEOUT_SECS")]
    pub request_body_timeout_secs: Option<u64>,
    /// Seconds a client may take to send a request head [default: 30].
    #[arg(long, env = "ARCA_HEADER_READ_TIMEOUT_SECS")]
    pub header_read_timeout_secs: Option<u64>,
    /// Public base URL written into URLs arca hands out [default: from each request's Host].
    #[arg(long, env = "ARCA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds between blob-store sweeps for crash leftovers; 0: only at start [default: 3600].
    #[arg(long, env = "ARCA_BLOB_SWEEP_INTERVAL_SECS")]
    pub blob_sweep_interval_secs: Option<u64>,
    /// Age an unrecorded blob must reach before a sweep reclaims it, in seconds [default: 600].
    #[arg(long, env = "ARCA_BLOB_SWEEP_GRACE_SECS")]
    pub blob_sweep_grace_secs: Option<u64>,
    /// Seconds between container registry collections; 0: never [default: 3600].
    #[arg(long, env = "ARCA_OCI_GC_INTERVAL_SECS")]
    pub oci_gc_interval_secs: Option<u64>,
    /// Age an unreferenced container blob must reach before it is collected, in seconds [default: 3600].
    #[arg(long, env = "ARCA_OCI_GC_GRACE_SECS")]
    pub oci_gc_grace_secs: Option<u64>,
    /// Seconds between runs of the release retention job; 0: only at start [default: 3600].
    #[arg(long, env = "ARCA_RELEASE_RETENTION_INTERVAL_SECS")]
    pub release_retention_interval_secs: Option<u64>,
    /// Length of a retention day in seconds, shortened only for tests [default: 86400].
    #[arg(long, env = "ARCA_RELEASE_RETENTION_DAY_SECS")]
    pub release_retention_day_secs: Option<u64>,
    /// Days audit log entries are kept [default: 180; 0: for ever].
    #[arg(long, env = "ARCA_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u64>,
    /// Failed authentications per client address or user before refusing [default: 10; 0: no limit].
    #[arg(long, env = "ARCA_AUTH_FAILURE_LIMIT")]
    pub auth_failure_limit: Option<u32>,
    /// Window of the failure count and length of a refusal, in seconds [default: 60].
    #[arg(long, env = "ARCA_AUTH_FAILURE_WINDOW_SECS")]
    pub auth_failure_window_secs: Option<u64>,
    /// Comma-separated addresses of reverse proxies whose X-Forwarded-For is trusted [default: none].
    #[arg(long, env = "ARCA_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<IpAddr>>,
    /// Bearer token for `GET /metrics` (at least 16 characters); unset: no metrics endpoint.
    #[arg(long, env = "ARCA_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// MiB of memory for generated metadata documents kept between requests [default: 32; 0: none].
    #[arg(long, env = "ARCA_METADATA_CACHE_MIB")]
    pub metadata_cache_mib: Option<u64>,
    /// MiB of memory for small stored files (at most 64 KiB each) kept between downloads [default: 16; 0: none].
    #[arg(long, env = "ARCA_FILE_CACHE_MIB")]
    pub file_cache_mib: Option<u64>,
    /// Let remote repositories reach loopback and private addresses (never link-local) [default: false].
    #[arg(
        long,
        env = "ARCA_REMOTE_ALLOW_PRIVATE_NETWORKS",
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub remote_allow_private_networks: Option<bool>,
    /// Seconds to open a connection to an upstream [default: 10].
    #[arg(long, env = "ARCA_REMOTE_CONNECT_TIMEOUT_SECS")]
    pub remote_connect_timeout_secs: Option<u64>,
    /// Seconds an upstream may stay silent before the transfer is dropped [default: 60].
    #[arg(long, env = "ARCA_REMOTE_READ_TIMEOUT_SECS")]
    pub remote_read_timeout_secs: Option<u64>,
    /// Blob store backend: fs or s3 [default: fs].
    #[arg(long, env = "ARCA_BLOB_STORE", value_enum)]
    pub blob_store: Option<BlobBackend>,
    /// S3 bucket of the blobs (blob_store = s3).
    #[arg(long, env = "ARCA_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// Key prefix inside the S3 bucket [default: none].
    #[arg(long, env = "ARCA_S3_PREFIX")]
    pub s3_prefix: Option<String>,
    /// S3 endpoint URL [default: AWS for the region].
    #[arg(long, env = "ARCA_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 signing region [default: us-east-1].
    #[arg(long, env = "ARCA_S3_REGION")]
    pub s3_region: Option<String>,
    /// Path-style S3 requests (self-hosted stores) [default: false].
    #[arg(
        long,
        env = "ARCA_S3_PATH_STYLE",
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub s3_path_style: Option<bool>,
    /// S3 access key id (the standard AWS_ACCESS_KEY_ID variable).
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key (the standard AWS_SECRET_ACCESS_KEY variable; prefer it to the flag, which
    /// other users of the machine can see).
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// Log filter [default: info].
    #[arg(long, env = "ARCA_LOG")]
    pub log: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut config = match &overrides.config {
            Some(path) => Self::from_file(path)?,
            None => Config::default(),
        };
        config.apply(overrides);
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    fn apply(&mut self, o: &Overrides) {
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = &o.$field { self.$field = v.clone(); } )* };
        }
        set!(
            listen,
            data_dir,
            database_url,
            secret_key_file,
            region,
            display_offset_minutes,
            ticket_lifetime_secs,
            ticket_uses,
            token_lifetime_secs,
            signature_skew_secs,
            max_body_bytes,
            max_artifact_bytes,
            max_package_document_bytes,
            request_body_timeout_secs,
            header_read_timeout_secs,
            public_url,
            blob_sweep_interval_secs,
            blob_sweep_grace_secs,
            oci_gc_interval_secs,
            oci_gc_grace_secs,
            release_retention_interval_secs,
            release_retention_day_secs,
            audit_retention_days,
            auth_failure_limit,
            auth_failure_window_secs,
            trusted_proxies,
            metrics_token,
            metadata_cache_mib,
            file_cache_mib,
            remote_allow_private_networks,
            remote_connect_timeout_secs,
            remote_read_timeout_secs,
            blob_store,
            s3_bucket,
            s3_prefix,
            s3_endpoint,
            s3_region,
            s3_path_style,
            s3_access_key_id,
            s3_secret_access_key,
            log
        );
        self.public_url = self.public_url.trim_end_matches('/').to_string();
        self.s3_prefix = self.s3_prefix.trim_matches('/').to_string();
        self.s3_endpoint = self.s3_endpoint.trim_end_matches('/').to_string();
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let region_ok = !self.region.is_empty()
            && self.region.len() <= 64
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(ConfigError::Invalid(
                "region must be 1-64 lower-case letters, digits or '-'".into(),
            ));
        }
        if !(-14 * 60..=14 * 60).contains(&self.display_offset_minutes) {
            return Err(ConfigError::Invalid(
                "display_offset_minutes must be within -840..=840".into(),
            ));
        }
        if self.audit_retention_days > 36_500 {
            return Err(ConfigError::Invalid(
                "audit_retention_days must be within 0..=36500 (0 keeps entries for ever)".into(),
            ));
        }
        if self.ticket_uses == 0 || self.ticket_lifetime_secs == 0 || self.token_lifetime_secs == 0
        {
            return Err(ConfigError::Invalid(
                "ticket_uses, ticket_lifetime_secs and token_lifetime_secs must be positive".into(),
            ));
        }
        if self.max_body_bytes < 1024
            || self.max_artifact_bytes < 1024
            || self.max_package_document_bytes < 1024
        {
            return Err(ConfigError::Invalid(
                "max_body_bytes, max_artifact_bytes and max_package_document_bytes must be at least 1024"
                    .into(),
            ));
        }
        if !(1..=86_400).contains(&self.auth_failure_window_secs) {
            return Err(ConfigError::Invalid(
                "auth_failure_window_secs must be within 1..=86400".into(),
            ));
        }
        if self.request_body_timeout_secs == 0 || self.header_read_timeout_secs == 0 {
            return Err(ConfigError::Invalid(
                "request_body_timeout_secs and header_read_timeout_secs must be positive".into(),
            ));
        }
        if !(1..=86_400).contains(&self.remote_connect_timeout_secs)
            || !(1..=86_400).contains(&self.remote_read_timeout_secs)
        {
            return Err(ConfigError::Invalid(
                "remote_connect_timeout_secs and remote_read_timeout_secs must be within 1..=86400"
                    .into(),
            ));
        }
        if !self.metrics_token.is_empty() && self.metrics_token.len() < 16 {
            return Err(ConfigError::Invalid(
                "metrics_token must be at least 16 characters (or empty to turn /metrics off)"
                    .into(),
            ));
        }
        crate::store::DatabaseUrl::parse(&self.database_url).map_err(ConfigError::Invalid)?;
        if !self.public_url.is_empty() && !is_plausible_base_url(&self.public_url) {
            return Err(ConfigError::Invalid(
                "public_url must be an http:// or https:// URL without query, fragment or spaces"
                    .into(),
            ));
        }
        if self.blob_store == BlobBackend::S3 {
            self.validate_s3()?;
        }
        Ok(())
    }

    /// The S3 settings, each named when it is missing or malformed (never its value: a secret put in the
    /// wrong setting must not reach the log).
    fn validate_s3(&self) -> Result<(), ConfigError> {
        let invalid = |what: &str| {
            Err(ConfigError::Invalid(format!(
                "blob_store = \"s3\" needs {what}"
            )))
        };
        let bucket_ok = (3..=63).contains(&self.s3_bucket.len())
            && self
                .s3_bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !self.s3_bucket.starts_with(['-', '.'])
            && !self.s3_bucket.ends_with(['-', '.']);
        if !bucket_ok {
            return invalid("s3_bucket (ARCA_S3_BUCKET): an existing bucket's name, 3-63 lower-case letters, digits, '-' or '.'");
        }
        let prefix_ok = self.s3_prefix.is_empty()
            || self.s3_prefix.split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            });
        if !prefix_ok {
            return invalid("s3_prefix (ARCA_S3_PREFIX) to be empty or '/'-separated segments of letters, digits, '-', '_' or '.'");
        }
        if !self.s3_endpoint.is_empty() && !is_plausible_base_url(&self.s3_endpoint) {
            return invalid(
                "s3_endpoint (ARCA_S3_ENDPOINT) to be empty (AWS) or an http:// or https:// URL",
            );
        }
        let region_ok = !self.s3_region.is_empty()
            && self.s3_region.len() <= 64
            && self
                .s3_region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !region_ok {
            return invalid("s3_region (ARCA_S3_REGION): letters, digits, '-' or '_'");
        }
        if self.s3_access_key_id.is_empty() {
            return invalid("s3_access_key_id (or the AWS_ACCESS_KEY_ID environment variable)");
        }
        if self.s3_secret_access_key.is_empty() {
            return invalid(
                "s3_secret_access_key (or the AWS_SECRET_ACCESS_KEY environment variable)",
            );
        }
        Ok(())
    }

    /// The configuration as TOML, secrets masked: `config show` output is pasted into tickets and chats.
    pub fn to_toml(&self) -> String {
        let mut shown = self.clone();
        for secret in [&mut shown.s3_secret_access_key, &mut shown.metrics_token] {
            if !secret.is_empty() {
                *secret = MASK.to_string();
            }
        }
        shown.database_url = url_without_passwords(&shown.database_url);
        toml::to_string_pretty(&shown).expect("config is always serialisable")
    }
}

const MASK: &str = "********";

/// `url` with the password of its user info and any `password=` query parameter masked.
fn url_without_passwords(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:{MASK}@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}={MASK}")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// `http(s)://host[:port][/path]`, nothing that would break the URLs it prefixes.
fn is_plausible_base_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or("");
    !host.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/[]%".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("arca.toml");
        std::fs::write(&file, "region = \"from-file\"\nticket_uses = 7\n").unwrap();
        let overrides = Overrides {
            config: Some(file),
            region: Some("from-flag".into()),
            ..Default::default()
        };
        let config = Config::load(&overrides).unwrap();
        assert_eq!(config.region, "from-flag");
        assert_eq!(config.ticket_uses, 7);
        assert_eq!(config.listen, Config::default().listen);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("arca.toml");
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        let overrides = Overrides {
            config: Some(file),
            ..Default::default()
        };
        assert!(matches!(
            Config::load(&overrides),
            Err(ConfigError::Parse { .. })
        ));
        let bad_region = Overrides {
            region: Some("Not A Region".into()),
            ..Default::default()
        };
        assert!(matches!(
            Config::load(&bad_region),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn public_url_is_checked_and_loses_its_trailing_slash() {
        let given = |url: &str| {
            Config::load(&Overrides {
                public_url: Some(url.into()),
                ..Default::default()
            })
        };
        assert_eq!(
            given("https://repo.example.com:8443/arca/")
                .unwrap()
                .public_url,
            "https://repo.example.com:8443/arca"
        );
        assert_eq!(given("").unwrap().public_url, "");
        for bad in [
            "repo.example.com",
            "ftp://x",
            "https://",
            "https://x/a?b=c",
            "http://a b",
        ] {
            assert!(matches!(given(bad), Err(ConfigError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn a_metrics_token_is_long_or_absent() {
        let with = |token: &str| {
            Config::load(&Overrides {
                metrics_token: Some(token.into()),
                ..Default::default()
            })
        };
        assert!(with("").is_ok());
        assert!(with("0123456789abcdef").is_ok());
        assert!(matches!(with("short"), Err(ConfigError::Invalid(_))));
    }

    #[test]
    fn auth_failure_settings() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("arca.toml");
        std::fs::write(
            &file,
            "trusted_proxies = [\"10.0.0.1\", \"::1\"]\nauth_failure_limit = 0\n",
        )
        .unwrap();
        let config = Config::load(&Overrides {
            config: Some(file),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert_eq!(config.auth_failure_limit, 0);
        let no_window = Overrides {
            auth_failure_window_secs: Some(0),
            ..Default::default()
        };
        assert!(matches!(
            Config::load(&no_window),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn remote_settings_layer_and_are_checked() {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            overrides: Overrides,
        }
        let defaults = Config::default();
        assert!(!defaults.remote_allow_private_networks);
        assert_eq!(defaults.remote_connect_timeout_secs, 10);
        assert_eq!(defaults.remote_read_timeout_secs, 60);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("arca.toml");
        std::fs::write(
            &file,
            "remote_allow_private_networks = true\nremote_read_timeout_secs = 5\n",
        )
        .unwrap();
        let from_file = Config::load(&Overrides {
            config: Some(file.clone()),
            ..Default::default()
        })
        .unwrap();
        assert!(from_file.remote_allow_private_networks);
        assert_eq!(from_file.remote_read_timeout_secs, 5);

        // A bare flag turns the switch on; an explicit value (as the environment gives it) wins over the file.
        let parse = |args: &[&str]| {
            <Flags as clap::Parser>::try_parse_from(args)
                .unwrap()
                .overrides
        };
        let bare = parse(&["arca", "--remote-allow-private-networks"]);
        assert_eq!(bare.remote_allow_private_networks, Some(true));
        let mut off = parse(&[
            "arca",
            "--remote-allow-private-networks=false",
            "--remote-connect-timeout-secs=3",
        ]);
        off.config = Some(file);
        let layered = Config::load(&off).unwrap();
        assert!(!layered.remote_allow_private_networks);
        assert_eq!(layered.remote_connect_timeout_secs, 3);
        assert_eq!(layered.remote_read_timeout_secs, 5);

        for bad in [
            Overrides {
                remote_connect_timeout_secs: Some(0),
                ..Default::default()
            },
            Overrides {
                remote_read_timeout_secs: Some(0),
                ..Default::default()
            },
        ] {
            assert!(matches!(Config::load(&bad), Err(ConfigError::Invalid(_))));
        }
    }

    #[test]
    fn config_show_masks_every_secret() {
        let config = Config {
            metrics_token: "metrics-token-0123456789".into(),
            database_url:
                "postgres://arca:hunter2-db@db.internal:5432/arca?sslmode=disable&password=q-secret"
                    .into(),
            s3_secret_access_key: "wJalrXUtnFEMI-secret".into(),
            ..Config::default()
        };
        let shown = config.to_toml();
        for secret in [
            "metrics-token-0123456789",
            "hunter2-db",
            "q-secret",
            "wJalrXUtnFEMI",
        ] {
            assert!(!shown.contains(secret), "config show prints {secret}");
        }
        assert!(shown.contains(
            "postgres://arca:********@db.internal:5432/arca?sslmode=disable&password=********"
        ));
        assert!(shown.contains("metrics_token = \"********\""));
        // Nothing to hide stays as it is.
        let plain = Config {
            database_url: "postgres://arca@db/arca".into(),
            ..Config::default()
        };
        assert!(plain
            .to_toml()
            .contains("database_url = \"postgres://arca@db/arca\""));
    }

    #[test]
    fn s3_settings_are_required_and_named_when_wrong() {
        let s3 = || Overrides {
            blob_store: Some(BlobBackend::S3),
            s3_bucket: Some("arca-blobs".into()),
            s3_prefix: Some("/team/arca/".into()),
            s3_endpoint: Some("http://127.0.0.1:9000/".into()),
            s3_access_key_id: Some("AKIDEXAMPLE".into()),
            s3_secret_access_key: Some("wJalrXUtnFEMI-secret".into()),
            ..Default::default()
        };
        let config = Config::load(&s3()).unwrap();
        assert_eq!(config.s3_prefix, "team/arca");
        assert_eq!(config.s3_endpoint, "http://127.0.0.1:9000");
        assert_eq!(config.s3_region, "us-east-1");
        let shown = config.to_toml();
        assert!(shown.contains("blob_store = \"s3\""));
        assert!(
            !shown.contains("wJalrXUtnFEMI"),
            "config show masks the secret"
        );

        type Breakage = (fn(&mut Overrides), &'static str);
        let broken: [Breakage; 7] = [
            (|o| o.s3_bucket = None, "s3_bucket"),
            (|o| o.s3_bucket = Some("Not_A_Bucket".into()), "s3_bucket"),
            (|o| o.s3_prefix = Some("a/../b".into()), "s3_prefix"),
            (
                |o| o.s3_endpoint = Some("s3.example.com".into()),
                "s3_endpoint",
            ),
            (|o| o.s3_region = Some(String::new()), "s3_region"),
            (|o| o.s3_access_key_id = None, "s3_access_key_id"),
            (
                |o| o.s3_secret_access_key = Some(String::new()),
                "s3_secret_access_key",
            ),
        ];
        for (breaks, setting) in broken {
            let mut overrides = s3();
            breaks(&mut overrides);
            let Err(ConfigError::Invalid(message)) = Config::load(&overrides) else {
                panic!("{setting} was not refused");
            };
            assert!(message.contains(setting), "{message}");
            assert!(!message.contains("wJalrXUtnFEMI"), "{message}");
        }
        // The fs store needs none of them.
        assert!(Config::load(&Overrides {
            s3_bucket: Some("Not_A_Bucket".into()),
            ..Default::default()
        })
        .is_ok());
    }

    #[test]
    fn round_trips_through_toml() {
        let config = Config::default();
        let parsed: Config = toml::from_str(&config.to_toml()).unwrap();
        assert_eq!(parsed, config);
    }
}
