//! The actor per destination Internet address (DESIGN.md §3): it runs at most
//! `max_in_flight_per_destination` attempts at once and holds the rest of that destination's
//! parcels in order, so one slow or broken recipient never takes the slots of others.
//!
//! Its state (the waiting jobs) is rebuilt from the mailbox: if the actor dies, the jobs are
//! dropped with it, their slots freed, and their guards give the parcels back. Each
//! attempt runs under [`protect`], the panic boundary; a panic fails the actor and its
//! supervisor re-creates it. On shutdown it gives waiting parcels back to the mailbox at once,
//! lets attempts in flight finish, then stops (dropping its shutdown listener).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::time::Instant;

use super::job::{Engine, Job};
use crate::supervision::{protect, ChildLink, RestartCause, ShutdownListener};

/// The `actor` metric label.
pub const ACTOR_NAME: &str = "outbound_destination";

/// Deliver this leased parcel to the actor's destination.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Deliver(pub Job);

/// How many parcels the actor holds (for tests and diagnostics).
#[derive(Message)]
#[rtype(result = "Load")]
pub struct GetLoad;

#[derive(Debug, Clone, Copy, PartialEq, Eq, MessageResponse)]
pub struct Load {
    pub waiting: usize,
    pub in_flight: usize,
}

pub struct Destination {
    address: String,
    engine: Arc<Engine>,
    waiting: VecDeque<Job>,
    in_flight: usize,
    draining: bool,
    last_active: Instant,
    shutdown: ShutdownListener,
    link: ChildLink,
}

impl Destination {
    pub fn new(
        address: String,
        engine: Arc<Engine>,
        shutdown: ShutdownListener,
        link: ChildLink,
    ) -> Self {
        Destination {
            address,
            engine,
            waiting: VecDeque::new(),
            in_flight: 0,
            draining: false,
            last_active: Instant::now(),
            shutdown,
            link,
        }
    }

    fn max_in_flight(&self) -> usize {
        self.engine.settings.max_in_flight_per_destination
    }

    /// Starts waiting jobs while there are free attempt slots.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        while self.in_flight < self.max_in_flight() {
            let Some(job) = self.waiting.pop_front() else {
                break;
            };
            self.in_flight += 1;
            let engine = Arc::clone(&self.engine);
            let attempt = protect(async move { engine.run(job).await });
            ctx.spawn(attempt.into_actor(self).map(|result, actor, ctx| {
                actor.in_flight -= 1;
                actor.last_active = Instant::now();
                if let Err(panic) = result {
                    tracing::error!(destination = %actor.address, error = %panic, "delivery attempt panicked");
                    actor.link.fail(RestartCause::Panic);
                    ctx.stop();
                    return;
                }
                actor.pump(ctx);
                actor.finish_drain(ctx);
            }));
        }
    }

    /// Shutdown: hand waiting parcels back now (another replica, or this process after its
    /// restart, takes them without waiting for their leases to expire).
    fn start_drain(&mut self, ctx: &mut Context<Self>) {
        self.draining = true;
        let jobs: Vec<Job> = self.waiting.drain(..).collect();
        if !jobs.is_empty() {
            self.in_flight += 1;
            let engine = Arc::clone(&self.engine);
            let release = protect(async move {
                for job in jobs {
                    engine.release_job(job, Duration::ZERO).await;
                }
            });
            ctx.spawn(release.into_actor(self).map(|_, actor, ctx| {
                actor.in_flight -= 1;
                actor.finish_drain(ctx);
            }));
        }
        self.finish_drain(ctx);
    }

    fn finish_drain(&mut self, ctx: &mut Context<Self>) {
        if self.draining && self.in_flight == 0 && self.waiting.is_empty() {
            self.link.completed();
            ctx.stop();
        }
    }

    fn stop_if_idle(&mut self, ctx: &mut Context<Self>) {
        let idle = self.in_flight == 0 && self.waiting.is_empty();
        if idle && self.last_active.elapsed() >= self.engine.settings.destination_idle {
            tracing::debug!(destination = %self.address, "destination idle; stopping its actor");
            self.link.completed();
            ctx.stop();
        }
    }
}

impl Actor for Destination {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let mut shutdown = self.shutdown.clone();
        ctx.spawn(
            async move { shutdown.recv().await }
                .into_actor(self)
                .map(|(), actor, ctx| actor.start_drain(ctx)),
        );
        let idle = self.engine.settings.destination_idle;
        ctx.run_interval(idle, Self::stop_if_idle);
    }
}

impl Handler<Deliver> for Destination {
    type Result = ();

    fn handle(&mut self, Deliver(job): Deliver, ctx: &mut Self::Context) {
        self.last_active = Instant::now();
        if self.draining {
            self.waiting.push_back(job);
            self.start_drain(ctx);
            return;
        }
        self.waiting.push_back(job);
        self.pump(ctx);
    }
}

impl Handler<GetLoad> for Destination {
    type Result = Load;

    fn handle(&mut self, _: GetLoad, _: &mut Self::Context) -> Load {
        Load {
            waiting: self.waiting.len(),
            in_flight: self.in_flight,
        }
    }
}
