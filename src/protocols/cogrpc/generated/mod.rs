//! Code generated from `proto/` by `tests/cogrpc_codegen.rs`. Do not edit: change the proto
//! files and run `AWALA_REGENERATE=1 cargo test --test cogrpc_codegen`.
//!
//! The files are pulled in with `include!` so that rustfmt leaves them as the generator wrote
//! them (the bootstrap test compares bytes). Module nesting mirrors the proto packages because
//! the generated `awala.cogrpc` service refers to `super::super::relaynet::cogrpc` messages.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// Package `relaynet.cogrpc`.
pub mod relaynet {
    /// Messages and the `CargoRelay` service as couriers use them.
    pub mod cogrpc {
        include!("relaynet.cogrpc.rs");
    }
}

/// Package `awala.cogrpc`.
pub mod awala {
    /// The `CargoRelay` service under RS-008's package name (same messages).
    pub mod cogrpc {
        include!("awala.cogrpc.rs");
    }
}
