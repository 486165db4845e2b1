//! Protocol code: the pure Awala core and the binding codecs built on it.

pub mod awala;
