//! Cargo through a remote repository whose `remote_url` is a sparse index (as `https://index.crates.io`).
//! Index files are fetched as they are (`{remote_url}/{path}`) and revalidated after
//! `metadata_max_age_secs`; arca's own `config.json` sends downloads to arca, which reads the upstream's
//! `config.json` for its `dl` template and checks every crate against the `cksum` its index line gives.
//! Cached under `.index/` (the upstream's index files and config) and `crates/` (the crates, as hosted
//! repositories keep them), paths no crate path can take.

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::remote::{respond, settings_of, taker};
use crate::auth::Principal;
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::remote_fetch::{self, Expected, Fetched, Freshness, Source};
use crate::store::remote::RemoteSettings;
use crate::store::repos::Repository;
use crate::upstream::Url;

const INDEX_CACHE: &str = ".index";

fn source<'a>(
    repo: &'a Repository,
    settings: &'a RemoteSettings,
    path: &'a str,
    url: Url,
    freshness: Freshness,
    whole: bool,
    caller: Option<&'a Principal>,
) -> Source<'a> {
    Source {
        repo,
        settings,
        path,
        url,
        freshness,
        expected: Expected::default(),
        checksum_file: None,
        whole,
        accept: None,
        user_id: taker(caller),
        registry_scope: None,
    }
}

/// An index file (`index_rel` as `se/rd/serde`) through the remote repository, as the upstream wrote it.
pub async fn index_file(
    state: &AppState,
    repo: &Repository,
    index_rel: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let settings = settings_of(state, repo).await?;
    let path = format!("{INDEX_CACHE}/{index_rel}");
    let url = remote_fetch::url_of(&settings, index_rel)?;
    let fetched = remote_fetch::fetch(
        state,
        source(
            repo,
            &settings,
            &path,
            url,
            Freshness::Mutable,
            false,
            caller,
        ),
    )
    .await?;
    respond(state, fetched, headers, head, || {
        ApiError::not_found(format!("No index file {index_rel}"))
    })
    .await
}

/// An index file (`index_rel`) of the remote repository's upstream, whole; `None` when it has none.
pub async fn index_document(
    state: &AppState,
    repo: &Repository,
    index_rel: &str,
    caller: Option<&Principal>,
) -> Result<Option<Vec<u8>>, ApiError> {
    let settings = settings_of(state, repo).await?;
    document(state, repo, &settings, index_rel, caller).await
}

/// A whole upstream document through the remote repository (an index file, `config.json`).
async fn document(
    state: &AppState,
    repo: &Repository,
    settings: &RemoteSettings,
    rel: &str,
    caller: Option<&Principal>,
) -> Result<Option<Vec<u8>>, ApiError> {
    let path = format!("{INDEX_CACHE}/{rel}");
    let url = remote_fetch::url_of(settings, rel)?;
    let fetched = remote_fetch::fetch(
        state,
        source(repo, settings, &path, url, Freshness::Mutable, true, caller),
    )
    .await?;
    match fetched {
        Fetched::Cached { file, .. } => Ok(Some(
            super::download::read_whole(state, &file.sha256, file.size).await?,
        )),
        Fetched::Missing => Ok(None),
        Fetched::Streaming { .. } => Err(ApiError::Internal(
            "a whole fetch answered with a stream".into(),
        )),
    }
}

