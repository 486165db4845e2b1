//! One delivered parcel, from its delivery to its final word with the mailbox.
//!
//! The mailbox hears about a parcel only once its outcome is settled: `ack` when it was
//! delivered, refused by the recipient (4xx) or by the egress policy, or has expired; `retry(backoff)` when it must be
//! retried; `dead_letter` when it can never be delivered (a malformed address: a bug or a foreign
//! producer, kept for operators rather than dropped).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::delivery::{AttemptOutcome, PohttpClient, RetryCause};
use super::egress::{EgressRefusal, SpecialRange};
use super::resolver::{PohttpResolver, ResolveError};
use super::OutboundSettings;
use crate::actors::mailbox::OutboundParcel;
use crate::backends::clock::Clock;
use crate::backends::metadata::MetadataStore;
use crate::backends::queue::{DeliveryId, DurableQueue};
use crate::backends::BackendErrorKind;
use crate::supervision::faults::{FaultPoint, Faults};
use crate::telemetry::{DeliveryOutcome, Metrics};

/// The `stage` label of this worker's errors.
pub const STAGE: &str = "outbound_delivery";

/// Everything a delivery needs, shared by the dispatcher and every destination actor.
pub struct Engine {
    pub queue: Arc<dyn DurableQueue>,
    pub resolver: PohttpResolver,
    pub client: PohttpClient,
    pub metrics: Metrics,
    pub settings: OutboundSettings,
    pub clock: Arc<dyn Clock>,
    pub faults: Arc<Faults>,
    /// See [`super::worker::OutboundShared::settlements`].
    pub settlements: Option<Arc<dyn MetadataStore>>,
}

/// A counted share of a bounded resource; the count goes down when the [`Slot`] is dropped, so
/// a job lost with a crashed actor still frees its room.
#[derive(Debug, Clone)]
pub struct Slots {
    used: Arc<AtomicUsize>,
    limit: usize,
}

/// One taken slot.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Slots {
    pub fn new(limit: usize) -> Self {
        Slots {
            used: Arc::default(),
            limit,
        }
    }

    pub fn free(&self) -> usize {
        self.limit.saturating_sub(self.used.load(Ordering::Acquire))
    }

    pub fn try_take(&self) -> Option<Slot> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < self.limit).then_some(used + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(&self.used)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A delivered parcel and the room it occupies in the worker and at its destination.
#[derive(Debug)]
pub struct Job {
    pub id: DeliveryId,
    /// Deliveries of this message so far, this one included.
    pub attempts: u32,
    pub parcel: OutboundParcel,
    pub slots: Vec<Slot>,
    guard: SettleGuard,
}

impl Job {
    pub fn new(
        id: DeliveryId,
        attempts: u32,
        parcel: OutboundParcel,
        slots: Vec<Slot>,
        queue: &Arc<dyn DurableQueue>,
    ) -> Self {
        let guard = SettleGuard {
            queue_opt: Some(Arc::clone(queue)),
            id: id.clone(),
        };
        Job {
            id,
            attempts,
            parcel,
            slots,
            guard,
        }
    }

    /// The job's outcome reached the mailbox (or failed to): the guard has nothing to do.
    fn settled(mut self) {
        self.guard.queue_opt = None;
    }
}

/// Gives a job's parcel back to the mailbox when the job is dropped unsettled (with a crashed
/// destination actor, or a send that failed): a push consumer holds its deliveries until they
/// are settled, so nothing else would.
pub struct SettleGuard {
    queue_opt: Option<Arc<dyn DurableQueue>>,
    id: DeliveryId,
}

impl Drop for SettleGuard {
    fn drop(&mut self) {
        let Some(queue) = self.queue_opt.take() else {
            return;
        };
        // No runtime means the process is stopping: its consumer goes too, and with it the
        // delivery.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let id = self.id.clone();
            runtime.spawn(async move {
                if let Err(error) = queue.retry(&id, Duration::ZERO).await {
                    tracing::debug!(%error, "a dropped job's parcel was not given back");
                }
            });
        }
    }
}

impl std::fmt::Debug for SettleGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettleGuard")
            .field("armed", &self.queue_opt.is_some())
            .finish()
    }
}

/// What became of one job (for tests and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Delivered,
    Refused {
        status: u16,
    },
    /// The destination is not one the gateway may connect to.
    EgressRefused {
        range: SpecialRange,
    },
    Retrying {
        after: Duration,
    },
    Expired,
    DeadLettered,
    /// The delivery is no longer ours (another consumer has the parcel): nothing to do.
    LeaseLost,
}

