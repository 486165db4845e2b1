//! The distributed gateway while its engines fail: RabbitMQ, then Redis, then PostgreSQL are
//! stopped and started again during a delivery run driven by the published clients. Every
//! parcel answered with 202 is later collected or delivered, and the gateway recovers without a
//! restart (`e2e/engine-faults.mjs`).
//!
//! Needs the engines of scripts/services.sh on loopback and root (it stops and starts them):
//! skipped without `AWALA_TEST_AMQP_URL`, `AWALA_TEST_POSTGRES_URL` and `AWALA_TEST_REDIS_URL`
//! unless `CI` is set. One test in this binary, so nothing else runs while an engine is down.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::gateway::{distributed, free_port, Gateway, GatewayOptions};
use support::node::PausingScript;

const ADDRESS: &str = "gw.example.com";

fn run(command: &str) {
    let status = Command::new("sh")
        .args(["-c", command])
        .status()
        .expect("run a shell");
    assert!(status.success(), "`{command}` failed: {status}");
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

fn wait_port(port: u16, open: bool) {
    let started = Instant::now();
    while port_open(port) != open {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "port {port} open={open} never"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops (`false`) or starts (`true`) an engine and waits until its port says so.
fn engine(name: &str, up: bool) {
    match (name, up) {
        ("rabbitmq", false) => run("rabbitmqctl -q stop_app"),
        ("rabbitmq", true) => run("rabbitmqctl -q start_app"),
        ("redis", false) => run("redis-cli -p 6379 shutdown nosave"),
        ("redis", true) => run(
            "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
        ),
        ("postgresql", false) => {
            run("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main stop -m fast")
        }
        ("postgresql", true) => {
            run("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
        }
        other => panic!("unknown engine {other:?}"),
    }
    let port = match name {
        "rabbitmq" => 5672,
        "redis" => 6379,
        _ => 5432,
    };
    wait_port(port, up);
}

/// Starts every engine that a failed run may have left stopped.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        for (name, port) in [("rabbitmq", 5672), ("redis", 6379), ("postgresql", 5432)] {
            if !port_open(port) {
                engine(name, true);
            }
        }
    }
}

#[test]
fn acknowledged_parcels_survive_rabbitmq_redis_and_postgresql_outages() {
    if !distributed::engines_configured() {
        return;
    }
    let _restore = Restore;
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint_port = free_port();
    let options = GatewayOptions {
        namespace: Some(format!("f{}", uuid::Uuid::new_v4().simple())),
        quorum_queues: true,
        ..GatewayOptions::routed("poweb,pohttp,workers", endpoint_port)
    };
    let gateway = Gateway::start_with(dir.path(), ADDRESS, &options);
    let engines = ["rabbitmq", "redis", "postgresql"];
    let mut args = vec![
        gateway.port.to_string(),
        gateway.pohttp_port.to_string(),
        endpoint_port.to_string(),
    ];
    args.extend(engines.iter().map(|name| name.to_string()));
    let mut script = PausingScript::start("e2e/engine-faults.mjs", &args);
    for name in engines {
        script.wait_for(&format!("stop {name}"));
        engine(name, false);
        script.send("stopped");
        script.wait_for(&format!("start {name}"));
        engine(name, true);
        script.send("started");
    }
    script.finish_and_check(&[
        "registered",
        "rabbitmq: service resumed without a restart",
        "redis: service resumed without a restart",
        "postgresql: service resumed without a restart",
        "every accepted inbound parcel collected",
        "every accepted outbound parcel delivered",
    ]);
    drop(gateway);
}
