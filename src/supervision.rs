//! Restart rules, written once (house style, practice 9; DESIGN.md §3).
//!
//! actix restarts a `Supervised` actor in place (same instance, same `Addr`) and does not catch
//! panics in handlers. So this module builds supervision out of plain parts instead:
//! - [`RestartPolicy`]: capped exponential backoff, and escalation after `max_restarts` within
//!   `window`. Pure and deterministic: the caller passes `now`.
//! - [`protect`]: runs fallible or untrusted work in a spawned task, the panic boundary, and turns
//!   a panic into a [`PanicError`] that the actor reports as a failure.
//! - [`Supervisor`]: an actor that builds its child from a factory, learns of the child's death
//!   through a [`ChildLink`] the child owns, re-creates it after the policy's delay (a fresh
//!   instance, so no state survives that the child cannot rebuild from its stores), and
//!   escalates to its parent when the policy says so.
//! - [`Shutdown`]: broadcast a signal, drain until a deadline, then give up.
//! - [`send_bounded`] and [`try_send_bounded`]: the only ways to message an actor, both honouring
//!   mailbox capacity (`Addr::do_send` is banned in `clippy.toml`).
//! - [`faults`]: named fault points that tests arm to make workers panic mid-work.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::telemetry::Metrics;

pub mod faults;
mod mailbox;
mod shutdown;
pub mod status;

pub use mailbox::{
    send_bounded, send_bounded_recorded, start_with_capacity, try_send_bounded, MailboxError,
};
pub use shutdown::{DrainOutcome, Shutdown, ShutdownListener};
use status::WorkerStatus;

// === RestartPolicy ===

/// What to do after a child failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartDecision {
    /// Re-create the child after this delay.
    RestartAfter(Duration),
    /// Too many failures in the window: stop restarting and tell the parent.
    Escalate,
}

/// Capped exponential backoff with a limit of restarts per sliding window.
#[derive(Debug, Clone)]
pub struct RestartPolicy {
    /// Delay before the first restart after a calm period.
    pub initial_backoff: Duration,
    /// Cap on the delay.
    pub max_backoff: Duration,
    /// Restarts allowed within `window`; one more failure escalates.
    pub max_restarts: u32,
    /// The sliding window over which restarts are counted.
    pub window: Duration,
    /// When each restart within the window happened.
    recent: VecDeque<Instant>,
}

impl RestartPolicy {
    pub fn new(
        initial_backoff: Duration,
        max_backoff: Duration,
        max_restarts: u32,
        window: Duration,
    ) -> Self {
        Self {
            initial_backoff,
            max_backoff,
            max_restarts,
            window,
            recent: VecDeque::new(),
        }
    }

    /// Decides what follows a failure at `now`.
    ///
    /// The delay doubles with each restart still inside the window, so a child that has been
    /// healthy for a whole window starts again from `initial_backoff`.
    pub fn next_delay(&mut self, now: Instant) -> RestartDecision {
        while let Some(&oldest) = self.recent.front() {
            if now.saturating_duration_since(oldest) >= self.window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        let previous = u32::try_from(self.recent.len()).unwrap_or(u32::MAX);
        if previous >= self.max_restarts {
            return RestartDecision::Escalate;
        }
        self.recent.push_back(now);
        let factor = 2u32.saturating_pow(previous);
        let delay = self
            .initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        RestartDecision::RestartAfter(delay)
    }

    /// Forgets past restarts (for example after an operator intervened).
    pub fn reset(&mut self) {
        self.recent.clear();
    }
}

impl RestartPolicy {
    /// For the root of a subtree, whose children already back off on their own: 10 s doubling
    /// up to 5 minutes; past 3 subtree restarts within an hour the subtree is reported failing
    /// (and still restarted every 5 minutes).
    pub fn for_root() -> Self {
        Self::new(
            Duration::from_secs(10),
            Duration::from_secs(300),
            3,
            Duration::from_secs(3600),
        )
    }
}

impl Default for RestartPolicy {
    /// 1 s doubling up to 60 s; escalate after 5 restarts within 10 minutes.
    fn default() -> Self {
        Self::new(
            Duration::from_secs(1),
            Duration::from_secs(60),
            5,
            Duration::from_secs(600),
        )
    }
}

// === Causes and stats ===

/// Why a child stopped; the `cause` label of `gateway_actor_restarts_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestartCause {
    /// A panic, caught by [`protect`] or seen while the child unwound.
    Panic,
    /// The child reported an error it cannot recover from in place.
    Error,
    /// The child was stopped without saying why (killed, or its context stopped).
    Killed,
}

