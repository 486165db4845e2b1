//! The actix-web server of PoHTTP: one default service routes with
//! [`PohttpEndpoint::parse`], as PoWeb's does, and counts each request under its endpoint name.

use std::net::SocketAddr;
use std::time::Instant;

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, Data, Payload};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};

use super::{deliver, PohttpState};
use crate::actors::poweb::server::{outcome, routing_reply, shed, UNROUTED};
use crate::protocols::pohttp::PohttpEndpoint;
use crate::protocols::poweb::media;
use crate::telemetry::Binding;

/// How long in-flight requests may finish after SIGINT/SIGTERM.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;
/// Server workers (threads); parsing runs on the blocking pool, so two keep accept latency low.
const WORKERS: usize = 2;
const BINDING: Binding = Binding::Pohttp;

/// A bound PoHTTP server, not yet awaited.
pub struct PohttpServer {
    pub server: Server,
    pub addresses: Vec<SocketAddr>,
}

/// Binds the PoHTTP server on `listen`; it handles SIGINT/SIGTERM like PoWeb's.
pub fn bind(state: PohttpState, listen: SocketAddr) -> std::io::Result<PohttpServer> {
    let data = Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(dispatch))
    })
    .workers(WORKERS)
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .bind(listen)?;
    let addresses = server.addrs();
    Ok(PohttpServer {
        server: server.run(),
        addresses,
    })
}

async fn dispatch(
    request: HttpRequest,
    payload: Payload,
    state: Data<PohttpState>,
) -> HttpResponse {
    let started = Instant::now();
    let Some(_permit) = state.shield.try_enter() else {
        return shed(&state.metrics, BINDING);
    };
    let (label, response) = match PohttpEndpoint::parse(request.method().as_str(), request.path()) {
        Ok(endpoint) => (
            endpoint.name(),
            match endpoint {
                PohttpEndpoint::Health => health(),
                PohttpEndpoint::DeliverParcel => deliver::handle(&request, payload, &state).await,
            },
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

fn health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(media::TEXT_PLAIN),
        ))
        .body("Success! This PoHTTP endpoint for the gateway works.")
}
