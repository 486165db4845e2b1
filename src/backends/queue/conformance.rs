//! The behaviour every [`DurableQueue`] must show, as async checks generic over a harness.
//!
//! An implementation runs the whole suite with
//! `queue_conformance!(async { MyHarness::new().await })`, or with
//! `queue_conformance!(optional: async { … Option<MyHarness> })` for an engine that may be absent;
//! each check gets fresh, empty storage.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::{
    Consumer, Delivery, DurableQueue, OverloadMode, QueueLimits, QueueMessage, QueueName,
    QueueSettings,
};
use crate::backends::error::BackendErrorKind;

const Q: QueueName = QueueName::OutboundParcels;
/// Longest wait for a delivery that should come.
const ARRIVAL: Duration = Duration::from_secs(10);
/// How long a delivery that should not come is waited for.
const QUIET: Duration = Duration::from_millis(400);

/// What the suite needs from an implementation under test.
#[async_trait]
pub trait QueueHarness: Send + Sync {
    /// Opens the queue on this harness's storage; a second call reopens the same storage, as a
    /// restarted process would.
    async fn open(&self, settings: QueueSettings) -> Arc<dyn DurableQueue>;
    /// Lets `by` pass for retry delays (a manual clock, or a real sleep).
    async fn advance(&self, by: Duration);
    /// Publishes a full queue may still take past its capacity (brokers whose length limits are
    /// approximate); 0 where the limit is exact.
    fn capacity_slack(&self) -> u64 {
        0
    }
}

fn message(body: &'static str) -> QueueMessage {
    QueueMessage::new(Bytes::from_static(body.as_bytes())).with_attribute("k", body)
}

fn limits(capacity: u64, overload: OverloadMode) -> QueueSettings {
    QueueSettings::uniform(QueueLimits {
        capacity,
        overload,
        block_timeout: Duration::from_millis(300),
        dead_letter_capacity: 2,
        ..QueueLimits::default()
    })
}

/// The next `n` deliveries, failing the check if they do not come in time.
pub async fn take(consumer: &mut Consumer, n: usize) -> Vec<Delivery> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match tokio::time::timeout(ARRIVAL, consumer.next()).await {
            Ok(Some(Ok(delivery))) => out.push(delivery),
            Ok(Some(Err(error))) => panic!("consumer failed: {error}"),
            Ok(None) => panic!("consumer ended after {} of {n}", out.len()),
            Err(_) => panic!("only {} of {n} deliveries arrived", out.len()),
        }
    }
    out
}

/// Fails the check if a delivery arrives within [`QUIET`].
pub async fn nothing_within_quiet(consumer: &mut Consumer) {
    if let Ok(Some(item)) = tokio::time::timeout(QUIET, consumer.next()).await {
        panic!("unexpected delivery: {:?}", item.map(|d| d.body));
    }
}

/// What `queue` holds ready, up to `max`: consumes until nothing more arrives for a moment (for
/// tests that look at what producers queued). The deliveries go back when this returns.
pub async fn take_waiting(
    queue: &dyn DurableQueue,
    name: QueueName,
    max: usize,
) -> Result<Vec<Delivery>, crate::backends::BackendError> {
    let mut consumer = queue.consume(name, max).await?;
    let mut out = Vec::new();
    while out.len() < max {
        match tokio::time::timeout(QUIET, consumer.next()).await {
            Ok(Some(delivery)) => out.push(delivery?),
            Ok(None) | Err(_) => break,
        }
    }
    Ok(out)
}

fn bodies(deliveries: &[Delivery]) -> Vec<Bytes> {
    deliveries.iter().map(|d| d.body.clone()).collect()
}

/// Messages come out in publish order, with attributes intact, each delivered once.
pub async fn fifo_with_attributes(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    for body in ["a", "b", "c"] {
        queue.publish(Q, message(body)).await.expect("publish");
    }
    let mut consumer = queue.consume(Q, 10).await.expect("consume");
    let got = take(&mut consumer, 3).await;
    assert_eq!(bodies(&got), vec!["a", "b", "c"]);
    assert_eq!(got[0].attributes.get("k").map(String::as_str), Some("a"));
    assert!(got.iter().all(|d| d.attempts == 1), "{got:?}");
    for delivery in &got {
        queue.ack(&delivery.id).await.expect("ack");
    }
    nothing_within_quiet(&mut consumer).await;
    let mut other = queue
        .consume(QueueName::IncomingCargo, 10)
        .await
        .expect("consume");
    nothing_within_quiet(&mut other).await;
}