/// The `.crate` of `name` `vers` through the remote repository, checked against its index `cksum`.
#[allow(clippy::too_many_arguments)]
pub async fn download(
    state: &AppState,
    repo: &Repository,
    name: &str,
    vers: &str,
    crate_path: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let settings = settings_of(state, repo).await?;
    let missing = || ApiError::not_found(format!("crate `{name}` has no version {vers}"));
    let index_rel = crate::formats::cargo::index_path(&name.to_ascii_lowercase());
    let index = document(state, repo, &settings, &index_rel, caller)
        .await?
        .ok_or_else(missing)?;
    let cksum = cksum_of(&index, vers).ok_or_else(missing)?;
    let config = document(state, repo, &settings, "config.json", caller)
        .await?
        .ok_or_else(|| ApiError::Upstream {
            timeout: false,
            message: "the upstream index has no config.json".into(),
        })?;
    let url = download_url(&config, name, vers, &cksum).ok_or_else(|| ApiError::Upstream {
        timeout: false,
        message: "the upstream index's config.json names no usable dl URL".into(),
    })?;
    let mut source = source(
        repo,
        &settings,
        crate_path,
        url,
        Freshness::Immutable,
        false,
        caller,
    );
    source.expected.sha256 = Some(cksum);
    let fetched = remote_fetch::fetch(state, source).await?;
    respond(state, fetched, headers, head, missing).await
}

/// The `cksum` of version `vers` in an index file (one JSON object per line).
fn cksum_of(index: &[u8], vers: &str) -> Option<String> {
    std::str::from_utf8(index)
        .ok()?
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|entry| entry["vers"] == vers)
        .and_then(|entry| entry["cksum"].as_str().map(str::to_ascii_lowercase))
        .filter(|c| crate::blob::is_sha256_hex(c))
}

/// Where the upstream serves a crate: its `dl` with the markers cargo knows filled in, or with
/// `/{crate}/{version}/download` appended when it has none.
fn download_url(config: &[u8], name: &str, vers: &str, cksum: &str) -> Option<Url> {
    let config: Value = serde_json::from_slice(config).ok()?;
    let dl = config["dl"].as_str()?;
    let lower = name.to_ascii_lowercase();
    let prefix = |name: &str| match name.len() {
        1 => "1".to_string(),
        2 => "2".to_string(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    };
    let markers = [
        "{crate}",
        "{version}",
        "{prefix}",
        "{lowerprefix}",
        "{sha256-checksum}",
    ];
    let url = if markers.iter().any(|m| dl.contains(m)) {
        dl.replace("{crate}", name)
            .replace("{version}", vers)
            .replace("{prefix}", &prefix(name))
            .replace("{lowerprefix}", &prefix(&lower))
            .replace("{sha256-checksum}", cksum)
    } else {
        format!("{}/{name}/{vers}/download", dl.trim_end_matches('/'))
    };
    Url::parse(&url).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_urls_follow_cargo_markers() {
        let sum = "a".repeat(64);
        let plain = download_url(
            br#"{"dl":"https://static.crates.io/crates"}"#,
            "Serde",
            "1.0.0",
            &sum,
        );
        assert_eq!(
            plain.unwrap().as_str(),
            "https://static.crates.io/crates/Serde/1.0.0/download"
        );
        let marked = download_url(
            br#"{"dl":"https://x/{lowerprefix}/{crate}-{version}.crate?s={sha256-checksum}"}"#,
            "Serde",
            "1.0.0",
            &sum,
        );
        assert_eq!(
            marked.unwrap().as_str(),
            format!("https://x/se/rd/Serde-1.0.0.crate?s={sum}")
        );
        assert!(download_url(b"{}", "a", "1", &sum).is_none());
    }

    #[test]
    fn checksums_come_from_the_version_line() {
        let sum = "B".repeat(64);
        let index = format!(
            "{{\"name\":\"a\",\"vers\":\"1.0.0\",\"cksum\":\"{}\"}}\n{{\"name\":\"a\",\"vers\":\"1.1.0\",\"cksum\":\"{sum}\"}}\n",
            "c".repeat(64)
        );
        assert_eq!(cksum_of(index.as_bytes(), "1.1.0"), Some("b".repeat(64)));
        assert_eq!(cksum_of(index.as_bytes(), "2.0.0"), None);
        assert_eq!(
            cksum_of(b"{\"vers\":\"1.0.0\",\"cksum\":\"short\"}", "1.0.0"),
            None
        );
    }
}
