//! The embedded queue: a SQLite file of its own (`<data_dir>/queue.sqlite`).
//!
//! Why a separate file rather than the metadata database: the queue commits (and fsyncs) on every
//! publish, lease and ack, and SQLite has one writer per file, so sharing would make PoWeb
//! registrations wait behind cargo traffic; the metadata store can also move to PostgreSQL while
//! the queue stays embedded; and each file keeps its own migration history.
//!
//! Consumers are tasks of [`embedded_consumer`](super::embedded_consumer) that lease messages
//! for a short time and renew the leases of what their consumer holds: a process that dies
//! without releasing them (SIGKILL) gives its messages back when the leases run out.
//!
//! All statements run on one pooled connection: SQLite serialises writers anyway, and a single
//! connection makes "count, then insert" and "select, then lease" atomic without `BEGIN
//! IMMEDIATE` retries. Publishers blocked on a full queue wait on a [`Notify`] that acks and
//! dead-letters signal, not on the connection.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use sqlx::{Row, SqlitePool};
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::Instant;

use super::embedded_consumer;
use super::{
    BlockedObserver, Consumer, DeadLetter, Delivery, DeliveryId, DurableQueue, OverloadMode,
    QueueMessage, QueueName, QueueSettings,
};
use crate::backends::clock::{Clock, SystemClock};
use crate::backends::error::BackendError;
use crate::backends::sqlite::{from_millis, open_pool, to_millis, Checkpointing};

/// Most messages one lease statement takes, whatever the prefetch.
pub const MAX_RECEIVE_BATCH: usize = 1_000;
/// How often a blocked publisher re-checks for room even without a wake-up.
const BLOCKED_RECHECK: Duration = Duration::from_millis(100);

/// A [`DurableQueue`] in a local SQLite file.
pub struct EmbeddedQueue {
    inner: Arc<LeaseStore>,
}

/// The SQLite side of the queue, shared with its consumer tasks.
pub(super) struct LeaseStore {
    pool: SqlitePool,
    settings: QueueSettings,
    pub(super) clock: Arc<dyn Clock>,
    /// Signalled whenever a message leaves a queue, waking blocked publishers.
    room: Notify,
    /// Signalled whenever a message becomes ready, waking idle consumers.
    pub(super) ready: Notify,
    /// Hears how long each blocked publisher waited.
    blocked_opt: Option<BlockedObserver>,
    /// The prefetch slot of each unsettled delivery, by (queue, row id); settling frees it.
    pub(super) held: Mutex<HashMap<(QueueName, u64), (u64, OwnedSemaphorePermit)>>,
}

impl EmbeddedQueue {
    /// Opens (creating if needed) the queue file at `path` with the system clock.
    pub async fn open(path: &Path, settings: QueueSettings) -> Result<Self, BackendError> {
        Self::open_with_clock(path, settings, Arc::new(SystemClock)).await
    }

    /// Opens the queue file with a given clock (tests drive lease expiry with a manual clock).
    pub async fn open_with_clock(
        path: &Path,
        settings: QueueSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, BackendError> {
        let pool = open_pool(path, 1, Checkpointing::Automatic).await?;
        sqlx::migrate!("src/backends/queue/migrations")
            .run(&pool)
            .await
            .map_err(|e| {
                BackendError::internal(format!("migrating queue database: {e}")).with_source(e)
            })?;
        let inner = LeaseStore {
            pool,
            settings,
            clock,
            room: Notify::new(),
            ready: Notify::new(),
            blocked_opt: None,
            held: Mutex::default(),
        };
        Ok(EmbeddedQueue {
            inner: Arc::new(inner),
        })
    }

    /// Reports the time publishers spend waiting for room to `observer`.
    pub fn with_blocked_observer(mut self, observer_opt: Option<BlockedObserver>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.blocked_opt = observer_opt,
            None => tracing::warn!("queue already shared; blocked-publisher observer not set"),
        }
        self
    }

    /// Closes the database, waiting for the connection to finish.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }
}

impl LeaseStore {
    fn record_blocked(&self, queue: QueueName, since_opt: Option<Instant>) {
        if let (Some(observer), Some(since)) = (&self.blocked_opt, since_opt) {
            observer.observe(queue, since.elapsed());
        }
    }

    fn now_millis(&self) -> i64 {
        to_millis(self.clock.now())
    }

