//! The dispatcher: leases outbound parcels while it has room and hands each to the actor of its
//! destination, created on demand under a [`Supervisor`].
//!
//! Backpressure: the dispatcher never holds more than `max_leased` parcels (the rest wait in the
//! durable mailbox, visible in `gateway_mailbox_depth`), and a destination never more than
//! `per_destination_limit()`. A parcel for a full destination goes back to the mailbox for
//! `busy_retry_after` instead of blocking parcels for other destinations behind it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::Notify;

use super::destination::{Deliver, Destination, ACTOR_NAME};
use super::job::{Engine, Job, Slots, STAGE};
use super::resolver::normalise_address;
use crate::actors::mailbox::OutboundParcel;
use crate::backends::queue::{Delivery, QueueName};
use crate::supervision::{
    send_bounded, try_send_bounded, CurrentChild, RestartPolicy, ShutdownListener, Supervisor,
};

const QUEUE: QueueName = QueueName::OutboundParcels;
/// Longest wait for a supervisor to name its child.
const SUPERVISOR_TIMEOUT: Duration = Duration::from_secs(1);

/// Lets producers wake the dispatcher, and callers wait for it to stop.
pub struct OutboundHandle {
    wake: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl OutboundHandle {
    /// Polls the mailbox now (e.g. right after publishing an outbound parcel).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A wake-up handle for producers.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Resolves once the dispatcher has stopped (after shutdown was signalled).
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

struct DestinationEntry {
    supervisor: Addr<Supervisor<Destination>>,
    child: Option<Addr<Destination>>,
    slots: Slots,
}

pub struct Dispatcher {
    engine: Arc<Engine>,
    slots: Slots,
    destinations: HashMap<String, DestinationEntry>,
    shutdown: ShutdownListener,
    wake: Arc<Notify>,
}

impl Dispatcher {
    pub fn new(engine: Arc<Engine>, shutdown: ShutdownListener) -> Self {
        Dispatcher {
            slots: Slots::new(engine.settings.max_leased),
            engine,
            destinations: HashMap::new(),
            shutdown,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Runs the dispatcher on the current actix arbiter.
    pub fn spawn(self) -> OutboundHandle {
        let wake = Arc::clone(&self.wake);
        let task = actix_rt::spawn(self.run());
        OutboundHandle { wake, task }
    }

    async fn run(mut self) {
        let mut shutdown = self.shutdown.clone();
        loop {
            if shutdown.is_shutdown() {
                break;
            }
            let full_batch = self.poll().await;
            if full_batch {
                continue; // More may be waiting; the slots bound how far this goes.
            }
            let poll_interval = self.engine.settings.poll_interval;
            tokio::select! {
                () = shutdown.recv() => break,
                () = tokio::time::sleep(poll_interval) => {}
                () = self.wake.notified() => {}
            }
        }
        // Destination actors watch the same signal and drain themselves.
        tracing::info!("outbound delivery dispatcher stopped");
    }

    /// Leases what fits and dispatches it; true when the batch filled the room it had.
    async fn poll(&mut self) -> bool {
        self.destinations
            .retain(|_, entry| entry.supervisor.connected());
        self.report_depth().await;
        let room = self.slots.free();
        if room == 0 {
            return false;
        }
        let settings = &self.engine.settings;
        let deliveries = match self.engine.queue.receive(QUEUE, room, settings.lease).await {
            Ok(deliveries) => deliveries,
            Err(error) => {
                tracing::warn!(error = %error, "cannot lease outbound parcels");
                self.engine.metrics.record_error("queue", STAGE);
                return false;
            }
        };
        let full = deliveries.len() >= room;
        for delivery in deliveries {
            self.dispatch(delivery).await;
        }
        full
    }

    async fn report_depth(&self) {
        if let Ok(depth) = self.engine.queue.depth(QUEUE).await {
            let depth = i64::try_from(depth).unwrap_or(i64::MAX);
            self.engine.metrics.set_mailbox_depth(QUEUE.as_str(), depth);
        }
    }

    async fn dispatch(&mut self, delivery: Delivery) {
        let engine = Arc::clone(&self.engine);
        let parcel = match OutboundParcel::from_delivery(&delivery) {
            Ok(parcel) => parcel,
            Err(error) => {
                tracing::warn!(error = %error, "malformed outbound mailbox message");
                engine
                    .dead_letter_id(&delivery.id, &error.to_string())
                    .await;
                return;
            }
        };
        if engine.is_expired(&parcel) {
            engine.drop_expired(&delivery.id, &parcel).await;
            return;
        }
        let address = match normalise_address(&parcel.recipient_address) {
            Ok(address) => address,
            Err(error) => {
                engine.undeliverable(&delivery.id, &parcel, &error).await;
                return;
            }
        };
        let Some(worker_slot) = self.slots.try_take() else {
            engine
                .release(&delivery.id, engine.settings.busy_retry_after)
                .await;
            return;
        };
        let entry = self.entry(&address);
        let Some(destination_slot) = entry.slots.try_take() else {
            tracing::debug!(destination = %address, "destination full; parcel goes back to the mailbox");
            engine
                .release(&delivery.id, engine.settings.busy_retry_after)
                .await;
            return;
        };
        let id = delivery.id.clone();
        let job = Job {
            id: delivery.id,
            attempts: delivery.attempts,
            parcel,
            slots: vec![worker_slot, destination_slot],
        };
        if !self.send(&address, job).await {
            // The job (and its slots) went down with the failed send; the parcel is still ours.
            engine.release(&id, engine.settings.busy_retry_after).await;
        }
    }

    /// Sends to the destination's live child, re-creating a stopped supervisor once.
    async fn send(&mut self, address: &str, job: Job) -> bool {
        let mut job = Some(job);
        for _ in 0..2 {
            let Some(child) = self.child(address).await else {
                self.destinations.remove(address);
                continue;
            };
            let Some(message) = job.take() else {
                return false;
            };
            return try_send_bounded(&child, Deliver(message)).is_ok();
        }
        false
    }

    async fn child(&mut self, address: &str) -> Option<Addr<Destination>> {
        let entry = self.entry(address);
        if let Some(child) = entry.child.as_ref().filter(|child| child.connected()) {
            return Some(child.clone());
        }
        let supervisor = entry.supervisor.clone();
        let child = send_bounded(&supervisor, CurrentChild::new(), SUPERVISOR_TIMEOUT)
            .await
            .ok()
            .flatten()?;
        if let Some(entry) = self.destinations.get_mut(address) {
            entry.child = Some(child.clone());
        }
        Some(child)
    }

    fn entry(&mut self, address: &str) -> &mut DestinationEntry {
        let engine = &self.engine;
        let shutdown = &self.shutdown;
        self.destinations
            .entry(address.to_owned())
            .or_insert_with(|| start_destination(address, engine, shutdown))
    }
}

fn start_destination(
    address: &str,
    engine: &Arc<Engine>,
    shutdown: &ShutdownListener,
) -> DestinationEntry {
    let settings = &engine.settings;
    let factory = {
        let (address, engine, shutdown) =
            (address.to_owned(), Arc::clone(engine), shutdown.clone());
        move |link| Destination::new(address.clone(), Arc::clone(&engine), shutdown.clone(), link)
    };
    let on_escalate = {
        let address = address.to_owned();
        move |escalation: crate::supervision::Escalation| {
            // The dispatcher notices the stopped supervisor and starts afresh on the next parcel.
            tracing::error!(destination = %address, cause = escalation.cause.as_str(), "destination actor keeps failing");
        }
    };
    let supervisor = Supervisor::new(ACTOR_NAME, RestartPolicy::default(), factory, on_escalate)
        .with_metrics(engine.metrics.clone())
        .with_mailbox_capacity(settings.destination_queue_capacity)
        .start();
    DestinationEntry {
        supervisor,
        child: None,
        slots: Slots::new(settings.per_destination_limit()),
    }
}
