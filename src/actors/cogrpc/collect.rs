//! `CollectCargo`: placeholder with the signature the `cogrpc-collect` branch implements; the
//! lead takes that branch's file at merge.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tonic::metadata::MetadataMap;
use tonic::Status;

use crate::actors::gateway::GatewayContext;
use crate::protocols::cogrpc::CargoDelivery;

/// The response stream of `CollectCargo`.
pub type CollectStream = Pin<Box<dyn Stream<Item = Result<CargoDelivery, Status>> + Send>>;

/// Refuses every call until cargo collection is built.
pub async fn collect_cargo(
    _context: Arc<GatewayContext>,
    _metadata: &MetadataMap,
) -> Result<CollectStream, Status> {
    Err(Status::unimplemented(
        "cargo collection is not implemented yet",
    ))
}