/// An acked message is gone for good; acking it again is a conflict, not a success.
pub async fn ack_removes(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    queue.publish(Q, message("a")).await.expect("publish");
    let mut consumer = queue.consume(Q, 1).await.expect("consume");
    let delivery = take(&mut consumer, 1).await.remove(0);
    queue.ack(&delivery.id).await.expect("ack");
    assert_eq!(queue.depth(Q).await.expect("depth"), 0);
    let again = queue.ack(&delivery.id).await.expect_err("second ack");
    assert_eq!(again.kind, BackendErrorKind::Conflict);
    drop(consumer);
    let mut consumer = queue.consume(Q, 1).await.expect("consume");
    nothing_within_quiet(&mut consumer).await;
}

/// A consumer never holds more than its prefetch; settling one lets the next in.
pub async fn prefetch_bounds_unsettled(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    for body in ["a", "b", "c"] {
        queue.publish(Q, message(body)).await.expect("publish");
    }
    let mut consumer = queue.consume(Q, 2).await.expect("consume");
    let first = take(&mut consumer, 2).await;
    nothing_within_quiet(&mut consumer).await;
    queue.ack(&first[0].id).await.expect("ack");
    let third = take(&mut consumer, 1).await;
    assert_eq!(third[0].body, "c");
}

/// A retried message comes back after its delay, not before, with attempts + 1.
pub async fn retry_redelivers_later(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    queue.publish(Q, message("a")).await.expect("publish");
    let mut consumer = queue.consume(Q, 1).await.expect("consume");
    let delivery = take(&mut consumer, 1).await.remove(0);
    queue
        .retry(&delivery.id, Duration::from_secs(1))
        .await
        .expect("retry");
    nothing_within_quiet(&mut consumer).await;
    harness.advance(Duration::from_millis(1_100)).await;
    let again = take(&mut consumer, 1).await.remove(0);
    assert_eq!(again.body, "a");
    assert_eq!(again.attributes.get("k").map(String::as_str), Some("a"));
    assert_eq!(again.attempts, 2);
    queue.retry(&again.id, Duration::ZERO).await.expect("retry");
    let third = take(&mut consumer, 1).await.remove(0);
    assert_eq!(third.attempts, 3);
    queue.ack(&third.id).await.expect("ack");
}

/// A dead-lettered message is never redelivered and is kept with its reason; the dead letters
/// are bounded, and a refused dead-letter leaves the message with its consumer.
pub async fn dead_letters_are_kept_and_bounded(harness: &dyn QueueHarness) {
    let queue = harness.open(limits(10, OverloadMode::RejectNewest)).await;
    let slack = harness.capacity_slack();
    let total = 3 + usize::try_from(slack).unwrap_or(0);
    for i in 0..total {
        queue
            .publish(Q, message(["a", "b", "c", "d", "e", "f"][i % 6]))
            .await
            .expect("publish");
    }
    let mut consumer = queue.consume(Q, 10).await.expect("consume");
    let got = take(&mut consumer, total).await;
    queue
        .dead_letter(&got[0].id, "unparseable")
        .await
        .expect("dead letter");
    queue
        .dead_letter(&got[1].id, "refused")
        .await
        .expect("dead letter");
    let mut refused = None;
    for delivery in &got[2..] {
        if let Err(error) = queue.dead_letter(&delivery.id, "more").await {
            refused = Some((error, delivery.clone()));
            break;
        }
    }
    let (error, kept) = refused.expect("the dead letters are bounded");
    assert_eq!(error.kind, BackendErrorKind::Unavailable);
    queue
        .ack(&kept.id)
        .await
        .expect("a refused dead-letter keeps the message");
    harness.advance(Duration::from_secs(2)).await;
    let dead = queue.dead_letters(Q, 10).await.expect("dead letters");
    assert!(dead.len() >= 2, "{dead:?}");
    assert_eq!(dead[0].body, "a");
    assert_eq!(dead[0].reason, "unparseable");
    assert_eq!(dead[0].attempts, 1);
    assert_eq!(dead[1].attributes.get("k").map(String::as_str), Some("b"));
    assert!(queue
        .dead_letters(QueueName::IncomingCargo, 10)
        .await
        .expect("dead letters")
        .is_empty());
    drop(consumer);
    let mut consumer = queue.consume(Q, 10).await.expect("consume");
    // Nothing dead-lettered or acked comes back; the unsettled rest may.
    while let Ok(Some(Ok(delivery))) = tokio::time::timeout(QUIET, consumer.next()).await {
        assert_ne!(delivery.body, "a");
        assert!(delivery.attempts >= 2);
        queue.ack(&delivery.id).await.expect("ack");
    }
}

