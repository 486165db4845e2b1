//! Actors and servers: the parts of the gateway that do I/O on behalf of the bindings.
//!
//! Layout:
//! - [`identity`]: the gateway's own keys and certificates, persisted in the backends.
//! - [`poweb`]: the PoWeb HTTP server (actix-web); one file per endpoint handler.
//!
//! Dependency rule (DESIGN.md §5): actors import `protocols` (the pure core and the binding
//! codecs) and `backends`; nothing below imports actors.

pub mod identity;
pub mod poweb;
