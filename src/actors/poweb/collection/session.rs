//! One actor per collection socket: handshake, then paged streaming of stored parcels, ACKs,
//! and in keep-alive mode the parcels announced on the gateways' notification channels.
//!
//! The actor holds only what it can rebuild from the stores (a cursor and the deliveries on this
//! socket), so its "restart" is the client reconnecting: un-acknowledged parcels stay stored and
//! are sent again. Backend calls and untrusted parsing run in [`protect`]ed tasks, one listing or
//! body read at a time (deletions run beside them), and a failure closes the socket with the code
//! that tells the client what to do. Bodies are read a batch at a time and their frames queued in
//! an outbox that one future drains in order, so reading the next batch overlaps with writing
//! this one.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;
use tokio::time::Instant;

use super::handshake::{authenticate, new_nonce};
use super::operations::{delete_acknowledged, list, prepare_deliveries, CollectionError, Prepared};
use super::registry::{CloseSession, CollectionRegistry, Registration, SocketSlot};
use super::stream::{CollectionStream, StreamLimits, MAX_BATCH_BYTES};
use crate::actors::gateway::GatewayContext;
use crate::backends::metadata::ParcelIndexEntry;
use crate::backends::pubsub::{parcel_channel, Notification};
use crate::protocols::awala::messages::HandshakeChallenge;
use crate::protocols::error_code::HasErrorCode;
use crate::protocols::poweb::{PowebCloseReason, StreamingMode};
use crate::supervision::protect;

/// Per-socket settings, from `LimitsConfig` and the upgrade request.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub mode: StreamingMode,
    pub ping_interval: Duration,
    pub handshake_timeout: Duration,
    pub pong_timeout: Duration,
    pub limits: StreamLimits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingHandshake,
    Streaming,
    Closing,
}

/// A notification on the channel of one of the session's gateways.
#[derive(Debug)]
struct GatewayNotice {
    pg_id: String,
    notification: Notification,
}

type Inbound = Result<AggregatedMessage, ProtocolError>;

/// A delivery read and encoded, not yet sent.
#[derive(Debug)]
struct ReadyDelivery {
    delivery_id: String,
    entry: ParcelIndexEntry,
    frame: Bytes,
}

/// The actor behind one parcel-collection WebSocket.
pub struct CollectionSession {
    gateway: Arc<GatewayContext>,
    registry: Arc<CollectionRegistry>,
    /// This socket's place under the global limit, held for life.
    _slot: SocketSlot,
    ws: actix_ws::Session,
    inbound_opt: Option<actix_ws::AggregatedMessageStream>,
    settings: SessionSettings,
    nonce: Vec<u8>,
    phase: Phase,
    stream_opt: Option<CollectionStream>,
    registration_opt: Option<Registration>,
    /// A protected listing or body read is running.
    busy: bool,
    /// Deliveries read and encoded, waiting for the window, in order (bounded by the
    /// read-ahead). Each is recorded as in flight just before its frame is written.
    outbox: VecDeque<ReadyDelivery>,
    /// Bytes of frames not yet handed to the socket (the outbox and the write running); no
    /// batch is read while they reach `MAX_BATCH_BYTES`, so a slow client holds at most about
    /// two batches of bodies here.
    unsent_bytes: usize,
    /// The future writing the outbox is running.
    sending: bool,
    last_pong: Instant,
}

impl CollectionSession {
    pub fn new(
        gateway: Arc<GatewayContext>,
        registry: Arc<CollectionRegistry>,
        slot: SocketSlot,
        ws: actix_ws::Session,
        inbound: actix_ws::AggregatedMessageStream,
        settings: SessionSettings,
    ) -> Self {
        CollectionSession {
            gateway,
            registry,
            _slot: slot,
            ws,
            inbound_opt: Some(inbound),
            settings,
            nonce: new_nonce(),
            phase: Phase::AwaitingHandshake,
            stream_opt: None,
            registration_opt: None,
            busy: false,
            outbox: VecDeque::new(),
            unsent_bytes: 0,
            sending: false,
            last_pong: Instant::now(),
        }
    }

    /// Sends a close frame with `reason`, then stops. Later calls are ignored.
    fn close(&mut self, ctx: &mut Context<Self>, reason: PowebCloseReason) {
        if self.phase == Phase::Closing {
            return;
        }
        self.phase = Phase::Closing;
        tracing::debug!(
            code = reason.code(),
            reason = reason.reason(),
            "closing collection"
        );
        let ws = self.ws.clone();
        ctx.wait(
            async move {
                let _ = ws.close(Some(close_reason(reason))).await;
            }
            .into_actor(self)
            .map(|_, _, ctx| ctx.stop()),
        );
    }