impl Engine {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Whether the parcel's expiry has passed.
    pub fn is_expired(&self, parcel: &OutboundParcel) -> bool {
        parcel.expiry < self.now()
    }

    /// Runs one attempt for a job and settles it with the mailbox.
    pub async fn run(&self, job: Job) -> Settled {
        // Destination actors run this inside their panic boundary; a fault here loses the job
        // with the actor, and its lease brings the parcel back.
        self.faults.check(FaultPoint::OutboundAttempt);
        let span = tracing::info_span!(
            "outbound_delivery",
            parcel_id = %job.parcel.parcel_id,
            recipient = %job.parcel.recipient_address,
            attempts = job.attempts,
        );
        let settled = tracing::Instrument::instrument(self.attempt(&job), span).await;
        self.release_quota(&job.parcel, &settled).await;
        job.settled();
        settled
    }

    /// A parcel that left the mailbox for good stops counting against its private gateway's
    /// Internet-bound quota. Best effort: a failure leaves it counted until it expires.
    async fn release_quota(&self, parcel: &OutboundParcel, settled: &Settled) {
        let done = matches!(
            settled,
            Settled::Delivered
                | Settled::Refused { .. }
                | Settled::EgressRefused { .. }
                | Settled::Expired
                | Settled::DeadLettered
        );
        let (Some(store), Some(collection), true) = (&self.settlements, parcel.collection(), done)
        else {
            return;
        };
        if let Err(error) = store.settle_internet_bound(&collection).await {
            tracing::warn!(%error, parcel_id = %parcel.parcel_id, "could not release a parcel from its gateway's internet-bound quota");
        }
    }

    async fn attempt(&self, job: &Job) -> Settled {
        if self.is_expired(&job.parcel) {
            return self.drop_expired(&job.id, &job.parcel).await;
        }
        let outcome = match self.resolver.resolve(&job.parcel.recipient_address).await {
            Ok(target) => self.client.attempt(&target, &job.parcel.parcel).await,
            Err(ResolveError::Egress(refusal)) => AttemptOutcome::Forbidden(refusal),
            Err(error) if error.is_permanent() => {
                return self
                    .dead_letter(&job.id, &job.parcel, &error.to_string())
                    .await;
            }
            Err(error) => AttemptOutcome::Retry(RetryCause::Resolve(error.to_string())),
        };
        self.settle(job, outcome).await
    }

    async fn settle(&self, job: &Job, outcome: AttemptOutcome) -> Settled {
        let parcel = &job.parcel;
        match outcome {
            AttemptOutcome::Delivered { status } => {
                tracing::info!(parcel_id = %parcel.parcel_id, recipient = %parcel.recipient_address, status, "parcel delivered");
                self.metrics
                    .record_parcel_delivery(DeliveryOutcome::Delivered);
                self.ack(&job.id, Settled::Delivered).await
            }
            AttemptOutcome::Rejected { status } => {
                tracing::info!(parcel_id = %parcel.parcel_id, recipient = %parcel.recipient_address, status, "parcel refused by its recipient; dropping it");
                self.metrics
                    .record_parcel_delivery(DeliveryOutcome::Refused);
                self.ack(&job.id, Settled::Refused { status }).await
            }
            AttemptOutcome::Forbidden(refusal) => self.refuse(&job.id, parcel, refusal).await,
            AttemptOutcome::Retry(cause) => {
                let after = self.settings.retry_delay(job.attempts);
                let next = chrono::Duration::from_std(after)
                    .ok()
                    .and_then(|delay| self.now().checked_add_signed(delay));
                if next.is_none_or(|next| next > parcel.expiry) {
                    tracing::info!(parcel_id = %parcel.parcel_id, recipient = %parcel.recipient_address, reason = cause.name(), error = %cause, "delivery failed and the parcel expires before the next attempt; dropping it");
                    return self.drop_expired(&job.id, parcel).await;
                }
                tracing::info!(parcel_id = %parcel.parcel_id, recipient = %parcel.recipient_address, attempts = job.attempts, reason = cause.name(), error = %cause, ?after, "delivery failed; will retry");
                self.metrics.record_parcel_delivery(DeliveryOutcome::Retry);
                self.metrics.record_error(cause.name(), STAGE);
                self.nack(&job.id, after, Settled::Retrying { after }).await
            }
        }
    }

