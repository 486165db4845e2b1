//! Each kind of worker made to panic mid-work with an armed fault point, and the work it was
//! doing completed anyway by the supervision tree; plus producers waking the outbound
//! dispatcher across its restarts. Real embedded backends, a real PoHTTP recipient on
//! 127.0.0.1, wall-clock time: tests wait for observable states with a deadline.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use async_trait::async_trait;
use bytes::Bytes;

use crate::actors::cogrpc::deliver::accept_cargo;
use crate::actors::cogrpc::test_support::Fixture;
use crate::actors::cogrpc::{start_cargo_unwrappers, UnwrapperSettings};
use crate::actors::outbound::{
    self, OutboundHandle, OutboundSettings, OutboundShared, PohttpResolver, ResolveError,
    SrvAnswer, SrvLookup,
};
use crate::actors::parcel_router::Routed;
use crate::backends::queue::QueueName;
use crate::config::{GatewayConfig, RouteUrl};
use crate::supervision::faults::FaultPoint;
use crate::supervision::{RestartPolicy, Shutdown};

/// Generous: a debug build on a loaded 2-core machine verifies RSA signatures slowly.
const DEADLINE: Duration = Duration::from_secs(120);

async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !done().await {
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn metric(f: &Fixture, series: &str) -> f64 {
    let text = f.context.metrics.encode_text().expect("metrics");
    text.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

// === a PoHTTP recipient and the outbound worker ===

/// Bodies POSTed to the recipient, in order.
type Received = Arc<Mutex<Vec<Bytes>>>;

fn start_recipient() -> (SocketAddr, Received) {
    let received: Received = Arc::default();
    let data = web::Data::new(received.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |body: Bytes, seen: web::Data<Received>| async move {
                seen.lock().expect("lock").push(body);
                HttpResponse::Accepted().finish()
            },
        ))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind the recipient");
    let address = server.addrs()[0];
    actix_rt::spawn(server.run());
    (address, received)
}

fn received_count(received: &Received) -> usize {
    received.lock().map(|bodies| bodies.len()).unwrap_or(0)
}

struct NoDns;

#[async_trait]
impl SrvLookup for NoDns {
    async fn first_srv(&self, name: &str) -> Result<SrvAnswer, ResolveError> {
        Err(ResolveError::Lookup {
            name: name.to_owned(),
            reason: "no dns in tests".to_owned(),
        })
    }
}

/// The outbound worker of `f`'s process (woken by its router), routing `pong.test` to `to`.
fn start_outbound(
    f: &Fixture,
    to: SocketAddr,
    poll_interval: Duration,
) -> (OutboundHandle, Shutdown) {
    let route = format!("http://{to}/").parse().expect("url");
    let routes = BTreeMap::from([("pong.test".to_owned(), RouteUrl::new(route))]);
    let resolver = PohttpResolver::new(routes, Arc::new(NoDns));
    let settings = OutboundSettings {
        poll_interval,
        retry_initial_backoff: Duration::from_millis(20),
        busy_retry_after: Duration::from_millis(20),
        ..OutboundSettings::from_config(&GatewayConfig::default())
    };
    let shared = OutboundShared {
        wake: f.context.outbound_wake.clone(),
        faults: f.context.faults.clone(),
        status: f.context.roles.register("workers", "outbound_delivery", 1),
        settlements: Some(f.context.backends.metadata.clone()),
    };
    let shutdown = Shutdown::new();
    let handle = outbound::spawn_with(
        f.context.backends.queue.clone(),
        resolver,
        f.context.metrics.clone(),
        settings,
        shutdown.listener(),
        &shared,
    )
    .expect("outbound worker");
    (handle, shutdown)
}

async fn route_to_internet(f: &Fixture, id: &str) -> Bytes {
    let parcel = Bytes::from(f.internet_bound_parcel(id));
    let routed = f
        .router
        .route_from_private_gateway(parcel.clone(), f.pg.id(), f.now)
        .await
        .expect("routed");
    assert_eq!(routed, Routed::QueuedForInternet);
    parcel
}

#[actix_rt::test]
async fn producers_wake_the_dispatcher_even_after_it_restarted() {
    let f = Fixture::new().await;
    let (recipient, received) = start_recipient();
    // An hour between polls: only a delivery pushed by the mailbox (or a wake-up) can explain a
    // prompt attempt; the dispatcher that panicked took its consumer with it, so its successor
    // is given the parcel again.
    let (_handle, _shutdown) = start_outbound(&f, recipient, Duration::from_secs(3600));
    f.context.faults.arm(FaultPoint::OutboundDispatch, 1);

    let first = route_to_internet(&f, "first").await;
    wait_until(
        "the first parcel, after the dispatcher's restart",
        || async { received_count(&received) == 1 },
    )
    .await;
    assert_eq!(f.context.faults.fired(FaultPoint::OutboundDispatch), 1);
    assert_eq!(
        metric(
            &f,
            r#"gateway_actor_restarts_total{actor="outbound_dispatcher",cause="panic"}"#
        ),
        1.0
    );

    // The restarted dispatcher is asleep for an hour; the router's wake-up reaches it.
    let second = route_to_internet(&f, "second").await;
    wait_until("the second parcel", || async {
        received_count(&received) == 2
    })
    .await;
    assert_eq!(*received.lock().expect("lock"), [first, second]);
    wait_until("the mailbox to empty", || async {
        f.context
            .backends
            .queue
            .depth(QueueName::OutboundParcels)
            .await
            .ok()
            == Some(0)
    })
    .await;
}

#[actix_rt::test]
async fn a_destination_that_panics_mid_attempt_still_delivers() {
    let f = Fixture::new().await;
    let (recipient, received) = start_recipient();
    let (_handle, _shutdown) = start_outbound(&f, recipient, Duration::from_millis(50));
    f.context.faults.arm(FaultPoint::OutboundAttempt, 1);

    let parcel = route_to_internet(&f, "through-a-crash").await;
    wait_until("the parcel's delivery", || async {
        received_count(&received) == 1
    })
    .await;
    wait_until("the mailbox to empty", || async {
        f.context
            .backends
            .queue
            .depth(QueueName::OutboundParcels)
            .await
            .ok()
            == Some(0)
    })
    .await;
    assert_eq!(*received.lock().expect("lock"), [parcel], "delivered once");
    assert_eq!(f.context.faults.fired(FaultPoint::OutboundAttempt), 1);
    assert_eq!(
        metric(
            &f,
            r#"gateway_actor_restarts_total{actor="outbound_destination",cause="panic"}"#
        ),
        1.0
    );
}

// === cargo unwrappers ===

fn unwrapper_settings(
    restart_policy: RestartPolicy,
    root_policy: RestartPolicy,
) -> UnwrapperSettings {
    UnwrapperSettings {
        consumers: 1,
        poll_interval: Duration::from_millis(20),
        initial_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        max_attempts: 10,
        restart_policy,
        root_policy,
    }
}

/// Delivers a cargo with one Internet-bound parcel and one for the other private gateway.
async fn deliver_cargo(f: &Fixture) -> String {
    let (for_peer, _) = f.parcel_for_other_private_gateway("for-a-peer");
    let cargo = f.cargo(vec![f.internet_bound_parcel("to-the-internet"), for_peer]);
    accept_cargo(&f.context, cargo, f.now)
        .await
        .expect("accepted");
    f.other_pg.id().to_owned()
}

async fn wait_for_unwrapped(f: &Fixture, peer: &str) {
    let queue = f.context.backends.queue.clone();
    let metadata = f.context.backends.metadata.clone();
    wait_until("the cargo's parcels", || {
        let (queue, metadata) = (queue.clone(), metadata.clone());
        async move {
            let cargo = queue.depth(QueueName::IncomingCargo).await.ok();
            let outbound = queue.depth(QueueName::OutboundParcels).await.ok();
            let stored = metadata
                .list_parcels_for_gateway(peer, chrono::Utc::now(), 0, 10)
                .await
                .map(|entries| entries.len())
                .ok();
            (cargo, outbound, stored) == (Some(0), Some(1), Some(1))
        }
    })
    .await;
}

#[actix_rt::test]
async fn a_cargo_unwrapper_that_panics_mid_cargo_still_unwraps_it() {
    let f = Fixture::new().await;
    let peer = deliver_cargo(&f).await;
    f.context.faults.arm(FaultPoint::CargoUnwrap, 1);
    let quick = RestartPolicy::new(
        Duration::from_millis(50),
        Duration::from_millis(50),
        5,
        Duration::from_secs(600),
    );
    let _workers = start_cargo_unwrappers(
        f.router.clone(),
        unwrapper_settings(quick, RestartPolicy::for_root()),
    );

    wait_for_unwrapped(&f, &peer).await;
    assert_eq!(f.context.faults.fired(FaultPoint::CargoUnwrap), 1);
    assert_eq!(
        metric(
            &f,
            r#"gateway_actor_restarts_total{actor="cargo_unwrapper",cause="panic"}"#
        ),
        1.0
    );
}

#[actix_rt::test]
async fn an_unwrapper_out_of_restarts_is_restarted_by_its_root() {
    let f = Fixture::new().await;
    let peer = deliver_cargo(&f).await;
    // Every failure exhausts the consumer's supervisor: only its root can bring it back.
    f.context.faults.arm(FaultPoint::CargoUnwrap, 2);
    let never = RestartPolicy::new(Duration::ZERO, Duration::ZERO, 0, Duration::from_secs(600));
    let root = RestartPolicy::new(
        Duration::from_millis(50),
        Duration::from_millis(100),
        5,
        Duration::from_secs(600),
    );
    let _workers = start_cargo_unwrappers(f.router.clone(), unwrapper_settings(never, root));

    wait_for_unwrapped(&f, &peer).await;
    assert_eq!(f.context.faults.fired(FaultPoint::CargoUnwrap), 2);
    assert_eq!(
        metric(
            &f,
            r#"gateway_actor_escalations_total{actor="cargo_unwrapper"}"#
        ),
        2.0
    );
    assert_eq!(
        metric(
            &f,
            r#"gateway_actor_restarts_total{actor="cargo_unwrapping",cause="panic"}"#
        ),
        2.0
    );
    let roles = f.context.roles.report();
    assert!(roles.iter().all(|role| role.up), "{roles:?}");
}
