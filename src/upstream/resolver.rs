//! Name resolution under the address policy. reqwest connects to exactly the addresses its resolver
//! returns, so filtering here checks the address that is connected to: a name that resolves to a refused
//! address is refused, and no second lookup can answer differently (no DNS rebinding between check and
//! connect). IP-literal hosts never reach a resolver; `Upstream` checks those itself.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::dns::{Name, Resolve, Resolving};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

use super::policy::{AddressClass, AddressPolicy};

/// Every address of a name is refused. Found again in reqwest's error chain to answer `Denied`.
#[derive(Debug, thiserror::Error)]
#[error("the name resolves only to refused addresses ({})", .0.describe())]
pub(super) struct RefusedName(pub AddressClass);

/// The name has no address (or the lookup failed). Its own type so that the answer does not repeat the
/// system resolver's text.
#[derive(Debug, thiserror::Error)]
#[error("the name does not resolve")]
pub(super) struct Unresolved;

pub(super) struct PolicyResolver {
    pub policy: AddressPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Boxed as themselves (not as a `Box` of them), so `error::find` can downcast them.
            let error: BoxError = match lookup(policy, &host).await {
                Ok((allowed, _)) if !allowed.is_empty() => {
                    return Ok(Box::new(allowed.into_iter()) as _)
                }
                Ok((_, Some(class))) => Box::new(RefusedName(class)),
                Ok((_, None)) | Err(Unresolved) => Box::new(Unresolved),
            };
            Err(error)
        })
    }
}

/// The name's addresses the policy allows, and the class of the first one it refused (if any). Refused
/// addresses are logged for the operator; answers only name the class.
async fn lookup(
    policy: AddressPolicy,
    host: &str,
) -> Result<(Vec<SocketAddr>, Option<AddressClass>), Unresolved> {
    let found = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|_| Unresolved)?;
    let mut allowed = Vec::new();
    let mut refused = None;
    for address in found {
        match policy.check(address.ip()) {
            Ok(()) => allowed.push(address),
            Err(class) => {
                tracing::warn!(upstream = %host, address = %address.ip(), "upstream address refused");
                refused.get_or_insert(class);
            }
        }
    }
    Ok((allowed, refused))
}

/// For a target that an outbound proxy will resolve: look the name up here too and refuse it when any of
/// its addresses is refused. Best effort: the proxy makes its own lookup, which may answer differently
/// (another resolver, or a record changed in between), so the proxy should enforce its own egress rules.
/// A name that does not resolve here is let through (the proxy may see names this host cannot).
pub(super) async fn refused_behind_proxy(
    policy: AddressPolicy,
    host: &str,
    within: Duration,
) -> Option<AddressClass> {
    match tokio::time::timeout(within, lookup(policy, host)).await {
        Ok(Ok((_, refused))) => refused,
        _ => None,
    }
}