/// An operator retries one dead letter (it comes back with its attributes, attempts counted
/// afresh) and drops another; both leave the dead letters, and unknown ids are `NotFound`.
pub async fn dead_letters_are_retried_and_dropped(harness: &dyn QueueHarness) {
    let queue = harness.open(limits(10, OverloadMode::RejectNewest)).await;
    for body in ["a", "b", "c"] {
        queue.publish(Q, message(body)).await.expect("publish");
    }
    let mut consumer = queue.consume(Q, 10).await.expect("consume");
    let got = take(&mut consumer, 3).await;
    queue
        .retry(&got[0].id, Duration::ZERO)
        .await
        .expect("retry");
    let again = take(&mut consumer, 1).await.remove(0);
    assert_eq!((again.body.as_ref(), again.attempts), (&b"a"[..], 2));
    queue
        .dead_letter(&again.id, "poison")
        .await
        .expect("dead letter");
    queue
        .dead_letter(&got[1].id, "refused")
        .await
        .expect("dead letter");
    queue.ack(&got[2].id).await.expect("ack");
    harness.advance(Duration::from_secs(2)).await;
    let dead = queue.dead_letters(Q, 10).await.expect("dead letters");
    assert_eq!(dead.len(), 2, "{dead:?}");
    let (poison, refused) = (&dead[0], &dead[1]);
    assert_eq!(
        (poison.body.as_ref(), refused.body.as_ref()),
        (&b"a"[..], &b"b"[..])
    );

    for unknown in ["no-such-letter", "999999"] {
        for result in [
            queue.retry_dead_letter(Q, unknown).await,
            queue.drop_dead_letter(Q, unknown).await,
        ] {
            assert_eq!(
                result.expect_err("unknown").kind,
                BackendErrorKind::NotFound
            );
        }
    }
    let other = QueueName::IncomingCargo;
    let wrong_queue = queue.drop_dead_letter(other, &poison.message_id).await;
    assert_eq!(
        wrong_queue.expect_err("other queue").kind,
        BackendErrorKind::NotFound
    );

    queue
        .retry_dead_letter(Q, &poison.message_id)
        .await
        .expect("retry the dead letter");
    let revived = take(&mut consumer, 1).await.remove(0);
    assert_eq!(revived.body, "a");
    assert_eq!(revived.attributes.get("k").map(String::as_str), Some("a"));
    assert_eq!(revived.attempts, 1, "attempts start again");
    queue.ack(&revived.id).await.expect("ack");
    queue
        .drop_dead_letter(Q, &refused.message_id)
        .await
        .expect("drop the dead letter");
    harness.advance(Duration::from_secs(2)).await;
    assert!(queue
        .dead_letters(Q, 10)
        .await
        .expect("dead letters")
        .is_empty());
    let gone = queue.retry_dead_letter(Q, &refused.message_id).await;
    assert_eq!(gone.expect_err("dropped").kind, BackendErrorKind::NotFound);
    nothing_within_quiet(&mut consumer).await;
}

/// A full queue in reject mode refuses with `Unavailable`; other queues are unaffected; room
/// comes back when messages are acked.
pub async fn capacity_reject_newest(harness: &dyn QueueHarness) {
    let queue = harness.open(limits(2, OverloadMode::RejectNewest)).await;
    let mut published = 0;
    let error = loop {
        match queue.publish(Q, message("m")).await {
            Ok(()) => published += 1,
            Err(error) => break error,
        }
        assert!(published <= 2 + harness.capacity_slack(), "never refused");
    };
    assert!(published >= 2, "refused below capacity");
    assert_eq!(error.kind, BackendErrorKind::Unavailable);
    queue
        .publish(QueueName::IncomingCargo, message("other"))
        .await
        .expect("other queue has room");
    let mut consumer = queue.consume(Q, 100).await.expect("consume");
    let got = take(&mut consumer, usize::try_from(published).unwrap_or(0)).await;
    for delivery in &got {
        queue.ack(&delivery.id).await.expect("ack");
    }
    queue.publish(Q, message("c")).await.expect("room again");
}

