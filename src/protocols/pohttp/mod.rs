//! PoHTTP binding codec (RS-007): pure routing, status mapping and error bodies for the server,
//! and response classification for the outbound delivery worker.
//!
//! Layout:
//! - [`endpoint`]: routing to the closed [`PohttpEndpoint`] enum (404/405/OPTIONS answers use
//!   the [`RoutingError`](crate::protocols::poweb::RoutingError) shared with PoWeb).
//! - [`server`]: delivery failure statuses and `Accept`-negotiated error bodies.
//! - [`client`]: how a response to our own POST is classified; SRV names.
//!
//! Content types are shared with PoWeb: see [`crate::protocols::poweb::media`].
//! Dependency rule: no I/O, no backends, no actors.

pub mod client;
pub mod endpoint;
pub mod server;

pub use client::{classify_delivery_response, srv_name, DeliveryOutcome, RetryReason};
pub use endpoint::PohttpEndpoint;
pub use server::{delivery_failure_status, error_body, ErrorBody};
