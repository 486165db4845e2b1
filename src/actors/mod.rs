//! Actors and servers: the parts of the gateway that do I/O on behalf of the bindings.
//!
//! Layout:
//! - [`admin`]: the admin listener (`/metrics`, `/live`, `/ready`, `/health`).
//! - [`admin_api`]: the admin API on that listener (`/v1/…`, bearer token).
//! - [`cogrpc`]: the CogRPC server (cargo delivery and collection) and the cargo unwrapping
//!   workers.
//! - [`cpu_pool`]: a bounded pool of blocking threads for CPU-heavy request work.
//! - [`gateway`]: the context every binding and worker of a process shares.
//! - [`housekeeping`]: the supervised sweep of expired records and unnamed bodies.
//! - [`identity`]: the gateway's own keys and certificates, persisted in the backends.
//! - [`load_shield`]: admission control at the HTTP and CogRPC edges (503 / `UNAVAILABLE` past
//!   a bound).
//! - [`mailbox`]: the messages carried by the durable mailboxes (one type per queue).
//! - [`outbound`]: the worker delivering Internet-bound parcels over PoHTTP.
//! - [`parcel_router`]: parcel routing shared by PoWeb, PoHTTP and cargo unwrapping.
//! - [`poweb`]: the PoWeb HTTP server (actix-web); one file per endpoint handler.
//! - [`pohttp`]: the PoHTTP server (actix-web): parcels from the Internet for private peers.
//! - [`readiness`]: the bounded, concurrent backend and worker checks behind `/ready`.
//! - [`rate_limit`]: per-source-address token buckets in a bounded map.
//! - [`request_id`]: the request id and span of every request, on every binding.
//! - [`status_page`]: the read-only HTML status page on the admin listener.
//!
//! Dependency rule (DESIGN.md §5): actors import `protocols` (the pure core and the binding
//! codecs) and `backends`; nothing below imports actors.

pub mod admin;
pub mod admin_api;
pub mod admin_private_gateways;
pub mod certificate_renewal;
pub mod cogrpc;
pub mod cpu_pool;
pub mod gateway;
pub mod housekeeping;
pub mod identity;
pub mod load_shield;
pub mod mailbox;
pub mod outbound;
pub mod parcel_router;
pub mod peer_quotas;
pub mod pohttp;
pub mod poweb;
pub mod private_gateways;
pub mod rate_limit;
pub mod readiness;
pub mod request_id;
pub mod status_page;

#[cfg(test)]
mod fault_tests;
