//! Runs only when `AWALA_TEST_REDIS_URL` is set (e.g. `redis://127.0.0.1:6379/0`, as
//! scripts/test.sh does). Pub/sub ignores the database number, so each notifier gets a channel
//! prefix of its own and concurrent runs on one server never hear each other. Without the URL
//! the tests are skipped, except under CI (`CI` set), where a skip would pass unseen.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::RedisNotifier;
use crate::backends::error::BackendErrorKind;
use crate::backends::pubsub::{parcel_channel, Notification, Notifier, NotifierLimits};

const URL_VARIABLE: &str = "AWALA_TEST_REDIS_URL";
const WAIT: Duration = Duration::from_secs(10);

fn test_url() -> Option<String> {
    let url = std::env::var(URL_VARIABLE).ok();
    if url.is_none() {
        let ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
        assert!(
            !ci,
            "CI is set but {URL_VARIABLE} is not: set it to a Redis URL (e.g. \
             redis://127.0.0.1:6379/0, as scripts/test.sh does) so the Redis notifier tests run \
             instead of being skipped"
        );
    }
    url
}

fn limits(channel_capacity: usize) -> NotifierLimits {
    NotifierLimits {
        channel_capacity,
        ..NotifierLimits::default()
    }
}

fn unique_prefix() -> String {
    format!("awala-test-{}.", uuid::Uuid::new_v4().simple())
}

async fn open(channel_capacity: usize) -> ((), Option<Arc<dyn Notifier>>) {
    let Some(url) = test_url() else {
        return ((), None);
    };
    let notifier = open_notifier(&url, channel_capacity).await;
    ((), Some(Arc::new(notifier)))
}

/// A notifier whose subscriber connection is up.
async fn open_notifier(url: &str, channel_capacity: usize) -> RedisNotifier {
    let notifier = RedisNotifier::open_with_prefix(url, limits(channel_capacity), &unique_prefix())
        .await
        .expect("open");
    eventually_healthy(&notifier).await;
    notifier
}

async fn eventually_healthy(notifier: &RedisNotifier) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match notifier.health_check().await {
            Ok(()) => return,
            Err(error) if tokio::time::Instant::now() > deadline => panic!("not healthy: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

crate::pubsub_conformance!(open, optional);

async fn next(subscription: &mut crate::backends::pubsub::Subscription) -> Notification {
    tokio::time::timeout(WAIT, subscription.next())
        .await
        .expect("a notification in time")
        .expect("the subscription is open")
}

/// Runs a command on a connection of its own.
async fn command<T: deadpool_redis::redis::FromRedisValue>(
    url: &str,
    command: &deadpool_redis::redis::Cmd,
) -> T {
    let client = deadpool_redis::redis::Client::open(url).expect("client");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    command.query_async(&mut connection).await.expect("command")
}

/// Removes the test's ACL user when the test ends.
struct AclUser {
    url: String,
    name: String,
}

impl Drop for AclUser {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let client = deadpool_redis::redis::Client::open(url.as_str());
            if let Ok(mut connection) = client.and_then(|client| client.get_connection()) {
                let mut command = deadpool_redis::redis::cmd("ACL");
                command.arg("DELUSER").arg(&name);
                let _: Result<i64, _> = command.query(&mut connection);
            }
        })
        .join();
    }
}

