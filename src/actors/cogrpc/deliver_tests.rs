//! `DeliverCargo` over a real tonic server on 127.0.0.1:0, driven by the generated client.

use futures::StreamExt;
use tokio::sync::oneshot;
use tonic::transport::Endpoint;

use super::*;
use crate::actors::cogrpc::server::bind;
use crate::actors::cogrpc::test_support::Fixture;
use crate::backends::queue::{OverloadMode, QueueLimits, QueueSettings};
use crate::backends::BackendOptions;
use crate::protocols::cogrpc::CargoRelayClient;

use crate::backends::queue::conformance::take_waiting;

struct Running {
    client: CargoRelayClient<tonic::transport::Channel>,
    _stop: oneshot::Sender<()>,
}

async fn start(f: &Fixture) -> Running {
    let server = bind(Arc::clone(&f.context), "127.0.0.1:0".parse().expect("addr")).expect("bind");
    let url = format!("http://{}", server.address);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));
    let channel = Endpoint::from_shared(url)
        .expect("url")
        .connect()
        .await
        .expect("connect");
    Running {
        client: CargoRelayClient::new(channel)
            .max_encoding_message_size(crate::protocols::cogrpc::MAX_DECODING_MESSAGE_SIZE),
        _stop: stop,
    }
}

fn delivery(id: &str, cargo: Bytes) -> CargoDelivery {
    CargoDelivery {
        id: id.to_owned(),
        cargo: cargo.to_vec(),
    }
}

/// Sends `deliveries`, half-closes, and collects every answer until the server ends the call.
async fn deliver_all(
    running: &mut Running,
    deliveries: Vec<CargoDelivery>,
) -> (Vec<String>, Option<Status>) {
    let request = futures::stream::iter(deliveries);
    let response = running.client.deliver_cargo(request).await;
    let mut acks = match response {
        Ok(response) => response.into_inner(),
        Err(status) => return (Vec::new(), Some(status)),
    };
    let mut ids = Vec::new();
    while let Some(answer) = acks.next().await {
        match answer {
            Ok(ack) => ids.push(ack.id),
            Err(status) => return (ids, Some(status)),
        }
    }
    (ids, None)
}

