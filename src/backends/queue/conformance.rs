//! The behaviour every [`DurableQueue`] must show, as async checks generic over a harness.
//!
//! An implementation runs the whole suite with
//! `queue_conformance!(async { MyHarness::new().await })`; each check gets fresh, empty storage.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::{DurableQueue, OverloadMode, QueueLimits, QueueMessage, QueueName, QueueSettings};
use crate::backends::error::BackendErrorKind;

const Q: QueueName = QueueName::OutboundParcels;
const LEASE: Duration = Duration::from_secs(30);

/// What the suite needs from an implementation under test.
#[async_trait]
pub trait QueueHarness: Send + Sync {
    /// Opens the queue on this harness's storage; a second call reopens the same storage, as a
    /// restarted process would.
    async fn open(&self, settings: QueueSettings) -> Arc<dyn DurableQueue>;
    /// Lets `by` pass for leases and retry delays (a manual clock, or a real sleep).
    async fn advance(&self, by: Duration);
    /// The harness's idea of now, to build `not_before` values.
    fn now(&self) -> DateTime<Utc>;
}

fn message(body: &'static str) -> QueueMessage {
    QueueMessage::new(Bytes::from_static(body.as_bytes())).with_attribute("k", body)
}

fn limits(capacity: u64, overload: OverloadMode) -> QueueSettings {
    QueueSettings::uniform(QueueLimits {
        capacity,
        overload,
        block_timeout: Duration::from_millis(200),
        dead_letter_capacity: 2,
        ..QueueLimits::default()
    })
}

async fn bodies(queue: &dyn DurableQueue, max: usize) -> Vec<Bytes> {
    let deliveries = queue.receive(Q, max, LEASE).await.expect("receive");
    deliveries.into_iter().map(|d| d.body).collect()
}

/// Messages come out in publish order, with attributes intact; `not_before` delays a message.
pub async fn fifo_order_and_not_before(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    let mut delayed = message("later");
    delayed.not_before = Some(harness.now() + chrono::Duration::seconds(60));
    queue.publish(Q, delayed).await.expect("publish");
    for body in ["a", "b", "c"] {
        queue.publish(Q, message(body)).await.expect("publish");
    }
    let first = queue.receive(Q, 1, LEASE).await.expect("receive");
    assert_eq!(first[0].body, "a");
    assert_eq!(first[0].attributes.get("k").map(String::as_str), Some("a"));
    assert_eq!(first[0].attempts, 1);
    let rest = queue.receive(Q, 10, LEASE).await.expect("receive");
    let rest_bodies: Vec<_> = rest.iter().map(|d| d.body.clone()).collect();
    assert_eq!(rest_bodies, vec!["b", "c"]);
    for delivery in first.iter().chain(&rest) {
        queue.ack(&delivery.id).await.expect("ack");
    }
    assert!(queue
        .receive(QueueName::IncomingCargo, 10, LEASE)
        .await
        .expect("receive")
        .is_empty());
    harness.advance(Duration::from_secs(61)).await;
    assert_eq!(bodies(&*queue, 10).await, vec!["later"]);
}

/// An acked message is gone; a stale or repeated ack is a conflict.
pub async fn ack_removes(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    queue.publish(Q, message("a")).await.expect("publish");
    assert_eq!(queue.depth(Q).await.expect("depth"), 1);
    let delivery = queue.receive(Q, 1, LEASE).await.expect("receive").remove(0);
    queue.ack(&delivery.id).await.expect("ack");
    assert_eq!(queue.depth(Q).await.expect("depth"), 0);
    let again = queue.ack(&delivery.id).await.expect_err("second ack");
    assert_eq!(again.kind, BackendErrorKind::Conflict);
    harness.advance(LEASE * 2).await;
    assert!(bodies(&*queue, 10).await.is_empty());
}

/// A leased message is invisible until its lease expires, then comes back with attempts + 1;
/// the first lease is then stale. Extending a lease keeps it invisible.
pub async fn lease_expiry_redelivers(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    queue.publish(Q, message("a")).await.expect("publish");
    queue.publish(Q, message("b")).await.expect("publish");
    let first = queue.receive(Q, 1, LEASE).await.expect("receive").remove(0);
    let b = queue.receive(Q, 1, LEASE).await.expect("receive").remove(0);
    assert_eq!(b.body, "b");
    harness.advance(LEASE / 2).await;
    queue.extend_lease(&b.id, LEASE).await.expect("extend");
    assert!(bodies(&*queue, 10).await.is_empty());
    harness.advance(LEASE / 2 + Duration::from_secs(1)).await;
    let again = queue.receive(Q, 10, LEASE).await.expect("receive");
    assert_eq!(again.len(), 1, "only the unextended lease expired");
    assert_eq!(again[0].body, "a");
    assert_eq!(again[0].attempts, 2);
    let stale = queue.ack(&first.id).await.expect_err("stale ack");
    assert_eq!(stale.kind, BackendErrorKind::Conflict);
    queue.ack(&again[0].id).await.expect("ack");
    queue.ack(&b.id).await.expect("ack extended");
    assert_eq!(queue.depth(Q).await.expect("depth"), 0);
}

