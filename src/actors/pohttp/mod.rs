//! The PoHTTP server (RS-007): Internet endpoints and other gateways post parcels for our
//! private peers to `POST /`.
//!
//! Layout: [`server`] binds actix-web and routes with the codec's closed
//! [`PohttpEndpoint`](crate::protocols::pohttp::PohttpEndpoint) enum; [`deliver`] is the one
//! handler that does work. The parcel's own signature chain is the authorisation: the router
//! refuses parcels that do not chain to one of our certificates (403).

use std::sync::Arc;

use crate::actors::load_shield::LoadShield;
use crate::actors::parcel_router::ParcelRouter;
use crate::actors::poweb::server::HttpEdgeLimits;
use crate::telemetry::Metrics;

pub mod deliver;
pub mod server;

pub use server::{bind, PohttpServer};

/// What the handlers share.
#[derive(Clone)]
pub struct PohttpState {
    pub router: Arc<ParcelRouter>,
    pub metrics: Metrics,
    pub shield: LoadShield,
    /// Header, body and disconnect timeouts of this binding's connections.
    pub edge: HttpEdgeLimits,
}
