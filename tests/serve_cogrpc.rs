//! CogRPC against the real binary: cargo delivered by the published client
//! (`@relaycorp/cogrpc` 1.4.6, cargo built with `@relaycorp/relaynet-core` 1.88.2) is acked and
//! unwrapped, and its parcel stored for the private gateway it is for; and the `cogrpc` role
//! runs on its own.

mod support;

use std::time::{Duration, Instant};

use awala_gateway::backends::metadata::ParcelIndexKey;
use awala_gateway::protocols::cogrpc::{CargoDelivery, CargoRelayClient};
use support::gateway::{distributed, Gateway, GatewayOptions};
use support::node::run_e2e;

/// Generous: a debug build unwraps cargo slowly on a loaded machine.
const UNWRAP_DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn cargo_from_the_js_cogrpc_client_is_acked_and_its_parcel_relayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let parcel_out = dir.path().join("relayed.parcel");
    let options = GatewayOptions {
        roles: Some("poweb,cogrpc,workers".into()),
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(&data_dir, "gw.example.com", &options);
    let stdout = run_e2e(
        "e2e/cogrpc-deliver.mjs",
        &[
            format!("http://127.0.0.1:{}", gateway.port),
            gateway.cogrpc_port.to_string(),
            "gw.example.com".into(),
            parcel_out.display().to_string(),
        ],
        &[
            "registered two private gateways",
            "every cargo acknowledged with its id",
        ],
    );
    let index_key = |prefix: &str| {
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{stdout}"));
        let parts: Vec<&str> = line.split(' ').collect();
        ParcelIndexKey::new(parts[0], parts[1], parts[2], parts[3])
    };
    let relayed_key = index_key("relayed ");
    let stray_key = index_key("not-relayed ");
    let expected = std::fs::read(&parcel_out).expect("parcel sent");

    // The unwrapping worker stores the parcel for the receiving private gateway. The stores are
    // read through the library (their layout is their own business) beside the running gateway.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (index, objects) = runtime.block_on(distributed::open_stores(&data_dir, &options));
    let stored_body = |key: &ParcelIndexKey| {
        runtime.block_on(async {
            let entry = index.get_parcel(key).await.expect("index")?;
            objects.get(&entry.object_key).await.expect("get")
        })
    };
    let started = Instant::now();
    let stored = loop {
        if let Some(body) = stored_body(&relayed_key) {
            break body;
        }
        assert!(
            started.elapsed() < UNWRAP_DEADLINE,
            "parcel never stored for {relayed_key:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(&stored[..], &expected[..], "stored byte for byte");
    // The unauthorised cargo came first in the same call and was dropped on delivery.
    let stray = stored_body(&stray_key);
    assert!(
        stray.is_none(),
        "a parcel from unauthorised cargo was relayed"
    );
    let status = gateway.stop();
    assert!(status.success(), "clean exit: {status}");
}

#[test]
fn the_cogrpc_role_runs_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = GatewayOptions {
        roles: Some("cogrpc".into()),
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(dir.path(), "gw.example.com", &options);
    let url = format!("http://127.0.0.1:{}", gateway.cogrpc_port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let acks = runtime.block_on(async move {
        let channel = tonic::transport::Endpoint::from_shared(url)
            .expect("url")
            .connect()
            .await
            .expect("connect");
        let mut client = CargoRelayClient::new(channel);
        let deliveries = futures::stream::iter([CargoDelivery {
            id: "not cargo".to_owned(),
            cargo: b"garbage".to_vec(),
        }]);
        let mut stream = client
            .deliver_cargo(deliveries)
            .await
            .expect("call")
            .into_inner();
        let mut ids = Vec::new();
        while let Some(ack) = stream.message().await.expect("ack") {
            ids.push(ack.id);
        }
        ids
    });
    assert_eq!(acks, ["not cargo"], "malformed cargo is acked and dropped");
    // PoWeb is not part of this process.
    assert!(std::net::TcpStream::connect(("127.0.0.1", gateway.port)).is_err());
    let status = gateway.stop();
    assert!(status.success(), "clean exit: {status}");
}
