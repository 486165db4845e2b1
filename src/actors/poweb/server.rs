//! The actix-web server: one default service routes every request with the codec's
//! [`PowebEndpoint::parse`], so 404, 405 + `Allow` and `OPTIONS` 204 come from the one routing
//! table, and every request is counted under its endpoint's bounded name.
//!
//! Slow clients are bounded at three points ([`HttpEdgeLimits`]): actix-web answers 408 and
//! closes when a connection's first request head is not complete in time; the capped body
//! reader answers 408 when a body is not complete in time; and an idle keep-alive connection is
//! closed after [`KEEP_ALIVE`]. The load-shield permit is taken in `dispatch`, which actix-web
//! calls only once the head is parsed, so a slow head never holds one, and a slow body holds one
//! for at most the body timeout.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data, Payload};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};

use super::body::{error, BodyTimeout};
use super::{
    collection, connection_params, health, parcel_delivery, pre_registration, registration,
    PowebState,
};
use crate::actors::request_id;
use crate::config::LimitsConfig;
use crate::protocols::poweb::{PowebEndpoint, RoutingError};
use crate::telemetry::{Binding, RequestOutcome};

/// `endpoint` label of requests that routing answered itself (404, 405, OPTIONS).
pub(crate) const UNROUTED: &str = "unrouted";
/// `endpoint` label of requests the load shield refused before routing.
const SHED: &str = "shed";
const BINDING: Binding = Binding::Poweb;
/// How long in-flight requests may finish once the server is told to stop.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;
/// Server workers (threads). Handlers are short; two keep one busy RSA signature from
/// stalling health checks without multiplying memory on large machines.
const WORKERS: usize = 2;
/// How long an idle keep-alive connection stays open (actix-web's default, stated): long enough
/// for a client's next request, short enough that idle connections do not pile up.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// The time limits of one HTTP binding's connections and requests (from `limits.http_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpEdgeLimits {
    /// For the first request head of a connection (actix-web's `client_request_timeout`). Later
    /// heads on a keep-alive connection are not timed by actix-web; they hold no permit.
    pub header_timeout: Duration,
    /// For a whole request body, enforced by the capped body reader.
    pub body_timeout: Duration,
    /// For the client to close once we close (actix-web's `client_disconnect_timeout`).
    pub disconnect_timeout: Duration,
}

impl HttpEdgeLimits {
    pub fn from_limits(limits: &LimitsConfig) -> Self {
        HttpEdgeLimits {
            header_timeout: limits.http_header_timeout(),
            body_timeout: limits.http_body_timeout(),
            disconnect_timeout: limits.http_disconnect_timeout(),
        }
    }
}

/// A bound HTTP server (PoWeb or PoHTTP), not yet awaited.
pub struct BoundServer {
    pub server: Server,
    /// The addresses actually bound (a `:0` port resolved).
    pub addresses: Vec<SocketAddr>,
}

/// A bound PoWeb server.
pub type PowebServer = BoundServer;

/// Binds the PoWeb server on `listen`. It watches no signals (`serve` owns them); stopped through
/// its handle, it stops accepting, lets requests finish for up to ten seconds, then resolves.
pub fn bind(state: PowebState, listen: SocketAddr) -> std::io::Result<PowebServer> {
    let edge = HttpEdgeLimits::from_limits(&state.gateway.limits);
    bind_routed(state, listen, edge, BINDING, dispatch)
}

/// Binds an HTTP binding whose one default service, `dispatch`, routes every request itself
/// (with the codec's closed endpoint enum), shared by PoWeb and PoHTTP.
pub(crate) fn bind_routed<S, F, Fut>(
    state: S,
    listen: SocketAddr,
    edge: HttpEdgeLimits,
    binding: Binding,
    dispatch: F,
) -> std::io::Result<BoundServer>
where
    S: Send + Sync + 'static,
    F: Fn(HttpRequest, Payload, Data<S>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = HttpResponse> + 'static,
{
    let data = Data::new(state);
    let server = HttpServer::new(move || {
        let dispatch = dispatch.clone();
        App::new()
            .app_data(data.clone())
            .app_data(BodyTimeout(edge.body_timeout))
            .app_data(request_id::BindingName(binding.as_str()))
            .wrap(from_fn(request_id::http))
            .default_service(web::to(
                move |request: HttpRequest, payload: Payload, state: Data<S>| {
                    let answering = dispatch(request, payload, state);
                    async move { close_if_timed_out(answering.await) }
                },
            ))
    })
    .workers(WORKERS)
    // `serve` owns the stop signals and stops every server itself.
    .disable_signals()
    .client_request_timeout(edge.header_timeout)
    .client_disconnect_timeout(edge.disconnect_timeout)
    .keep_alive(KEEP_ALIVE)
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

/// A 408 ends its connection: the rest of the body was never read, so the stream cannot carry
/// another request, and the slow client loses its connection as well as its request.
fn close_if_timed_out(mut response: HttpResponse) -> HttpResponse {
    if response.status() == StatusCode::REQUEST_TIMEOUT {
        response
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    response
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
        // A peer over its storage quota: its doing, not ours.
        507 => RequestOutcome::ClientError,
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