impl RestartCause {
    /// The metric label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            RestartCause::Panic => "panic",
            RestartCause::Error => "error",
            RestartCause::Killed => "killed",
        }
    }
}

/// Failure counts of one supervisor, by cause, readable while it runs.
#[derive(Debug, Default)]
pub struct SupervisorStats {
    panics: AtomicU64,
    errors: AtomicU64,
    killed: AtomicU64,
    restarts: AtomicU64,
    escalations: AtomicU64,
}

impl SupervisorStats {
    fn record_failure(&self, cause: RestartCause) {
        let counter = match cause {
            RestartCause::Panic => &self.panics,
            RestartCause::Error => &self.errors,
            RestartCause::Killed => &self.killed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Failures seen with `cause`.
    pub fn failures(&self, cause: RestartCause) -> u64 {
        match cause {
            RestartCause::Panic => &self.panics,
            RestartCause::Error => &self.errors,
            RestartCause::Killed => &self.killed,
        }
        .load(Ordering::Relaxed)
    }

    /// Children re-created after a failure.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Times the policy gave up.
    pub fn escalations(&self) -> u64 {
        self.escalations.load(Ordering::Relaxed)
    }
}

// === Panic boundary ===

/// Work run by [`protect`] panicked (or was cancelled by the runtime).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protected work panicked: {message}")]
pub struct PanicError {
    /// The panic payload, when it was a string.
    pub message: String,
}

/// Aborts the spawned task when the caller stops waiting (for example its actor stopped), so
/// protected work never outlives the actor that asked for it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `work` in a spawned task on the current arbiter: a panic inside stays in that task and
/// comes back as a [`PanicError`] instead of unwinding through the actor's context.
///
/// Use it for anything that parses untrusted bytes or calls a backend, then report the error
/// through [`ChildLink::fail`] with [`RestartCause::Panic`] and stop.
pub async fn protect<F>(work: F) -> Result<F::Output, PanicError>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let mut task = AbortOnDrop(actix_rt::spawn(work));
    match (&mut task.0).await {
        Ok(output) => Ok(output),
        Err(error) if error.is_panic() => Err(PanicError::from_payload(error.into_panic())),
        Err(_) => Err(PanicError {
            message: "task cancelled".to_owned(),
        }),
    }
}

/// [`protect`] for short synchronous work run where it is called (no task, no thread hop): a
/// panic inside comes back as a [`PanicError`].
pub fn protect_sync<T>(work: impl FnOnce() -> T) -> Result<T, PanicError> {
    // The work's captures are dropped with it on a panic and nothing observes them afterwards,
    // so no broken invariant can leak out.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(PanicError::from_payload)
}

impl PanicError {
    fn from_payload(payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        PanicError { message }
    }
}

// === Supervisor ===

/// Sent to a supervisor when its child has stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildStopped {
    generation: u64,
    /// `None` when the child finished its job on purpose ([`ChildLink::completed`]).
    pub cause: Option<RestartCause>,
}

/// What a supervisor tells its parent when it gives up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The supervised actor's name (its `actor` metric label).
    pub actor: &'static str,
    /// The failure that exhausted the policy.
    pub cause: RestartCause,
}

/// The child's end of its supervisor: the child keeps it for life and records why it stops.
///
/// It reports when dropped, which happens when the child's context stops (normally, by a kill,
/// or while unwinding from a panic), so no stop goes unnoticed. The channel is unbounded on
/// purpose: it carries at most one message per child generation, and a death notice must never
/// be refused by a full mailbox.
#[derive(Debug)]
pub struct ChildLink {
    generation: u64,
    cause: Option<Option<RestartCause>>,
    notify: mpsc::UnboundedSender<ChildStopped>,
}

impl ChildLink {
    /// Records a failure; call before `ctx.stop()`.
    pub fn fail(&mut self, cause: RestartCause) {
        self.cause = Some(Some(cause));
    }

    /// Records that the child finished its job: the supervisor will not restart it.
    pub fn completed(&mut self) {
        self.cause = Some(None);
    }
}

impl Drop for ChildLink {
    fn drop(&mut self) {
        let cause = match self.cause {
            Some(recorded) => recorded,
            None if std::thread::panicking() => Some(RestartCause::Panic),
            None => Some(RestartCause::Killed),
        };
        // An error means the supervisor is gone already, and with it anyone to tell.
        let _ = self.notify.send(ChildStopped {
            generation: self.generation,
            cause,
        });
    }
}

