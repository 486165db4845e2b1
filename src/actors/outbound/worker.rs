//! The dispatcher: consumes outbound parcels (prefetch `max_leased`) while it has room and hands
//! each to the actor of its destination, created on demand under a [`Supervisor`].
//!
//! Backpressure: the dispatcher never holds more than `max_leased` parcels (the rest wait in the
//! durable mailbox, visible in `gateway_mailbox_depth`), and a destination never more than
//! `per_destination_limit()`. A parcel for a full destination goes back to the mailbox for
//! `busy_retry_after` instead of blocking parcels for other destinations behind it.
//!
//! Supervision (DESIGN.md §3): the dispatcher runs as an actor whose loop is a [`protect`]ed
//! task, under a supervisor, under the subtree's root. Its state (its consumer, destination
//! actors) is rebuilt from the mailbox: when the loop panics or a destination escalates, the
//! loop's state is dropped, its destinations drain (they follow a shutdown trigger the loop
//! owns), the consumer goes and the mailbox delivers its parcels again to the restarted
//! dispatcher. A job lost with a destination actor gives its parcel back through its
//! [`SettleGuard`](super::job::SettleGuard). Producers wake a dispatcher waiting for room
//! through a [`Notify`] that outlives every restart.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use thiserror::Error;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tracing::Instrument;

use super::destination::{Deliver, Destination, ACTOR_NAME};
use super::job::{Engine, Job, Slots, STAGE};
use super::resolver::normalise_address;
use crate::actors::mailbox::OutboundParcel;
use crate::backends::queue::{Consumer, Delivery, QueueName};
use crate::supervision::faults::FaultPoint;
use crate::supervision::status::WorkerStatus;
use crate::supervision::{
    protect, send_bounded_recorded, try_send_bounded, ChildLink, CurrentChild, Escalation,
    RestartCause, RestartPolicy, Shutdown, ShutdownListener, Supervisor,
};

const QUEUE: QueueName = QueueName::OutboundParcels;
/// Pause before consuming again after the mailbox refused or lost the consumer.
const RECONSUME_PAUSE: Duration = Duration::from_secs(1);
/// Longest wait for a supervisor to name its child.
const SUPERVISOR_TIMEOUT: Duration = Duration::from_secs(1);
/// The `actor` label of the dispatcher.
pub const DISPATCHER_ACTOR_NAME: &str = "outbound_dispatcher";
/// The `actor` label of the root of the outbound subtree.
pub const ROOT_ACTOR_NAME: &str = "outbound_delivery";

/// Lets producers wake the dispatcher, and callers wait for it to stop.
pub struct OutboundHandle {
    wake: Arc<Notify>,
    stopped: Pin<Box<dyn Future<Output = ()>>>,
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
        self.stopped.await;
    }
}

/// What the outbound subtree shares with the rest of the process, so that it survives the
/// subtree's restarts.
#[derive(Clone)]
pub struct OutboundShared {
    /// Producers notify it after publishing; the dispatcher of the moment waits on it.
    pub wake: Arc<Notify>,
    pub faults: Arc<crate::supervision::faults::Faults>,
    /// Whether the dispatcher runs (for `/health`).
    pub status: Arc<WorkerStatus>,
    /// Where settled parcels stop counting against their private gateway's Internet-bound
    /// quota; `None` for a worker alone (tests, tools).
    pub settlements: Option<Arc<dyn crate::backends::metadata::MetadataStore>>,
}

impl OutboundShared {
    /// Parts of its own, for a worker alone in its process (tests, tools).
    pub fn standalone() -> Self {
        OutboundShared {
            wake: Arc::new(Notify::new()),
            faults: Arc::default(),
            status: Arc::new(WorkerStatus::new(1)),
            settlements: None,
        }
    }
}

