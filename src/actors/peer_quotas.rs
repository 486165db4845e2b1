//! Per-private-gateway quotas, so that one gateway cannot take from the others what they share:
//! - storage: parcels and bytes stored for it (its peers flood it, or it never collects);
//! - Internet-bound: parcels it handed over that are queued or in flight (it sends to an
//!   address that never answers), which would otherwise fill the outbound mailbox for all.
//!
//! Counting the store on every parcel would cost a scan per request, so each process keeps a
//! running total per gateway: loaded from the store the first time the gateway is seen, raised
//! by every parcel this process admits, and reloaded in the background once it is older than
//! [`REFRESH`] (which is when collections, settlements, expiry and other replicas' writes
//! show). So a limit holds to within what the other replicas admit in one refresh period, and
//! a gateway regains room within that period.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::backends::metadata::{MetadataStore, StoredTotals};
use crate::backends::BackendError;

/// Age at which a gateway's running total is reloaded from the store.
pub const REFRESH: Duration = Duration::from_secs(10);
/// Gateways tracked at once; past this the totals are dropped and reloaded as gateways return.
const MAX_TRACKED: usize = 100_000;

/// Which quota a parcel would break (the `quota` label of the refusal metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    Parcels,
    Bytes,
    InternetBound,
}

impl Quota {
    pub fn as_str(self) -> &'static str {
        match self {
            Quota::Parcels => "parcels_stored",
            Quota::Bytes => "bytes_stored",
            Quota::InternetBound => "internet_bound_pending",
        }
    }
}

/// What a [`PeerQuotas`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Stored,
    InternetBound,
}

#[derive(Debug, Error)]
pub enum QuotaError {
    #[error("private gateway {pg_id} is over its storage quota ({}); it must collect first", quota.as_str())]
    Exceeded { pg_id: String, quota: Quota },
    #[error("could not read what is stored for a private gateway: {0}")]
    Backend(#[from] BackendError),
}

struct Tracked {
    totals: StoredTotals,
    loaded: Instant,
    refreshing: bool,
}

/// The running totals of one process for one kind of quota (see the module documentation).
pub struct PeerQuotas {
    counted: Counted,
    max_parcels: u64,
    max_bytes: u64,
    tracked: Mutex<HashMap<String, Tracked>>,
}

impl PeerQuotas {
    /// Storage quotas of `max_parcels` and `max_bytes` per gateway; 0 lifts either.
    pub fn new(max_parcels: u64, max_bytes: u64) -> Arc<Self> {
        Arc::new(PeerQuotas {
            counted: Counted::Stored,
            max_parcels,
            max_bytes,
            tracked: Mutex::new(HashMap::new()),
        })
    }

    /// A quota of `max_parcels` Internet-bound parcels pending per gateway; 0 lifts it.
    pub fn internet_bound(max_parcels: u64) -> Arc<Self> {
        Arc::new(PeerQuotas {
            counted: Counted::InternetBound,
            max_parcels,
            max_bytes: 0,
            tracked: Mutex::new(HashMap::new()),
        })
    }

    async fn load(
        &self,
        metadata: &dyn MetadataStore,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredTotals, BackendError> {
        match self.counted {
            Counted::Stored => metadata.stored_for_gateway(pg_id, now).await,
            Counted::InternetBound => Ok(StoredTotals {
                parcels: metadata.pending_internet_bound(pg_id, now).await?,
                bytes: 0,
            }),
        }
    }

    fn unlimited(&self) -> bool {
        self.max_parcels == 0 && self.max_bytes == 0
    }

    /// Takes room for one parcel of `size` bytes for `pg_id`, or says which quota it would
    /// break. Room taken for a parcel that then fails to store is given back at the next reload.
    pub async fn admit(
        self: &Arc<Self>,
        metadata: &Arc<dyn MetadataStore>,
        pg_id: &str,
        size: u64,
        now: DateTime<Utc>,
    ) -> Result<(), QuotaError> {
        if self.unlimited() {
            return Ok(());
        }
        if !self.lock().contains_key(pg_id) {
            let totals = self.load(&**metadata, pg_id, now).await?;
            let mut tracked = self.lock();
            if tracked.len() >= MAX_TRACKED {
                tracked.clear();
            }
            tracked.entry(pg_id.to_owned()).or_insert(Tracked {
                totals,
                loaded: Instant::now(),
                refreshing: false,
            });
        }
        let mut tracked = self.lock();
        let Some(entry) = tracked.get_mut(pg_id) else {
            // Cleared by another request in between: admit this one, the next reloads.
            return Ok(());
        };
        if entry.loaded.elapsed() >= REFRESH && !entry.refreshing {
            entry.refreshing = true;
            self.reload_in_background(metadata.clone(), pg_id.to_owned(), now);
        }
        let parcels = entry.totals.parcels.saturating_add(1);
        let bytes = entry.totals.bytes.saturating_add(size);
        let over = if self.max_parcels != 0 && parcels > self.max_parcels {
            Some(match self.counted {
                Counted::Stored => Quota::Parcels,
                Counted::InternetBound => Quota::InternetBound,
            })
        } else if self.max_bytes != 0 && bytes > self.max_bytes {
            Some(Quota::Bytes)
        } else {
            None
        };
        if let Some(quota) = over {
            return Err(QuotaError::Exceeded {
                pg_id: pg_id.to_owned(),
                quota,
            });
        }
        entry.totals = StoredTotals { parcels, bytes };
        Ok(())
    }

    fn reload_in_background(
        self: &Arc<Self>,
        metadata: Arc<dyn MetadataStore>,
        pg_id: String,
        now: DateTime<Utc>,
    ) {
        let quotas = self.clone();
        tokio::spawn(async move {
            let reloaded = quotas.load(&*metadata, &pg_id, now).await;
            let mut tracked = quotas.lock();
            let Some(entry) = tracked.get_mut(&pg_id) else {
                return;
            };
            entry.refreshing = false;
            match reloaded {
                Ok(totals) => {
                    entry.totals = totals;
                    entry.loaded = Instant::now();
                }
                Err(error) => {
                    tracing::warn!(%error, "could not reload a storage quota; keeping the running total");
                }
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tracked>> {
        self.tracked.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
#[path = "peer_quotas_tests.rs"]
mod tests;
