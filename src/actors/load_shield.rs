//! The edge's load shield (house style, practice 7): a bounded number of requests are worked on
//! at once per binding; past that, requests are shed at once with `503` and `Retry-After` (HTTP)
//! or `UNAVAILABLE` (CogRPC calls), which every client treats as "retry later", instead of
//! queueing without bound in front of the storage layer.
//!
//! A permit is taken only once a request is known (HTTP: its head parsed; CogRPC: its call
//! started) and held until it is answered (CogRPC: until its response stream ends), so slow
//! senders are bounded by the bindings' own deadlines, not by the shield.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds clients are asked to wait before retrying a shed request.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Admission control for one binding's requests. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LoadShield {
    permits: Arc<Semaphore>,
}

impl LoadShield {
    pub fn new(max_in_flight: usize) -> Self {
        LoadShield {
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
        }
    }

    /// A permit held for the whole request, or `None` when the binding is saturated.
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheds_past_capacity_and_recovers() {
        let shield = LoadShield::new(2);
        let first = shield.try_enter().expect("first");
        let _second = shield.try_enter().expect("second");
        assert!(shield.try_enter().is_none(), "third is shed");
        drop(first);
        assert!(
            shield.try_enter().is_some(),
            "a finished request frees its place"
        );
    }

    #[test]
    fn zero_capacity_still_admits_one() {
        assert!(LoadShield::new(0).try_enter().is_some());
    }
}