    fn ping(&mut self, ctx: &mut Context<Self>) {
        if self.last_pong.elapsed() > self.settings.pong_timeout {
            self.close(ctx, PowebCloseReason::PongTimeout);
            return;
        }
        let mut ws = self.ws.clone();
        ctx.spawn(
            async move { ws.ping(b"").await.is_ok() }
                .into_actor(self)
                .map(|open, _, ctx| {
                    if !open {
                        ctx.stop();
                    }
                }),
        );
    }

    fn on_data(&mut self, ctx: &mut Context<Self>, data: Bytes, is_text: bool) {
        match self.phase {
            Phase::AwaitingHandshake if is_text => {
                self.close(ctx, PowebCloseReason::InvalidHandshakeResponse)
            }
            Phase::AwaitingHandshake => self.on_handshake_response(ctx, data),
            Phase::Streaming => self.on_ack(ctx, &data),
            Phase::Closing => {}
        }
    }

    fn on_handshake_response(&mut self, ctx: &mut Context<Self>, data: Bytes) {
        let gateway = self.gateway.clone();
        let nonce = self.nonce.clone();
        let verify = async move {
            tokio::task::spawn_blocking(move || authenticate(&gateway, &data, &nonce, Utc::now()))
                .await
                .unwrap_or(Err(PowebCloseReason::Internal))
        };
        // Nothing else is handled until the handshake is decided: an ACK right behind the
        // response must find the stream in place.
        ctx.wait(
            verify
                .into_actor(self)
                .map(|outcome, act, ctx| match outcome {
                    Ok(pg_ids) => act.start_streaming(ctx, pg_ids),
                    Err(reason) => act.close(ctx, reason),
                }),
        );
    }

    fn start_streaming(&mut self, ctx: &mut Context<Self>, pg_ids: Vec<String>) {
        let mode = self.settings.mode;
        match self.registry.register(&pg_ids, ctx.address().recipient()) {
            Ok(registration) => self.registration_opt = Some(registration),
            Err(error) => {
                tracing::info!(%error, "refusing a collection socket");
                let reason = PowebCloseReason::for_stream_failure(error.error_code(), mode);
                return self.close(ctx, reason);
            }
        }
        self.stream_opt = Some(CollectionStream::new(&pg_ids, self.settings.limits));
        if mode == StreamingMode::CloseUponCompletion {
            self.phase = Phase::Streaming;
            return self.pump(ctx);
        }
        // Keep-alive: subscribe before the first listing, so nothing stored in between is
        // missed (DESIGN §6).
        let notifier = self.gateway.backends.notifier.clone();
        let subscribe = async move {
            let mut subscriptions = Vec::with_capacity(pg_ids.len());
            for pg_id in pg_ids {
                let subscription = notifier.subscribe(&parcel_channel(&pg_id)).await?;
                subscriptions.push(subscription.map(move |notification| GatewayNotice {
                    pg_id: pg_id.clone(),
                    notification,
                }));
            }
            Ok::<_, CollectionError>(subscriptions)
        };
        ctx.wait(
            subscribe
                .into_actor(self)
                .map(|outcome, act, ctx| match outcome {
                    Ok(subscriptions) => {
                        for subscription in subscriptions {
                            ctx.add_stream(subscription);
                        }
                        act.phase = Phase::Streaming;
                        act.pump(ctx);
                    }
                    Err(error) => act.fail(ctx, error),
                }),
        );
    }

    fn on_ack(&mut self, ctx: &mut Context<Self>, data: &[u8]) {
        let entry_opt = match (std::str::from_utf8(data), self.stream_opt.as_mut()) {
            (Ok(delivery_id), Some(stream)) => stream.on_ack(delivery_id),
            _ => None,
        };
        let Some(entry) = entry_opt else {
            return self.close(ctx, PowebCloseReason::UnknownDeliveryId);
        };
        // The window has room again: the next delivery goes out before its predecessor is
        // deleted.
        self.flush(ctx);
        // Detached from the actor: an ACKed parcel is deleted even if the socket closes right
        // after the ACK (the JS client closes as soon as it has acknowledged in keep-alive).
        let deletion =
            actix_web::rt::spawn(delete_acknowledged(self.gateway.clone(), entry.clone()));
        ctx.spawn(deletion.into_actor(self).map(move |outcome, act, ctx| {
            let outcome =
                outcome.unwrap_or_else(|join| Err(CollectionError::Internal(join.to_string())));
            match outcome {
                Ok(()) => {
                    if let Some(stream) = act.stream_opt.as_mut() {
                        stream.on_deleted(&entry);
                    }
                    // Sends may have waited for deletions to catch up.
                    act.flush(ctx);
                    act.pump(ctx);
                }
                Err(error) => act.fail(ctx, error),
            }
        }));
    }