/// A lost subscriber connection is re-established; every subscriber hears `Lagged(0)` (so it
/// re-lists the store) and then receives new messages again.
#[tokio::test]
async fn subscribers_are_told_of_a_reconnection_and_keep_receiving() {
    let Some(url) = test_url() else {
        eprintln!("skipped: {URL_VARIABLE} is not set");
        return;
    };
    // The notifier logs in as a user of its own, so the kill below (`CLIENT KILL TYPE pubsub`,
    // narrowed to that user) cannot cut the connections of tests running alongside.
    let user = AclUser {
        url: url.clone(),
        name: format!("awala-test-{}", uuid::Uuid::new_v4().simple()),
    };
    let password = uuid::Uuid::new_v4().simple().to_string();
    let mut create = deadpool_redis::redis::cmd("ACL");
    create
        .arg("SETUSER")
        .arg(&user.name)
        .arg("on")
        .arg(format!(">{password}"))
        .arg("~*")
        .arg("&*")
        .arg("+@all");
    let () = command(&url, &create).await;
    let mut user_url = url::Url::parse(&url).expect("redis url");
    user_url.set_username(&user.name).expect("user name");
    user_url.set_password(Some(&password)).expect("password");
    let notifier = open_notifier(user_url.as_str(), 16).await;

    let channel = parcel_channel("0reconnect");
    let mut first = notifier.subscribe(&channel).await.expect("subscribe");
    let mut second = notifier.subscribe(&channel).await.expect("subscribe");
    notifier
        .publish(&channel, "before".into())
        .await
        .expect("publish");
    for subscription in [&mut first, &mut second] {
        assert_eq!(
            next(subscription).await,
            Notification::Message("before".into())
        );
    }

    let mut kill = deadpool_redis::redis::cmd("CLIENT");
    kill.arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .arg("USER")
        .arg(&user.name);
    let killed: i64 = command(&url, &kill).await;
    assert_eq!(killed, 1, "the hub's one subscriber connection");

    for subscription in [&mut first, &mut second] {
        assert_eq!(next(subscription).await, Notification::Lagged(0));
    }
    eventually_healthy(&notifier).await;
    let reached = notifier
        .publish(&channel, "after".into())
        .await
        .expect("publish");
    assert_eq!(reached, 1, "subscribed again, on one connection");
    for subscription in [&mut first, &mut second] {
        assert_eq!(
            next(subscription).await,
            Notification::Message("after".into())
        );
    }
    // A subscription made after the reconnection works like any other.
    let mut third = notifier.subscribe(&channel).await.expect("subscribe");
    notifier
        .publish(&channel, "later".into())
        .await
        .expect("publish");
    assert_eq!(
        next(&mut third).await,
        Notification::Message("later".into())
    );
}

/// Subscriptions share one connection, and the last one to go unsubscribes it.
#[tokio::test]
async fn one_connection_serves_every_subscriber() {
    let Some(url) = test_url() else {
        eprintln!("skipped: {URL_VARIABLE} is not set");
        return;
    };
    let notifier = open_notifier(&url, 16).await;
    let mut subscriptions = Vec::new();
    for i in 0..20 {
        let channel = parcel_channel(&format!("0many{}", i % 4));
        subscriptions.push(notifier.subscribe(&channel).await.expect("subscribe"));
    }
    let reached = notifier
        .publish(&parcel_channel("0many1"), "x".into())
        .await
        .expect("publish");
    assert_eq!(reached, 1, "one Redis subscriber for five local ones");
    drop(subscriptions);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let reached = notifier
            .publish(&parcel_channel("0many1"), "y".into())
            .await
            .expect("publish");
        if reached == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// With nothing listening, publishing, subscribing and the health check are `Unavailable`.
#[tokio::test]
async fn unreachable_server_is_unavailable() {
    // Port 9 (discard) on loopback: nothing listens there, connecting is refused at once.
    let notifier = RedisNotifier::open("redis://127.0.0.1:9/0", limits(4))
        .await
        .expect("opening does not connect");
    let error = notifier.publish("c", "x".into()).await.expect_err("down");
    assert_eq!(error.kind, BackendErrorKind::Unavailable, "{error}");
    let error = notifier.subscribe("c").await.err().expect("down");
    assert_eq!(error.kind, BackendErrorKind::Unavailable, "{error}");
    let error = notifier.health_check().await.expect_err("down");
    assert_eq!(error.kind, BackendErrorKind::Unavailable, "{error}");
    let bad = RedisNotifier::open("redis://[bad", limits(4)).await.err();
    assert_eq!(bad.map(|e| e.kind), Some(BackendErrorKind::Internal));
}
