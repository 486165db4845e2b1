//! The durable mailbox on RabbitMQ (`--queue amqp://user:pass@host:port/vhost`), through lapin.
//!
//! The broker's own model, not leases emulated on it:
//! - publishes wait for the broker's confirm; a nack (the queue is full: `reject-publish`) or a
//!   returned message (unroutable) is `Unavailable`, never a success;
//! - each consumer is a channel with `basic.qos(prefetch)` and manual acks; what it holds goes
//!   back to the queue when the channel closes (consumer dropped, connection lost);
//! - retries are copies published to a TTL tier that dead-letters back into the work queue
//!   ([`topology`]); dead letters are copies in a bounded queue, with the reason;
//! - attempts come from the broker's headers ([`events`]).
//!
//! One connection per process, re-opened on demand after a failure (so while the broker is down
//! every publish fails and the edge answers 503, and service resumes by itself); it runs on a
//! small runtime of its own, so its I/O does not depend on whichever actix arbiter called first.
//!
//! URL options: `?prefix=NAME` (queue-name prefix, default `awala`), `&queue_type=classic` for
//! brokers without quorum queues (length limits are then exact but a retry coming back to a full
//! work queue is dropped by the broker, so size `capacity` generously), and
//! `&queue_expires_seconds=N` for short-lived deployments and tests (the broker deletes queues
//! unused for that long, messages and all).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::Confirmation;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use tokio::time::Instant;

use self::consumer::{ConsumerEntry, Held};
use self::topology::{Names, QueueType};
use super::{
    Consumer, DeadLetter, DeliveryId, DurableQueue, OverloadMode, QueueMessage, QueueName,
    QueueSettings,
};
use crate::backends::error::BackendError;

mod consumer;
pub mod events;
pub mod topology;

/// How long a publisher waits between tries on a full queue in [`OverloadMode::Block`].
const BLOCKED_RETRY: Duration = Duration::from_millis(50);
/// Longest wait for the broker to accept a connection (a busy broker is slow to answer).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest wait for the broker to acknowledge a connection's close when the queue is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Settings taken from the URL, plus what only tests set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpOptions {
    pub prefix: String,
    pub queue_type: QueueType,
    /// Queues unused for this long are deleted by the broker (tests, so their queues do not
    /// pile up); `None` in production.
    pub expires: Option<Duration>,
}

impl AmqpOptions {
    /// Splits our options off `url`, returning the URL to give the client.
    pub fn from_url(url: &str) -> Result<(String, AmqpOptions), BackendError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| BackendError::internal(format!("queue url is not a url: {e}")))?;
        let mut options = AmqpOptions {
            prefix: "awala".to_owned(),
            queue_type: QueueType::Quorum,
            expires: None,
        };
        let mut rest = Vec::new();
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "prefix" if valid_prefix(&value) => options.prefix = value.into_owned(),
                "prefix" => {
                    return Err(BackendError::internal(format!(
                        "queue url: prefix `{value}` must be 1-64 letters, digits, `.`, `-` or `_`"
                    )))
                }
                "queue_type" => {
                    options.queue_type = match value.as_ref() {
                        "quorum" => QueueType::Quorum,
                        "classic" => QueueType::Classic,
                        other => {
                            return Err(BackendError::internal(format!(
                                "queue url: queue_type `{other}` is not `quorum` or `classic`"
                            )))
                        }
                    }
                }
                "queue_expires_seconds" => {
                    let seconds: u64 = value.parse().map_err(|_| {
                        BackendError::internal(format!(
                            "queue url: queue_expires_seconds `{value}` is not a whole number"
                        ))
                    })?;
                    options.expires = Some(Duration::from_secs(seconds.max(1)));
                }
                _ => rest.push((key.into_owned(), value.into_owned())),
            }
        }
        let mut client_url = parsed.clone();
        client_url.set_query(None);
        if !rest.is_empty() {
            client_url.query_pairs_mut().extend_pairs(rest);
        }
        Ok((client_url.to_string(), options))
    }
}

