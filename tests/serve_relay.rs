//! Parcels relayed through the real binary, driven only by the published clients: private
//! gateway to private gateway, collection with the helper's `collection.mjs`, and a gateway
//! killed between delivery and collection that loses nothing.

mod support;

use support::gateway::{free_port, Gateway, GatewayOptions};
use support::node::{run_e2e, PausingScript};

const ADDRESS: &str = "gw.example.com";

#[test]
fn private_gateway_to_private_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    run_e2e(
        "e2e/relay.mjs",
        &[
            "pg-to-pg".into(),
            gateway.port.to_string(),
            gateway.pohttp_port.to_string(),
        ],
        &[
            "private gateway A delivered the parcel",
            "nothing for private gateway A",
            "private gateway B collected the parcel byte for byte",
            "acknowledged parcel is gone",
        ],
    );
}

#[test]
fn collection_in_both_modes_with_the_js_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    let stdout = run_e2e(
        "e2e/collection.mjs",
        &[
            format!("http://127.0.0.1:{}", gateway.port),
            format!("http://127.0.0.1:{}", gateway.pohttp_port),
        ],
        &["registered", "empty collection ends normally"],
    );
    assert!(
        stdout
            .lines()
            .filter(|line| line.starts_with("ok "))
            .count()
            >= 4,
        "{stdout}"
    );
}

#[test]
fn killing_the_gateway_between_delivery_and_collection_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint_port = free_port();
    let options = GatewayOptions {
        ports: Some((free_port(), free_port(), free_port())),
        ..GatewayOptions::routed("poweb,pohttp,workers", endpoint_port)
    };
    let gateway = Gateway::start_with(dir.path(), ADDRESS, &options);
    let script = PausingScript::start_until_restart(
        "e2e/relay.mjs",
        &[
            "restart".into(),
            gateway.port.to_string(),
            gateway.pohttp_port.to_string(),
            endpoint_port.to_string(),
        ],
    );
    // SIGKILL: no graceful shutdown, so only what was durable when 202 was sent survives.
    drop(gateway);
    let _gateway = Gateway::start_with(dir.path(), ADDRESS, &options);
    script.resume_and_check(&[
        "parcels accepted before the restart",
        "stored parcel collected after the restart",
        "queued parcel delivered after the restart",
    ]);
}

#[test]
fn unacknowledged_parcels_come_again_and_strangers_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    run_e2e(
        "e2e/collection-refusals.mjs",
        &[gateway.port.to_string(), gateway.pohttp_port.to_string()],
        &[
            "parcel received without acknowledging it",
            "unacknowledged parcel collected again",
            "acknowledged parcel is gone",
            "handshake by a stranger refused",
        ],
    );
}
