//! Parcel collection over WebSocket (`GET /v1/parcel-collection`), black-box over
//! `127.0.0.1:0` against an in-process PoWeb server on the embedded backends.

mod collection;

use awala_gateway::config::LimitsConfig;
use awala_gateway::protocols::awala::cms::{sign_detached, HANDSHAKE_NONCE_SIGNATURE_OID};
use awala_gateway::protocols::awala::keys::HashAlgorithm;
use awala_gateway::protocols::awala::messages::HandshakeResponse;
use awala_gateway::protocols::awala::pki::self_issue_identity_certificate;
use chrono::{Duration, Utc};
use collection::*;

async fn harness() -> Harness {
    Harness::start(LimitsConfig::default()).await
}

#[actix_rt::test]
async fn nothing_queued_closes_1000_right_after_the_handshake() {
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    let mut socket = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    assert_eq!(close_code(&mut socket).await, Some(1000));
    // The spec spelling of the header selects the mode too.
    let mut socket = harness
        .connect(&[("X-Awala-Streaming-Mode", CLOSE_UPON_COMPLETION)])
        .await;
    let nonce = challenge(&mut socket).await;
    let response = HandshakeResponse {
        nonce_signatures: vec![sign_nonce(&pg, &nonce)],
    };
    send_binary(&mut socket, response.encode().unwrap()).await;
    assert_eq!(close_code(&mut socket).await, Some(1000));
}

#[actix_rt::test]
async fn challenge_carries_a_fresh_16_byte_nonce() {
    let harness = harness().await;
    let mut first = harness.connect(&[]).await;
    let mut second = harness.connect(&[]).await;
    let (a, b) = (challenge(&mut first).await, challenge(&mut second).await);
    assert_eq!(a.len(), 16);
    assert_ne!(a, b);
}

#[actix_rt::test]
async fn acked_parcels_are_deleted_and_not_sent_again() {
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    let mut parcels = Vec::new();
    for _ in 0..3 {
        parcels.push(harness.store_parcel(&pg).await);
    }
    let mut socket = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    let mut received = Vec::new();
    for _ in 0..3 {
        let delivery = delivery(&mut socket).await;
        send_text(&mut socket, &delivery.delivery_id).await;
        received.push(delivery.parcel_serialized);
    }
    // 1000 comes only once every ACK was processed (deleted).
    assert_eq!(close_code(&mut socket).await, Some(1000));
    assert_eq!(received, parcels, "in storage order, byte for byte");
    assert_eq!(harness.stored(&pg).await, 0);
    let mut again = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    assert_eq!(close_code(&mut again).await, Some(1000));
}

#[actix_rt::test]
async fn unacked_parcels_are_sent_again_on_the_next_connection() {
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    let parcel = harness.store_parcel(&pg).await;
    let mut socket = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    let first = delivery(&mut socket).await;
    assert_eq!(first.parcel_serialized, parcel);
    drop(socket);
    assert_eq!(harness.stored(&pg).await, 1);
    let mut socket = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    let second = delivery(&mut socket).await;
    assert_eq!(second.parcel_serialized, parcel);
    assert_ne!(
        second.delivery_id, first.delivery_id,
        "delivery ids are fresh"
    );
    // ACKs may come as binary frames too.
    send_binary(&mut socket, second.delivery_id.into_bytes()).await;
    assert_eq!(close_code(&mut socket).await, Some(1000));
    assert_eq!(harness.stored(&pg).await, 0);
}

#[actix_rt::test]
async fn two_signatures_collect_for_both_gateways() {
    let harness = harness().await;
    let (first, second) = (harness.private_gateway(0), harness.private_gateway(1));
    let for_first = harness.store_parcel(&first).await;
    let for_second = harness.store_parcel(&second).await;
    let mut socket = harness
        .collect(CLOSE_UPON_COMPLETION, &[&first, &second])
        .await;
    let mut received = Vec::new();
    for _ in 0..2 {
        let delivery = delivery(&mut socket).await;
        send_text(&mut socket, &delivery.delivery_id).await;
        received.push(delivery.parcel_serialized);
    }
    assert_eq!(close_code(&mut socket).await, Some(1000));
    received.sort();
    let mut expected = vec![for_first, for_second];
    expected.sort();
    assert_eq!(received, expected);
}

#[actix_rt::test]
async fn keep_alive_pushes_parcels_stored_while_open() {
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    let queued = harness.store_parcel(&pg).await;
    let mut socket = harness.collect(KEEP_ALIVE, &[&pg]).await;
    let first = delivery(&mut socket).await;
    assert_eq!(first.parcel_serialized, queued);
    send_text(&mut socket, &first.delivery_id).await;
    // Stored after the socket is streaming: pushed through the notification channel.
    let pushed = harness.store_parcel(&pg).await;
    let second = delivery(&mut socket).await;
    assert_eq!(second.parcel_serialized, pushed);
    send_text(&mut socket, &second.delivery_id).await;
    // Keep-alive never completes on its own: the client ends it, the server answers.
    socket.close(None).await.expect("close");
    assert!(matches!(next_event(&mut socket).await, Event::Closed(_)));
}