fn valid_prefix(prefix: &str) -> bool {
    (1..=64).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// A [`DurableQueue`] on RabbitMQ.
pub struct AmqpQueue {
    inner: Arc<Inner>,
    runtime_opt: Option<tokio::runtime::Runtime>,
}

/// The connection and what hangs off it, shared with consumer tasks.
struct Inner {
    url: String,
    options: AmqpOptions,
    settings: QueueSettings,
    link: tokio::sync::Mutex<Option<Link>>,
    /// Live consumers by id (a delivery's `token`).
    consumers: Mutex<HashMap<u64, Arc<ConsumerEntry>>>,
    next_consumer: AtomicU64,
    /// Retry tiers declared on the current connection.
    tiers: Mutex<std::collections::HashSet<String>>,
}

/// One connection with its confirm-mode publishing channel.
#[derive(Clone)]
struct Link {
    connection: Arc<Connection>,
    publisher: Channel,
}

impl AmqpQueue {
    /// Connects to the broker and declares every mailbox's queues.
    pub async fn open(url: &str, settings: QueueSettings) -> Result<Self, BackendError> {
        let (client_url, options) = AmqpOptions::from_url(url)?;
        Self::open_with(&client_url, options, settings).await
    }

    /// [`open`](Self::open) with options given apart from the URL.
    pub async fn open_with(
        client_url: &str,
        options: AmqpOptions,
        settings: QueueSettings,
    ) -> Result<Self, BackendError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("amqp")
            .enable_all()
            .build()
            .map_err(|e| BackendError::from_io("starting the AMQP runtime", e))?;
        let inner = Arc::new(Inner {
            url: client_url.to_owned(),
            options,
            settings,
            link: tokio::sync::Mutex::new(None),
            consumers: Mutex::default(),
            next_consumer: AtomicU64::new(1),
            tiers: Mutex::default(),
        });
        let queue = AmqpQueue {
            inner,
            runtime_opt: Some(runtime),
        };
        // Fail start-up on a wrong URL or credentials rather than at the first parcel.
        queue
            .run(|inner| async move { inner.link().await.map(|_| ()) })
            .await?;
        Ok(queue)
    }

    /// Runs `work` on the queue's own runtime.
    async fn run<F, Fut, T>(&self, work: F) -> Result<T, BackendError>
    where
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T, BackendError>> + Send + 'static,
        T: Send + 'static,
    {
        let Some(runtime) = self.runtime_opt.as_ref() else {
            return Err(BackendError::unavailable("the AMQP queue is closed"));
        };
        runtime
            .spawn(work(Arc::clone(&self.inner)))
            .await
            .map_err(|e| BackendError::unavailable(format!("AMQP task failed: {e}")))?
    }

    /// Deletes every queue of this prefix (tests).
    pub async fn delete_queues(&self) -> Result<(), BackendError> {
        self.run(|inner| async move {
            let link = inner.link().await?;
            for queue in QueueName::ALL {
                let names = Names::new(&inner.options.prefix, queue);
                let all = [names.work.clone(), names.dead.clone()]
                    .into_iter()
                    .chain(names.retries.iter().map(|(_, name)| name.clone()));
                for name in all {
                    // A channel each: a tier never declared may close it.
                    let channel = link
                        .connection
                        .create_channel()
                        .await
                        .map_err(|e| lost("opening a channel", e))?;
                    let _ = channel
                        .queue_delete(topology::short(&name), Default::default())
                        .await;
                    let _ = channel.close(200, "deleted".into()).await;
                }
            }
            Ok(())
        })
        .await
    }
}

impl Drop for AmqpQueue {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime_opt.take() else {
            return;
        };
        // Close the connection before its runtime goes: lapin does not on drop, and a socket
        // left open counts against the broker's socket limit until the heartbeat times out
        // (a test process that opens many queues exhausted it, and handshakes then hung).
        // From a thread of its own: blocking on a runtime is not allowed inside another.
        let inner = Arc::clone(&self.inner);
        let closing = std::thread::Builder::new()
            .name("amqp-close".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let link = inner.link.lock().await.take();
                    if let Some(link) = link {
                        let close = link.connection.close(200, "closing".into());
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
                    }
                });
                runtime.shutdown_background();
            });
        if let Ok(closing) = closing {
            let _ = closing.join();
        }
    }
}

async fn declare_queue(
    channel: &Channel,
    name: &str,
    arguments: FieldTable,
) -> Result<(), BackendError> {
    channel
        .queue_declare(topology::short(name), QueueDeclareOptions::durable(), arguments)
        .await
        .map(|_| ())
        .map_err(|e| {
            BackendError::internal(format!(
                "RabbitMQ: declaring queue {name}: {e} (an existing queue with other arguments must be deleted or given another prefix)"
            ))
        })
}

/// A broker or connection failure: the edge answers 503 and nothing is acknowledged.
fn lost(operation: &str, error: lapin::Error) -> BackendError {
    BackendError::unavailable(format!("RabbitMQ: {operation}: {error}"))
}

