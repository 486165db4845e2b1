//! Two replicas sharing the distributed engines (RabbitMQ, PostgreSQL, Redis, S3) and one KEK
//! file, driven by the published clients: a parcel delivered over PoHTTP to one replica is
//! pushed live into a keep-alive collection open on the other, and cargo delivered to an edge
//! without workers is unwrapped, and its parcel delivered, by the workers of another process.
//! Skipped without the engines' test URLs, except under CI (scripts/test.sh sets them).

mod support;

use std::path::Path;

use support::gateway::{distributed, free_port, Gateway, GatewayOptions};
use support::node::run_e2e;

const ADDRESS: &str = "gw.example.com";

/// `options` on the namespace and KEK file the replicas share.
fn replica(options: GatewayOptions, namespace: &str, kek: &Path) -> GatewayOptions {
    let mut extra_args = options.extra_args.clone();
    extra_args.extend(["--kek-file".to_owned(), kek.display().to_string()]);
    GatewayOptions {
        namespace: Some(namespace.to_owned()),
        extra_args,
        ..options
    }
}

#[test]
fn a_parcel_delivered_to_one_replica_reaches_a_collection_open_on_the_other() {
    if !distributed::engines_configured() {
        return;
    }
    let shared = tempfile::tempdir().expect("tempdir");
    let kek = shared.path().join("kek");
    let namespace = format!("r{}", uuid::Uuid::new_v4().simple());
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    // A first: it creates the identity and the KEK that B then opens.
    let a = Gateway::start_with(
        dir_a.path(),
        ADDRESS,
        &replica(GatewayOptions::default(), &namespace, &kek),
    );
    let b = Gateway::start_with(
        dir_b.path(),
        ADDRESS,
        &replica(GatewayOptions::default(), &namespace, &kek),
    );
    // Registration and the keep-alive collection on B; the parcels posted to A.
    run_e2e(
        "e2e/collection-volume.mjs",
        &[
            "burst".to_owned(),
            b.port.to_string(),
            a.pohttp_port.to_string(),
            "20".to_owned(),
        ],
        &["a burst reached the open keep-alive socket, each parcel once, without a reconnect"],
    );
    drop((a, b));
}

#[test]
fn cargo_delivered_to_an_edge_is_unwrapped_by_the_workers_of_another_process() {
    if !distributed::engines_configured() {
        return;
    }
    let shared = tempfile::tempdir().expect("tempdir");
    let kek = shared.path().join("kek");
    let namespace = format!("r{}", uuid::Uuid::new_v4().simple());
    let endpoint_port = free_port();
    let (dir_edge, dir_workers) = (
        tempfile::tempdir().expect("e"),
        tempfile::tempdir().expect("w"),
    );
    let edge = Gateway::start_with(
        dir_edge.path(),
        ADDRESS,
        &replica(
            GatewayOptions::routed("poweb,pohttp,cogrpc", endpoint_port),
            &namespace,
            &kek,
        ),
    );
    let workers = Gateway::start_with(
        dir_workers.path(),
        ADDRESS,
        &replica(
            GatewayOptions::routed("workers", endpoint_port),
            &namespace,
            &kek,
        ),
    );
    run_e2e(
        "e2e/cogrpc-relay.mjs",
        &[
            "to-internet".to_owned(),
            edge.port.to_string(),
            edge.pohttp_port.to_string(),
            edge.cogrpc_port.to_string(),
            ADDRESS.to_owned(),
            endpoint_port.to_string(),
        ],
        &[
            "cargo acknowledged",
            "parcel reached the Internet endpoint byte for byte",
        ],
    );
    drop((edge, workers));
}
