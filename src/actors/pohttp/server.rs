//! The actix-web server of PoHTTP: one default service routes with
//! [`PohttpEndpoint::parse`], as PoWeb's does, and counts each request under its endpoint name.

use std::net::SocketAddr;
use std::time::Instant;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};

use super::{deliver, PohttpState};
use crate::actors::poweb::server::{
    bind_routed, outcome, routing_reply, shed, BoundServer, UNROUTED,
};
use crate::protocols::pohttp::PohttpEndpoint;
use crate::protocols::poweb::media;
use crate::telemetry::Binding;

const BINDING: Binding = Binding::Pohttp;

/// A bound PoHTTP server.
pub type PohttpServer = BoundServer;

/// Binds the PoHTTP server on `listen`; it stops like PoWeb's.
pub fn bind(state: PohttpState, listen: SocketAddr) -> std::io::Result<PohttpServer> {
    let edge = state.edge;
    bind_routed(state, listen, edge, BINDING, dispatch)
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
