//! CogRPC edge limits against an in-process server on `127.0.0.1:0`, driven by the generated
//! tonic client and by raw sockets: the connection cap, the call shield and the idle timeout.

mod collection;
mod edge;

use std::time::{Duration, Instant};

use awala_gateway::actors::cogrpc;
use awala_gateway::config::LimitsConfig;
use awala_gateway::protocols::cogrpc::{CargoDelivery, CargoRelayClient};
use collection::Harness;
use edge::closed_within;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
// tonic's re-export of tokio-stream, so the test needs no dependency of its own.
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

/// A running CogRPC server for `harness`'s gateway; returns its port.
fn serve(harness: &Harness) -> u16 {
    let server = cogrpc::bind(
        harness.gateway.clone(),
        "127.0.0.1:0".parse().expect("address"),
    )
    .expect("bind");
    let port = server.address.port();
    actix_rt::spawn(server.serve(std::future::pending()));
    port
}

async fn channel(port: u16) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("url")
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(20))
        .connect()
        .await
}

fn garbage(id: &str) -> CargoDelivery {
    CargoDelivery {
        id: id.to_owned(),
        cargo: b"not cargo".to_vec(),
    }
}

/// One `DeliverCargo` call with one malformed cargo, which is acked and dropped: the ACK ids.
async fn deliver_garbage(channel: Channel) -> Result<Vec<String>, tonic::Status> {
    let mut client = CargoRelayClient::new(channel);
    let mut acks = client
        .deliver_cargo(futures::stream::iter([garbage("one")]))
        .await?
        .into_inner();
    let mut ids = Vec::new();
    while let Some(ack) = acks.message().await? {
        ids.push(ack.id);
    }
    Ok(ids)
}

/// A `DeliverCargo` call left open: its request stream ends only when the sender is dropped.
struct OpenCall {
    sender: mpsc::Sender<CargoDelivery>,
    acks: tonic::Streaming<awala_gateway::protocols::cogrpc::CargoDeliveryAck>,
}

async fn open_call(channel: Channel) -> Result<OpenCall, tonic::Status> {
    let (sender, receiver) = mpsc::channel(1);
    let acks = CargoRelayClient::new(channel)
        .deliver_cargo(ReceiverStream::new(receiver))
        .await?
        .into_inner();
    Ok(OpenCall { sender, acks })
}

/// Retries `attempt` until it succeeds or `deadline` passes.
async fn eventually<T, F, Fut>(deadline: Duration, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(started.elapsed() < deadline, "never succeeded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn connections_past_the_cap_are_refused_until_one_closes() {
    let harness = Harness::start(LimitsConfig {
        max_cogrpc_connections: 2,
        cogrpc_idle_timeout_seconds: 60,
        ..LimitsConfig::default()
    })
    .await;
    let port = serve(&harness);
    let first = channel(port).await.expect("first connection");
    let second = channel(port).await.expect("second connection");
    assert_eq!(deliver_garbage(first.clone()).await.expect("call"), ["one"]);
    assert_eq!(
        deliver_garbage(second.clone()).await.expect("call"),
        ["one"]
    );
    // The third is told to go away (GOAWAY, REFUSED_STREAM) before any call: UNAVAILABLE.
    let third = channel(port)
        .await
        .expect("TCP and the HTTP/2 preface still succeed");
    let refused = deliver_garbage(third)
        .await
        .expect_err("a third connection is refused");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    let text = harness.gateway.metrics.encode_text().expect("metrics");
    assert!(
        text.contains(
            r#"gateway_errors_total{error_type="too_many_connections",stage="cogrpc_accept"}"#
        ),
        "{text}"
    );
    drop(first);
    let ids = eventually(Duration::from_secs(20), || async {
        let fresh = channel(port).await.ok()?;
        deliver_garbage(fresh).await.ok()
    })
    .await;
    assert_eq!(ids, ["one"]);
    // The connection still open kept working throughout.
    assert_eq!(deliver_garbage(second).await.expect("call"), ["one"]);
}

#[actix_rt::test]
async fn calls_past_the_shield_are_refused_unavailable_until_one_ends() {
    let harness = Harness::start(LimitsConfig {
        max_cogrpc_calls: 1,
        ..LimitsConfig::default()
    })
    .await;
    let port = serve(&harness);
    let connection = channel(port).await.expect("connect");
    let mut held = open_call(connection.clone()).await.expect("first call");
    // The open call works: a cargo is acked.
    held.sender.send(garbage("held")).await.expect("send");
    let ack = held.acks.message().await.expect("ack").expect("an ack");
    assert_eq!(ack.id, "held");
    // Another call, on the same connection or a new one, is refused.
    for other in [connection.clone(), channel(port).await.expect("connect")] {
        let refused = deliver_garbage(other).await.expect_err("shed");
        assert_eq!(refused.code(), Code::Unavailable);
        assert!(refused.message().contains("overloaded"), "{refused:?}");
    }
    let text = harness.gateway.metrics.encode_text().expect("metrics");
    let series =
        r#"gateway_requests_total{binding="cogrpc",endpoint="shed",outcome="unavailable"} 2"#;
    assert!(text.contains(series), "{text}");
    // Ending the held call gives its place back.
    drop(held.sender);
    while held.acks.message().await.expect("clean end").is_some() {}
    let ids = eventually(Duration::from_secs(20), || {
        let connection = connection.clone();
        async move { deliver_garbage(connection).await.ok() }
    })
    .await;
    assert_eq!(ids, ["one"]);
}

#[actix_rt::test]
async fn connections_without_calls_are_closed_after_the_idle_timeout() {
    let harness = Harness::start(LimitsConfig {
        cogrpc_idle_timeout_seconds: 1,
        ..LimitsConfig::default()
    })
    .await;
    let port = serve(&harness);
    // One that says nothing at all, and one that completes the HTTP/2 preface and then keeps
    // pinging: bytes without calls do not count as activity.
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let talker = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let (mut talker_reader, mut talker_writer) = talker.into_split();
    let started = Instant::now();
    actix_rt::spawn(async move {
        let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        let settings = [0, 0, 0, 4, 0, 0, 0, 0, 0];
        let ping = [0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        if talker_writer.write_all(preface).await.is_err()
            || talker_writer.write_all(&settings).await.is_err()
        {
            return;
        }
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if talker_writer.write_all(&ping).await.is_err() {
                return;
            }
        }
    });
    for (name, closed) in [
        (
            "silent",
            closed_within(&mut silent, Duration::from_secs(15)).await,
        ),
        (
            "pinging",
            closed_within(&mut talker_reader, Duration::from_secs(15)).await,
        ),
    ] {
        assert!(closed.is_some(), "the {name} connection was never closed");
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
}

#[actix_rt::test]
async fn a_connection_with_an_open_call_outlives_the_idle_timeout() {
    let harness = Harness::start(LimitsConfig {
        cogrpc_idle_timeout_seconds: 1,
        ..LimitsConfig::default()
    })
    .await;
    let port = serve(&harness);
    let connection = channel(port).await.expect("connect");
    let mut held = open_call(connection.clone()).await.expect("call");
    // Three idle timeouts with the call open but silent.
    tokio::time::sleep(Duration::from_secs(3)).await;
    held.sender.send(garbage("late")).await.expect("send");
    let ack = held.acks.message().await.expect("ack").expect("an ack");
    assert_eq!(ack.id, "late");
    drop(held.sender);
    while held.acks.message().await.expect("clean end").is_some() {}
    // The same connection still takes calls.
    assert_eq!(deliver_garbage(connection).await.expect("call"), ["one"]);
}