    /// Starts the next operation, if none is running: listing, then reading a batch to send;
    /// closes once a close-upon-completion collection is done (deletions run on their own, see
    /// `on_ack`).
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.busy || self.phase != Phase::Streaming {
            return;
        }
        let Some(stream) = self.stream_opt.as_mut() else {
            return;
        };
        let gateway = self.gateway.clone();
        if let Some(request) = stream.next_listing() {
            let listing = list(gateway, request.clone(), Utc::now());
            self.run(ctx, listing, move |act, entries, _| {
                if let Some(stream) = act.stream_opt.as_mut() {
                    stream.on_listed(&request, entries);
                }
            });
            return;
        }
        let batch = if self.unsent_bytes < MAX_BATCH_BYTES as usize {
            stream.next_batch_to_read(MAX_BATCH_BYTES)
        } else {
            Vec::new()
        };
        if !batch.is_empty() {
            let reading = prepare_deliveries(gateway, batch, Utc::now());
            self.run(ctx, reading, |act, prepared, ctx| {
                act.deliver(ctx, prepared)
            });
        } else if stream.is_complete() && self.settings.mode == StreamingMode::CloseUponCompletion {
            self.close(ctx, PowebCloseReason::Complete);
        }
    }

    /// Queues the prepared deliveries for the window, in order.
    fn deliver(&mut self, ctx: &mut Context<Self>, prepared: Vec<Prepared>) {
        let Some(stream) = self.stream_opt.as_mut() else {
            return;
        };
        for item in prepared {
            match item {
                Prepared::Ready {
                    delivery_id,
                    entry,
                    frame,
                } => {
                    self.unsent_bytes += frame.len();
                    self.outbox.push_back(ReadyDelivery {
                        delivery_id,
                        entry,
                        frame: Bytes::from(frame),
                    });
                }
                Prepared::Skipped => stream.on_skipped(),
            }
        }
        self.flush(ctx);
    }

    /// Writes as many queued deliveries as the window allows, unless a write is running (it
    /// flushes again when done). Each is recorded as in flight before its frame goes out: an
    /// ACK can only name a delivery the stream already knows.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.sending || self.phase != Phase::Streaming {
            return;
        }
        let Some(stream) = self.stream_opt.as_mut() else {
            return;
        };
        let mut frames = Vec::new();
        while stream.can_send() {
            let Some(ready) = self.outbox.pop_front() else {
                break;
            };
            stream.on_sent(ready.delivery_id, ready.entry);
            frames.push(ready.frame);
        }
        if frames.is_empty() {
            return;
        }
        self.sending = true;
        let bytes: usize = frames.iter().map(Bytes::len).sum();
        let mut ws = self.ws.clone();
        let writing = async move {
            for frame in frames {
                ws.binary(frame).await?;
            }
            Ok::<_, actix_ws::Closed>(())
        };
        ctx.spawn(writing.into_actor(self).map(move |written, act, ctx| {
            act.sending = false;
            act.unsent_bytes -= bytes;
            match written {
                Ok(()) => {
                    act.flush(ctx);
                    // Reading may have waited for these bytes to go out.
                    act.pump(ctx);
                }
                Err(_) => act.fail(ctx, CollectionError::SocketClosed),
            }
        }));
    }

    /// Runs `operation` as a protected task, applies its result, then pumps again.
    fn run<T: 'static>(
        &mut self,
        ctx: &mut Context<Self>,
        operation: impl std::future::Future<Output = Result<T, CollectionError>> + 'static,
        apply: impl FnOnce(&mut Self, T, &mut Context<Self>) + 'static,
    ) {
        self.busy = true;
        ctx.spawn(
            protect(operation)
                .into_actor(self)
                .map(move |outcome, act, ctx| {
                    act.busy = false;
                    match outcome {
                        Ok(Ok(value)) => {
                            apply(act, value, ctx);
                            act.pump(ctx);
                        }
                        Ok(Err(error)) => act.fail(ctx, error),
                        Err(panic) => act.fail(ctx, CollectionError::Internal(panic.message)),
                    }
                }),
        );
    }

    fn fail(&mut self, ctx: &mut Context<Self>, error: CollectionError) {
        if matches!(error, CollectionError::SocketClosed) {
            ctx.stop();
            return;
        }
        tracing::warn!(%error, "parcel collection failed");
        self.gateway
            .metrics
            .record_error(error.error_type(), "poweb_collection");
        let reason = PowebCloseReason::for_stream_failure(error.error_code(), self.settings.mode);
        self.close(ctx, reason);
    }
}

