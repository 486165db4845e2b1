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
//! Parcel delivery and collection are routed but answer `501` until they are built.

use std::sync::Arc;

use crate::actors::identity::GatewayIdentity;
use crate::telemetry::Metrics;

pub mod body;
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
}
