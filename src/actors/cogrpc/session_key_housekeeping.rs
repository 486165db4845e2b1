//! Deleting our session private keys once no peer can use them any more (DESIGN §6).
//!
//! Every cargo we build leaves one key behind, bound to its private gateway. A gateway encrypts
//! to the last key it accepted, which may be old (it only replaces keys from newer messages, and
//! our cargo is back-dated 3 h), but no message naming a key can outlive the longest RAMF TTL,
//! 180 days. So keys older than that go, except the newest of each (owner, peer) pair, which the
//! store always keeps, the unbound key of the connection parameters included.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::actors::gateway::GatewayContext;
use crate::backends::BackendError;
use crate::protocols::awala::limits::MAX_TTL_SECONDS;

/// How often old keys are looked for.
pub const HOUSEKEEPING_PERIOD: Duration = Duration::from_secs(60 * 60);
/// Metric `stage` label of this job.
const STAGE: &str = "session_key_housekeeping";

/// Deletes the session keys no message could still name at `now`; returns how many.
pub async fn delete_unusable_session_keys(
    context: &GatewayContext,
    now: DateTime<Utc>,
) -> Result<u64, BackendError> {
    let cutoff = now - chrono::Duration::seconds(i64::from(MAX_TTL_SECONDS));
    context
        .backends
        .metadata
        .delete_session_keys_older_than(cutoff)
        .await
}

/// Runs [`delete_unusable_session_keys`] now and then every [`HOUSEKEEPING_PERIOD`], until the
/// returned task is aborted. A failed run is logged and counted; the next one retries.
pub fn spawn_housekeeping(context: Arc<GatewayContext>) -> JoinHandle<()> {
    spawn_housekeeping_every(context, HOUSEKEEPING_PERIOD)
}

fn spawn_housekeeping_every(context: Arc<GatewayContext>, period: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let run_context = context.clone();
            // Its own task: a panic in one run must not end the schedule.
            let run = tokio::spawn(async move {
                delete_unusable_session_keys(&run_context, Utc::now()).await
            });
            match run.await {
                Ok(Ok(0)) => {}
                Ok(Ok(deleted)) => tracing::info!(deleted, "deleted old session keys"),
                Ok(Err(error)) => {
                    context.metrics.record_error(error_type(&error), STAGE);
                    tracing::warn!(%error, "could not delete old session keys");
                }
                Err(join) => {
                    context.metrics.record_error("internal", STAGE);
                    tracing::error!(error = %join, "session key housekeeping failed");
                }
            }
        }
    })
}

fn error_type(error: &BackendError) -> &'static str {
    if error.kind.is_retryable() {
        "unavailable"
    } else {
        "internal"
    }
}

#[cfg(test)]
#[path = "session_key_housekeeping_tests.rs"]
mod tests;
