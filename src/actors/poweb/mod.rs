//! The PoWeb HTTP server (RS-016) private gateways talk to.
//!
//! Layout:
//! - [`server`]: builds the actix-web `App`, routes every request through the codec's closed
//!   [`PowebEndpoint`](crate::protocols::poweb::PowebEndpoint) enum and counts it.
//! - [`body`]: the capped body reader and the shared error replies.
//! - one file per endpoint handler: [`health`], [`connection_params`], [`pre_registration`],
//!   [`registration`]. Handlers are thin: extract, validate with the pure codecs, call the
//!   identity, map the reply with the binding's status mappings.
//!
//! - [`collection`]: the parcel-collection WebSocket, one actor per socket.
//!
//! Parcel delivery is routed but answers `501` until it is built.

use std::sync::Arc;

use crate::actors::gateway::GatewayContext;
use crate::actors::identity::GatewayIdentity;
use crate::telemetry::Metrics;

pub mod body;
pub mod collection;
pub mod connection_params;
pub mod health;
pub mod pre_registration;
pub mod registration;
pub mod server;

pub use server::{bind, PowebServer};

/// What every handler may use; shared by all server workers.
#[derive(Clone)]
pub struct PowebState {
    pub identity: Arc<GatewayIdentity>,
    /// Our Internet address, as published in connection parameters and registrations.
    pub internet_address: String,
    pub metrics: Metrics,
    /// Backends, limits and peer authentication, shared with the other bindings.
    pub gateway: Arc<GatewayContext>,
    /// Live parcel-collection sessions per private gateway.
    pub collections: Arc<collection::CollectionRegistry>,
}
