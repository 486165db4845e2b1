//! The PoWeb HTTP server (RS-016) private gateways talk to.
//!
//! Layout:
//! - [`server`]: builds the actix-web `App`, routes every request through the codec's closed
//!   [`PowebEndpoint`](crate::protocols::poweb::PowebEndpoint) enum and counts it.
//! - [`body`]: the capped body reader and the shared error replies.
//! - one file per endpoint handler: [`health`], [`connection_params`], [`pre_registration`],
//!   [`registration`], [`parcel_delivery`]. Handlers are thin: extract, validate with the pure
//!   codecs, call the identity or the router, map the reply with the binding's status mappings.
//! - [`registration_limits`]: the per-address rate limit and signing pool both registration
//!   endpoints go through.
//! - [`collection`]: the parcel-collection WebSocket, one actor per socket.

use std::sync::Arc;

use crate::actors::gateway::GatewayContext;
use crate::actors::identity::GatewayIdentity;
use crate::actors::load_shield::LoadShield;
use crate::actors::parcel_router::ParcelRouter;
use crate::actors::rate_limit::RateLimiter;
use crate::telemetry::Metrics;
use registration_limits::RegistrationLimits;

pub mod body;
pub mod collection;
pub mod connection_params;
pub mod health;
pub mod parcel_delivery;
pub mod pre_registration;
pub mod registration;
pub mod registration_limits;
pub mod server;

pub use server::{bind, PowebServer};

/// What every handler may use; shared by all server workers.
#[derive(Clone)]
pub struct PowebState {
    pub identity: Arc<GatewayIdentity>,
    /// Our Internet address, as published in connection parameters and registrations.
    pub internet_address: String,
    pub metrics: Metrics,
    pub gateway: Arc<GatewayContext>,
    pub router: Arc<ParcelRouter>,
    pub shield: LoadShield,
    /// Live parcel-collection sessions per private gateway.
    pub collections: Arc<collection::CollectionRegistry>,
    /// Rate limits and the signing pool of pre-registration and registration.
    pub registrations: Arc<RegistrationLimits>,
    /// Parcel deliveries per private gateway; `None` when unlimited.
    pub deliveries: Option<Arc<RateLimiter<String>>>,
}

/// Private gateways whose delivery rates are tracked at once (the limiter's memory bound).
const DELIVERY_RATE_TRACKED_GATEWAYS: usize = 100_000;

fn delivery_limiter(limits: &crate::config::LimitsConfig) -> Option<Arc<RateLimiter<String>>> {
    let per_second = limits.private_gateway_deliveries_per_second;
    (per_second > 0).then(|| {
        Arc::new(RateLimiter::new(
            per_second.saturating_mul(60),
            limits.private_gateway_delivery_burst,
            DELIVERY_RATE_TRACKED_GATEWAYS,
        ))
    })
}

impl PowebState {
    /// The state for the process's shared context and router.
    pub fn new(gateway: Arc<GatewayContext>, router: Arc<ParcelRouter>) -> Self {
        let collections = collection::CollectionRegistry::new(
            gateway.limits.max_sockets_per_private_gateway as usize,
            gateway.limits.max_websocket_connections as usize,
            Some(gateway.metrics.collection_sessions().clone()),
        );
        gateway
            .private_gateways
            .attach_sessions(collections.clone());
        PowebState {
            identity: gateway.identity.clone(),
            internet_address: gateway.internet_address.clone(),
            metrics: gateway.metrics.clone(),
            shield: LoadShield::new(gateway.limits.max_in_flight_requests as usize),
            registrations: Arc::new(RegistrationLimits::new(&gateway.limits)),
            deliveries: delivery_limiter(&gateway.limits),
            collections,
            gateway,
            router,
        }
    }
}
