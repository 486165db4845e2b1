//! `GET /v1/parcel-collection`: the parcel-collection WebSocket (RS-016, notes §5.3).
//!
//! Layout:
//! - this file: the upgrade handler (browser refusal, streaming mode, inbound size limits);
//! - [`session`]: the actor per socket (bounded mailbox);
//! - [`handshake`]: nonce challenge and signature checks;
//! - [`stream`]: paging and in-flight bookkeeping, plain code;
//! - [`operations`]: the protected I/O steps (list, send, delete) and their error type;
//! - [`registry`]: live sessions per private gateway, the per-peer socket limit, shutdown.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};

use super::PowebState;
use crate::protocols::error_code::HasErrorCode;
use crate::protocols::poweb::collection::{
    collection_window, AWALA_STREAMING_MODE_HEADER, COLLECTION_WINDOW_HEADER,
    RELAYNET_STREAMING_MODE_HEADER,
};
use crate::protocols::poweb::{PowebCloseReason, StreamingMode, MAX_INBOUND_WS_MESSAGE};
use crate::supervision::start_with_capacity;

pub mod handshake;
pub mod operations;
pub mod registry;
pub mod session;
pub mod stream;

pub use registry::{CloseSession, CollectionRegistry, SocketSlot};
pub use session::{CollectionSession, SessionSettings};
pub use stream::StreamLimits;

/// Upgrades the request and hands the socket to a new [`CollectionSession`].
pub fn handle(request: &HttpRequest, payload: Payload, state: &PowebState) -> HttpResponse {
    // Counted from here, so sockets that never finish a handshake hold a slot too; refused
    // before the upgrade, where the client still gets a status it understands.
    let slot = match state.collections.admit() {
        Ok(slot) => slot,
        Err(error) => {
            tracing::info!(%error, "refusing a collection socket");
            let mut response = super::body::error(
                error.error_code().http_status(),
                "too many collection sockets; retry later",
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(crate::actors::load_shield::RETRY_AFTER_SECS),
            );
            return response;
        }
    };
    let (response, ws, inbound) = match actix_ws::handle(request, payload) {
        Ok(upgrade) => upgrade,
        Err(error) => return error.error_response(),
    };
    if request.headers().contains_key(header::ORIGIN) {
        // REF accepts the upgrade, then closes: the browser learns why.
        let reason = PowebCloseReason::BrowserRequest;
        actix_web::rt::spawn(async move {
            let _ = ws
                .close(Some(actix_ws::CloseReason {
                    code: reason.code().into(),
                    description: Some(reason.reason().to_owned()),
                }))
                .await;
            drop(inbound);
        });
        return response;
    }
    let header_value = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let mode = StreamingMode::from_headers(
        header_value(RELAYNET_STREAMING_MODE_HEADER),
        header_value(AWALA_STREAMING_MODE_HEADER),
    );
    let inbound = inbound
        .max_frame_size(MAX_INBOUND_WS_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_INBOUND_WS_MESSAGE);
    let limits = &state.gateway.limits;
    let window = collection_window(
        header_value(COLLECTION_WINDOW_HEADER),
        limits.collection_window as usize,
        stream::MAX_WINDOW,
    );
    let settings = SessionSettings {
        mode,
        ping_interval: limits.websocket_ping_interval(),
        handshake_timeout: limits.handshake_timeout(),
        pong_timeout: limits.pong_timeout(),
        limits: StreamLimits::default().with_window(window),
    };
    let session = CollectionSession::new(
        Arc::clone(&state.gateway),
        Arc::clone(&state.collections),
        slot,
        ws,
        inbound,
        settings,
    );
    start_with_capacity(session, limits.actor_mailbox_capacity.max(1) as usize);
    response
}
