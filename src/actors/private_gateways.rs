//! What this process knows of private gateways between reads of the registry
//! ([`PrivateGatewayStore`]): which are revoked (checked on every request, so kept in memory)
//! and when each was last seen (written in batches, not once per request).
//!
//! [`PrivateGateways::sync`] flushes the sightings and reloads the revoked set; the
//! [`RegistrySync`] actor runs it every [`SYNC_PERIOD`], and serve runs it once before binding,
//! so a revocation made on one replica is enforced by all within that period. Everything here
//! is rebuilt from the store by one sync: a restart forgets only sightings not yet written.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::actors::gateway::GatewayContext;
use crate::actors::poweb::collection::CollectionRegistry;
use crate::backends::metadata::{MetadataStore, MAX_PAGE};
use crate::backends::BackendError;
use crate::protocols::poweb::PowebCloseReason;
use crate::supervision::{protect, ChildLink, RestartCause, RestartPolicy, Supervisor};

/// Between syncs with the registry.
pub const SYNC_PERIOD: Duration = Duration::from_secs(5);

/// This process's view of the registry (see the module documentation).
#[derive(Default)]
pub struct PrivateGateways {
    revoked: RwLock<HashSet<String>>,
    /// Sightings not yet written, latest per gateway.
    seen: Mutex<HashMap<String, DateTime<Utc>>>,
    /// This process's live collection sessions, once PoWeb runs here.
    sessions: OnceLock<Arc<CollectionRegistry>>,
}

impl PrivateGateways {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_revoked(&self, pg_id: &str) -> bool {
        self.revoked
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(pg_id)
    }

    /// Notes that `pg_id` proved who it is at `now`.
    pub fn saw(&self, pg_id: &str, now: DateTime<Utc>) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let at = seen.entry(pg_id.to_owned()).or_insert(now);
        *at = (*at).max(now);
    }

    /// Lets revocations close this process's collection sessions and the admin API count them.
    pub fn attach_sessions(&self, sessions: Arc<CollectionRegistry>) {
        let _ = self.sessions.set(sessions);
    }

    /// Collection sockets open in this process for `pg_id`.
    pub fn live_sessions(&self, pg_id: &str) -> usize {
        self.sessions
            .get()
            .map_or(0, |sessions| sessions.open_sockets(pg_id))
    }

    /// Enforces a revocation here at once; returns the sessions asked to close.
    fn enforce_revocation(&self, pg_id: &str) -> usize {
        self.revoked
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(pg_id.to_owned());
        self.sessions.get().map_or(0, |sessions| {
            sessions.close_gateway(pg_id, PowebCloseReason::Revoked)
        })
    }

    /// Writes the pending sightings (kept for the next sync if that fails) and reloads the
    /// revoked set, closing local sessions of gateways revoked elsewhere.
    pub async fn sync(&self, store: &dyn MetadataStore) -> Result<(), BackendError> {
        let pending: Vec<(String, DateTime<Utc>)> =
            std::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .collect();
        if let Err(error) = store.record_seen(&pending).await {
            for (pg_id, at) in pending {
                self.saw(&pg_id, at);
            }
            return Err(error);
        }
        let revoked: HashSet<String> = store
            .revoked_private_gateways()
            .await?
            .into_iter()
            .collect();
        let newly: Vec<String> = {
            let known = self.revoked.read().unwrap_or_else(|p| p.into_inner());
            revoked.difference(&known).cloned().collect()
        };
        *self.revoked.write().unwrap_or_else(|p| p.into_inner()) = revoked;
        for pg_id in newly {
            if let Some(sessions) = self.sessions.get() {
                sessions.close_gateway(&pg_id, PowebCloseReason::Revoked);
            }
        }
        Ok(())
    }
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    pub id: String,
    /// `false` if the gateway had been revoked before (its leftovers are purged again).
    pub newly_revoked: bool,
    pub parcels_purged: u64,
    pub sessions_closed: usize,
}

/// Revokes `pg_id`: recorded in the registry, enforced in this process at once (and by the
/// others at their next sync), its collection sessions closed and its stored parcels deleted,
/// entry then body (a crash in between leaves a body for housekeeping's orphan sweep).
pub async fn revoke(
    context: &GatewayContext,
    pg_id: &str,
    now: DateTime<Utc>,
) -> Result<Revocation, BackendError> {
    let metadata = &context.backends.metadata;
    let newly_revoked = metadata.revoke_private_gateway(pg_id, now).await?;
    let sessions_closed = context.private_gateways.enforce_revocation(pg_id);
    let mut parcels_purged = 0;
    loop {
        let object_keys = metadata.delete_parcels_for_gateway(pg_id, MAX_PAGE).await?;
        for object_key in &object_keys {
            context.backends.objects.delete(object_key).await?;
        }
        parcels_purged += object_keys.len() as u64;
        if object_keys.len() < MAX_PAGE {
            break;
        }
    }
    tracing::warn!(
        pg_id,
        newly_revoked,
        parcels_purged,
        sessions_closed,
        "private gateway revoked"
    );
    Ok(Revocation {
        id: pg_id.to_owned(),
        newly_revoked,
        parcels_purged,
        sessions_closed,
    })
}

/// Runs [`PrivateGateways::sync`] every [`SYNC_PERIOD`]; a failure is logged and the next
/// period retries. Holds nothing but its schedule.
pub struct RegistrySync {
    context: Arc<GatewayContext>,
    link: ChildLink,
    running: bool,
}

impl RegistrySync {
    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.running {
            return;
        }
        self.running = true;
        let context = self.context.clone();
        let work = protect(async move {
            context
                .private_gateways
                .sync(&*context.backends.metadata)
                .await
        });
        ctx.spawn(work.into_actor(self).map(|outcome, actor, ctx| {
            actor.running = false;
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, "could not sync the private gateway registry; retrying");
                }
                Err(panic) => {
                    tracing::error!(%panic, "the private gateway registry sync panicked");
                    actor.link.fail(RestartCause::Panic);
                    ctx.stop();
                }
            }
        }));
    }
}

impl Actor for RegistrySync {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(SYNC_PERIOD, |actor, ctx| actor.tick(ctx));
    }
}

/// Starts the sync under a root supervisor (every role enforces revocations).
pub fn start_sync(context: Arc<GatewayContext>) -> Addr<Supervisor<RegistrySync>> {
    let metrics = context.metrics.clone();
    Supervisor::root(
        "registry_sync",
        RestartPolicy::default(),
        move |link| RegistrySync {
            context: context.clone(),
            link,
            running: false,
        },
        |escalation| {
            tracing::error!(
                cause = escalation.cause.as_str(),
                "the private gateway registry sync keeps failing"
            );
        },
    )
    .with_metrics(metrics)
    .start()
}

#[cfg(test)]
#[path = "private_gateways_tests.rs"]
mod tests;
