//! One handler, two package names: serves a `relaynet.cogrpc.CargoRelay` implementation as
//! `awala.cogrpc.CargoRelay`.
//!
//! Only the method path differs on the wire, and the generated `awala.cogrpc` service uses the
//! `relaynet.cogrpc` message types, so every call is forwarded unchanged.

use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};

use super::generated::awala::cogrpc::cargo_relay_server::CargoRelay as AwalaCargoRelay;
use super::generated::relaynet::cogrpc::cargo_relay_server::CargoRelay;
use super::generated::relaynet::cogrpc::{CargoDelivery, CargoDeliveryAck};

/// Wraps a [`CargoRelay`] handler so it also implements the `awala.cogrpc` service trait.
#[derive(Debug)]
pub struct SpecPackageAlias<T>(pub Arc<T>);

#[tonic::async_trait]
impl<T: CargoRelay> AwalaCargoRelay for SpecPackageAlias<T> {
    type DeliverCargoStream = T::DeliverCargoStream;
    type CollectCargoStream = T::CollectCargoStream;

    async fn deliver_cargo(
        &self,
        request: Request<Streaming<CargoDelivery>>,
    ) -> Result<Response<Self::DeliverCargoStream>, Status> {
        self.0.deliver_cargo(request).await
    }

    async fn collect_cargo(
        &self,
        request: Request<Streaming<CargoDeliveryAck>>,
    ) -> Result<Response<Self::CollectCargoStream>, Status> {
        self.0.collect_cargo(request).await
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;

    use tonic::codegen::tokio_stream::Stream;

    use super::*;

    type Boxed<M> = Pin<Box<dyn Stream<Item = Result<M, Status>> + Send>>;

    /// A handler that refuses everything; enough to prove both servers accept one handler.
    struct Refuser;

    #[tonic::async_trait]
    impl CargoRelay for Refuser {
        type DeliverCargoStream = Boxed<CargoDeliveryAck>;
        type CollectCargoStream = Boxed<CargoDelivery>;

        async fn deliver_cargo(
            &self,
            _request: Request<Streaming<CargoDelivery>>,
        ) -> Result<Response<Self::DeliverCargoStream>, Status> {
            Err(Status::unavailable("test"))
        }

        async fn collect_cargo(
            &self,
            _request: Request<Streaming<CargoDeliveryAck>>,
        ) -> Result<Response<Self::CollectCargoStream>, Status> {
            Err(Status::unauthenticated("test"))
        }
    }

    #[test]
    fn one_handler_builds_both_servers() {
        use tonic::server::NamedService;

        let handler = Arc::new(Refuser);
        let relaynet = crate::protocols::cogrpc::relaynet_server(Arc::clone(&handler));
        let awala = crate::protocols::cogrpc::awala_server(handler);
        fn name_of<S: NamedService>(_: &S) -> &'static str {
            S::NAME
        }
        assert_eq!(name_of(&relaynet), "relaynet.cogrpc.CargoRelay");
        assert_eq!(name_of(&awala), "awala.cogrpc.CargoRelay");
    }
}
