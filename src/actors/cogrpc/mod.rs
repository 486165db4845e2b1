//! CogRPC: couriers delivering and collecting cargo (RS-008), and the worker that unwraps the
//! cargo they deliver.
//!
//! Layout:
//! - [`server`]: the tonic server: both package names, `grpc.health.v1`, REF's limits.
//! - [`deliver`]: `DeliverCargo`, from the courier's stream to the cargo mailbox.
//! - [`collect`]: `CollectCargo`, from the CCA to the stream of cargo.
//! - [`unwrap`]: what one cargo does once decrypted: parcels routed, PCAs honoured.
//! - [`worker`]: the supervised actors that lease cargo from the mailbox and unwrap it.

pub mod collect;
pub mod deliver;
pub mod server;
pub mod unwrap;
pub mod worker;

pub use server::{bind, CogrpcServer};
pub use worker::{start_cargo_unwrappers, UnwrapperSettings};

#[cfg(test)]
mod test_support;
