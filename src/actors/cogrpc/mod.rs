//! CogRPC: couriers delivering and collecting cargo (RS-008), and the worker that unwraps the
//! cargo they deliver.
//!
//! Layout:
//! - [`server`]: the tonic server: both package names, `grpc.health.v1`, REF's limits.
//! - [`deliver`]: `DeliverCargo`, from the courier's stream to the cargo mailbox.
//! - [`collect`]: `CollectCargo`, from the CCA to the stream of cargo.
//! - [`cca_authorization`]: the CCA checks, in REF's order.
//! - [`cargo_builder`]: cargo for one private gateway, built and streamed page by page.
//! - [`cargo_batcher`]: batching items as they are read.
//! - [`collect_error`]: failures of `CollectCargo` and their gRPC statuses.
//! - [`connection_limits`]: the connection cap, idle timeout and call admission.
//! - [`session_key_housekeeping`]: deleting session keys no peer can use any more.
//! - [`unwrap`]: what one cargo does once decrypted: parcels routed, PCAs honoured.
//! - [`worker`]: the supervised actors that consume cargo from the mailbox and unwrap it.

pub mod call_record;
pub mod cargo_batcher;
pub mod cargo_builder;
pub mod cca_authorization;
pub mod collect;
pub mod collect_error;
#[cfg(test)]
pub(crate) mod collect_test_support;
pub mod connection_limits;
pub mod deliver;
pub mod server;
pub mod session_key_housekeeping;
#[cfg(test)]
pub(crate) mod test_support;
pub mod unwrap;
pub mod worker;

pub use server::{bind, CogrpcServer};
pub use worker::{start_cargo_unwrappers, UnwrapperSettings};