impl Inner {
    /// The current connection, opened (and the topology declared) if there is none.
    async fn link(&self) -> Result<Link, BackendError> {
        let mut guard = self.link.lock().await;
        if let Some(link) = guard.as_ref() {
            if link.connection.status().connected() && link.publisher.status().connected() {
                return Ok(link.clone());
            }
            tracing::warn!("RabbitMQ connection lost; reconnecting");
        }
        *guard = None;
        let properties =
            ConnectionProperties::default().with_connection_name("awala-gateway".into());
        let connection =
            tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(&self.url, properties))
                .await
                .map_err(|_| BackendError::unavailable("RabbitMQ: connecting timed out"))?
                .map_err(|e| lost("connecting", e))?;
        let publisher = connection
            .create_channel()
            .await
            .map_err(|e| lost("opening a channel", e))?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| lost("enabling publisher confirms", e))?;
        let link = Link {
            connection: Arc::new(connection),
            publisher,
        };
        self.declare(&link.publisher).await?;
        tracing::info!(prefix = %self.options.prefix, "connected to RabbitMQ");
        *guard = Some(link.clone());
        Ok(link)
    }

    /// Declares every mailbox's work and dead-letter queues (idempotent; a mismatch with existing
    /// queues fails). Retry tiers are declared when first used: each quorum queue costs the
    /// broker a Raft log, and most deployments use a few tiers.
    async fn declare(&self, channel: &Channel) -> Result<(), BackendError> {
        let (kind, expires) = (self.options.queue_type, self.options.expires);
        for queue in QueueName::ALL {
            let names = Names::new(&self.options.prefix, queue);
            let limits = self.settings.limits(queue);
            let work = topology::work_arguments(kind, limits, expires);
            declare_queue(channel, &names.work, work).await?;
            let dead = topology::dead_arguments(kind, limits, expires);
            declare_queue(channel, &names.dead, dead).await?;
        }
        if let Ok(mut tiers) = self.tiers.lock() {
            tiers.clear();
        }
        Ok(())
    }

    /// Declares the retry tier `name` of `names` for `delay`, once per connection.
    async fn declare_tier(
        &self,
        link: &Link,
        names: &Names,
        name: &str,
    ) -> Result<(), BackendError> {
        let known = self
            .tiers
            .lock()
            .map(|tiers| tiers.contains(name))
            .unwrap_or(false);
        if known {
            return Ok(());
        }
        let Some((delay, _)) = names.retries.iter().find(|(_, tier)| tier == name) else {
            return Err(BackendError::internal(format!(
                "{name} is not a retry tier"
            )));
        };
        let (kind, expires) = (self.options.queue_type, self.options.expires);
        let arguments = topology::retry_arguments(kind, *delay, &names.work, expires);
        declare_queue(&link.publisher, name, arguments).await?;
        if let Ok(mut tiers) = self.tiers.lock() {
            tiers.insert(name.to_owned());
        }
        Ok(())
    }

    /// Forgets a connection that failed, so the next operation opens a new one.
    async fn drop_link(&self) {
        *self.link.lock().await = None;
    }

    /// Publishes to `queue_name` and waits for the broker's confirm.
    async fn publish_raw(
        &self,
        queue_name: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<Published, BackendError> {
        let link = self.link().await?;
        let options = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };
        let confirm = match link
            .publisher
            .basic_publish(
                "".into(),
                topology::short(queue_name),
                options,
                body,
                properties,
            )
            .await
        {
            Ok(confirm) => confirm.await,
            Err(error) => Err(error),
        };
        match confirm {
            Ok(Confirmation::Ack(None)) => Ok(Published::Stored),
            Ok(Confirmation::Ack(Some(returned))) => Err(BackendError::unavailable(format!(
                "RabbitMQ returned the message unroutable ({}); is queue {queue_name} declared?",
                returned.reply_text
            ))),
            Ok(Confirmation::Nack(_)) => Ok(Published::Refused),
            Ok(Confirmation::NotRequested) => Err(BackendError::internal(
                "RabbitMQ channel is not in confirm mode",
            )),
            Err(error) => {
                self.drop_link().await;
                Err(lost("publishing", error))
            }
        }
    }

    /// The consumer a delivery came from and what it holds of it; `Conflict` if either is gone.
    fn held(&self, id: &DeliveryId) -> Result<(Arc<ConsumerEntry>, Held), BackendError> {
        let entry = self
            .consumers
            .lock()
            .ok()
            .and_then(|consumers| consumers.get(&id.token).cloned());
        let stale = || {
            BackendError::conflict(format!(
                "delivery {} of {} is no longer held by its consumer",
                id.tag, id.queue
            ))
        };
        let entry = entry.ok_or_else(stale)?;
        let held = entry.take(id.tag).ok_or_else(stale)?;
        Ok((entry, held))
    }

    async fn ack_raw(&self, entry: &ConsumerEntry, tag: u64) -> Result<(), BackendError> {
        entry
            .channel
            .basic_ack(tag, BasicAckOptions::default())
            .await
            .map_err(|e| lost("acknowledging", e))
    }
}

