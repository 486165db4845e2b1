//! The behaviour every [`Notifier`] must show.
//!
//! An implementation runs the suite with `pubsub_conformance!(open)`, where `open(capacity)` is
//! an async fn returning `(guard, Arc<dyn Notifier>)` whose per-channel buffer holds about
//! `capacity` messages (the lag check overflows it).

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use super::{parcel_channel, Notification, Notifier, Subscription};

const WAIT: Duration = Duration::from_secs(5);

async fn next(subscription: &mut Subscription) -> Notification {
    tokio::time::timeout(WAIT, subscription.next())
        .await
        .expect("a notification in time")
        .expect("the subscription is open")
}

/// Every subscriber of a channel gets each message, in order.
pub async fn publish_reaches_subscribers(notifier: &dyn Notifier) {
    let channel = parcel_channel("0pg");
    let mut first = notifier.subscribe(&channel).await.expect("subscribe");
    let mut second = notifier.subscribe(&channel).await.expect("subscribe");
    let reached = notifier
        .publish(&channel, Bytes::from_static(b"k1"))
        .await
        .expect("publish");
    assert!(reached >= 1);
    notifier
        .publish(&channel, Bytes::from_static(b"k2"))
        .await
        .expect("publish");
    for subscription in [&mut first, &mut second] {
        assert_eq!(next(subscription).await, Notification::Message("k1".into()));
        assert_eq!(next(subscription).await, Notification::Message("k2".into()));
    }
    notifier.health_check().await.expect("healthy");
}

/// A subscriber hears only its own channel; publishing to an empty channel is fine.
pub async fn channels_are_isolated(notifier: &dyn Notifier) {
    let mut a = notifier
        .subscribe(&parcel_channel("0a"))
        .await
        .expect("subscribe");
    let mut b = notifier
        .subscribe(&parcel_channel("0b"))
        .await
        .expect("subscribe");
    notifier
        .publish(&parcel_channel("0nobody"), "x".into())
        .await
        .expect("publish");
    notifier
        .publish(&parcel_channel("0b"), "for-b".into())
        .await
        .expect("publish");
    notifier
        .publish(&parcel_channel("0a"), "for-a".into())
        .await
        .expect("publish");
    assert_eq!(next(&mut a).await, Notification::Message("for-a".into()));
    assert_eq!(next(&mut b).await, Notification::Message("for-b".into()));
    let nothing = tokio::time::timeout(Duration::from_millis(50), a.next()).await;
    assert!(nothing.is_err(), "no other message for a");
}

/// A subscriber that falls behind is told so, then keeps receiving.
pub async fn lag_is_signalled(notifier: &dyn Notifier, capacity: usize) {
    let channel = parcel_channel("0slow");
    let mut slow = notifier.subscribe(&channel).await.expect("subscribe");
    let total = capacity * 4;
    for i in 0..total {
        notifier
            .publish(&channel, Bytes::from(i.to_string()))
            .await
            .expect("publish");
    }
    let mut lagged = 0;
    let mut messages = Vec::new();
    while lagged == 0 || messages.last() != Some(&Bytes::from((total - 1).to_string())) {
        match next(&mut slow).await {
            Notification::Lagged(skipped) => lagged += skipped,
            Notification::Message(message) => messages.push(message),
        }
    }
    assert!(lagged > 0);
    assert_eq!(
        lagged as usize + messages.len(),
        total,
        "skipped plus received is everything"
    );
}

/// Runs every notifier check as its own `#[tokio::test]`; `$open` is an async fn taking the
/// per-channel capacity and returning `(guard, Arc<dyn Notifier>)`.
///
/// With `, optional`, `$open` returns `(guard, Option<Arc<dyn Notifier>>)` and `None` skips the
/// check (for servers configured by environment variables).
#[macro_export]
macro_rules! pubsub_conformance {
    ($open:expr, optional) => {
        $crate::pubsub_conformance!(@optional $open; 16, publish_reaches_subscribers);
        $crate::pubsub_conformance!(@optional $open; 16, channels_are_isolated);

        #[tokio::test]
        async fn lag_is_signalled() {
            let (_guard, notifier) = $open(4).await;
            let Some(notifier) = notifier else {
                eprintln!("skipped: the backend under test is not configured");
                return;
            };
            $crate::backends::pubsub::conformance::lag_is_signalled(&*notifier, 4).await;
        }
    };
    (@optional $open:expr; $capacity:expr, $name:ident) => {
        #[tokio::test]
        async fn $name() {
            let (_guard, notifier) = $open($capacity).await;
            let Some(notifier) = notifier else {
                eprintln!("skipped: the backend under test is not configured");
                return;
            };
            $crate::backends::pubsub::conformance::$name(&*notifier).await;
        }
    };
    ($open:expr) => {
        #[tokio::test]
        async fn publish_reaches_subscribers() {
            let (_guard, notifier) = $open(16).await;
            $crate::backends::pubsub::conformance::publish_reaches_subscribers(&*notifier).await;
        }

        #[tokio::test]
        async fn channels_are_isolated() {
            let (_guard, notifier) = $open(16).await;
            $crate::backends::pubsub::conformance::channels_are_isolated(&*notifier).await;
        }

        #[tokio::test]
        async fn lag_is_signalled() {
            let (_guard, notifier) = $open(4).await;
            $crate::backends::pubsub::conformance::lag_is_signalled(&*notifier, 4).await;
        }
    };
}