/// Adapts the death-notice channel to the stream actix expects.
struct Notices(mpsc::UnboundedReceiver<ChildStopped>);

impl Stream for Notices {
    type Item = ChildStopped;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Child mailbox capacity unless [`Supervisor::with_mailbox_capacity`] says otherwise; the
/// config default of `limits.actor_mailbox_capacity`.
pub const DEFAULT_CHILD_MAILBOX_CAPACITY: usize = 64;

type Factory<A> = Box<dyn Fn(ChildLink) -> A>;
type EscalationHandler = Box<dyn FnMut(Escalation)>;

/// What a supervisor does once its policy says "escalate".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhenExhausted {
    /// Stop, and let the parent decide (through the hook and the supervisor's own link).
    Escalate,
    /// The root of a subtree has no parent to hand over to: tell the hook, mark the subtree
    /// as failing, and restart after the policy's capped backoff, for ever.
    RetryAtCap,
}

/// Supervises one child actor `A`, built by a factory that receives the child's [`ChildLink`].
///
/// A supervisor can itself be the child of another ([`Supervisor::linked`]): the factory of
/// the parent builds the whole subtree afresh, so a parent's restart replaces every actor
/// below it. The top of such a tree is a [`Supervisor::root`], which never gives up.
pub struct Supervisor<A: Actor<Context = Context<A>>> {
    name: &'static str,
    factory: Factory<A>,
    policy: RestartPolicy,
    on_escalate: EscalationHandler,
    when_exhausted: WhenExhausted,
    stats: Arc<SupervisorStats>,
    metrics: Option<Metrics>,
    status: Option<Arc<WorkerStatus>>,
    /// Counts the child among the subtree's running workers (leaf supervisors only).
    counts_running: bool,
    /// The link to this supervisor's own parent, when it has one.
    link: Option<ChildLink>,
    child: Option<Addr<A>>,
    mailbox_capacity: usize,
    generation: u64,
    notify: mpsc::UnboundedSender<ChildStopped>,
    notices: Option<Notices>,
    done: watch::Sender<bool>,
}

impl<A: Actor<Context = Context<A>>> Supervisor<A> {
    /// `name` is the `actor` metric label; `on_escalate` is the parent's hook (it may send a
    /// message to the parent, or trigger shutdown).
    pub fn new(
        name: &'static str,
        policy: RestartPolicy,
        factory: impl Fn(ChildLink) -> A + 'static,
        on_escalate: impl FnMut(Escalation) + 'static,
    ) -> Self {
        let (notify, receiver) = mpsc::unbounded_channel();
        Self {
            name,
            factory: Box::new(factory),
            policy,
            on_escalate: Box::new(on_escalate),
            when_exhausted: WhenExhausted::Escalate,
            stats: Arc::default(),
            metrics: None,
            status: None,
            counts_running: false,
            link: None,
            child: None,
            mailbox_capacity: DEFAULT_CHILD_MAILBOX_CAPACITY,
            generation: 0,
            notify,
            notices: Some(Notices(receiver)),
            done: watch::channel(false).0,
        }
    }

    /// The top of a subtree: when its policy is exhausted it calls `on_escalate` (to log or
    /// alert), marks the subtree failing in its status, and keeps restarting at the policy's
    /// `max_backoff`. No worker below it is ever left stopped for good.
    pub fn root(
        name: &'static str,
        policy: RestartPolicy,
        factory: impl Fn(ChildLink) -> A + 'static,
        on_escalate: impl FnMut(Escalation) + 'static,
    ) -> Self {
        let mut root = Self::new(name, policy, factory, on_escalate);
        root.when_exhausted = WhenExhausted::RetryAtCap;
        root
    }

    /// Makes this supervisor the child of another: it reports its escalation (and its end)
    /// through `link`, so the parent restarts it and everything below it.
    pub fn linked(mut self, link: ChildLink) -> Self {
        self.link = Some(link);
        self
    }

    /// Also counts restarts in `gateway_actor_restarts_total` and escalations in
    /// `gateway_actor_escalations_total`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Keeps `status` current: restarts and escalations here; with `counts_running`, whether
    /// the child is running (set it on the supervisor of the actual workers, not on parents).
    pub fn with_status(mut self, status: Arc<WorkerStatus>, counts_running: bool) -> Self {
        self.status = Some(status);
        self.counts_running = counts_running;
        self
    }

