//! CogRPC: couriers delivering and collecting cargo (RS-008).
//!
//! Layout:
//! - [`collect`]: `CollectCargo`, from the CCA to the stream of cargo.
//! - [`cca_authorization`]: the CCA checks, in REF's order.
//! - [`cargo_builder`]: cargo for one private gateway, built and streamed page by page.
//! - [`cargo_batcher`]: batching items as they are read.
//! - [`collect_error`]: failures of `CollectCargo` and their gRPC statuses.
//! - [`session_key_housekeeping`]: deleting session keys no peer can use any more.

pub mod cargo_batcher;
pub mod cargo_builder;
pub mod cca_authorization;
pub mod collect;
pub mod collect_error;
#[cfg(test)]
mod collect_test_support;
pub mod session_key_housekeeping;
