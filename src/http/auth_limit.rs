//! Failed authentications, limited per client address and per claimed user, so that a password, a repo
//! password or a secret key cannot be guessed at speed. After `auth_failure_limit` failures within
//! `auth_failure_window_secs`, every further attempt from that address, or naming that user, answers 429
//! with `Retry-After` for one window, without its credential being checked. Successes reset nothing: an
//! attacker holding a valid credential of their own could otherwise use it to forgive their failures.
//!
//! Credential checks call `Attempt::run` around themselves; nothing else here knows about credentials but
//! which user a request claims to be. Memory is bounded: at most `MAX_KEYS` counters, expired ones swept
//! once a window, and when full the oldest counters that block nobody are evicted first.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap, HeaderValue};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::app::AppState;
use super::error::ApiError;
use crate::auth::signature::{self, SignatureHeader};
use crate::config::Config;

/// Counters kept at most; about 40 bytes each.
const MAX_KEYS: usize = 1 << 16;

pub struct AuthLimiter {
    /// Failures that start a refusal; 0 turns limiting off.
    limit: u32,
    window: Duration,
    trusted_proxies: Vec<IpAddr>,
    /// Keys are hashed (with a per-process seed) so that every counter has the same small size whatever
    /// user name an attacker sends.
    seed: RandomState,
    counters: Mutex<Counters>,
    /// When the last refusal ends, in milliseconds after `epoch` (0: none yet). While none lasts, an
    /// attempt is let through without decoding whom it claims to be, hashing or locking: that work is
    /// left for the attempts that fail.
    refusing_until: AtomicU64,
    epoch: Instant,
}

#[derive(Default)]
struct Counters {
    by_key: HashMap<u64, Counter>,
    last_sweep: Option<Instant>,
}

#[derive(Clone, Copy)]
struct Counter {
    window_start: Instant,
    failures: u32,
    refused_until: Option<Instant>,
}

/// What a counter counts. IPv6 clients are counted per /64, the block one subscriber usually holds.
#[derive(Hash)]
enum Key<'a> {
    V4(u32),
    V6Prefix(u64),
    User(&'a str),
}

