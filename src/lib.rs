//! Awala Internet gateway.
//!
//! Layout and dependency rules (see `../shared/DESIGN.md` §5):
//! - [`protocols::awala`] is the pure protocol core: bytes and `now` in, values or typed errors
//!   out. It imports nothing else from this crate, performs no I/O and never reads the clock.
//! - Binding codecs (`protocols::{poweb,pohttp,cogrpc}`) never import backends.
//! - Backends import only `protocols::awala`; actors import both; `main.rs` wires everything.
#![forbid(unsafe_code)]

pub mod actors;
pub mod backends;
pub mod config;
pub mod protocols;
pub mod supervision;
pub mod telemetry;
