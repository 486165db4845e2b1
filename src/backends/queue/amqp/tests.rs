//! The queue conformance suite on RabbitMQ, when `AWALA_TEST_AMQP_URL` is set (e.g.
//! `amqp://guest:guest@127.0.0.1:5672/%2f`, as scripts/test.sh does). Each test declares queues
//! under a prefix of its own, deleted afterwards (and expiring anyway if a test dies). Without
//! the variable the suite is skipped.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::topology::QueueType;
use super::{AmqpOptions, AmqpQueue};
use crate::backends::queue::conformance::{take, QueueHarness};
use crate::backends::queue::{DurableQueue, QueueMessage, QueueName, QueueSettings};

const URL_VARIABLE: &str = "AWALA_TEST_AMQP_URL";

pub struct Harness {
    url: String,
    prefix: String,
    queue_type: QueueType,
}

impl Harness {
    /// A harness on a fresh prefix; `None` (a skip) only outside CI.
    pub fn new(queue_type: QueueType) -> Option<Self> {
        let Ok(url) = std::env::var(URL_VARIABLE) else {
            let ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
            assert!(
                !ci,
                "CI is set but {URL_VARIABLE} is not: set it to an AMQP URL (e.g. \
                 amqp://guest:guest@127.0.0.1:5672/%2f), as scripts/test.sh does"
            );
            return None;
        };
        Some(Harness {
            url,
            prefix: format!("awala-test-{}", uuid::Uuid::new_v4().simple()),
            queue_type,
        })
    }

    async fn open_queue(&self, settings: QueueSettings) -> AmqpQueue {
        let options = AmqpOptions {
            prefix: self.prefix.clone(),
            queue_type: self.queue_type,
            expires: Some(Duration::from_secs(600)),
        };
        AmqpQueue::open_with(&self.url, options, settings)
            .await
            .expect("connect to RabbitMQ")
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let (url, prefix, queue_type) = (self.url.clone(), self.prefix.clone(), self.queue_type);
        crate::backends::clean_up_from_own_thread(async move {
            let options = AmqpOptions {
                prefix,
                queue_type,
                expires: Some(Duration::from_secs(600)),
            };
            if let Ok(queue) = AmqpQueue::open_with(&url, options, QueueSettings::default()).await {
                let _ = queue.delete_queues().await;
            }
        });
    }
}

#[async_trait]
impl QueueHarness for Harness {
    async fn open(&self, settings: QueueSettings) -> Arc<dyn DurableQueue> {
        Arc::new(self.open_queue(settings).await)
    }

    async fn advance(&self, by: Duration) {
        tokio::time::sleep(by).await;
    }

    fn capacity_slack(&self) -> u64 {
        // Quorum queues apply `x-max-length` after the fact: a few publishes in flight get in.
        match self.queue_type {
            QueueType::Quorum => 2,
            QueueType::Classic => 0,
        }
    }
}

mod quorum {
    use super::*;
    crate::queue_conformance!(optional: async { Harness::new(QueueType::Quorum) });
}

mod classic {
    use super::*;
    crate::queue_conformance!(optional: async { Harness::new(QueueType::Classic) });
}

#[test]
fn options_come_off_the_url() {
    let (client, options) = AmqpOptions::from_url(
        "amqp://u:p@broker:5672/%2f?prefix=edge-1&queue_type=classic&heartbeat=10&queue_expires_seconds=60",
    )
    .expect("parse");
    assert_eq!(client, "amqp://u:p@broker:5672/%2f?heartbeat=10");
    assert_eq!(options.prefix, "edge-1");
    assert_eq!(options.queue_type, QueueType::Classic);
    assert_eq!(options.expires, Some(Duration::from_secs(60)));
    assert!(AmqpOptions::from_url("amqp://broker/?prefix=a%20b").is_err());
    assert!(AmqpOptions::from_url("amqp://broker/?queue_type=stream").is_err());
}

/// A lost connection takes its consumers with it: what they held is delivered again, to a
/// consumer opened on the new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_mid_consume_gives_the_delivery_back() {
    let Some(harness) = Harness::new(QueueType::Quorum) else {
        return;
    };
    let queue = harness.open_queue(QueueSettings::default()).await;
    let q = QueueName::IncomingCargo;
    queue
        .publish(
            q,
            QueueMessage::new("cargo").with_attribute("receivedat", "now"),
        )
        .await
        .expect("publish");
    let mut first = queue.consume(q, 1).await.expect("consume");
    let held = take(&mut first, 1).await.remove(0);
    // The connection goes (as when the broker restarts): the consumer learns of it, and the
    // next operation reconnects.
    queue
        .run(|inner| async move {
            if let Some(link) = inner.link.lock().await.take() {
                let _ = link.connection.close(320, "test".into()).await;
            }
            Ok(())
        })
        .await
        .expect("close");
    let ended = tokio::time::timeout(Duration::from_secs(10), first.next())
        .await
        .expect("the consumer hears of the loss");
    assert!(!matches!(ended, Some(Ok(_))), "{ended:?}");
    let stale = queue.ack(&held.id).await.expect_err("stale ack");
    assert!(matches!(
        stale.kind,
        crate::backends::BackendErrorKind::Conflict
            | crate::backends::BackendErrorKind::Unavailable
    ));
    let mut second = queue
        .consume(q, 1)
        .await
        .expect("consume after reconnecting");
    let again = take(&mut second, 1).await.remove(0);
    assert_eq!(again.body, "cargo");
    assert_eq!(again.attempts, 2);
    queue.ack(&again.id).await.expect("ack");
}

/// The gateway opens its backends inside an actix system (a current-thread runtime).
#[test]
fn opens_from_inside_an_actix_system() {
    let Ok(url) = std::env::var(URL_VARIABLE) else {
        return;
    };
    actix_rt::System::new().block_on(async move {
        let queue = tokio::time::timeout(
            Duration::from_secs(30),
            AmqpQueue::open(&url, QueueSettings::default()),
        )
        .await
        .expect("opened in time")
        .expect("opened");
        queue.health_check().await.expect("healthy");
    });
}
