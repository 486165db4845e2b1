//! Deleting our session private keys once no peer can use them any more (DESIGN §6).
//!
//! Every cargo we build leaves one key behind, bound to its private gateway. A gateway encrypts
//! to the last key it accepted, which may be old (it only replaces keys from newer messages, and
//! our cargo is back-dated 3 h), but no message naming a key can outlive the longest RAMF TTL,
//! 180 days. So keys older than that go, except the newest of each (owner, peer) pair, which the
//! store always keeps, the unbound key of the connection parameters included. The
//! [`housekeeper`](crate::actors::housekeeping) runs this with its other deletions.

use chrono::{DateTime, Utc};

use crate::actors::gateway::GatewayContext;
use crate::backends::BackendError;
use crate::protocols::awala::limits::MAX_TTL_SECONDS;

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

#[cfg(test)]
#[path = "session_key_housekeeping_tests.rs"]
mod tests;