    /// Drops a parcel the egress policy refuses: it would be refused again at every attempt.
    async fn refuse(
        &self,
        id: &DeliveryId,
        parcel: &OutboundParcel,
        refusal: EgressRefusal,
    ) -> Settled {
        // A warning: either a misconfigured recipient or someone probing our network.
        tracing::warn!(parcel_id = %parcel.parcel_id, recipient = %parcel.recipient_address, destination = %refusal.host, address = %refusal.address, reason = refusal.range.name(), "egress policy refused the destination; dropping the parcel");
        self.metrics.record_egress_refused(refusal.range.name());
        self.metrics
            .record_parcel_delivery(DeliveryOutcome::Refused);
        let range = refusal.range;
        self.ack(id, Settled::EgressRefused { range }).await
    }

    /// Settles a parcel whose address names no destination: refused when it is a non-public IP
    /// literal such as `[::1]` (so operators count it with the other refusals), else
    /// dead-lettered.
    pub async fn undeliverable(
        &self,
        id: &DeliveryId,
        parcel: &OutboundParcel,
        error: &ResolveError,
    ) -> Settled {
        let settled = match self.resolver.check_literal(&parcel.recipient_address) {
            Err(refusal) => self.refuse(id, parcel, refusal).await,
            Ok(()) => self.dead_letter(id, parcel, &error.to_string()).await,
        };
        self.release_quota(parcel, &settled).await;
        settled
    }

    /// Acks an expired parcel without attempting it.
    pub async fn drop_expired(&self, id: &DeliveryId, parcel: &OutboundParcel) -> Settled {
        tracing::info!(parcel_id = %parcel.parcel_id, recipient = %parcel.recipient_address, expiry = %parcel.expiry, "ignoring expired parcel");
        self.metrics
            .record_parcel_delivery(DeliveryOutcome::Expired);
        self.ack(id, Settled::Expired).await
    }

    /// Moves a message that can never be delivered to the dead letters.
    pub async fn dead_letter(
        &self,
        id: &DeliveryId,
        parcel: &OutboundParcel,
        reason: &str,
    ) -> Settled {
        tracing::warn!(parcel_id = %parcel.parcel_id, recipient = %parcel.recipient_address, reason, "undeliverable parcel; moving it to the dead letters");
        self.dead_letter_id(id, reason).await
    }

    /// Dead-letters a message by id (also for messages that do not even decode).
    pub async fn dead_letter_id(&self, id: &DeliveryId, reason: &str) -> Settled {
        self.metrics.record_error("undeliverable", STAGE);
        match self.queue.dead_letter(id, reason).await {
            Ok(()) => {
                self.metrics
                    .record_parcel_delivery(DeliveryOutcome::DeadLettered);
                Settled::DeadLettered
            }
            Err(error) => self.queue_failure("dead_letter", error),
        }
    }

    /// Gives a parcel back to the mailbox without counting it as a failed attempt of ours
    /// (busy destination, shutdown).
    pub async fn release(&self, id: &DeliveryId, after: Duration) -> Settled {
        self.nack(id, after, Settled::Retrying { after }).await
    }

    /// [`release`](Self::release) for a job, whose guard then stands down.
    pub async fn release_job(&self, job: Job, after: Duration) -> Settled {
        let settled = self.release(&job.id, after).await;
        job.settled();
        settled
    }

    async fn ack(&self, id: &DeliveryId, settled: Settled) -> Settled {
        match self.queue.ack(id).await {
            Ok(()) => settled,
            Err(error) => self.queue_failure("ack", error),
        }
    }

    async fn nack(&self, id: &DeliveryId, after: Duration, settled: Settled) -> Settled {
        match self.queue.retry(id, after).await {
            Ok(()) => settled,
            Err(error) => self.queue_failure("nack", error),
        }
    }

    /// A failed settle leaves the message with the consumer: it comes back when the consumer or
    /// its connection goes, so nothing is lost (the recipient may see it twice, which PoHTTP
    /// allows).
    fn queue_failure(
        &self,
        operation: &'static str,
        error: crate::backends::BackendError,
    ) -> Settled {
        if error.kind() == BackendErrorKind::Conflict {
            return Settled::LeaseLost;
        }
        tracing::warn!(operation, error = %error, "mailbox operation failed; the parcel comes back with its consumer");
        self.metrics.record_error("queue", STAGE);
        Settled::LeaseLost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_freed_on_drop() {
        let slots = Slots::new(2);
        let first = slots.try_take();
        let second = slots.try_take();
        assert!(first.is_some() && second.is_some());
        assert!(slots.try_take().is_none());
        assert_eq!(slots.free(), 0);
        drop(first);
        assert_eq!(slots.free(), 1);
        assert!(slots.try_take().is_some());
    }
}