/// What the broker said of a publish.
/// Dead letters looked through at most to find one by id (the dead-letter queue is bounded).
const DEAD_LETTER_SCAN: usize = 100_000;

impl AmqpQueue {
    /// Finds dead letter `message_id` on a channel of its own (closing it puts back every other
    /// message looked at), republishes it to the work queue when `retry`, then acks it.
    async fn settle_dead_letter(
        &self,
        queue: QueueName,
        message_id: &str,
        retry: bool,
    ) -> Result<(), BackendError> {
        let message_id = message_id.to_owned();
        self.run(move |inner| async move {
            let link = inner.link().await?;
            let names = Names::new(&inner.options.prefix, queue);
            let channel = peek_channel(&link).await?;
            let outcome = async {
                for _ in 0..DEAD_LETTER_SCAN {
                    let Some(message) = next_dead_letter(&channel, &names).await? else {
                        break;
                    };
                    let properties = &message.delivery.properties;
                    if events::decode(properties, false).id != message_id {
                        continue;
                    }
                    if retry {
                        let revived = events::revived_properties(properties);
                        match inner
                            .publish_raw(&names.work, &message.delivery.data, revived)
                            .await?
                        {
                            Published::Stored => {}
                            Published::Refused => {
                                return Err(BackendError::unavailable(format!(
                                    "queue {queue} is full; the dead letter stays"
                                )))
                            }
                        }
                    }
                    return channel
                        .basic_ack(message.delivery.delivery_tag, BasicAckOptions::default())
                        .await
                        .map_err(|e| lost("removing a dead letter", e));
                }
                Err(BackendError::not_found(format!(
                    "no dead letter {message_id:?} in {queue}"
                )))
            }
            .await;
            let _ = channel.close(200, "settled".into()).await;
            outcome
        })
        .await
    }
}

/// A channel of its own for looking through dead letters: closing it puts back every message
/// looked at and not acked.
async fn peek_channel(link: &Link) -> Result<Channel, BackendError> {
    link.connection
        .create_channel()
        .await
        .map_err(|e| lost("opening a channel", e))
}

/// The next dead letter on `channel`, held (not acked) until the channel closes.
async fn next_dead_letter(
    channel: &Channel,
    names: &Names,
) -> Result<Option<lapin::message::BasicGetMessage>, BackendError> {
    channel
        .basic_get(
            topology::short(&names.dead),
            BasicGetOptions { no_ack: false },
        )
        .await
        .map_err(|e| lost("reading dead letters", e))
}

enum Published {
    Stored,
    /// Nacked: the queue is at its length limit (`reject-publish`).
    Refused,
}

#[async_trait]
impl DurableQueue for AmqpQueue {
    async fn publish(&self, queue: QueueName, message: QueueMessage) -> Result<(), BackendError> {
        let limits = *self.inner.settings.limits(queue);
        message.check(queue, &limits)?;
        self.run(move |inner| async move {
            let names = Names::new(&inner.options.prefix, queue);
            let id = uuid::Uuid::new_v4().to_string();
            let properties =
                events::new_properties(queue, &id, &message.attributes, chrono::Utc::now());
            let deadline = Instant::now() + limits.block_timeout;
            loop {
                let published = inner
                    .publish_raw(&names.work, &message.body, properties.clone())
                    .await?;
                if let Published::Stored = published {
                    return Ok(());
                }
                if limits.overload == OverloadMode::RejectNewest || Instant::now() >= deadline {
                    tracing::warn!(queue = queue.as_str(), "queue full, publish refused");
                    return Err(BackendError::unavailable(format!(
                        "queue {queue} is full ({} messages)",
                        limits.capacity
                    )));
                }
                tokio::time::sleep(BLOCKED_RETRY).await;
            }
        })
        .await
    }

    async fn consume(&self, queue: QueueName, prefetch: usize) -> Result<Consumer, BackendError> {
        self.run(move |inner| async move { consumer::start(inner, queue, prefetch).await })
            .await
    }

    async fn ack(&self, delivery: &DeliveryId) -> Result<(), BackendError> {
        let id = delivery.clone();
        self.run(move |inner| async move {
            let (entry, _) = inner.held(&id)?;
            inner.ack_raw(&entry, id.tag).await
        })
        .await
    }