#[actix_rt::test]
async fn unknown_ack_closes_1003() {
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    harness.store_parcel(&pg).await;
    let mut socket = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    let _ = delivery(&mut socket).await;
    send_text(&mut socket, "not-a-delivery-id").await;
    assert_eq!(close_code(&mut socket).await, Some(1003));
    assert_eq!(harness.stored(&pg).await, 1, "nothing deleted");
}

#[actix_rt::test]
async fn invalid_handshakes_close_1003() {
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    // Not a handshake response; a text frame; no signatures.
    for (frame, text) in [
        (b"junk".to_vec(), false),
        (b"junk".to_vec(), true),
        (
            HandshakeResponse {
                nonce_signatures: Vec::new(),
            }
            .encode()
            .unwrap(),
            false,
        ),
    ] {
        let mut socket = harness.connect(&[]).await;
        challenge(&mut socket).await;
        if text {
            send_text(&mut socket, "junk").await;
        } else {
            send_binary(&mut socket, frame).await;
        }
        assert_eq!(close_code(&mut socket).await, Some(1003), "text: {text}");
    }
    // A signature over another nonce.
    let mut socket = harness.connect(&[]).await;
    challenge(&mut socket).await;
    let response = HandshakeResponse {
        nonce_signatures: vec![sign_nonce(&pg, b"another nonce!!!")],
    };
    send_binary(&mut socket, response.encode().unwrap()).await;
    assert_eq!(close_code(&mut socket).await, Some(1003));
    // A valid signature by a gateway we did not issue, next to a good one.
    let stranger_key = key(2);
    let now = Utc::now();
    let stranger = self_issue_identity_certificate(
        stranger_key,
        now - Duration::hours(1),
        now + Duration::days(1),
    )
    .unwrap();
    let mut socket = harness.connect(&[]).await;
    let nonce = challenge(&mut socket).await;
    let forged = sign_detached(
        &HANDSHAKE_NONCE_SIGNATURE_OID,
        &nonce,
        stranger_key,
        stranger.der(),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    let response = HandshakeResponse {
        nonce_signatures: vec![sign_nonce(&pg, &nonce), forged],
    };
    send_binary(&mut socket, response.encode().unwrap()).await;
    assert_eq!(close_code(&mut socket).await, Some(1003));
}

#[actix_rt::test]
async fn browser_requests_are_upgraded_then_closed_1008() {
    let harness = harness().await;
    let mut socket = harness.connect(&[("Origin", "https://example.com")]).await;
    assert_eq!(close_code(&mut socket).await, Some(1008));
}

#[actix_rt::test]
async fn oversized_inbound_messages_close_1009() {
    let harness = harness().await;
    let mut socket = harness.connect(&[]).await;
    challenge(&mut socket).await;
    send_binary(&mut socket, vec![0; 7 * 1024]).await;
    assert_eq!(close_code(&mut socket).await, Some(1009));
}

#[actix_rt::test]
async fn silent_clients_are_closed_after_the_handshake_timeout() {
    let harness = Harness::start(LimitsConfig {
        handshake_timeout_seconds: 1,
        ..LimitsConfig::default()
    })
    .await;
    let mut socket = harness.connect(&[]).await;
    challenge(&mut socket).await;
    assert_eq!(close_code(&mut socket).await, Some(1008));
}

#[actix_rt::test]
async fn sockets_over_the_per_gateway_limit_are_refused() {
    let harness = Harness::start(LimitsConfig {
        max_sockets_per_private_gateway: 1,
        ..LimitsConfig::default()
    })
    .await;
    let pg = harness.private_gateway(0);
    harness.store_parcel(&pg).await;
    let mut open = harness.collect(KEEP_ALIVE, &[&pg]).await;
    // A delivery proves the first socket is registered.
    let _ = delivery(&mut open).await;
    let mut refused = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    assert_eq!(close_code(&mut refused).await, Some(4000));
    let mut refused = harness.collect(KEEP_ALIVE, &[&pg]).await;
    assert_eq!(
        close_code(&mut refused).await,
        Some(1000),
        "keep-alive: reconnect"
    );
    assert!(harness.gateway.metrics.websocket_connections().get() >= 1);
}

/// How long a test waits to be sure the server sends nothing more: the server writes the next
/// frames as soon as their bodies are read, well within this on loopback.
const QUIET_PERIOD: std::time::Duration = std::time::Duration::from_millis(500);

/// The next frame, if the server sends one within [`QUIET_PERIOD`] (pings aside).
async fn frame_within_quiet_period(socket: &mut Socket) -> Option<Event> {
    tokio::time::timeout(QUIET_PERIOD, next_event(socket))
        .await
        .ok()
}

#[actix_rt::test]
async fn by_default_the_next_delivery_waits_for_the_previous_ack() {
    // The published JS client merges frames that arrive before it reads the previous one, and
    // loses all but the first: one unacknowledged delivery at a time.
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    let mut parcels = Vec::new();
    for _ in 0..5 {
        parcels.push(harness.store_parcel(&pg).await);
    }
    let mut socket = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    let mut received = Vec::new();
    for _ in 0..5 {
        let delivery = delivery(&mut socket).await;
        if let Some(event) = frame_within_quiet_period(&mut socket).await {
            panic!("sent before the ACK of {}: {event:?}", delivery.delivery_id);
        }
        send_text(&mut socket, &delivery.delivery_id).await;
        received.push(delivery.parcel_serialized);
    }
    assert_eq!(close_code(&mut socket).await, Some(1000));
    assert_eq!(received, parcels);
}

#[actix_rt::test]
async fn a_client_may_ask_for_a_wider_window() {
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    for _ in 0..6 {
        harness.store_parcel(&pg).await;
    }
    let mut socket = harness
        .connect(&[
            ("X-Relaynet-Streaming-Mode", CLOSE_UPON_COMPLETION),
            ("X-Awala-Collection-Window", "4"),
        ])
        .await;
    let nonce = challenge(&mut socket).await;
    let response = HandshakeResponse {
        nonce_signatures: vec![sign_nonce(&pg, &nonce)],
    };
    send_binary(&mut socket, response.encode().unwrap()).await;
    let mut unacknowledged = Vec::new();
    for _ in 0..4 {
        unacknowledged.push(delivery(&mut socket).await.delivery_id);
    }
    assert!(
        frame_within_quiet_period(&mut socket).await.is_none(),
        "a fifth delivery went out with four unacknowledged"
    );
    for id in unacknowledged {
        send_text(&mut socket, &id).await;
    }
    for _ in 0..2 {
        let delivery = delivery(&mut socket).await;
        send_text(&mut socket, &delivery.delivery_id).await;
    }
    assert_eq!(close_code(&mut socket).await, Some(1000));
    assert_eq!(harness.stored(&pg).await, 0);
}

#[actix_rt::test]
async fn the_operator_may_widen_the_default_window() {
    let harness = Harness::start(LimitsConfig {
        collection_window: 3,
        ..LimitsConfig::default()
    })
    .await;
    let pg = harness.private_gateway(0);
    for _ in 0..4 {
        harness.store_parcel(&pg).await;
    }
    let mut socket = harness.collect(KEEP_ALIVE, &[&pg]).await;
    for _ in 0..3 {
        delivery(&mut socket).await;
    }
    assert!(frame_within_quiet_period(&mut socket).await.is_none());
}

#[actix_rt::test]
async fn sockets_over_the_global_limit_are_refused_at_the_upgrade() {
    let harness = Harness::start(LimitsConfig {
        max_websocket_connections: 2,
        ..LimitsConfig::default()
    })
    .await;
    // Neither has sent a handshake response: they count from the upgrade.
    let first = harness.connect(&[]).await;
    let _second = harness.connect(&[]).await;
    let url = format!("ws://127.0.0.1:{}/v1/parcel-collection", harness.port);
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            assert!(response.headers().contains_key("retry-after"));
        }
        other => panic!("expected 503, got {other:?}"),
    }
    drop(first);
    // The slot is freed once the server has seen the socket go.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            Err(error) => panic!("slot never freed: {error}"),
        }
    }
}