/// Starts the outbound subtree: root, dispatcher supervisor, dispatcher.
pub(super) fn start(
    engine: Arc<Engine>,
    shutdown: ShutdownListener,
    shared: &OutboundShared,
) -> OutboundHandle {
    let metrics = engine.metrics.clone();
    let status = Arc::clone(&shared.status);
    let subtree = {
        let (engine, wake, status) = (engine, Arc::clone(&shared.wake), Arc::clone(&status));
        move |link: ChildLink| {
            let (engine, shutdown, wake) =
                (Arc::clone(&engine), shutdown.clone(), Arc::clone(&wake));
            let metrics = engine.metrics.clone();
            Supervisor::new(
                DISPATCHER_ACTOR_NAME,
                RestartPolicy::default(),
                move |link| DispatcherActor {
                    engine: Arc::clone(&engine),
                    shutdown: shutdown.clone(),
                    wake: Arc::clone(&wake),
                    link,
                },
                |_| {}, // The root hears of it through the link.
            )
            .with_metrics(metrics)
            .with_status(Arc::clone(&status), true)
            .linked(link)
        }
    };
    let root = Supervisor::root(
        ROOT_ACTOR_NAME,
        RestartPolicy::for_root(),
        subtree,
        |escalation| {
            tracing::error!(
                actor = escalation.actor,
                cause = escalation.cause.as_str(),
                "outbound delivery keeps failing; still retrying at the longest backoff"
            );
        },
    )
    .with_metrics(metrics)
    .with_status(status, false);
    let stopped = Box::pin(root.stopped());
    root.start();
    OutboundHandle {
        wake: Arc::clone(&shared.wake),
        stopped,
    }
}

/// Why the dispatcher loop gave up (it is then restarted by its supervisor).
#[derive(Debug, Error)]
pub enum DispatchError {
    #[error("the actor of a destination keeps failing ({actor}, {cause})", cause = .cause.as_str())]
    DestinationEscalated {
        actor: &'static str,
        cause: RestartCause,
    },
}

/// The supervised actor around the dispatcher loop.
struct DispatcherActor {
    engine: Arc<Engine>,
    shutdown: ShutdownListener,
    wake: Arc<Notify>,
    link: ChildLink,
}

impl Actor for DispatcherActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let dispatcher = Dispatcher::new(
            Arc::clone(&self.engine),
            self.shutdown.clone(),
            Arc::clone(&self.wake),
        );
        ctx.spawn(
            protect(
                dispatcher
                    .run()
                    .instrument(tracing::info_span!("actor", actor = "outbound_dispatcher")),
            )
            .into_actor(self)
            .map(|outcome, actor, ctx| {
                match outcome {
                    Ok(Ok(())) => actor.link.completed(),
                    Ok(Err(error)) => {
                        tracing::error!(%error, "outbound dispatcher failed");
                        actor.link.fail(RestartCause::Error);
                    }
                    Err(panic) => {
                        tracing::error!(%panic, "outbound dispatcher panicked");
                        actor.link.fail(RestartCause::Panic);
                    }
                }
                ctx.stop();
            }),
        );
    }
}

struct DestinationEntry {
    supervisor: Addr<Supervisor<Destination>>,
    child: Option<Addr<Destination>>,
    slots: Slots,
}

/// The dispatcher loop's state: all of it is dropped when the loop fails.
struct Dispatcher {
    engine: Arc<Engine>,
    slots: Slots,
    destinations: HashMap<String, DestinationEntry>,
    /// The process's shutdown signal, which ends the loop.
    shutdown: ShutdownListener,
    /// Followed by this loop's destinations with the process's signal: dropped with the loop,
    /// so they drain (waiting parcels go back to the mailbox) when the loop dies.
    scope: Shutdown,
    wake: Arc<Notify>,
    escalations: mpsc::UnboundedReceiver<Escalation>,
    escalate: mpsc::UnboundedSender<Escalation>,
}

impl Dispatcher {
    fn new(engine: Arc<Engine>, shutdown: ShutdownListener, wake: Arc<Notify>) -> Self {
        let (escalate, escalations) = mpsc::unbounded_channel();
        Dispatcher {
            slots: Slots::new(engine.settings.max_leased),
            engine,
            destinations: HashMap::new(),
            shutdown,
            scope: Shutdown::new(),
            wake,
            escalations,
            escalate,
        }
    }

