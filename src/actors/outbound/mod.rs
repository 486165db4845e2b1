//! The outbound delivery worker: POSTs Internet-bound parcels from the durable outbound mailbox
//! to their recipients' PoHTTP endpoints (DESIGN.md §2(5), notes §6.2).
//!
//! Layout:
//! - [`resolver`]: route, DNS SRV or `https://<address>`: where to POST.
//! - [`egress`]: which addresses may be POSTed to (public unicast, or the allow-list), and
//!   [`dns_guard`], the HTTP client's resolver that enforces it on the addresses connected to.
//! - [`delivery`]: one attempt, redirects included, classified by `protocols::pohttp::client`.
//! - [`job`]: one parcel from its delivery to ack, retry (capped exponential backoff) or drop.
//! - [`destination`]: the supervised actor per destination Internet address, which bounds the
//!   concurrent attempts to that address.
//! - [`worker`]: the dispatcher that consumes the mailbox only while it has room.
//!
//! Nothing here holds state that the mailbox does not: a parcel stays in the queue until its
//! outcome is final (delivered, refused or expired), so after a crash or restart it is delivered
//! again.

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::actors::gateway::GatewayContext;
use crate::backends::clock::SystemClock;
use crate::backends::queue::DurableQueue;
use crate::config::{GatewayConfig, Role};
use crate::supervision::ShutdownListener;
use crate::telemetry::Metrics;

pub mod delivery;
pub mod destination;
pub mod dns_guard;
pub mod egress;
pub mod job;
pub mod resolver;
pub mod worker;

pub use job::Engine;
pub use resolver::{DnsSrvLookup, PohttpResolver, ResolveError, SrvAnswer, SrvLookup, Target};
pub use worker::{OutboundHandle, OutboundShared};

/// Parcels held at once by one worker process, across every destination (its prefetch).
pub const DEFAULT_MAX_LEASED: usize = 1_024;
/// How often the dispatcher polls an idle mailbox (it also wakes when told to).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// When a destination is full, its parcel goes back to the mailbox for this long.
pub const DEFAULT_BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);
/// A destination actor with nothing to do for this long stops (and is re-created on demand).
pub const DEFAULT_DESTINATION_IDLE: Duration = Duration::from_secs(60);

/// The worker's tunables; [`OutboundSettings::from_config`] takes them from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSettings {
    pub retry_initial_backoff: Duration,
    pub retry_max_backoff: Duration,
    pub max_in_flight_per_destination: usize,
    /// Parcels a destination actor holds waiting for a slot (its mailbox capacity too).
    pub destination_queue_capacity: usize,
    pub max_leased: usize,
    pub poll_interval: Duration,
    pub busy_retry_after: Duration,
    pub request_timeout: Duration,
    pub destination_idle: Duration,
    /// Where deliveries may go besides public unicast addresses (`egress_allow`).
    pub egress: egress::EgressPolicy,
}

impl OutboundSettings {
    pub fn from_config(config: &GatewayConfig) -> Self {
        let limits = &config.limits;
        let as_usize = |value: u32| usize::try_from(value).unwrap_or(usize::MAX).max(1);
        OutboundSettings {
            retry_initial_backoff: limits.outbound_retry_initial_backoff(),
            retry_max_backoff: limits.outbound_retry_max_backoff(),
            max_in_flight_per_destination: as_usize(
                limits.max_in_flight_deliveries_per_destination,
            ),
            destination_queue_capacity: as_usize(limits.actor_mailbox_capacity),
            max_leased: DEFAULT_MAX_LEASED,
            poll_interval: DEFAULT_POLL_INTERVAL,
            busy_retry_after: DEFAULT_BUSY_RETRY_AFTER,
            request_timeout: delivery::REQUEST_TIMEOUT,
            destination_idle: DEFAULT_DESTINATION_IDLE,
            egress: egress::EgressPolicy::new(config.egress_allow.iter().cloned()),
        }
    }

    /// Parcels one destination may hold: in flight plus waiting.
    pub fn per_destination_limit(&self) -> usize {
        self.max_in_flight_per_destination
            .saturating_add(self.destination_queue_capacity)
    }

    /// The delay before the next attempt after `attempts` failed ones (1 for the first):
    /// the initial backoff doubled per earlier attempt, capped.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.retry_initial_backoff
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.retry_max_backoff)
            .min(self.retry_max_backoff)
    }
}

