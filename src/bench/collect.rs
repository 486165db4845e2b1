//! PoWeb collection: one WebSocket per private gateway, handshake, then every parcel received
//! and acknowledged. Also the idle keep-alive sockets of the memory benchmark.
//!
//! With a window of one (the default), it reads as the published JS client does: one delivery,
//! then its ACK, and it counts every frame that was already waiting when a delivery arrived,
//! which that client (reading the socket as a byte stream) would have merged into the first and
//! lost. A wider window asks the gateway for it (`X-Awala-Collection-Window`) and reads message
//! by message, as a client that can cope with several frames in flight does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::{FutureExt, SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::peers::PrivateGateway;
use super::stats::PhaseReport;
use awala_gateway::protocols::awala::cms::{sign_detached, HANDSHAKE_NONCE_SIGNATURE_OID};
use awala_gateway::protocols::awala::keys::HashAlgorithm;
use awala_gateway::protocols::awala::messages::{
    HandshakeChallenge, HandshakeResponse, ParcelDelivery,
};
use awala_gateway::protocols::poweb::collection::COLLECTION_WINDOW_HEADER;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a collection socket for `gateway`, asking for `window` unacknowledged deliveries when
/// more than one, and completes the handshake.
pub async fn connect(
    collection_url: &str,
    gateway: &PrivateGateway,
    keep_alive: bool,
    window: usize,
) -> anyhow::Result<Socket> {
    let mut request = collection_url.into_client_request()?;
    let mode = if keep_alive {
        "keep-alive"
    } else {
        "close-upon-completion"
    };
    request
        .headers_mut()
        .insert("X-Relaynet-Streaming-Mode", mode.parse()?);
    if window > 1 {
        request
            .headers_mut()
            .insert(COLLECTION_WINDOW_HEADER, window.to_string().parse()?);
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("websocket upgrade")?;
    let challenge = loop {
        match socket.next().await {
            Some(Ok(Message::Binary(bytes))) => break HandshakeChallenge::decode(&bytes)?,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => bail!("expected a handshake challenge, got {other:?}"),
        }
    };
    let signature = sign_detached(
        &HANDSHAKE_NONCE_SIGNATURE_OID,
        &challenge.nonce,
        &gateway.key,
        gateway.certificate.der(),
        HashAlgorithm::Sha256,
    )?;
    let response = HandshakeResponse {
        nonce_signatures: vec![signature],
    }
    .encode()?;
    socket.send(Message::Binary(response.into())).await?;
    Ok(socket)
}

/// What one collection socket got.
#[derive(Debug, Default)]
struct Collected {
    acknowledged: usize,
    /// Frames already waiting when the previous delivery arrived (window of one only).
    merged: usize,
}

/// Collects until the gateway closes (close-upon-completion).
async fn collect_one(
    collection_url: String,
    gateway: Arc<PrivateGateway>,
    window: usize,
) -> anyhow::Result<Collected> {
    let mut socket = connect(&collection_url, &gateway, false, window).await?;
    let mut collected = Collected::default();
    let mut waiting_opt: Option<Message> = None;
    loop {
        let message = match waiting_opt.take() {
            Some(message) => message,
            None => match socket.next().await {
                Some(message) => message?,
                None => break,
            },
        };
        match message {
            Message::Binary(bytes) => {
                let delivery = ParcelDelivery::decode(&bytes)?;
                if window == 1 {
                    // What a byte-stream reader would find buffered behind this frame.
                    if let Some(next) = socket.next().now_or_never().flatten() {
                        let next = next?;
                        if matches!(next, Message::Binary(_)) {
                            collected.merged += 1;
                        }
                        waiting_opt = Some(next);
                    }
                }
                socket
                    .send(Message::Text(delivery.delivery_id.into()))
                    .await?;
                collected.acknowledged += 1;
            }
            Message::Close(frame) => {
                let code = frame.map(|frame| u16::from(frame.code)).unwrap_or(1005);
                if code != 1000 {
                    bail!("collection closed with {code}");
                }
                break;
            }
            _ => {}
        }
    }
    Ok(collected)
}

/// Collects every gateway's parcels, all gateways at once, `window` deliveries in flight per
/// socket.
pub async fn run(
    collection_url: &str,
    gateways: &[Arc<PrivateGateway>],
    window: usize,
) -> PhaseReport {
    let started = Instant::now();
    let sessions = gateways.iter().map(|gateway| {
        tokio::spawn(collect_one(
            collection_url.to_owned(),
            gateway.clone(),
            window,
        ))
    });
    let mut acknowledged = 0;
    let mut merged = 0;
    let mut failures = 0;
    for session in futures::future::join_all(sessions).await {
        match session.expect("collector panicked") {
            Ok(collected) => {
                acknowledged += collected.acknowledged;
                merged += collected.merged;
            }
            Err(error) => {
                failures += 1;
                eprintln!("collection failed: {error:#}");
            }
        }
    }
    if merged > 0 {
        eprintln!(
            "{merged} deliveries arrived before the previous ACK: the published JS client would \
             have merged and lost them"
        );
    }
    let label = if window == 1 {
        "poweb collection (acked, as the JS client reads)"
    } else {
        "poweb collection (acked, windowed)"
    };
    PhaseReport::new(
        label,
        acknowledged,
        failures + merged,
        started.elapsed(),
        Vec::new(),
    )
}

/// Opens `count` idle keep-alive sockets spread over `gateways` and keeps them open, answering
/// pings, until the returned handle is dropped. Returns how many opened.
pub async fn open_idle(
    collection_url: &str,
    gateways: &[Arc<PrivateGateway>],
    count: usize,
) -> (usize, Vec<tokio::task::JoinHandle<()>>) {
    let mut handles = Vec::with_capacity(count);
    let mut opened = 0;
    for index in 0..count {
        let gateway = &gateways[index % gateways.len()];
        match connect(collection_url, gateway, true, 1).await {
            Ok(mut socket) => {
                opened += 1;
                handles.push(tokio::spawn(async move {
                    // Reading is what answers the gateway's pings.
                    while let Some(Ok(_)) = socket.next().await {}
                }));
            }
            Err(error) => {
                eprintln!("idle socket {index} failed: {error:#}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    (opened, handles)
}