fn close_reason(reason: PowebCloseReason) -> CloseReason {
    CloseReason {
        code: CloseCode::from(reason.code()),
        description: Some(reason.reason().to_owned()),
    }
}

impl Actor for CollectionSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.gateway.metrics.websocket_connections().inc();
        if let Some(inbound) = self.inbound_opt.take() {
            ctx.add_stream(inbound);
        }
        match (HandshakeChallenge {
            nonce: self.nonce.clone(),
        })
        .encode()
        {
            Ok(challenge) => {
                let mut ws = self.ws.clone();
                ctx.spawn(
                    async move { ws.binary(challenge).await.is_ok() }
                        .into_actor(self)
                        .map(|open, _, ctx| {
                            if !open {
                                ctx.stop();
                            }
                        }),
                );
            }
            Err(error) => {
                return self.fail(ctx, CollectionError::Internal(error.to_string()));
            }
        }
        // Pings flow from the start: the JS client drops a socket after 7 s without one.
        ctx.run_interval(self.settings.ping_interval, |act, ctx| act.ping(ctx));
        ctx.run_later(self.settings.handshake_timeout, |act, ctx| {
            if act.phase == Phase::AwaitingHandshake {
                act.close(ctx, PowebCloseReason::HandshakeTimeout);
            }
        });
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.gateway.metrics.websocket_connections().dec();
        self.registration_opt.take();
    }
}

impl StreamHandler<Inbound> for CollectionSession {
    fn handle(&mut self, item: Inbound, ctx: &mut Context<Self>) {
        match item {
            Ok(AggregatedMessage::Binary(data)) => self.on_data(ctx, data, false),
            Ok(AggregatedMessage::Text(text)) => self.on_data(ctx, text.into_bytes(), true),
            Ok(AggregatedMessage::Ping(payload)) => {
                self.last_pong = Instant::now();
                let mut ws = self.ws.clone();
                ctx.spawn(
                    async move {
                        let _ = ws.pong(&payload).await;
                    }
                    .into_actor(self),
                );
            }
            Ok(AggregatedMessage::Pong(_)) => self.last_pong = Instant::now(),
            // The client is done; answer its close and stop.
            Ok(AggregatedMessage::Close(_)) => {
                self.phase = Phase::Closing;
                let ws = self.ws.clone();
                ctx.wait(
                    async move {
                        let _ = ws.close(None).await;
                    }
                    .into_actor(self)
                    .map(|_, _, ctx| ctx.stop()),
                );
            }
            Err(ProtocolError::Overflow) => self.close(ctx, PowebCloseReason::MessageTooLarge),
            // The aggregation limit surfaces as an I/O error: the only one it raises.
            Err(ProtocolError::Io(error)) if error.kind() == std::io::ErrorKind::Other => {
                self.close(ctx, PowebCloseReason::MessageTooLarge)
            }
            Err(error) => {
                tracing::debug!(%error, "collection socket failed");
                ctx.stop();
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl StreamHandler<GatewayNotice> for CollectionSession {
    fn handle(&mut self, notice: GatewayNotice, ctx: &mut Context<Self>) {
        if let Some(stream) = self.stream_opt.as_mut() {
            stream.on_notification(&notice.pg_id, &notice.notification);
        }
        self.pump(ctx);
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // The notifier lost its connection: ask the client to reconnect (and re-list).
        self.fail(
            ctx,
            CollectionError::Backend(crate::backends::BackendError::unavailable(
                "notification subscription ended",
            )),
        );
    }
}

impl Handler<CloseSession> for CollectionSession {
    type Result = ();

    fn handle(&mut self, msg: CloseSession, ctx: &mut Context<Self>) {
        self.close(ctx, msg.0);
    }
}