    async fn run(mut self) -> Result<(), DispatchError> {
        let mut shutdown = self.shutdown.clone();
        let mut consumer_opt: Option<Consumer> = None;
        let mut last_report: Option<Instant> = None;
        loop {
            if shutdown.is_shutdown() {
                break;
            }
            if let Ok(escalation) = self.escalations.try_recv() {
                return Err(escalated(escalation));
            }
            self.destinations
                .retain(|_, entry| entry.supervisor.connected());
            let poll_interval = self.engine.settings.poll_interval;
            if last_report.is_none_or(|at| at.elapsed() >= poll_interval) {
                self.report_depth().await;
                last_report = Some(Instant::now());
            }
            let Some(consumer) = consumer_opt.as_mut() else {
                let max = self.engine.settings.max_leased;
                match self.engine.queue.consume(QUEUE, max).await {
                    Ok(consumer) => consumer_opt = Some(consumer),
                    Err(error) => {
                        tracing::warn!(error = %error, "cannot consume outbound parcels");
                        self.engine.metrics.record_error("queue", STAGE);
                        tokio::select! {
                            () = shutdown.recv() => break,
                            () = tokio::time::sleep(RECONSUME_PAUSE) => {}
                        }
                    }
                }
                continue;
            };
            let room = self.slots.free() > 0;
            tokio::select! {
                () = shutdown.recv() => break,
                Some(escalation) = self.escalations.recv() => return Err(escalated(escalation)),
                next = consumer.next(), if room => match next {
                    Some(Ok(delivery)) => {
                        // Mid-work on purpose: the parcel must come back with its consumer.
                        self.engine.faults.check(FaultPoint::OutboundDispatch);
                        self.dispatch(delivery).await;
                    }
                    Some(Err(error)) => {
                        tracing::warn!(error = %error, "outbound mailbox consumer lost; consuming again");
                        self.engine.metrics.record_error("queue", STAGE);
                        consumer_opt = None;
                    }
                    None => consumer_opt = None,
                },
                () = tokio::time::sleep(poll_interval) => {}
                () = self.wake.notified(), if !room => {}
            }
        }
        // Destination actors watch the same signal and drain themselves.
        tracing::info!("outbound delivery dispatcher stopped");
        Ok(())
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
        let job = Job::new(
            delivery.id,
            delivery.attempts,
            parcel,
            vec![worker_slot, destination_slot],
            &engine.queue,
        );
        // A job that goes down with a failed send gives its parcel back through its guard.
        self.send(&address, job).await;
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
        let child = send_bounded_recorded(
            &supervisor,
            CurrentChild::new(),
            SUPERVISOR_TIMEOUT,
            &self.engine.metrics,
            ACTOR_NAME,
        )
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
        let shutdown = self.shutdown.clone().or(self.scope.listener());
        let escalate = &self.escalate;
        self.destinations
            .entry(address.to_owned())
            .or_insert_with(|| start_destination(address, engine, shutdown, escalate.clone()))
    }
}

fn escalated(escalation: Escalation) -> DispatchError {
    DispatchError::DestinationEscalated {
        actor: escalation.actor,
        cause: escalation.cause,
    }
}

fn start_destination(
    address: &str,
    engine: &Arc<Engine>,
    shutdown: ShutdownListener,
    escalate: mpsc::UnboundedSender<Escalation>,
) -> DestinationEntry {
    let settings = &engine.settings;
    let factory = {
        let (address, engine) = (address.to_owned(), Arc::clone(engine));
        move |link| Destination::new(address.clone(), Arc::clone(&engine), shutdown.clone(), link)
    };
    let on_escalate = {
        let address = address.to_owned();
        move |escalation: Escalation| {
            // The dispatcher is this destination's parent: it fails, and its supervisor
            // restarts it with every destination afresh after a backoff.
            tracing::error!(destination = %address, cause = escalation.cause.as_str(), "destination actor keeps failing");
            let _ = escalate.send(escalation);
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
