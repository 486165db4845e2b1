//! Collection at volume against the real binary, with the published PoWeb client reading as it
//! really does (`tests/interop/e2e/collection-volume.mjs`): many parcels of mixed sizes up to
//! 1 MiB, bursts into open sockets, several private gateways at once, and a SIGKILL half-way.

mod support;

use support::gateway::{free_port, Gateway, GatewayOptions};
use support::node::{run_e2e, PausingScript};

const ADDRESS: &str = "gw.example.com";
const SCRIPT: &str = "e2e/collection-volume.mjs";

fn run(gateway: &Gateway, scenario: &str, args: &[&str], checks: &[&str]) {
    let mut all = vec![
        scenario.to_owned(),
        gateway.port.to_string(),
        gateway.pohttp_port.to_string(),
    ];
    all.extend(args.iter().map(|arg| arg.to_string()));
    run_e2e(SCRIPT, &all, checks);
}

#[test]
fn a_hundred_queued_parcels_in_one_close_upon_completion_collection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    run(
        &gateway,
        "queued",
        &["100"],
        &[
            "100 parcels of mixed sizes queued",
            "one close-upon-completion collection took each once and ended by itself",
            "nothing left after the acknowledgements",
        ],
    );
}

#[test]
fn a_burst_of_fifty_reaches_an_open_keep_alive_socket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    run(
        &gateway,
        "burst",
        &["50"],
        &["a burst reached the open keep-alive socket, each parcel once, without a reconnect"],
    );
}

#[test]
fn several_private_gateways_collect_their_bursts_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    run(
        &gateway,
        "peers",
        &["3", "20"],
        &["several private gateways each got exactly their own burst"],
    );
}

#[test]
fn a_sigkill_half_way_through_a_collection_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = GatewayOptions {
        ports: Some((free_port(), free_port(), free_port())),
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(dir.path(), ADDRESS, &options);
    let script = PausingScript::start_until_restart(
        SCRIPT,
        &[
            "restart".into(),
            gateway.port.to_string(),
            gateway.pohttp_port.to_string(),
            "40".into(),
        ],
    );
    // Dropping kills with SIGKILL: only what was durable survives.
    drop(gateway);
    let _gateway = Gateway::start_with(dir.path(), ADDRESS, &options);
    script.resume_and_check(&[
        "20 of 40 collected before the restart",
        "the rest collected after the restart",
    ]);
}
