//! Slow and hostile HTTP clients against an in-process PoWeb server on `127.0.0.1:0`: header and
//! body deadlines, the load shield under slow clients, and the registration rate limit.

mod collection;
mod edge;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use awala_gateway::config::LimitsConfig;
use collection::Harness;
use edge::*;

const PRE_REGISTRATION: &str = "/v1/pre-registrations";
const TEXT: &str = "content-type: text/plain\r\n";

/// A pre-registration head declaring a 64-octet body (a hex SHA-256 digest).
fn slow_pre_registration_head() -> String {
    head(
        "POST",
        PRE_REGISTRATION,
        &format!("{TEXT}content-length: 64\r\n"),
    )
}

#[actix_rt::test]
async fn a_trickled_body_gets_408_within_the_body_timeout_and_loses_its_connection() {
    let harness = Harness::start(LimitsConfig {
        http_body_timeout_seconds: 1,
        ..LimitsConfig::default()
    })
    .await;
    let (mut reader, writer) = connect(harness.port).await.into_split();
    let started = Instant::now();
    // 64 bytes at one per 200 ms would take 13 s.
    actix_rt::spawn(trickle(
        writer,
        slow_pre_registration_head(),
        64,
        Duration::from_millis(200),
    ));
    let answer = read_head(&mut reader).await.expect("an answer");
    let waited = started.elapsed();
    assert_eq!(answer.status, 408);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    assert!(
        closed_within(&mut reader, Duration::from_secs(10))
            .await
            .is_some(),
        "the connection is closed after a 408"
    );
    // Counted as a client error of its endpoint.
    let text = harness.gateway.metrics.encode_text().expect("metrics");
    let series = r#"gateway_requests_total{binding="poweb",endpoint="pre_register_node",outcome="client_error"} 1"#;
    assert!(text.contains(series), "{text}");
}

#[actix_rt::test]
async fn a_head_never_finished_is_disconnected_after_the_header_timeout() {
    let harness = Harness::start(LimitsConfig {
        http_header_timeout_seconds: 1,
        ..LimitsConfig::default()
    })
    .await;
    let (mut reader, writer) = connect(harness.port).await.into_split();
    let started = Instant::now();
    // A header line every 200 ms, never the blank line that ends the head.
    actix_rt::spawn(async move {
        let mut writer = writer;
        use tokio::io::AsyncWriteExt;
        if writer
            .write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n")
            .await
            .is_err()
        {
            return;
        }
        for index in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let line = format!("x-slow-{index}: a\r\n");
            if writer.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let closed = closed_within(&mut reader, Duration::from_secs(15))
        .await
        .expect("the slow head's connection was never closed");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    // Well before actix-web's own 5 s default would have closed it.
    assert!(closed < Duration::from_secs(4), "{closed:?}");
}

#[actix_rt::test]
async fn slow_clients_hold_the_load_shield_no_longer_than_the_body_timeout() {
    let harness = Harness::start(LimitsConfig {
        max_in_flight_requests: 2,
        http_body_timeout_seconds: 2,
        // Slow heads stay connected for the whole test: they must not need a permit.
        http_header_timeout_seconds: 60,
        ..LimitsConfig::default()
    })
    .await;
    let port = harness.port;
    let mut slow_heads = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(port).await;
        use tokio::io::AsyncWriteExt;
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n")
            .await
            .expect("write");
        slow_heads.push(stream);
    }
    // Twice the shield's size, heads all sent before the first normal request: two hold the
    // permits, two are shed.
    let mut slow_bodies = Vec::new();
    for _ in 0..4 {
        let (reader, mut writer) = connect(port).await.into_split();
        use tokio::io::AsyncWriteExt;
        writer
            .write_all(slow_pre_registration_head().as_bytes())
            .await
            .expect("write head");
        actix_rt::spawn(trickle(
            writer,
            String::new(),
            64,
            Duration::from_millis(500),
        ));
        slow_bodies.push(reader);
    }
    // Normal requests are answered at once throughout: shed with 503 while both permits are
    // held by slow bodies, then served once the body deadline freed the permits.
    let started = Instant::now();
    let mut shed_seen = false;
    let served_after = loop {
        let answer =
            tokio::time::timeout(Duration::from_secs(5), request(port, "GET", "/", "", b""))
                .await
                .expect("a normal request was not answered promptly");
        match answer.status {
            503 => {
                assert_eq!(answer.header("retry-after"), Some("1"));
                shed_seen = true;
            }
            200 if shed_seen => break started.elapsed(),
            200 => {}
            other => panic!("unexpected status {other}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never shed then served again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(served_after < Duration::from_secs(10), "{served_after:?}");
    for reader in &mut slow_bodies {
        let answer = read_head(reader).await.expect("slow body answered");
        assert!(
            matches!(answer.status, 408 | 503),
            "slow body got {}",
            answer.status
        );
    }
    for stream in &mut slow_heads {
        assert!(still_open(stream).await, "slow heads are timed, not shed");
    }
}

#[actix_rt::test]
async fn registrations_over_the_per_address_rate_get_429_with_retry_after() {
    let harness = Harness::start(LimitsConfig {
        registration_rate_per_minute: 1,
        registration_burst: 2,
        ..LimitsConfig::default()
    })
    .await;
    let port = harness.port;
    let digest = "ab".repeat(32);
    let limited = IpAddr::from([127, 0, 0, 2]);
    for _ in 0..2 {
        let answer = request_from(
            limited,
            port,
            "POST",
            PRE_REGISTRATION,
            TEXT,
            digest.as_bytes(),
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    let answer = request_from(
        limited,
        port,
        "POST",
        PRE_REGISTRATION,
        TEXT,
        digest.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 429);
    let retry_after: u64 = answer
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Registration shares the bucket; the limit applies before the body is even looked at.
    let pnrr = "content-type: application/vnd.awala.node-registration.request\r\n";
    let answer = request_from(limited, port, "POST", "/v1/nodes", pnrr, b"junk").await;
    assert_eq!(answer.status, 429);
    // Another address has its own bucket, and other endpoints are not limited.
    let other = IpAddr::from([127, 0, 0, 3]);
    let answer = request_from(
        other,
        port,
        "POST",
        PRE_REGISTRATION,
        TEXT,
        digest.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200);
    let answer = request_from(limited, port, "GET", "/", "", b"").await;
    assert_eq!(answer.status, 200);
    let text = harness.gateway.metrics.encode_text().expect("metrics");
    for series in [
        r#"gateway_rate_limited_total{binding="poweb",endpoint="pre_register_node"} 1"#,
        r#"gateway_rate_limited_total{binding="poweb",endpoint="register_node"} 1"#,
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
}
