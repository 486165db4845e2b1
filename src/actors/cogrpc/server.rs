//! The CogRPC server couriers talk to: one handler served as `relaynet.cogrpc.CargoRelay` (what
//! clients call) and `awala.cogrpc.CargoRelay` (the spec's name), plus `grpc.health.v1` with
//! `relaynet.cogrpc.CargoRelay` SERVING, with REF's limits (original notes §1.4).
//!
//! Plain HTTP/2 (h2c): TLS ends in front of the gateway, as with REF.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Request, Response, Status, Streaming};

use super::collect::{collect_cargo, CollectStream};
use super::deliver::{deliver_cargo, DeliverStream};
use crate::actors::gateway::GatewayContext;
use crate::protocols::cogrpc::{
    awala_server, relaynet_server, CargoDelivery, CargoDeliveryAck, CargoRelay, CogrpcEndpoint,
    HEALTH_SERVICE_NAME, MAX_CONCURRENT_STREAMS, MAX_CONNECTION_AGE, MAX_CONNECTION_AGE_GRACE,
    MAX_METADATA_SIZE,
};
use crate::telemetry::{Binding, RequestOutcome};

/// How long calls in flight may finish after shutdown is signalled. Bounded, because a client
/// that never answers the GOAWAY would otherwise hold the process forever.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The `CargoRelay` handler shared by both package names.
pub struct CargoRelayService {
    context: Arc<GatewayContext>,
}

impl CargoRelayService {
    pub fn new(context: Arc<GatewayContext>) -> Self {
        CargoRelayService { context }
    }
}

#[tonic::async_trait]
impl CargoRelay for CargoRelayService {
    type DeliverCargoStream = DeliverStream;
    type CollectCargoStream = CollectStream;

    async fn deliver_cargo(
        &self,
        request: Request<Streaming<CargoDelivery>>,
    ) -> Result<Response<Self::DeliverCargoStream>, Status> {
        let context = Arc::clone(&self.context);
        Ok(Response::new(deliver_cargo(context, request.into_inner())))
    }

    async fn collect_cargo(
        &self,
        request: Request<Streaming<CargoDeliveryAck>>,
    ) -> Result<Response<Self::CollectCargoStream>, Status> {
        let context = Arc::clone(&self.context);
        let result = collect_cargo(context, request.metadata()).await;
        if let Err(status) = &result {
            // Successful calls are counted where their stream ends.
            let outcome = match status.code() {
                tonic::Code::Unavailable => RequestOutcome::Unavailable,
                tonic::Code::Internal | tonic::Code::Unknown => RequestOutcome::ServerError,
                _ => RequestOutcome::ClientError,
            };
            self.context.metrics.record_request(
                Binding::Cogrpc,
                CogrpcEndpoint::CollectCargo.name(),
                outcome,
                std::time::Duration::ZERO,
            );
        }
        result.map(Response::new)
    }
}

/// A bound CogRPC server, not yet running.
pub struct CogrpcServer {
    /// The address actually bound (a `:0` port resolved).
    pub address: SocketAddr,
    incoming: TcpIncoming,
    context: Arc<GatewayContext>,
}

/// Binds the CogRPC listener on `listen`, so a taken port fails start-up at once.
pub fn bind(context: Arc<GatewayContext>, listen: SocketAddr) -> std::io::Result<CogrpcServer> {
    let incoming = TcpIncoming::bind(listen)?.with_nodelay(Some(true));
    let address = incoming.local_addr()?;
    Ok(CogrpcServer {
        address,
        incoming,
        context,
    })
}

impl CogrpcServer {
    /// Serves until `shutdown` resolves, then lets calls in flight finish for up to
    /// [`SHUTDOWN_GRACE`].
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), tonic::transport::Error> {
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_service_status(HEALTH_SERVICE_NAME, tonic_health::ServingStatus::Serving)
            .await;
        health
            .set_service_status("", tonic_health::ServingStatus::Serving)
            .await;
        let handler = Arc::new(CargoRelayService::new(self.context));
        let signalled = Notify::new();
        let graceful = async {
            shutdown.await;
            signalled.notify_one();
        };
        let serving = Server::builder()
            .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
            .max_connection_age(MAX_CONNECTION_AGE)
            .max_connection_age_grace(MAX_CONNECTION_AGE_GRACE)
            .http2_max_header_list_size(MAX_METADATA_SIZE as u32)
            .add_service(health_service)
            .add_service(relaynet_server(Arc::clone(&handler)))
            .add_service(awala_server(handler))
            .serve_with_incoming_shutdown(self.incoming, graceful);
        let deadline = async {
            signalled.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            result = serving => result,
            () = deadline => {
                tracing::warn!("cogrpc calls still open at the shutdown deadline; closing them");
                Ok(())
            }
        }
    }
}