impl AuthLimiter {
    pub fn new(config: &Config) -> Self {
        AuthLimiter {
            limit: config.auth_failure_limit,
            window: Duration::from_secs(config.auth_failure_window_secs),
            trusted_proxies: config.trusted_proxies.clone(),
            seed: RandomState::new(),
            counters: Mutex::default(),
            refusing_until: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// The client's address: the TCP peer, or, when the peer is a trusted proxy, the nearest address in
    /// `X-Forwarded-For` that is not one (proxies append the address they received the request from).
    /// `None` without a connection (requests served in-process).
    pub fn client_addr(&self, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
        let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.is_trusted(ip) => continue,
                Some(ip) => return Some(ip),
                // A hop the proxies did not write: count the proxy itself rather than trust it.
                None => return Some(peer),
            }
        }
        Some(peer)
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|t| t.to_canonical() == ip)
    }

    /// An attempt with the credential a request's headers carry (or none: then nothing is limited).
    pub fn attempt_of(&self, headers: &HeaderMap, extensions: &Extensions) -> Attempt<'_> {
        let presented =
            headers.contains_key(header::AUTHORIZATION) || headers.contains_key("x-auth-token");
        Attempt {
            limiter: self,
            presented,
            client: self.client_addr(headers, extensions),
            claim: Claim::Authorization(headers.get(header::AUTHORIZATION).cloned()),
        }
    }

    /// An attempt with a credential that names `user` (a login form's user name).
    pub fn attempt(&self, client: Option<IpAddr>, user: Option<String>) -> Attempt<'_> {
        Attempt {
            limiter: self,
            presented: true,
            client,
            claim: Claim::User(user),
        }
    }

    fn hashed(&self, client: Option<IpAddr>, user: Option<&str>) -> Vec<u64> {
        let mut keys = Vec::with_capacity(2);
        if let Some(ip) = client {
            keys.push(self.seed.hash_one(match ip.to_canonical() {
                IpAddr::V4(v4) => Key::V4(u32::from(v4)),
                IpAddr::V6(v6) => Key::V6Prefix((u128::from(v6) >> 64) as u64),
            }));
        }
        if let Some(user) = user {
            keys.push(self.seed.hash_one(Key::User(user)));
        }
        keys
    }

    /// How long the longest refusal among `keys` still lasts.
    fn refused_for(&self, keys: &[u64], now: Instant) -> Option<Duration> {
        let counters = self.counters.lock().expect("limiter lock");
        keys.iter()
            .filter_map(|k| counters.by_key.get(k)?.refused_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    fn millis_since_epoch(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// Whether some refusal may still last at `now` (false means none does).
    fn may_refuse(&self, now: Instant) -> bool {
        self.millis_since_epoch(now) < self.refusing_until.load(Ordering::Acquire)
    }

    /// Counts a failure against each key; answers whether one of them was refused by it.
    fn count_failure(&self, keys: &[u64], now: Instant) -> bool {
        let window = self.window;
        let mut counters = self.counters.lock().expect("limiter lock");
        counters.sweep_if_due(now, window);
        let mut refused = false;
        for key in keys {
            if !counters.by_key.contains_key(key) && counters.by_key.len() >= MAX_KEYS {
                counters.make_room(now, window);
            }
            let counter = counters.by_key.entry(*key).or_insert(Counter {
                window_start: now,
                failures: 0,
                refused_until: None,
            });
            if now >= counter.window_start + window {
                *counter = Counter {
                    window_start: now,
                    failures: 0,
                    refused_until: None,
                };
            }
            counter.failures += 1;
            if counter.failures >= self.limit && counter.refused_until.is_none() {
                counter.refused_until = Some(now + window);
                refused = true;
                // Rounded up, so that `may_refuse` never ends before the refusal does.
                let until = self.millis_since_epoch(now + window) + 1;
                self.refusing_until.fetch_max(until, Ordering::AcqRel);
            }
        }
        refused
    }
}

impl Counters {
    fn sweep_if_due(&mut self, now: Instant, window: Duration) {
        if self.last_sweep.is_some_and(|at| now < at + window) {
            return;
        }
        self.by_key.retain(|_, c| !c.expired(now, window));
        self.last_sweep = Some(now);
    }

    /// Frees a quarter of the table: expired counters, then those refusing nobody, oldest first.
    fn make_room(&mut self, now: Instant, window: Duration) {
        self.by_key.retain(|_, c| !c.expired(now, window));
        if self.by_key.len() < MAX_KEYS {
            return;
        }
        let mut ranked: Vec<(bool, Instant, u64)> = self
            .by_key
            .iter()
            .map(|(k, c)| (c.refused_until.is_some(), c.window_start, *k))
            .collect();
        let evict = MAX_KEYS / 4;
        ranked.select_nth_unstable(evict);
        for (_, _, key) in &ranked[..evict] {
            self.by_key.remove(key);
        }
    }
}

impl Counter {
    fn expired(&self, now: Instant, window: Duration) -> bool {
        now >= self.window_start + window && self.refused_until.is_none_or(|until| now >= until)
    }
}

/// One authentication attempt: who it comes from and whom it claims to be.
pub struct Attempt<'a> {
    limiter: &'a AuthLimiter,
    presented: bool,
    client: Option<IpAddr>,
    claim: Claim,
}

/// Whom an attempt claims to be: a name given, or the `Authorization` header to read it from, which is
/// decoded only when it matters (a refusal lasts, or the attempt failed).
enum Claim {
    User(Option<String>),
    Authorization(Option<HeaderValue>),
}

impl Claim {
    fn user(&self) -> Option<String> {
        match self {
            Claim::User(user) => user.clone(),
            Claim::Authorization(value) => value.as_ref().and_then(claimed_user),
        }
    }
}

impl Attempt<'_> {
    /// Runs the credential check `check` unless the client or the user is refused (then 429, `check`
    /// never runs); counts its 401 against both.
    pub async fn run<T>(
        self,
        check: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let limiter = self.limiter;
        if !self.presented {
            return check.await;
        }
        if limiter.limit == 0 {
            let outcome = check.await;
            if let Err(ApiError::Unauthenticated(_)) = &outcome {
                crate::telemetry::record_auth_failure("rejected");
            }
            return outcome;
        }
        let now = Instant::now();
        if limiter.may_refuse(now) {
            let keys = limiter.hashed(self.client, self.claim.user().as_deref());
            if let Some(wait) = limiter.refused_for(&keys, now) {
                crate::telemetry::record_auth_failure("rate_limited");
                return Err(ApiError::TooManyAuthFailures {
                    retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                });
            }
        }
        let outcome = check.await;
        if let Err(ApiError::Unauthenticated(_)) = &outcome {
            crate::telemetry::record_auth_failure("rejected");
            let user = self.claim.user();
            let keys = limiter.hashed(self.client, user.as_deref());
            if limiter.count_failure(&keys, Instant::now()) {
                tracing::warn!(
                    client = ?self.client,
                    user = user.as_deref().unwrap_or(""),
                    limit = limiter.limit,
                    window_secs = limiter.window.as_secs(),
                    "too many failed authentications: refusing this client or user for one window"
                );
            }
        }
        outcome
    }
}

