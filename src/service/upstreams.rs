//! One upstream client per account: built with the account's default outbound proxy, rebuilt when that
//! proxy changes, shared by every remote repository of the account (one connection pool each).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::auth::secrets::SecretBox;
use crate::config::Config;
use crate::store::remote::{self, NetProxy};
use crate::store::{Db, StoreResult};
use crate::upstream::{OutboundProxy, Upstream, UpstreamSettings};

/// The default proxy a client was built with (its row id and modification time), none for direct.
type BuiltFor = Option<(i64, i64)>;

#[derive(Clone, Default)]
pub struct Upstreams {
    /// Per account: what the client was built for, and the client.
    clients: Arc<Mutex<HashMap<String, (BuiltFor, Upstream)>>>,
}

impl Upstreams {
    /// The client for `domain_id`'s upstream requests. A proxy whose sealed password cannot be opened (a
    /// secret key replaced) is used without credentials, and the proxy will say so.
    pub async fn for_account(
        &self,
        db: &Db,
        config: &Config,
        secrets: &SecretBox,
        domain_id: &str,
    ) -> StoreResult<Upstream> {
        let owned = domain_id.to_string();
        let proxy: Option<NetProxy> = db
            .call(move |conn| remote::default_net_proxy(conn, &owned))
            .await?;
        let key = proxy.as_ref().map(|p| (p.id, p.modified_at));
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((built_for, client)) = clients.get(domain_id) {
            if *built_for == key {
                return Ok(client.clone());
            }
        }
        let outbound = proxy.map(|p| OutboundProxy {
            password: p
                .password_sealed
                .as_deref()
                .and_then(|sealed| secrets.open(sealed).ok())
                .and_then(|plain| String::from_utf8(plain).ok()),
            user_name: (!p.user_name.is_empty()).then_some(p.user_name),
            host: p.host,
            port: p.port,
        });
        let client = Upstream::new(UpstreamSettings::from_config(config, outbound));
        clients.insert(domain_id.to_string(), (key, client.clone()));
        Ok(client)
    }
}