#[actix_rt::test]
async fn a_session_that_panics_mid_stream_loses_nothing_and_the_next_one_delivers() {
    use awala_gateway::supervision::faults::FaultPoint;
    let harness = harness().await;
    let pg = harness.private_gateway(0);
    let first = harness.store_parcel(&pg).await;
    let mut socket = harness.collect(KEEP_ALIVE, &[&pg]).await;
    let delivery_one = delivery(&mut socket).await;
    assert_eq!(delivery_one.parcel_serialized, first);
    send_text(&mut socket, &delivery_one.delivery_id).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while harness.stored(&pg).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ACK never processed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The next body read panics inside the session's panic boundary.
    harness.gateway.faults.arm(FaultPoint::CollectionSession, 1);
    let second = harness.store_parcel(&pg).await;
    assert_eq!(close_code(&mut socket).await, Some(1011));
    assert_eq!(
        harness.gateway.faults.fired(FaultPoint::CollectionSession),
        1
    );
    // The session's restart is the client's reconnection: nothing it held was lost.
    let mut socket = harness.collect(CLOSE_UPON_COMPLETION, &[&pg]).await;
    let delivery_two = delivery(&mut socket).await;
    assert_eq!(delivery_two.parcel_serialized, second);
    send_text(&mut socket, &delivery_two.delivery_id).await;
    assert_eq!(close_code(&mut socket).await, Some(1000));
    assert_eq!(harness.stored(&pg).await, 0);
}
