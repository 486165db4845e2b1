//! PoWeb collection: one WebSocket per private gateway, handshake, then every parcel received
//! and acknowledged. Also the idle keep-alive sockets of the memory benchmark.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::peers::PrivateGateway;
use super::stats::PhaseReport;
use awala_gateway::protocols::awala::cms::{sign_detached, HANDSHAKE_NONCE_SIGNATURE_OID};
use awala_gateway::protocols::awala::keys::HashAlgorithm;
use awala_gateway::protocols::awala::messages::{
    HandshakeChallenge, HandshakeResponse, ParcelDelivery,
};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a collection socket for `gateway` and completes the handshake.
pub async fn connect(
    collection_url: &str,
    gateway: &PrivateGateway,
    keep_alive: bool,
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

/// Collects until the gateway closes (close-upon-completion); returns parcels acknowledged.
async fn collect_one(
    collection_url: String,
    gateway: Arc<PrivateGateway>,
) -> anyhow::Result<usize> {
    let mut socket = connect(&collection_url, &gateway, false).await?;
    let mut acknowledged = 0;
    while let Some(message) = socket.next().await {
        match message? {
            Message::Binary(bytes) => {
                let delivery = ParcelDelivery::decode(&bytes)?;
                socket
                    .send(Message::Text(delivery.delivery_id.into()))
                    .await?;
                acknowledged += 1;
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
    Ok(acknowledged)
}

/// Collects every gateway's parcels, all gateways at once.
pub async fn run(collection_url: &str, gateways: &[Arc<PrivateGateway>]) -> PhaseReport {
    let started = Instant::now();
    let sessions = gateways
        .iter()
        .map(|gateway| tokio::spawn(collect_one(collection_url.to_owned(), gateway.clone())));
    let mut acknowledged = 0;
    let mut failures = 0;
    for session in futures::future::join_all(sessions).await {
        match session.expect("collector panicked") {
            Ok(count) => acknowledged += count,
            Err(error) => {
                failures += 1;
                eprintln!("collection failed: {error:#}");
            }
        }
    }
    PhaseReport::new(
        "poweb collection (acked)",
        acknowledged,
        failures,
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
        match connect(collection_url, gateway, true).await {
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