/// Whom a request's credential claims to be: an access key, a Basic user name, or the user id inside a
/// ticket. Tokens name nobody (they are opaque), so only their client's address counts.
fn claimed_user(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    if value.starts_with(signature::ALGORITHM) {
        return SignatureHeader::parse(value).ok().map(|h| h.access_key);
    }
    if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        return decoded.split_once(':').map(|(name, _)| name.to_string());
    }
    let ticket = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    let decoded = String::from_utf8(STANDARD.decode(ticket).ok()?).ok()?;
    let user_id = decoded.strip_prefix("ticket_")?.rsplit(':').next()?;
    Some(user_id.to_string())
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The client's address as `AuthLimiter::client_addr` sees it, for handlers that check credentials from
/// a body (password logins).
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            state
                .auth_limiter
                .client_addr(&parts.headers, &parts.extensions),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limit: u32, trusted: &[&str]) -> AuthLimiter {
        AuthLimiter::new(&Config {
            auth_failure_limit: limit,
            auth_failure_window_secs: 60,
            trusted_proxies: trusted.iter().map(|t| t.parse().unwrap()).collect(),
            ..Config::default()
        })
    }

    fn request_from(peer: &str, forwarded: Option<&str>) -> (HeaderMap, Extensions) {
        let mut headers = HeaderMap::new();
        if let Some(f) = forwarded {
            headers.insert("x-forwarded-for", f.parse().unwrap());
        }
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo::<SocketAddr>(peer.parse().unwrap()));
        (headers, extensions)
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let open = limiter(3, &[]);
        let (h, e) = request_from("10.0.0.9:4000", Some("203.0.113.5"));
        assert_eq!(open.client_addr(&h, &e), Some("10.0.0.9".parse().unwrap()));

        let proxied = limiter(3, &["10.0.0.9", "10.0.0.8"]);
        let (h, e) = request_from("10.0.0.9:4000", Some("198.51.100.1, 203.0.113.5, 10.0.0.8"));
        assert_eq!(
            proxied.client_addr(&h, &e),
            Some("203.0.113.5".parse().unwrap())
        );
        let (h, e) = request_from("10.0.0.9:4000", Some("203.0.113.5, not-an-address"));
        assert_eq!(
            proxied.client_addr(&h, &e),
            Some("10.0.0.9".parse().unwrap())
        );
        let (h, e) = request_from("[::ffff:10.0.0.9]:4000", None);
        assert_eq!(
            proxied.client_addr(&h, &e),
            Some("::ffff:10.0.0.9".parse().unwrap())
        );
    }

    #[test]
    fn claimed_users() {
        let with = |value: &str| claimed_user(&value.parse().unwrap());
        assert_eq!(
            with(&format!("Basic {}", STANDARD.encode("alice:pw"))),
            Some("alice".into())
        );
        let ticket = STANDARD.encode("ticket_1700000000000:abc:0123456789abcdef0123456789abcdef");
        let user = Some("0123456789abcdef0123456789abcdef".to_string());
        assert_eq!(with(&format!("Bearer {ticket}")), user);
        assert_eq!(with(&ticket), user);
        let signed = format!(
            "SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=host, Signature={}",
            "0".repeat(64)
        );
        assert_eq!(with(&signed), Some("AKEXAMPLE".into()));
        assert_eq!(with("Negotiate xyz"), None);
    }

    #[test]
    fn failures_refuse_each_key_for_a_window_and_successes_forgive_nothing() {
        let l = limiter(3, &[]);
        let start = Instant::now();
        let attacker = l.hashed(Some("192.0.2.1".parse().unwrap()), Some("alice"));
        let neighbour = l.hashed(Some("192.0.2.2".parse().unwrap()), Some("bob"));
        assert!(!l.count_failure(&attacker, start));
        assert!(!l.count_failure(&attacker, start));
        assert_eq!(l.refused_for(&attacker, start), None);
        assert!(l.count_failure(&attacker, start + Duration::from_secs(10)));
        assert_eq!(
            l.refused_for(&attacker, start + Duration::from_secs(10)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(l.refused_for(&neighbour, start), None);
        // The same user from elsewhere is refused too; another user from the attacker's address as well.
        let alice_elsewhere = l.hashed(Some("192.0.2.3".parse().unwrap()), Some("alice"));
        assert!(l.refused_for(&alice_elsewhere, start).is_some());
        let bob_from_attacker = l.hashed(Some("192.0.2.1".parse().unwrap()), Some("bob"));
        assert!(l.refused_for(&bob_from_attacker, start).is_some());
        assert_eq!(
            l.refused_for(&attacker, start + Duration::from_secs(70)),
            None
        );
    }

    #[tokio::test]
    async fn attempts_are_refused_only_once_a_refusal_lasts() {
        let l = limiter(2, &[]);
        let attempt_of = |user: &str, ip: &str| {
            let mut headers = HeaderMap::new();
            let basic = format!("Basic {}", STANDARD.encode(format!("{user}:pw")));
            headers.insert(header::AUTHORIZATION, basic.parse().unwrap());
            let mut extensions = Extensions::new();
            extensions.insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 1234)));
            l.attempt_of(&headers, &extensions)
        };
        let checked = std::sync::atomic::AtomicUsize::new(0);
        let fail = || async {
            checked.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ApiError::Unauthenticated("wrong password"))
        };
        assert!(!l.may_refuse(Instant::now()));
        for _ in 0..2 {
            let outcome = attempt_of("alice", "192.0.2.1").run(fail()).await;
            assert!(matches!(outcome, Err(ApiError::Unauthenticated(_))));
        }
        assert!(l.may_refuse(Instant::now()));
        // Refused by the name its header claims, from another address, without being checked.
        let outcome = attempt_of("alice", "192.0.2.9").run(fail()).await;
        assert!(matches!(outcome, Err(ApiError::TooManyAuthFailures { .. })));
        assert_eq!(checked.load(Ordering::SeqCst), 2);
        let other = attempt_of("bob", "192.0.2.9").run(async { Ok(()) }).await;
        assert!(other.is_ok());
        assert!(!l.may_refuse(Instant::now() + Duration::from_secs(61)));
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        let l = limiter(2, &[]);
        let a = l.hashed(Some("2001:db8:1:2::1".parse().unwrap()), None);
        let b = l.hashed(Some("2001:db8:1:2::ffff".parse().unwrap()), None);
        let c = l.hashed(Some("2001:db8:1:3::1".parse().unwrap()), None);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_refusals() {
        let l = limiter(2, &[]);
        let now = Instant::now();
        let victim = l.hashed(None, Some("victim"));
        l.count_failure(&victim, now);
        l.count_failure(&victim, now);
        for i in 0..(MAX_KEYS + 1000) {
            l.count_failure(&l.hashed(None, Some(&format!("spray{i}"))), now);
        }
        assert!(l.counters.lock().unwrap().by_key.len() <= MAX_KEYS);
        assert!(l.refused_for(&victim, now).is_some());
    }
}
