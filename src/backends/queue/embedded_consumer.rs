//! Push consumers of the embedded queue: one task per consumer leases what its prefetch allows,
//! hands it over, and keeps the leases of what its consumer holds alive.
//!
//! Why leases at all in one process: a SIGKILL gives nothing back, so whatever the dead process
//! held must come back by itself; a lease that is renewed every [`RENEW_EVERY`] and runs out
//! after [`LEASE`] does that without delaying live consumers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};

use super::embedded::{LeaseStore, MAX_RECEIVE_BATCH};
use super::{Consumer, DeliveryId, QueueName};

/// How long a delivery stays leased without renewal (how soon a dead process's work returns).
pub const LEASE: Duration = Duration::from_secs(30);
/// How often a consumer renews the leases of what it holds.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How often an idle consumer looks again without a wake-up (retries whose delay ran out).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Pause after a failed lease statement before the next try.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Starts the task of a consumer of `queue` holding at most `prefetch` deliveries.
pub(super) fn start(store: Arc<LeaseStore>, queue: QueueName, prefetch: usize) -> Consumer {
    let prefetch = prefetch.clamp(1, MAX_RECEIVE_BATCH);
    let (sender, receiver) = mpsc::channel(prefetch);
    let task = ConsumerTask {
        store,
        queue,
        slots: Arc::new(Semaphore::new(prefetch)),
        sender,
        handed: Vec::new(),
    };
    tokio::spawn(task.run());
    Consumer::new(receiver, ())
}

struct ConsumerTask {
    store: Arc<LeaseStore>,
    queue: QueueName,
    /// One permit per delivery this consumer may hold; a held delivery's permit sits in
    /// `store.held` until it is settled.
    slots: Arc<Semaphore>,
    sender: mpsc::Sender<Result<super::Delivery, crate::backends::BackendError>>,
    /// What this consumer handed out and may still hold (pruned at each renewal).
    handed: Vec<DeliveryId>,
}

impl ConsumerTask {
    async fn run(mut self) {
        let mut renew = tokio::time::interval(RENEW_EVERY);
        renew.tick().await;
        loop {
            let slots = Arc::clone(&self.slots);
            tokio::select! {
                () = self.sender.closed() => break,
                _ = renew.tick() => self.renew().await,
                permit = slots.acquire_owned() => {
                    let Ok(first) = permit else { break };
                    if !self.fill(first, &mut renew).await {
                        break;
                    }
                }
            }
        }
        self.prune();
        let handed = self.forget_held();
        if let Err(error) = self.store.release(&handed).await {
            tracing::warn!(%error, "cannot give back a closed consumer's messages; their leases will run out");
        }
    }

    /// Leases as many messages as there are free slots (at least `first`'s) and hands them
    /// over; waits for one to be ready first. False once the consumer is gone.
    async fn fill(
        &mut self,
        first: tokio::sync::OwnedSemaphorePermit,
        renew: &mut tokio::time::Interval,
    ) -> bool {
        let mut permits = vec![first];
        while let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() {
            permits.push(permit);
        }
        loop {
            // Armed before looking, so a publish in between is not missed.
            let store = Arc::clone(&self.store);
            let ready = store.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            match self.store.lease(self.queue, permits.len(), LEASE).await {
                Ok(deliveries) if deliveries.is_empty() => {}
                Ok(deliveries) => {
                    for delivery in deliveries {
                        let Some(permit) = permits.pop() else { break };
                        self.hold(&delivery.id, permit);
                        self.handed.push(delivery.id.clone());
                        if self.sender.send(Ok(delivery)).await.is_err() {
                            return false;
                        }
                    }
                    return true;
                }
                Err(error) => {
                    tracing::warn!(%error, queue = self.queue.as_str(), "embedded consumer cannot lease");
                    tokio::time::sleep(ERROR_PAUSE).await;
                }
            }
            tokio::select! {
                () = self.sender.closed() => return false,
                () = ready => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
                _ = renew.tick() => self.renew().await,
            }
        }
    }

    fn hold(&self, id: &DeliveryId, permit: tokio::sync::OwnedSemaphorePermit) {
        if let Ok(mut held) = self.store.held.lock() {
            held.insert((id.queue, id.tag), (id.token, permit));
        }
    }

    /// Forgets what was settled since.
    fn prune(&mut self) {
        let Ok(held) = self.store.held.lock() else {
            return;
        };
        self.handed.retain(|id| {
            held.get(&(id.queue, id.tag))
                .is_some_and(|(token, _)| *token == id.token)
        });
    }

    /// Frees the slots of everything still handed out, before it is given back (after that,
    /// another consumer may hold the same rows).
    fn forget_held(&mut self) -> Vec<DeliveryId> {
        let handed = std::mem::take(&mut self.handed);
        if let Ok(mut held) = self.store.held.lock() {
            for id in &handed {
                if held
                    .get(&(id.queue, id.tag))
                    .is_some_and(|(t, _)| *t == id.token)
                {
                    held.remove(&(id.queue, id.tag));
                }
            }
        }
        handed
    }

    async fn renew(&mut self) {
        self.prune();
        for id in &self.handed {
            if let Err(error) = self.store.extend_lease(id, LEASE).await {
                tracing::debug!(%error, "lease not renewed");
            }
        }
    }
}

impl Drop for ConsumerTask {
    fn drop(&mut self) {
        // Aborted with its runtime: the slots go, the leases run out.
        self.forget_held();
    }
}