/// A nacked message comes back after the retry delay, not before, with attempts + 1.
pub async fn nack_redelivers_later(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    queue.publish(Q, message("a")).await.expect("publish");
    let delivery = queue.receive(Q, 1, LEASE).await.expect("receive").remove(0);
    queue
        .nack(&delivery.id, Duration::from_secs(10))
        .await
        .expect("nack");
    assert!(bodies(&*queue, 10).await.is_empty());
    harness.advance(Duration::from_secs(11)).await;
    let again = queue.receive(Q, 1, LEASE).await.expect("receive");
    assert_eq!(again[0].body, "a");
    assert_eq!(again[0].attempts, 2);
    queue
        .nack(&again[0].id, Duration::ZERO)
        .await
        .expect("nack");
    let third = queue.receive(Q, 1, LEASE).await.expect("receive");
    assert_eq!(third[0].attempts, 3);
}

/// A dead-lettered message is never redelivered, is inspectable, and the store is bounded.
pub async fn dead_letters_are_kept_and_bounded(harness: &dyn QueueHarness) {
    let queue = harness.open(limits(10, OverloadMode::RejectNewest)).await;
    for body in ["a", "b", "c"] {
        queue.publish(Q, message(body)).await.expect("publish");
    }
    let deliveries = queue.receive(Q, 3, LEASE).await.expect("receive");
    queue
        .dead_letter(&deliveries[0].id, "unparseable")
        .await
        .expect("dead letter");
    queue
        .dead_letter(&deliveries[1].id, "refused")
        .await
        .expect("dead letter");
    let full = queue
        .dead_letter(&deliveries[2].id, "third")
        .await
        .expect_err("dead-letter store full");
    assert_eq!(full.kind, BackendErrorKind::Unavailable);
    assert_eq!(queue.depth(Q).await.expect("depth"), 1);
    harness.advance(LEASE * 2).await;
    assert_eq!(bodies(&*queue, 10).await, vec!["c"]);
    let dead = queue.dead_letters(Q, 10).await.expect("dead letters");
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0].body, "a");
    assert_eq!(dead[0].reason, "unparseable");
    assert_eq!(dead[0].attempts, 1);
    assert_eq!(dead[1].attributes.get("k").map(String::as_str), Some("b"));
    assert!(queue
        .dead_letters(QueueName::IncomingCargo, 10)
        .await
        .expect("dead letters")
        .is_empty());
}

/// A full queue in reject mode refuses at once with `Unavailable`; other queues are unaffected.
pub async fn capacity_reject_newest(harness: &dyn QueueHarness) {
    let queue = harness.open(limits(2, OverloadMode::RejectNewest)).await;
    queue.publish(Q, message("a")).await.expect("publish");
    queue.publish(Q, message("b")).await.expect("publish");
    let error = queue.publish(Q, message("c")).await.expect_err("full");
    assert_eq!(error.kind, BackendErrorKind::Unavailable);
    queue
        .publish(QueueName::IncomingCargo, message("other"))
        .await
        .expect("other queue has room");
    // Leased messages still take room; acking frees it.
    let delivery = queue.receive(Q, 1, LEASE).await.expect("receive").remove(0);
    assert!(queue.publish(Q, message("c")).await.is_err());
    queue.ack(&delivery.id).await.expect("ack");
    queue.publish(Q, message("c")).await.expect("room again");
    assert_eq!(queue.depth(Q).await.expect("depth"), 2);
}

/// A full queue in block mode waits for room, and gives up with `Unavailable` after its bound.
pub async fn capacity_block(harness: &dyn QueueHarness) {
    let queue = harness.open(limits(1, OverloadMode::Block)).await;
    queue.publish(Q, message("a")).await.expect("publish");
    let error = queue.publish(Q, message("b")).await.expect_err("full");
    assert_eq!(error.kind, BackendErrorKind::Unavailable);
    let delivery = queue.receive(Q, 1, LEASE).await.expect("receive").remove(0);
    let waiting = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.publish(Q, message("b")).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    queue.ack(&delivery.id).await.expect("ack");
    waiting
        .await
        .expect("publisher task")
        .expect("publish after room was made");
    assert_eq!(bodies(&*queue, 10).await, vec!["b"]);
}

/// Published messages, leases and dead letters survive closing and reopening the storage.
pub async fn survives_reopen(harness: &dyn QueueHarness) {
    {
        let queue = harness.open(QueueSettings::default()).await;
        queue.publish(Q, message("a")).await.expect("publish");
        queue.publish(Q, message("b")).await.expect("publish");
        let leased = queue.receive(Q, 1, LEASE).await.expect("receive").remove(0);
        assert_eq!(leased.body, "a");
        queue.health_check().await.expect("healthy");
    }
    let queue = harness.open(QueueSettings::default()).await;
    assert_eq!(queue.depth(Q).await.expect("depth"), 2);
    assert_eq!(
        bodies(&*queue, 10).await,
        vec!["b"],
        "the lease survived too"
    );
    harness.advance(LEASE * 2).await;
    let again = queue.receive(Q, 10, LEASE).await.expect("receive");
    assert_eq!(again.len(), 2);
    assert_eq!(again[0].body, "a");
    assert_eq!(again[0].attempts, 2);
}

/// Runs every queue check as its own `#[tokio::test]`; `$harness` is an expression evaluating to
/// a future of a fresh harness (implementing [`QueueHarness`]).
#[macro_export]
macro_rules! queue_conformance {
    ($harness:expr) => {
        $crate::queue_conformance!(@tests $harness;
            fifo_order_and_not_before, ack_removes, lease_expiry_redelivers,
            nack_redelivers_later, dead_letters_are_kept_and_bounded, capacity_reject_newest,
            capacity_block, survives_reopen);
    };
    (@tests $harness:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let harness = $harness.await;
                $crate::backends::queue::conformance::$name(&harness).await;
            }
        )*
    };
}