/// Why the worker could not start.
#[derive(Debug, Error)]
pub enum OutboundError {
    #[error("cannot set up the dns resolver: {0}")]
    Resolver(#[from] ResolveError),
    #[error("cannot set up the http client: {0}")]
    Http(#[from] reqwest::Error),
}

/// Starts the worker for a `serve` process with the `workers` role: DNS as configured, routes
/// from the configuration, woken by the producers of `context` and reported in its roles.
/// Must run inside an actix system.
pub fn spawn_from_config(
    config: &GatewayConfig,
    context: &GatewayContext,
    shutdown: ShutdownListener,
) -> Result<OutboundHandle, OutboundError> {
    let srv = DnsSrvLookup::new(config.dns_server, config.dnssec)?;
    let settings = OutboundSettings::from_config(config);
    let resolver = PohttpResolver::new(config.pohttp_routes.clone(), Arc::new(srv))
        .with_egress(settings.egress.clone());
    let shared = OutboundShared {
        wake: Arc::clone(&context.outbound_wake),
        faults: Arc::clone(&context.faults),
        status: context.roles.register(Role::Workers.as_str(), COMPONENT, 1),
        settlements: Some(Arc::clone(&context.backends.metadata)),
    };
    let queue = Arc::clone(&context.backends.queue);
    spawn_with(
        queue,
        resolver,
        context.metrics.clone(),
        settings,
        shutdown,
        &shared,
    )
}

/// This worker's name in `/health` (under the `workers` role).
pub const COMPONENT: &str = "outbound_delivery";

/// Starts the worker with explicit parts and a wake-up of its own. Must run inside an actix
/// system.
pub fn spawn(
    queue: Arc<dyn DurableQueue>,
    resolver: PohttpResolver,
    metrics: Metrics,
    settings: OutboundSettings,
    shutdown: ShutdownListener,
) -> Result<OutboundHandle, OutboundError> {
    let shared = OutboundShared::standalone();
    spawn_with(queue, resolver, metrics, settings, shutdown, &shared)
}

/// Starts the worker with explicit parts, sharing `shared` with the rest of the process.
pub fn spawn_with(
    queue: Arc<dyn DurableQueue>,
    resolver: PohttpResolver,
    metrics: Metrics,
    settings: OutboundSettings,
    shutdown: ShutdownListener,
    shared: &OutboundShared,
) -> Result<OutboundHandle, OutboundError> {
    let lookup = Arc::new(dns_guard::SystemLookup);
    spawn_with_parts(queue, resolver, metrics, settings, shutdown, shared, lookup)
}

/// [`spawn`] with the host lookup of the HTTP client given (tests give one that answers what
/// a hostile DNS would).
pub fn spawn_with_lookup(
    queue: Arc<dyn DurableQueue>,
    resolver: PohttpResolver,
    metrics: Metrics,
    settings: OutboundSettings,
    shutdown: ShutdownListener,
    lookup: Arc<dyn dns_guard::HostLookup>,
) -> Result<OutboundHandle, OutboundError> {
    let shared = OutboundShared::standalone();
    spawn_with_parts(
        queue, resolver, metrics, settings, shutdown, &shared, lookup,
    )
}

fn spawn_with_parts(
    queue: Arc<dyn DurableQueue>,
    resolver: PohttpResolver,
    metrics: Metrics,
    settings: OutboundSettings,
    shutdown: ShutdownListener,
    shared: &OutboundShared,
    lookup: Arc<dyn dns_guard::HostLookup>,
) -> Result<OutboundHandle, OutboundError> {
    let client =
        delivery::PohttpClient::new(settings.request_timeout, settings.egress.clone(), lookup)?;
    let engine = Arc::new(Engine {
        queue,
        resolver,
        client,
        metrics,
        settings,
        clock: Arc::new(SystemClock),
        faults: Arc::clone(&shared.faults),
        settlements: shared.settlements.clone(),
    });
    Ok(worker::start(engine, shutdown, shared))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_and_is_capped() {
        let settings = OutboundSettings {
            retry_initial_backoff: Duration::from_secs(5),
            retry_max_backoff: Duration::from_secs(60),
            ..OutboundSettings::from_config(&GatewayConfig::default())
        };
        let delays: Vec<u64> = [0, 1, 2, 3, 4, 5, 100, u32::MAX]
            .into_iter()
            .map(|attempts| settings.retry_delay(attempts).as_secs())
            .collect();
        assert_eq!(delays, [5, 5, 10, 20, 40, 60, 60, 60]);
    }

    #[test]
    fn settings_follow_the_limits() {
        let mut config = GatewayConfig::default();
        config.limits.max_in_flight_deliveries_per_destination = 3;
        config.limits.actor_mailbox_capacity = 7;
        config.limits.outbound_retry_initial_backoff_seconds = 2;
        config.limits.outbound_retry_max_backoff_seconds = 9;
        config.egress_allow = vec!["10.0.0.0/8".parse().unwrap()];
        let settings = OutboundSettings::from_config(&config);
        assert_eq!(settings.max_in_flight_per_destination, 3);
        assert_eq!(settings.per_destination_limit(), 10);
        assert_eq!(settings.retry_initial_backoff, Duration::from_secs(2));
        assert_eq!(settings.retry_max_backoff, Duration::from_secs(9));
        assert_eq!(settings.request_timeout, Duration::from_secs(3));
        let private = "10.1.2.3".parse().unwrap();
        assert_eq!(settings.egress.check_ip("pdc.corp", private), Ok(()));
        let strict = OutboundSettings::from_config(&GatewayConfig::default());
        assert!(strict.egress.check_ip("pdc.corp", private).is_err());
    }
}