    /// Inserts the message if the queue has room; `Ok(false)` when it is full.
    async fn try_insert(
        &self,
        queue: QueueName,
        message: &QueueMessage,
        attributes: &str,
    ) -> Result<bool, BackendError> {
        let capacity = self.settings.limits(queue).capacity;
        let visible_at = self.now_millis();
        // One statement, so the capacity check and the insert are atomic.
        let result = sqlx::query(
            "INSERT INTO queue_messages (queue, body, attributes, visible_at)
             SELECT ?1, ?2, ?3, ?4
             WHERE (SELECT COUNT(*) FROM queue_messages WHERE queue = ?1) < ?5",
        )
        .bind(queue.as_str())
        .bind(message.body.as_ref())
        .bind(attributes)
        .bind(visible_at)
        .bind(i64::try_from(capacity).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(|e| BackendError::from_sqlx("publishing", e))?;
        Ok(result.rows_affected() == 1)
    }

    /// Runs `statement` against the leased message; `Conflict` if the lease is not current.
    async fn with_lease(
        &self,
        delivery: &DeliveryId,
        statement: &str,
        time: i64,
    ) -> Result<(), BackendError> {
        let result = sqlx::query(statement)
            .bind(row_id(delivery.tag))
            .bind(row_id(delivery.token))
            .bind(time)
            .execute(&self.pool)
            .await
            .map_err(|e| BackendError::from_sqlx("updating a leased message", e))?;
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(BackendError::conflict(format!(
                "message {} in {} is no longer held by this delivery",
                delivery.tag, delivery.queue
            )))
        }
    }
}

fn encode_attributes(attributes: &BTreeMap<String, String>) -> Result<String, BackendError> {
    serde_json::to_string(attributes)
        .map_err(|e| BackendError::internal(format!("encoding attributes: {e}")).with_source(e))
}

fn decode_attributes(json: &str) -> Result<BTreeMap<String, String>, BackendError> {
    serde_json::from_str(json)
        .map_err(|e| BackendError::corrupt(format!("decoding attributes: {e}")).with_source(e))
}