/// A full queue in block mode waits for room, and gives up with `Unavailable` after its bound.
pub async fn capacity_block(harness: &dyn QueueHarness) {
    let queue = harness.open(limits(1, OverloadMode::Block)).await;
    let mut published = 0;
    let error = loop {
        match queue.publish(Q, message("a")).await {
            Ok(()) => published += 1,
            Err(error) => break error,
        }
        assert!(published <= 1 + harness.capacity_slack(), "never refused");
    };
    assert_eq!(error.kind, BackendErrorKind::Unavailable);
    let mut consumer = queue.consume(Q, 100).await.expect("consume");
    let held = take(&mut consumer, usize::try_from(published).unwrap_or(0)).await;
    let waiting = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.publish(Q, message("b")).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    for delivery in held {
        queue.ack(&delivery.id).await.expect("ack");
    }
    waiting
        .await
        .expect("publisher task")
        .expect("publish after room was made");
    assert_eq!(take(&mut consumer, 1).await[0].body, "b");
}

/// What a dropped consumer held goes to the next consumer, with attempts + 1; the old delivery
/// can no longer be settled.
pub async fn dropped_consumer_gives_back(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    queue.publish(Q, message("a")).await.expect("publish");
    let mut first = queue.consume(Q, 1).await.expect("consume");
    let held = take(&mut first, 1).await.remove(0);
    drop(first);
    let mut second = queue.consume(Q, 1).await.expect("consume");
    let again = take(&mut second, 1).await.remove(0);
    assert_eq!(again.body, "a");
    assert_eq!(again.attempts, 2);
    let stale = queue.ack(&held.id).await.expect_err("stale ack");
    assert_eq!(stale.kind, BackendErrorKind::Conflict);
    queue.ack(&again.id).await.expect("ack");
}

/// Two consumers of one queue share its messages: each goes to one of them.
pub async fn consumers_share_the_work(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    queue.publish(Q, message("a")).await.expect("publish");
    queue.publish(Q, message("b")).await.expect("publish");
    let mut one = queue.consume(Q, 1).await.expect("consume");
    let mut two = queue.consume(Q, 1).await.expect("consume");
    let x = take(&mut one, 1).await.remove(0);
    let y = take(&mut two, 1).await.remove(0);
    assert_ne!(x.body, y.body);
    nothing_within_quiet(&mut one).await;
    queue.ack(&x.id).await.expect("ack");
    queue.ack(&y.id).await.expect("ack");
}

/// Published messages survive closing and reopening the storage.
pub async fn survives_reopen(harness: &dyn QueueHarness) {
    {
        let queue = harness.open(QueueSettings::default()).await;
        queue.publish(Q, message("a")).await.expect("publish");
        queue.publish(Q, message("b")).await.expect("publish");
        queue.health_check().await.expect("healthy");
    }
    let queue = harness.open(QueueSettings::default()).await;
    let mut consumer = queue.consume(Q, 10).await.expect("consume");
    let got = take(&mut consumer, 2).await;
    assert_eq!(bodies(&got), vec!["a", "b"]);
}

/// A message no implementation could carry is refused before anything is stored.
pub async fn bad_messages_are_refused(harness: &dyn QueueHarness) {
    let queue = harness.open(QueueSettings::default()).await;
    let bad = QueueMessage::new("x").with_attribute("parcel_id", "1");
    assert!(queue.publish(Q, bad).await.is_err());
    let huge = QueueMessage::new(vec![0; QueueLimits::default().max_body_bytes + 1]);
    assert!(queue.publish(Q, huge).await.is_err());
    assert_eq!(queue.depth(Q).await.expect("depth"), 0);
}

/// Runs every queue check as its own `#[tokio::test]`; `$harness` is an expression evaluating to
/// a future of a fresh harness (implementing [`QueueHarness`]).
#[macro_export]
macro_rules! queue_conformance {
    (optional: $harness:expr) => {
        $crate::queue_conformance!(@all $harness; Option);
    };
    ($harness:expr) => {
        $crate::queue_conformance!(@all async { Some($harness.await) }; Option);
    };
    (@all $harness:expr; Option) => {
        $crate::queue_conformance!(@tests $harness;
            fifo_with_attributes, ack_removes, prefetch_bounds_unsettled, retry_redelivers_later,
            dead_letters_are_kept_and_bounded, dead_letters_are_retried_and_dropped,
            capacity_reject_newest, capacity_block,
            dropped_consumer_gives_back, consumers_share_the_work, survives_reopen,
            bad_messages_are_refused);
    };
    (@tests $harness:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                // `None`: the engine is not configured here (the harness decides if that is ok).
                let Some(harness) = $harness.await else { return };
                $crate::backends::queue::conformance::$name(&harness).await;
            }
        )*
    };
}
