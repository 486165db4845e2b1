//! Protocol code: the pure Awala core and the binding codecs built on it.

pub mod awala;
pub mod cogrpc;
pub mod error_code;
pub mod pohttp;
pub mod poweb;