fn millis_of(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn attempts_of(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn row_id(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn tag_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl LeaseStore {
    pub(super) async fn publish(
        &self,
        queue: QueueName,
        message: QueueMessage,
    ) -> Result<(), BackendError> {
        let limits = *self.settings.limits(queue);
        message.check(queue, &limits)?;
        let attributes = encode_attributes(&message.attributes)?;
        let deadline = Instant::now() + limits.block_timeout;
        // Since when this publisher has been waiting for room, once it has had to.
        let mut blocked_since_opt = None;
        loop {
            // Register for wake-ups before checking, so a release in between is not missed.
            let released = self.room.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let inserted = self.try_insert(queue, &message, &attributes).await;
            if !matches!(inserted, Ok(false)) {
                self.record_blocked(queue, blocked_since_opt);
                self.ready.notify_waiters();
                return inserted.map(|_| ());
            }
            let now = Instant::now();
            if limits.overload == OverloadMode::RejectNewest || now >= deadline {
                self.record_blocked(queue, blocked_since_opt);
                tracing::warn!(queue = queue.as_str(), "queue full, publish refused");
                return Err(BackendError::unavailable(format!(
                    "queue {queue} is full ({} messages)",
                    limits.capacity
                )));
            }
            blocked_since_opt.get_or_insert(now);
            let wait = (deadline - now).min(BLOCKED_RECHECK);
            let _ = tokio::time::timeout(wait, released).await;
        }
    }

    pub(super) async fn lease(
        &self,
        queue: QueueName,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, BackendError> {
        let max = max.min(MAX_RECEIVE_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = self.now_millis();
        let lease_until = now.saturating_add(millis_of(lease));
        let mut transaction = self
            .pool
            .begin()
            .await
            .map_err(|e| BackendError::from_sqlx("starting a receive", e))?;
        let rows = sqlx::query(
            "SELECT id, body, attributes, attempts FROM queue_messages
             WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?",
        )
        .bind(queue.as_str())
        .bind(now)
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        .fetch_all(&mut *transaction)
        .await
        .map_err(|e| BackendError::from_sqlx("selecting messages", e))?;
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.get("id");
            let attempts: i64 = row.get::<i64, _>("attempts") + 1;
            sqlx::query(
                "UPDATE queue_messages SET visible_at = ?, attempts = ?, lease_token = ?
                 WHERE id = ?",
            )
            .bind(lease_until)
            .bind(attempts)
            .bind(attempts)
            .bind(id)
            .execute(&mut *transaction)
            .await
            .map_err(|e| BackendError::from_sqlx("leasing a message", e))?;
            deliveries.push(Delivery {
                id: DeliveryId {
                    queue,
                    tag: tag_of(id),
                    token: tag_of(attempts),
                },
                body: Bytes::from(row.get::<Vec<u8>, _>("body")),
                attributes: decode_attributes(row.get("attributes"))?,
                attempts: attempts_of(attempts),
            });
        }
        transaction
            .commit()
            .await
            .map_err(|e| BackendError::from_sqlx("committing a receive", e))?;
        Ok(deliveries)
    }

    pub(super) async fn ack(&self, delivery: &DeliveryId) -> Result<(), BackendError> {
        self.with_lease(
            delivery,
            "DELETE FROM queue_messages WHERE id = ?1 AND lease_token = ?2 AND ?3 = ?3",
            0,
        )
        .await?;
        self.room.notify_waiters();
        Ok(())
    }

    pub(super) async fn retry(
        &self,
        delivery: &DeliveryId,
        retry_after: Duration,
    ) -> Result<(), BackendError> {
        let visible_at = self.now_millis().saturating_add(millis_of(retry_after));
        self.with_lease(
            delivery,
            "UPDATE queue_messages SET visible_at = ?3, lease_token = NULL
             WHERE id = ?1 AND lease_token = ?2",
            visible_at,
        )
        .await?;
        if retry_after.is_zero() {
            self.ready.notify_waiters();
        }
        Ok(())
    }

    /// Gives back what a consumer still held when it ended: ready again at once.
    pub(super) async fn release(&self, deliveries: &[DeliveryId]) -> Result<(), BackendError> {
        let now = self.now_millis();
        for delivery in deliveries {
            // A delivery settled meanwhile no longer matches: nothing to give back.
            let _ = self
                .with_lease(
                    delivery,
                    "UPDATE queue_messages SET visible_at = ?3, lease_token = NULL
                     WHERE id = ?1 AND lease_token = ?2",
                    now,
                )
                .await;
        }
        self.ready.notify_waiters();
        Ok(())
    }

    pub(super) async fn dead_letter(
        &self,
        delivery: &DeliveryId,
        reason: &str,
    ) -> Result<(), BackendError> {
        let queue = delivery.queue;
        let cap = self.settings.limits(queue).dead_letter_capacity;
        let mut transaction = self
            .pool
            .begin()
            .await
            .map_err(|e| BackendError::from_sqlx("starting a dead-letter", e))?;
        let (held,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM queue_dead_letters WHERE queue = ?")
                .bind(queue.as_str())
                .fetch_one(&mut *transaction)
                .await
                .map_err(|e| BackendError::from_sqlx("counting dead letters", e))?;
        if u64::try_from(held).unwrap_or(0) >= cap {
            // Refusing keeps the message leased: the consumer nacks and an operator purges.
            return Err(BackendError::unavailable(format!(
                "dead-letter store of {queue} is full ({cap} messages)"
            )));
        }
        let moved = sqlx::query(
            "INSERT INTO queue_dead_letters (id, queue, body, attributes, attempts, reason, dead_at)
             SELECT id, queue, body, attributes, attempts, ?3, ?4 FROM queue_messages
             WHERE id = ?1 AND lease_token = ?2",
        )
        .bind(row_id(delivery.tag))
        .bind(row_id(delivery.token))
        .bind(reason)
        .bind(self.now_millis())
        .execute(&mut *transaction)
        .await
        .map_err(|e| BackendError::from_sqlx("dead-lettering", e))?;
        if moved.rows_affected() != 1 {
            return Err(BackendError::conflict(format!(
                "message {} in {queue} is no longer held by this delivery",
                delivery.tag
            )));
        }
        sqlx::query("DELETE FROM queue_messages WHERE id = ?")
            .bind(row_id(delivery.tag))
            .execute(&mut *transaction)
            .await
            .map_err(|e| BackendError::from_sqlx("dead-lettering", e))?;
        transaction
            .commit()
            .await
            .map_err(|e| BackendError::from_sqlx("committing a dead-letter", e))?;
        tracing::warn!(queue = queue.as_str(), reason, "message dead-lettered");
        self.room.notify_waiters();
        Ok(())
    }

    /// Keeps a held message leased for `lease` from now.
    pub(super) async fn extend_lease(
        &self,
        delivery: &DeliveryId,
        lease: Duration,
    ) -> Result<(), BackendError> {
        let lease_until = self.now_millis().saturating_add(millis_of(lease));
        self.with_lease(
            delivery,
            "UPDATE queue_messages SET visible_at = ?3 WHERE id = ?1 AND lease_token = ?2",
            lease_until,
        )
        .await
    }

    pub(super) async fn depth(&self, queue: QueueName) -> Result<u64, BackendError> {
        let (depth,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM queue_messages WHERE queue = ?")
                .bind(queue.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| BackendError::from_sqlx("counting messages", e))?;
        Ok(u64::try_from(depth).unwrap_or(0))
    }

    pub(super) async fn dead_letters(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BackendError> {
        let rows = sqlx::query(
            "SELECT id, body, attributes, attempts, reason, dead_at FROM queue_dead_letters
             WHERE queue = ? ORDER BY id LIMIT ?",
        )
        .bind(queue.as_str())
        .bind(i64::try_from(limit.min(MAX_RECEIVE_BATCH)).unwrap_or(0))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| BackendError::from_sqlx("listing dead letters", e))?;
        rows.into_iter()
            .map(|row| {
                Ok(DeadLetter {
                    queue,
                    message_id: row.get::<i64, _>("id").to_string(),
                    body: Bytes::from(row.get::<Vec<u8>, _>("body")),
                    attributes: decode_attributes(row.get("attributes"))?,
                    attempts: attempts_of(row.get("attempts")),
                    reason: row.get("reason"),
                    dead_at: from_millis(row.get("dead_at"))?,
                })
            })
            .collect()
    }

    /// Retries (back into the queue, in the same transaction) or drops one dead letter.
    pub(super) async fn settle_dead_letter(
        &self,
        queue: QueueName,
        message_id: &str,
        retry: bool,
    ) -> Result<(), BackendError> {
        let missing =
            || BackendError::not_found(format!("no dead letter {message_id:?} in {queue}"));
        let id: i64 = message_id.parse().map_err(|_| missing())?;
        let mut transaction = self
            .pool
            .begin()
            .await
            .map_err(|e| BackendError::from_sqlx("starting a dead-letter settle", e))?;
        if retry {
            let capacity = self.settings.limits(queue).capacity;
            let revived = sqlx::query(
                "INSERT INTO queue_messages (queue, body, attributes, visible_at)
                 SELECT queue, body, attributes, ?3 FROM queue_dead_letters
                 WHERE id = ?1 AND queue = ?2
                   AND (SELECT COUNT(*) FROM queue_messages WHERE queue = ?2) < ?4",
            )
            .bind(id)
            .bind(queue.as_str())
            .bind(self.now_millis())
            .bind(i64::try_from(capacity).unwrap_or(i64::MAX))
            .execute(&mut *transaction)
            .await
            .map_err(|e| BackendError::from_sqlx("retrying a dead letter", e))?;
            if revived.rows_affected() != 1 {
                let (held,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM queue_dead_letters WHERE id = ? AND queue = ?",
                )
                .bind(id)
                .bind(queue.as_str())
                .fetch_one(&mut *transaction)
                .await
                .map_err(|e| BackendError::from_sqlx("finding a dead letter", e))?;
                return Err(if held == 0 {
                    missing()
                } else {
                    BackendError::unavailable(format!(
                        "queue {queue} is full ({capacity} messages); the dead letter stays"
                    ))
                });
            }
        }
        let deleted = sqlx::query("DELETE FROM queue_dead_letters WHERE id = ? AND queue = ?")
            .bind(id)
            .bind(queue.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(|e| BackendError::from_sqlx("deleting a dead letter", e))?;
        if deleted.rows_affected() != 1 {
            return Err(missing());
        }
        transaction
            .commit()
            .await
            .map_err(|e| BackendError::from_sqlx("committing a dead-letter settle", e))?;
        if retry {
            self.ready.notify_waiters();
        }
        Ok(())
    }

    pub(super) async fn health_check(&self) -> Result<(), BackendError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| BackendError::from_sqlx("queue health check", e))?;
        Ok(())
    }
}

impl EmbeddedQueue {
    /// Frees the prefetch slot of a settled delivery.
    fn settled(&self, delivery: &DeliveryId) {
        if let Ok(mut held) = self.inner.held.lock() {
            let key = (delivery.queue, delivery.tag);
            if held
                .get(&key)
                .is_some_and(|(token, _)| *token == delivery.token)
            {
                held.remove(&key);
            }
        }
    }

    /// Settles with `result`: a stale delivery frees its slot too, since it is no longer held.
    fn after_settle(
        &self,
        delivery: &DeliveryId,
        result: Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        match &result {
            Ok(()) => self.settled(delivery),
            Err(error) if error.kind == crate::backends::BackendErrorKind::Conflict => {
                self.settled(delivery)
            }
            Err(_) => {}
        }
        result
    }
}

#[async_trait]
impl DurableQueue for EmbeddedQueue {
    async fn publish(&self, queue: QueueName, message: QueueMessage) -> Result<(), BackendError> {
        self.inner.publish(queue, message).await
    }

    async fn consume(&self, queue: QueueName, prefetch: usize) -> Result<Consumer, BackendError> {
        Ok(embedded_consumer::start(
            Arc::clone(&self.inner),
            queue,
            prefetch,
        ))
    }

    async fn ack(&self, delivery: &DeliveryId) -> Result<(), BackendError> {
        let result = self.inner.ack(delivery).await;
        self.after_settle(delivery, result)
    }

    async fn retry(&self, delivery: &DeliveryId, after: Duration) -> Result<(), BackendError> {
        let result = self.inner.retry(delivery, after).await;
        self.after_settle(delivery, result)
    }

    async fn dead_letter(&self, delivery: &DeliveryId, reason: &str) -> Result<(), BackendError> {
        let result = self.inner.dead_letter(delivery, reason).await;
        self.after_settle(delivery, result)
    }

    async fn depth(&self, queue: QueueName) -> Result<u64, BackendError> {
        self.inner.depth(queue).await
    }

    async fn dead_letters(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BackendError> {
        self.inner.dead_letters(queue, limit).await
    }

    async fn retry_dead_letter(
        &self,
        queue: QueueName,
        message_id: &str,
    ) -> Result<(), BackendError> {
        self.inner.settle_dead_letter(queue, message_id, true).await
    }

    async fn drop_dead_letter(
        &self,
        queue: QueueName,
        message_id: &str,
    ) -> Result<(), BackendError> {
        self.inner
            .settle_dead_letter(queue, message_id, false)
            .await
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        self.inner.health_check().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use async_trait::async_trait;
    use chrono::Utc;

    use super::EmbeddedQueue;
    use crate::backends::clock::ManualClock;
    use crate::backends::queue::conformance::QueueHarness;
    use crate::backends::queue::{DurableQueue, QueueSettings};

    struct Harness {
        dir: tempfile::TempDir,
        clock: Arc<ManualClock>,
    }

    impl Harness {
        fn new() -> Self {
            Harness {
                dir: tempfile::tempdir().expect("temp dir"),
                clock: Arc::new(ManualClock::new(Utc::now())),
            }
        }
    }

    #[async_trait]
    impl QueueHarness for Harness {
        async fn open(&self, settings: QueueSettings) -> Arc<dyn DurableQueue> {
            let path = self.dir.path().join("queue.sqlite");
            Arc::new(
                EmbeddedQueue::open_with_clock(&path, settings, self.clock.clone())
                    .await
                    .expect("open queue"),
            )
        }

        async fn advance(&self, by: Duration) {
            self.clock.advance(by);
        }
    }

    crate::queue_conformance!(async { Harness::new() });

    #[tokio::test]
    async fn a_publisher_blocked_on_a_full_queue_reports_its_wait() {
        use crate::backends::queue::{
            BlockedObserver, OverloadMode, QueueLimits, QueueMessage, QueueName,
        };
        use std::sync::Mutex;

        let waits = Arc::new(Mutex::new(Vec::new()));
        let observer = {
            let waits = waits.clone();
            BlockedObserver::new(move |queue, waited| waits.lock().unwrap().push((queue, waited)))
        };
        let limits = QueueLimits {
            capacity: 1,
            overload: OverloadMode::Block,
            block_timeout: Duration::from_millis(300),
            ..QueueLimits::default()
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let queue =
            EmbeddedQueue::open(&dir.path().join("q.sqlite"), QueueSettings::uniform(limits))
                .await
                .expect("open queue")
                .with_blocked_observer(Some(observer));
        let q = QueueName::OutboundParcels;
        queue
            .publish(q, QueueMessage::new("first"))
            .await
            .expect("room");
        assert!(
            waits.lock().unwrap().is_empty(),
            "no wait while there is room"
        );

        // Full: this one waits out the whole block timeout, then is refused.
        assert!(queue.publish(q, QueueMessage::new("second")).await.is_err());
        let recorded = waits.lock().unwrap().clone();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].0, q);
        assert!(recorded[0].1 >= Duration::from_millis(200), "{recorded:?}");
    }
}
