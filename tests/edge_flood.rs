//! A registration flood from many source addresses must not starve the rest of the gateway:
//! while it runs, an open keep-alive collection keeps getting its pings on time and a PoHTTP
//! delivery is still answered 202 (and pushed to the socket), while registrations past the
//! limits get 429 (per-address rate) or 503 (signing pool full).

mod collection;
mod edge;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use awala_gateway::actors::load_shield::LoadShield;
use awala_gateway::actors::pohttp::{self, PohttpState};
use awala_gateway::actors::poweb::server::HttpEdgeLimits;
use awala_gateway::config::LimitsConfig;
use awala_gateway::protocols::awala::messages::ParcelDelivery;
use collection::{parcel_for, Harness, KEEP_ALIVE};
use edge::*;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const PING_INTERVAL: Duration = Duration::from_secs(2);
const FLOOD: Duration = Duration::from_secs(8);
const FLOODERS: u8 = 32;

#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    rate_limited: usize,
    busy: usize,
    other: Vec<u16>,
}

#[actix_rt::test]
async fn pings_and_deliveries_go_on_while_registrations_flood() {
    let limits = LimitsConfig {
        websocket_ping_interval_seconds: PING_INTERVAL.as_secs(),
        registration_rate_per_minute: 60,
        registration_burst: 10,
        registration_concurrency: 1,
        registration_queue: 2,
        ..LimitsConfig::default()
    };
    let harness = Harness::start(limits.clone()).await;
    let pohttp = pohttp::bind(
        PohttpState {
            router: harness.router.clone(),
            metrics: harness.gateway.metrics.clone(),
            shield: LoadShield::new(limits.max_in_flight_requests as usize),
            edge: HttpEdgeLimits::from_limits(&limits),
        },
        "127.0.0.1:0".parse().expect("address"),
    )
    .expect("bind pohttp");
    let pohttp_port = pohttp.addresses[0].port();
    actix_rt::spawn(pohttp.server);

    let pg = harness.private_gateway(0);
    let parcel = parcel_for(&pg, b"sent during the flood");
    let mut socket = harness.collect(KEEP_ALIVE, &[&pg]).await;

    // The flood: each flooder is its own source address, posting pre-registrations (one RSA
    // signature each) back to back.
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut flooders = Vec::new();
    for index in 0..FLOODERS {
        let (stop, tally, port) = (stop.clone(), tally.clone(), harness.port);
        flooders.push(actix_rt::spawn(async move {
            let source = IpAddr::from([127, 0, 0, 10 + index]);
            let digest = format!("{index:02x}").repeat(32);
            while !stop.load(Ordering::Relaxed) {
                let answer = request_from(
                    source,
                    port,
                    "POST",
                    "/v1/pre-registrations",
                    "content-type: text/plain\r\n",
                    digest.as_bytes(),
                )
                .await;
                let mut tally = tally.lock().unwrap();
                match answer.status {
                    200 => tally.ok += 1,
                    429 => tally.rate_limited += 1,
                    503 => {
                        assert_eq!(answer.header("retry-after"), Some("1"));
                        tally.busy += 1
                    }
                    other => tally.other.push(other),
                }
            }
        }));
    }

    // Halfway through, a parcel arrives over PoHTTP for the collecting private gateway.
    let delivering = actix_rt::spawn(async move {
        tokio::time::sleep(FLOOD / 2).await;
        request(
            pohttp_port,
            "POST",
            "/",
            "content-type: application/vnd.awala.parcel\r\n",
            &parcel,
        )
        .await
    });

    // Meanwhile, watch the socket: every ping, and the pushed parcel.
    let started = Instant::now();
    let mut last_ping = started;
    let mut longest_gap = Duration::ZERO;
    let mut pings = 0;
    let mut pushed_opt = None;
    while started.elapsed() < FLOOD {
        let next = tokio::time::timeout(FLOOD, socket.next())
            .await
            .expect("socket silent for the whole flood");
        match next {
            Some(Ok(Message::Ping(_))) => {
                longest_gap = longest_gap.max(last_ping.elapsed());
                last_ping = Instant::now();
                pings += 1;
            }
            Some(Ok(Message::Binary(bytes))) => {
                let delivery = ParcelDelivery::decode(&bytes).expect("a parcel delivery");
                socket
                    .send(Message::text(delivery.delivery_id.clone()))
                    .await
                    .expect("ack");
                pushed_opt = Some(delivery.parcel_serialized);
            }
            other => panic!("the collection socket ended during the flood: {other:?}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await.expect("flooder");
    }
    let delivered = delivering.await.expect("delivery task");

    assert_eq!(delivered.status, 202, "PoHTTP delivery during the flood");
    assert!(
        pushed_opt.is_some(),
        "the parcel delivered during the flood reached the socket"
    );
    assert!(
        pings >= 2,
        "{pings} pings in {FLOOD:?} at one per {PING_INTERVAL:?}"
    );
    assert!(
        longest_gap <= PING_INTERVAL * 2,
        "pings stalled for {longest_gap:?} (interval {PING_INTERVAL:?})"
    );
    let tally = tally.lock().unwrap();
    assert!(tally.other.is_empty(), "unexpected statuses: {tally:?}");
    assert!(tally.ok > 0, "some registrations were served: {tally:?}");
    assert!(
        tally.rate_limited > 0,
        "past the burst, addresses are rate limited: {tally:?}"
    );
    assert!(
        tally.busy > 0,
        "32 concurrent flooders overflow a pool of 1 + 2: {tally:?}"
    );
}
