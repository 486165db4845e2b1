//! Bounded sends: the only ways to message an actor (`Addr::do_send` is banned in
//! `clippy.toml`), and the time senders lose to full mailboxes.

use std::time::Duration;

use actix::prelude::*;
use tokio::time::Instant;

use crate::telemetry::Metrics;

/// Starts `actor` with a mailbox of `capacity` messages, set before any sender can use it (a
/// capacity set in `started()` applies only after messages may already have been queued).
pub fn start_with_capacity<A>(actor: A, capacity: usize) -> Addr<A>
where
    A: Actor<Context = Context<A>>,
{
    let mut ctx = Context::new();
    ctx.set_mailbox_capacity(capacity);
    ctx.run(actor)
}

/// Why a message did not reach an actor (or got no answer in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MailboxError {
    /// The mailbox is at capacity (only from [`try_send_bounded`]).
    #[error("mailbox full")]
    Full,
    /// The actor has stopped.
    #[error("mailbox closed")]
    Closed,
    /// No answer within the timeout, either waiting for room or for the handler.
    #[error("no answer before the timeout")]
    Timeout,
}

/// Sends `msg` and waits at most `timeout` for room in the mailbox and for the answer: the
/// `block` overload mode. A timeout becomes 503 / `RESOURCE_EXHAUSTED` at the edge.
///
/// Prefer [`send_bounded_recorded`], which counts the time lost to a backed-up actor.
pub async fn send_bounded<A, M>(
    addr: &Addr<A>,
    msg: M,
    timeout: Duration,
) -> Result<M::Result, MailboxError>
where
    A: Actor + Handler<M>,
    A::Context: actix::dev::ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    match tokio::time::timeout(timeout, addr.send(msg)).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(actix::MailboxError::Closed)) => Err(MailboxError::Closed),
        Ok(Err(actix::MailboxError::Timeout)) | Err(_) => Err(MailboxError::Timeout),
    }
}

/// [`send_bounded`], adding the wait to `gateway_mailbox_blocked_seconds_total{actor}` when it
/// ends in [`MailboxError::Timeout`].
///
/// Why only then: actix never holds a sender back for room (a parked `Addr` hands the message
/// to a fresh sender on the first poll), so a full mailbox shows up as a wait for the answer
/// behind the backlog, and the only wait we can attribute to the mailbox rather than to the
/// handler's own work is the one that outlasted the whole timeout.
pub async fn send_bounded_recorded<A, M>(
    addr: &Addr<A>,
    msg: M,
    timeout: Duration,
    metrics: &Metrics,
    actor: &'static str,
) -> Result<M::Result, MailboxError>
where
    A: Actor + Handler<M>,
    A::Context: actix::dev::ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    let started = Instant::now();
    let outcome = send_bounded(addr, msg, timeout).await;
    if matches!(outcome, Err(MailboxError::Timeout)) {
        metrics.record_mailbox_blocked(actor, started.elapsed());
    }
    outcome
}

/// Enqueues `msg` only if the mailbox has room, without waiting for an answer: the
/// `reject_newest` overload mode.
pub fn try_send_bounded<A, M>(addr: &Addr<A>, msg: M) -> Result<(), MailboxError>
where
    A: Actor + Handler<M>,
    A::Context: actix::dev::ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    addr.try_send(msg).map_err(|error| match error {
        SendError::Full(_) => MailboxError::Full,
        SendError::Closed(_) => MailboxError::Closed,
    })
}
