//! Parcels relayed in cargo through the real binary, driven only by the published clients
//! (`@relaycorp/cogrpc` 1.4.6 carrying cargo that `@relaycorp/relaynet-core` 1.88.2's
//! `PrivateGateway` makes and opens): cargo to the Internet, PoHTTP parcels back in cargo, PCAs
//! before parcels, PCAs in delivered cargo deleting parcels, and cargo acked before a SIGKILL
//! that still reaches the Internet. `tests/interop/e2e/cogrpc-relay.mjs` does the talking.

mod support;

use std::sync::{Mutex, MutexGuard};

use support::gateway::{free_port, Gateway, GatewayOptions};
use support::node::{run_e2e, PausingScript};

const ADDRESS: &str = "gw.example.com";
const SCRIPT: &str = "e2e/cogrpc-relay.mjs";

/// One scenario at a time: the JS CogRPC client gives each call a 3 s deadline, which parallel
/// RSA-heavy scenarios on a 2-core machine could overrun.
static SERIAL: Mutex<()> = Mutex::new(());

/// The turn to run; a scenario that failed before does not stop the next one.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Roles `poweb,pohttp,cogrpc` (+ `workers`), Internet-bound parcels for `pong.test` routed to
/// `endpoint_port` on loopback, retried after 1 s.
fn options(workers: bool, endpoint_port: u16) -> GatewayOptions {
    let roles = if workers {
        "poweb,pohttp,cogrpc,workers"
    } else {
        "poweb,pohttp,cogrpc"
    };
    GatewayOptions::routed(roles, endpoint_port)
}

fn args(scenario: &str, gateway: &Gateway, endpoint_port: u16) -> Vec<String> {
    vec![
        scenario.into(),
        gateway.port.to_string(),
        gateway.pohttp_port.to_string(),
        gateway.cogrpc_port.to_string(),
        ADDRESS.into(),
        endpoint_port.to_string(),
    ]
}

/// Runs `scenario` against a fresh gateway and checks its `ok` lines.
fn scenario(name: &str, workers: bool, checks: &[&str]) {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint_port = free_port();
    let gateway = Gateway::start_with(dir.path(), ADDRESS, &options(workers, endpoint_port));
    run_e2e(SCRIPT, &args(name, &gateway, endpoint_port), checks);
    let status = gateway.stop();
    assert!(status.success(), "clean exit: {status}");
}

#[test]
fn a_parcel_in_cargo_reaches_the_internet_endpoint() {
    scenario(
        "to-internet",
        true,
        &[
            "cargo acknowledged",
            "parcel reached the Internet endpoint byte for byte",
        ],
    );
}

#[test]
fn a_parcel_stored_via_pohttp_comes_back_in_cargo() {
    scenario(
        "from-pohttp",
        false,
        &[
            "parcel stored via PoHTTP",
            "collected cargo validates and decrypts",
            "cargo carries the parcel byte for byte",
        ],
    );
}

#[test]
fn a_cargo_over_4_4_mb_decrypts_with_relaynet_core() {
    scenario(
        "large-cargo",
        false,
        &[
            "two 3 MB parcels stored via PoHTTP",
            "a cargo over 4.4 MB decrypts with relaynet-core",
        ],
    );
}

#[test]
fn pcas_come_before_parcels_in_collected_cargo() {
    scenario(
        "pca-first",
        false,
        &[
            "parcel delivered and reply stored",
            "PCA comes before the reply parcel",
        ],
    );
}

#[test]
fn a_parcel_acknowledged_by_a_pca_in_cargo_is_not_collected_again() {
    scenario(
        "pca-deletes",
        true,
        &[
            "parcel collected in cargo",
            "PCA delivered in cargo",
            "acknowledged parcel gone",
            "acknowledged parcel never collected again",
        ],
    );
}

#[test]
fn cargo_acked_before_a_kill_is_unwrapped_after_the_restart() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint_port = free_port();
    let ports = Some((free_port(), free_port(), free_port()));
    // Without workers nothing unwraps the cargo: only the durable queue holds it at the kill.
    let before = GatewayOptions {
        ports,
        ..options(false, endpoint_port)
    };
    let after = GatewayOptions {
        ports,
        ..options(true, endpoint_port)
    };
    let gateway = Gateway::start_with(dir.path(), ADDRESS, &before);
    let script =
        PausingScript::start_until_restart(SCRIPT, &args("restart", &gateway, endpoint_port));
    // SIGKILL right after the ack: no graceful shutdown, no unwrapping.
    drop(gateway);
    let gateway = Gateway::start_with(dir.path(), ADDRESS, &after);
    script.resume_and_check(&[
        "cargo acknowledged before the restart",
        "parcel from cargo acked before the kill reached the endpoint",
    ]);
    let status = gateway.stop();
    assert!(status.success(), "clean exit: {status}");
}