    async fn retry(&self, delivery: &DeliveryId, after: Duration) -> Result<(), BackendError> {
        let id = delivery.clone();
        self.run(move |inner| async move {
            let (entry, held) = inner.held(&id)?;
            let names = Names::new(&inner.options.prefix, id.queue);
            let target = names.retry_queue(after).unwrap_or(&names.work).to_owned();
            if target != names.work {
                let link = inner.link().await?;
                if let Err(error) = inner.declare_tier(&link, &names, &target).await {
                    entry.put_back(id.tag, held);
                    return Err(error);
                }
            }
            let properties = events::copy_properties(&held.properties, held.attempts, &[]);
            match inner.publish_raw(&target, &held.body, properties).await {
                Ok(Published::Stored) => inner.ack_raw(&entry, id.tag).await,
                Ok(Published::Refused) => {
                    entry.put_back(id.tag, held);
                    Err(BackendError::unavailable(format!(
                        "queue {} refused the retry (full)",
                        id.queue
                    )))
                }
                Err(error) => {
                    entry.put_back(id.tag, held);
                    Err(error)
                }
            }
        })
        .await
    }

    async fn dead_letter(&self, delivery: &DeliveryId, reason: &str) -> Result<(), BackendError> {
        let (id, reason) = (delivery.clone(), reason.to_owned());
        self.run(move |inner| async move {
            let (entry, held) = inner.held(&id)?;
            let names = Names::new(&inner.options.prefix, id.queue);
            let extra = [
                (events::DEAD_REASON, reason.clone()),
                (events::DEAD_AT, chrono::Utc::now().to_rfc3339()),
            ];
            let properties = events::copy_properties(&held.properties, held.attempts, &extra);
            match inner.publish_raw(&names.dead, &held.body, properties).await {
                Ok(Published::Stored) => {
                    tracing::warn!(queue = id.queue.as_str(), reason, "message dead-lettered");
                    inner.ack_raw(&entry, id.tag).await
                }
                Ok(Published::Refused) => {
                    entry.put_back(id.tag, held);
                    Err(BackendError::unavailable(format!(
                        "dead letters of {} are full",
                        id.queue
                    )))
                }
                Err(error) => {
                    entry.put_back(id.tag, held);
                    Err(error)
                }
            }
        })
        .await
    }

    async fn depth(&self, queue: QueueName) -> Result<u64, BackendError> {
        self.run(move |inner| async move {
            let link = inner.link().await?;
            let names = Names::new(&inner.options.prefix, queue);
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            let declared = link
                .publisher
                .queue_declare(topology::short(&names.work), passive, FieldTable::default())
                .await;
            match declared {
                Ok(declared) => Ok(u64::from(declared.message_count())),
                Err(error) => {
                    inner.drop_link().await;
                    Err(lost("counting messages", error))
                }
            }
        })
        .await
    }

    async fn dead_letters(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BackendError> {
        self.run(move |inner| async move {
            let link = inner.link().await?;
            let names = Names::new(&inner.options.prefix, queue);
            let channel = peek_channel(&link).await?;
            let mut out = Vec::new();
            while out.len() < limit {
                let Some(message) = next_dead_letter(&channel, &names).await? else {
                    break;
                };
                let properties = &message.delivery.properties;
                let decoded = events::decode(properties, false);
                let dead_at = events::header_text(properties, events::DEAD_AT)
                    .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
                    .map(|at| at.with_timezone(&chrono::Utc))
                    .unwrap_or_else(chrono::Utc::now);
                out.push(DeadLetter {
                    queue,
                    message_id: decoded.id,
                    body: Bytes::from(message.delivery.data.clone()),
                    attributes: decoded.attributes,
                    attempts: events::header_count(properties, events::ATTEMPTS).unwrap_or(1),
                    reason: events::header_text(properties, events::DEAD_REASON)
                        .unwrap_or_default(),
                    dead_at,
                });
            }
            let _ = channel.close(200, "peeked".into()).await;
            Ok(out)
        })
        .await
    }

    async fn retry_dead_letter(
        &self,
        queue: QueueName,
        message_id: &str,
    ) -> Result<(), BackendError> {
        self.settle_dead_letter(queue, message_id, true).await
    }

    async fn drop_dead_letter(
        &self,
        queue: QueueName,
        message_id: &str,
    ) -> Result<(), BackendError> {
        self.settle_dead_letter(queue, message_id, false).await
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        self.run(|inner| async move { inner.link().await.map(|_| ()) })
            .await
    }
}

#[cfg(test)]
mod tests;