/// Delivers `cargo` alone and checks it was acknowledged, not queued, and counted as an
/// `error_type` error.
async fn assert_acked_and_dropped(
    f: &Fixture,
    running: &mut Running,
    cargo: Bytes,
    error_type: &str,
) {
    let (ids, status) = deliver_all(running, vec![delivery("dropped", cargo)]).await;
    assert!(status.is_none());
    assert_eq!(ids, ["dropped"]);
    let depth = f
        .context
        .backends
        .queue
        .depth(QueueName::IncomingCargo)
        .await;
    assert_eq!(depth.expect("depth"), 0);
    let text = f.context.metrics.encode_text().expect("metrics");
    let series =
        format!(r#"gateway_errors_total{{error_type="{error_type}",stage="deliver_cargo"}} 1"#);
    assert!(text.contains(&series), "{series} missing:\n{text}");
}

#[tokio::test]
async fn valid_cargo_is_queued_then_acked_and_invalid_cargo_acked_and_dropped() {
    let f = Fixture::new().await;
    let mut running = start(&f).await;
    let valid = f.cargo(vec![f.internet_bound_parcel("p")]);
    // Signed by a key we never certified: well-formed but untrusted.
    let mut untrusted = f.cargo(vec![]).to_vec();
    let last = untrusted.len() - 1;
    untrusted[last] ^= 0x01;
    let deliveries = vec![
        delivery("valid \u{1F4E6} id", valid.clone()),
        delivery("garbage", Bytes::from_static(b"not cargo")),
        delivery("tampered", Bytes::from(untrusted)),
    ];

    let (ids, status) = deliver_all(&mut running, deliveries).await;
    assert_eq!(status.map(|s| s.code()), None, "ends with OK");
    assert_eq!(
        ids,
        ["valid \u{1F4E6} id", "garbage", "tampered"],
        "ids echoed verbatim"
    );

    let queue = &f.context.backends.queue;
    let queued = take_waiting(&**queue, QueueName::IncomingCargo, 10)
        .await
        .expect("receive");
    assert_eq!(queued.len(), 1, "only the valid cargo was queued");
    let incoming = IncomingCargo::from_delivery(&queued[0]).expect("incoming cargo");
    assert_eq!(incoming.cargo, valid);
}

#[tokio::test]
async fn cargo_from_a_gateway_we_did_not_register_is_acked_and_dropped() {
    use crate::protocols::awala::keys::HashAlgorithm;
    use crate::protocols::awala::messages::Recipient;
    use crate::protocols::awala::pki::self_issue_identity_certificate;
    use crate::protocols::awala::pki::testing::keys;
    use crate::protocols::awala::ramf::{Cargo, MessageDraft};

    let f = Fixture::new().await;
    let mut running = start(&f).await;
    let key = &keys().other;
    let self_issued = self_issue_identity_certificate(
        key,
        f.now - chrono::Duration::hours(1),
        f.now + chrono::Duration::days(1),
    )
    .expect("certificate");
    let recipient = Recipient {
        id: f.node_id().to_owned(),
        internet_address: None,
    };
    let draft = MessageDraft::new(recipient, b"payload".to_vec(), f.now, 3_600);
    let cargo =
        Cargo::serialize(&draft, key, &self_issued, &[], HashAlgorithm::Sha256).expect("cargo");

    assert_acked_and_dropped(&f, &mut running, Bytes::from(cargo), "cargo_invalid").await;
}

#[tokio::test]
async fn a_full_mailbox_ends_the_call_with_unavailable_without_acking() {
    let limits = QueueLimits {
        capacity: 1,
        overload: OverloadMode::RejectNewest,
        ..QueueLimits::default()
    };
    let f = Fixture::with_options(BackendOptions {
        queues: QueueSettings::uniform(limits),
        ..BackendOptions::default()
    })
    .await;
    let mut running = start(&f).await;
    let deliveries = vec![
        delivery("first", f.cargo(vec![])),
        delivery("second", f.cargo(vec![])),
        delivery("third", f.cargo(vec![])),
    ];

    let (ids, status) = deliver_all(&mut running, deliveries).await;
    assert_eq!(ids, ["first"], "only the queued cargo is acked");
    assert_eq!(status.map(|s| s.code()), Some(tonic::Code::Unavailable));
    let depth = f
        .context
        .backends
        .queue
        .depth(QueueName::IncomingCargo)
        .await;
    assert_eq!(depth.expect("depth"), 1);
}

#[tokio::test]
async fn an_empty_call_ends_with_ok() {
    let f = Fixture::new().await;
    let mut running = start(&f).await;
    let (ids, status) = deliver_all(&mut running, Vec::new()).await;
    assert!(ids.is_empty());
    assert!(status.is_none());
}

#[tokio::test]
async fn health_reports_the_cargo_relay_serving() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let f = Fixture::new().await;
    let server = bind(Arc::clone(&f.context), "127.0.0.1:0".parse().expect("addr")).expect("bind");
    let url = format!("http://{}", server.address);
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));
    let channel = Endpoint::from_shared(url)
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut health = HealthClient::new(channel);
    let answer = health
        .check(HealthCheckRequest {
            service: crate::protocols::cogrpc::HEALTH_SERVICE_NAME.to_owned(),
        })
        .await
        .expect("check")
        .into_inner();
    assert_eq!(answer.status, ServingStatus::Serving as i32);
}

#[tokio::test]
async fn cargo_from_a_revoked_gateway_is_acked_and_dropped() {
    let f = Fixture::new().await;
    let mut running = start(&f).await;
    crate::actors::private_gateways::revoke(&f.context, f.pg.id(), f.now)
        .await
        .expect("revoke");
    let cargo = f.cargo(vec![f.internet_bound_parcel("p")]);

    assert_acked_and_dropped(&f, &mut running, cargo, "cargo_sender_revoked").await;
}