    /// Sets the child's mailbox capacity (`limits.actor_mailbox_capacity`).
    pub fn with_mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = capacity;
        self
    }

    /// Counters that stay readable while the supervisor runs.
    pub fn stats(&self) -> Arc<SupervisorStats> {
        Arc::clone(&self.stats)
    }

    /// Resolves once the supervisor has stopped (its child's job done, or it escalated).
    pub fn stopped(&self) -> impl Future<Output = ()> + 'static {
        let mut done = self.done.subscribe();
        async move {
            // An error means the supervisor is gone, which is what we wait for.
            let _ = done.wait_for(|done| *done).await;
        }
    }

    fn start_child(&mut self) {
        self.generation += 1;
        let link = ChildLink {
            generation: self.generation,
            cause: None,
            notify: self.notify.clone(),
        };
        self.child = Some(start_with_capacity(
            (self.factory)(link),
            self.mailbox_capacity,
        ));
        if self.counts_running {
            if let Some(status) = &self.status {
                status.child_started();
            }
        }
    }

    fn restart_after(&mut self, delay: Duration, cause: RestartCause, ctx: &mut Context<Self>) {
        tracing::warn!(
            actor = self.name,
            cause = cause.as_str(),
            ?delay,
            "restarting actor"
        );
        if let Some(metrics) = &self.metrics {
            metrics.record_actor_restart(self.name, cause.as_str());
        }
        if let Some(status) = &self.status {
            status.restarted();
        }
        ctx.run_later(delay, |supervisor, _| {
            supervisor.stats.restarts.fetch_add(1, Ordering::Relaxed);
            supervisor.start_child();
        });
    }

    fn escalate(&mut self, cause: RestartCause) {
        tracing::error!(
            actor = self.name,
            cause = cause.as_str(),
            "restart limit reached; escalating"
        );
        self.stats.escalations.fetch_add(1, Ordering::Relaxed);
        if let Some(metrics) = &self.metrics {
            metrics.record_actor_escalation(self.name);
        }
        if let Some(status) = &self.status {
            status.escalated();
        }
        (self.on_escalate)(Escalation {
            actor: self.name,
            cause,
        });
    }
}

impl<A: Actor<Context = Context<A>>> Actor for Supervisor<A> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if let Some(notices) = self.notices.take() {
            ctx.add_stream(notices);
        }
        self.start_child();
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.done.send_replace(true);
    }
}

impl<A: Actor<Context = Context<A>>> StreamHandler<ChildStopped> for Supervisor<A> {
    fn handle(&mut self, stopped: ChildStopped, ctx: &mut Self::Context) {
        if stopped.generation != self.generation {
            return; // A notice from a child already replaced.
        }
        self.child = None;
        if self.counts_running {
            if let Some(status) = &self.status {
                status.child_stopped();
            }
        }
        let Some(cause) = stopped.cause else {
            // The child's job is done, and so is ours.
            if let Some(link) = self.link.as_mut() {
                link.completed();
            }
            ctx.stop();
            return;
        };
        self.stats.record_failure(cause);
        match (self.policy.next_delay(Instant::now()), self.when_exhausted) {
            (RestartDecision::RestartAfter(delay), _) => self.restart_after(delay, cause, ctx),
            (RestartDecision::Escalate, WhenExhausted::RetryAtCap) => {
                self.escalate(cause);
                if let Some(status) = &self.status {
                    status.mark_failing(Instant::now(), self.policy.window);
                }
                let delay = self.policy.max_backoff;
                self.restart_after(delay, cause, ctx);
            }
            (RestartDecision::Escalate, WhenExhausted::Escalate) => {
                self.escalate(cause);
                if let Some(link) = self.link.as_mut() {
                    link.fail(cause);
                }
                ctx.stop();
            }
        }
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // The supervisor holds a sender itself, so the stream cannot end while it runs.
    }
}

/// Asks a supervisor for its current child (`None` while it waits to restart one).
pub struct CurrentChild<A>(std::marker::PhantomData<A>);

impl<A> CurrentChild<A> {
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<A> Default for CurrentChild<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Actor> Message for CurrentChild<A> {
    type Result = Option<Addr<A>>;
}

impl<A: Actor<Context = Context<A>>> Handler<CurrentChild<A>> for Supervisor<A> {
    type Result = Option<Addr<A>>;

    fn handle(&mut self, _: CurrentChild<A>, _: &mut Self::Context) -> Self::Result {
        self.child.clone()
    }
}

#[cfg(test)]
mod tests;
