//! The actix-web server: one default service routes every request with the codec's
//! [`PowebEndpoint::parse`], so 404, 405 + `Allow` and `OPTIONS` 204 come from the one routing
//! table, and every request is counted under its endpoint's bounded name.

use std::net::SocketAddr;
use std::time::Instant;

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Payload};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};

use super::body::error;
use super::{
    collection, connection_params, health, parcel_delivery, pre_registration, registration,
    PowebState,
};
use crate::protocols::poweb::{PowebEndpoint, RoutingError};
use crate::telemetry::{Binding, RequestOutcome};

/// `endpoint` label of requests that routing answered itself (404, 405, OPTIONS).
pub(crate) const UNROUTED: &str = "unrouted";
/// `endpoint` label of requests the load shield refused before routing.
const SHED: &str = "shed";
const BINDING: Binding = Binding::Poweb;
/// How long in-flight requests may finish after SIGINT/SIGTERM.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;
/// Server workers (threads). Handlers are short; two keep one busy RSA signature from
/// stalling health checks without multiplying memory on large machines.
const WORKERS: usize = 2;

/// A bound HTTP server (PoWeb or PoHTTP), not yet awaited.
pub struct BoundServer {
    pub server: Server,
    /// The addresses actually bound (a `:0` port resolved).
    pub addresses: Vec<SocketAddr>,
}

/// A bound PoWeb server.
pub type PowebServer = BoundServer;

/// Binds the PoWeb server on `listen`. The returned server handles SIGINT and SIGTERM itself:
/// it stops accepting, lets requests finish for up to ten seconds, then resolves.
pub fn bind(state: PowebState, listen: SocketAddr) -> std::io::Result<PowebServer> {
    bind_routed(state, listen, dispatch)
}

/// Binds an HTTP binding whose one default service, `dispatch`, routes every request itself
/// (with the codec's closed endpoint enum), shared by PoWeb and PoHTTP.
pub(crate) fn bind_routed<S, F, Fut>(
    state: S,
    listen: SocketAddr,
    dispatch: F,
) -> std::io::Result<BoundServer>
where
    S: Send + Sync + 'static,
    F: Fn(HttpRequest, Payload, Data<S>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = HttpResponse> + 'static,
{
    let data = Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(dispatch.clone()))
    })
    .workers(WORKERS)
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .bind(listen)?;
    let addresses = server.addrs();
    Ok(BoundServer {
        server: server.run(),
        addresses,
    })
}

async fn dispatch(request: HttpRequest, payload: Payload, state: Data<PowebState>) -> HttpResponse {
    let started = Instant::now();
    let Some(_permit) = state.shield.try_enter() else {
        return shed(&state.metrics, BINDING);
    };
    let (label, response) = match PowebEndpoint::parse(request.method().as_str(), request.path()) {
        Ok(endpoint) => (
            endpoint.name(),
            handle(endpoint, &request, payload, &state).await,
        ),
        Err(routing) => (UNROUTED, routing_reply(routing)),
    };
    state.metrics.record_request(
        BINDING,
        label,
        outcome(response.status()),
        started.elapsed(),
    );
    response
}

async fn handle(
    endpoint: PowebEndpoint,
    request: &HttpRequest,
    payload: Payload,
    state: &PowebState,
) -> HttpResponse {
    match endpoint {
        PowebEndpoint::Health => health::handle(),
        PowebEndpoint::ConnectionParams => connection_params::handle(state),
        PowebEndpoint::PreRegisterNode => pre_registration::handle(request, payload, state).await,
        PowebEndpoint::RegisterNode => registration::handle(request, payload, state).await,
        PowebEndpoint::DeliverParcel => parcel_delivery::handle(request, payload, state).await,
        PowebEndpoint::CollectParcels => collection::handle(request, payload, state),
    }
}

/// The answer to a request routing refused (404, 405 + `Allow`, OPTIONS 204); PoHTTP shares it.
pub(crate) fn routing_reply(routing: RoutingError) -> HttpResponse {
    let status = StatusCode::from_u16(routing.http_status()).unwrap_or(StatusCode::NOT_FOUND);
    let mut response = match routing {
        RoutingError::Options { .. } => HttpResponse::new(status),
        _ => error(routing.http_status(), &routing.to_string()),
    };
    if let Some(allow) = routing.allow() {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
}

/// The metric outcome of an answer's status.
pub(crate) fn outcome(status: StatusCode) -> RequestOutcome {
    match status.as_u16() {
        503 => RequestOutcome::Unavailable,
        500.. => RequestOutcome::ServerError,
        400.. => RequestOutcome::ClientError,
        _ => RequestOutcome::Ok,
    }
}

/// The answer to a request the load shield refused: `503` with `Retry-After`, counted.
pub(crate) fn shed(metrics: &crate::telemetry::Metrics, binding: Binding) -> HttpResponse {
    metrics.record_request(
        binding,
        SHED,
        RequestOutcome::Unavailable,
        std::time::Duration::ZERO,
    );
    let mut response = error(503, "server is overloaded; retry later");
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(crate::actors::load_shield::RETRY_AFTER_SECS),
    );
    response
}
