//! The CogRPC server couriers talk to: one handler served as `relaynet.cogrpc.CargoRelay` (what
//! clients call) and `awala.cogrpc.CargoRelay` (the spec's name), plus `grpc.health.v1` with
//! `relaynet.cogrpc.CargoRelay` SERVING, with REF's limits (original notes §1.4).
//!
//! Plain HTTP/2 (h2c): TLS ends in front of the gateway, as with REF.
//!
//! Limits: REF's per-connection ones (streams, message and metadata sizes, connection age), plus
//! a cap on connections, an idle timeout and a load shield on calls
//! ([`super::connection_limits`]), and HTTP/2 keepalive pings so that a courier that vanished
//! mid-call gives its place back. Each admitted call holds at most one cargo in memory (see
//! [`super::deliver`] and [`super::collect`]), so calls × 9 MiB bounds what couriers can make
//! us hold.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Request, Response, Status, Streaming};

use super::call_record::{CallRecord, Recorded};
use super::collect::{collect_cargo, CollectStream};
use super::connection_limits::{hold, limit_incoming, CallGuard, CogrpcConnectInfo};
use super::deliver::{deliver_cargo, DeliverStream};
use crate::actors::gateway::GatewayContext;
use crate::actors::load_shield::LoadShield;
use crate::actors::request_id;
use crate::protocols::cogrpc::{
    awala_server, relaynet_server, CargoDelivery, CargoDeliveryAck, CargoRelay, CogrpcEndpoint,
    HEALTH_SERVICE_NAME, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT, MAX_CONCURRENT_STREAMS,
    MAX_CONNECTION_AGE, MAX_CONNECTION_AGE_GRACE, MAX_METADATA_SIZE,
};
use crate::protocols::error_code::GatewayErrorCode;
use crate::telemetry::{Binding, RequestOutcome};

/// How long calls in flight may finish after shutdown is signalled. Bounded, because a client
/// that never answers the GOAWAY would otherwise hold the process forever.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// `endpoint` label of calls the load shield refused.
const SHED: &str = "shed";

/// The `CargoRelay` handler shared by both package names.
pub struct CargoRelayService {
    context: Arc<GatewayContext>,
    shield: LoadShield,
}

impl CargoRelayService {
    pub fn new(context: Arc<GatewayContext>) -> Self {
        let shield = LoadShield::new(context.limits.max_cogrpc_calls as usize);
        CargoRelayService { context, shield }
    }

    /// A place for one call, or `UNAVAILABLE` (counted) when the shield is full.
    fn admit<T>(&self, request: &Request<T>) -> Result<CallGuard, Status> {
        let Some(permit) = self.shield.try_enter() else {
            self.context.metrics.record_request(
                Binding::Cogrpc,
                SHED,
                RequestOutcome::Unavailable,
                Duration::ZERO,
            );
            return Err(Status::new(
                GatewayErrorCode::Unavailable.tonic_code(),
                "server is overloaded; retry later",
            ));
        };
        let info_opt = request.extensions().get::<CogrpcConnectInfo>();
        Ok(CallGuard::new(permit, info_opt))
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
        let guard = self.admit(&request)?;
        let context = Arc::clone(&self.context);
        let acks = deliver_cargo(context, request.into_inner());
        Ok(Response::new(hold(acks, guard)))
    }

    async fn collect_cargo(
        &self,
        request: Request<Streaming<CargoDeliveryAck>>,
    ) -> Result<Response<Self::CollectCargoStream>, Status> {
        let guard = self.admit(&request)?;
        let record = CallRecord::start(self.context.metrics.clone(), CogrpcEndpoint::CollectCargo);
        let context = Arc::clone(&self.context);
        let result = match collect_cargo(context, request.metadata()).await {
            // Counted, with its duration, once its stream is done.
            Ok(cargo) => Ok(hold(Recorded::new(cargo, record), guard)),
            Err(status) => {
                record.fail(&status);
                Err(status)
            }
        };
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
        let limits = &self.context.limits;
        let incoming = limit_incoming(
            self.incoming,
            limits.max_cogrpc_connections as usize,
            limits.cogrpc_idle_timeout(),
            self.context.metrics.clone(),
        );
        let handler = Arc::new(CargoRelayService::new(self.context));
        let signalled = Notify::new();
        let graceful = async {
            shutdown.await;
            signalled.notify_one();
        };
        let serving = Server::builder()
            .trace_fn(request_id::grpc_span)
            .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
            .max_connection_age(MAX_CONNECTION_AGE)
            .max_connection_age_grace(MAX_CONNECTION_AGE_GRACE)
            .http2_max_header_list_size(MAX_METADATA_SIZE as u32)
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            .add_service(health_service)
            .add_service(relaynet_server(Arc::clone(&handler)))
            .add_service(awala_server(handler))
            .serve_with_incoming_shutdown(incoming, graceful);
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
