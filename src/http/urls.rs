//! The address clients reached arca at, for the links and URLs answers carry.

use axum::http::{header, HeaderMap};

use crate::config::Config;

/// `scheme://host[:port]` from the request: its `Host` (when it is a plausible host name) and
/// `X-Forwarded-Proto` from a proxy that terminates TLS.
pub fn request_base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// The configured `public_url`, else the request's own base URL.
pub fn public_base_url(config: &Config, headers: &HeaderMap) -> String {
    if config.public_url.is_empty() {
        request_base_url(headers)
    } else {
        config.public_url.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_base_uses_a_sane_host_only() {
        let mut h = HeaderMap::new();
        h.insert("host", "127.0.0.1:8080".parse().unwrap());
        assert_eq!(request_base_url(&h), "http://127.0.0.1:8080");
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(request_base_url(&h), "https://127.0.0.1:8080");
        h.insert("host", "evil/<x>".parse().unwrap());
        assert_eq!(request_base_url(&h), "https://localhost");
    }

    #[test]
    fn public_url_wins_when_configured() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            public_base_url(&Config::default(), &h),
            "http://127.0.0.1:8080"
        );
        h.insert(header::HOST, "evil.com/<script>".parse().unwrap());
        assert_eq!(public_base_url(&Config::default(), &h), "http://localhost");
        let public = Config {
            public_url: "https://repo.example.com/arca".into(),
            ..Config::default()
        };
        assert_eq!(
            public_base_url(&public, &h),
            "https://repo.example.com/arca"
        );
    }
}
