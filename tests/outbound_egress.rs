//! The outbound worker's egress policy, end to end: parcels whose address, SRV target or
//! redirect target is not public are dropped without a connection, and what the operator
//! routes or allow-lists still gets through. DNS is faked on both sides (SRV answers and the
//! HTTP client's host lookups) so that a "hostile" name can resolve to 127.0.0.1; "trap"
//! listeners on 127.0.0.1 count the connections that must never happen.

mod support;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;

use awala_gateway::actors::mailbox::OutboundParcel;
use awala_gateway::actors::outbound::dns_guard::HostLookup;
use awala_gateway::actors::outbound::egress::EgressPolicy;
use awala_gateway::actors::outbound::{
    self, OutboundHandle, OutboundSettings, PohttpResolver, ResolveError, SrvAnswer, SrvLookup,
};
use awala_gateway::backends::queue::{DurableQueue, EmbeddedQueue, QueueName, QueueSettings};
use awala_gateway::config::{GatewayConfig, RouteUrl};
use awala_gateway::supervision::Shutdown;
use awala_gateway::telemetry::Metrics;
use support::wait::eventually;

const QUEUE: QueueName = QueueName::OutboundParcels;
/// A name the fake DNS resolves to 127.0.0.1, as an attacker's zone would.
const REBOUND: &str = "pdc.rebind.test";

// === listeners ===

/// Counts the TCP connections made to it and never answers.
struct Trap {
    address: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl Trap {
    async fn start() -> Trap {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        actix_rt::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        Trap {
            address,
            connections,
        }
    }

    fn port(&self) -> u16 {
        self.address.port()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A PoHTTP endpoint: redirects as scripted, then answers 202; records the paths it saw.
#[derive(Clone, Default)]
struct Recipient {
    redirects: Arc<Mutex<VecDeque<String>>>,
    received: Arc<Mutex<Vec<String>>>,
}

impl Recipient {
    fn redirecting(locations: impl IntoIterator<Item = String>) -> Self {
        let recipient = Recipient::default();
        recipient.redirects.lock().unwrap().extend(locations);
        recipient
    }

    fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

async fn recipient_handler(
    request: actix_web::HttpRequest,
    recipient: web::Data<Recipient>,
) -> HttpResponse {
    recipient
        .received
        .lock()
        .unwrap()
        .push(request.path().to_owned());
    let next = recipient.redirects.lock().unwrap().pop_front();
    match next {
        Some(location) => HttpResponse::TemporaryRedirect()
            .insert_header(("location", location))
            .finish(),
        None => HttpResponse::Accepted().body("{}"),
    }
}

fn start_recipient(recipient: &Recipient) -> SocketAddr {
    let data = web::Data::new(recipient.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(recipient_handler))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = server.addrs()[0];
    actix_rt::spawn(server.run());
    address
}

// === fake DNS ===

/// SRV answers by name; NXDOMAIN (no record) for the rest. Remembers what it was asked.
#[derive(Default)]
struct FakeSrv {
    answers: HashMap<String, SrvAnswer>,
    asked: Mutex<Vec<String>>,
}

#[async_trait]
impl SrvLookup for FakeSrv {
    async fn first_srv(&self, name: &str) -> Result<SrvAnswer, ResolveError> {
        self.asked.lock().unwrap().push(name.to_owned());
        Ok(self.answers.get(name).cloned().unwrap_or(SrvAnswer::Absent))
    }
}

/// Host lookups from a table; everything else does not exist.
struct FakeHosts(HashMap<String, Vec<IpAddr>>);

#[async_trait]
impl HostLookup for FakeHosts {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.0
            .get(host)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{host}: nxdomain")))
    }
}

fn hosts() -> Arc<FakeHosts> {
    Arc::new(FakeHosts(HashMap::from([(
        REBOUND.to_owned(),
        vec!["127.0.0.1".parse().unwrap()],
    )])))
}

// === the worker ===

struct Setup {
    routes: Vec<(&'static str, String)>,
    srv: FakeSrv,
    egress: EgressPolicy,
}

impl Setup {
    fn new() -> Self {
        Setup {
            routes: Vec::new(),
            srv: FakeSrv::default(),
            egress: EgressPolicy::default(),
        }
    }

    fn route(mut self, address: &'static str, url: String) -> Self {
        self.routes.push((address, url));
        self
    }

    fn srv(mut self, address: &str, target: &str, port: u16) -> Self {
        let answer = SrvAnswer::Found {
            target: format!("{target}."),
            port,
        };
        self.srv
            .answers
            .insert(format!("_awala-pdc._tcp.{address}."), answer);
        self
    }

    fn allow(mut self, entries: &[&str]) -> Self {
        self.egress = EgressPolicy::new(entries.iter().map(|entry| entry.parse().unwrap()));
        self
    }

    async fn start(self, dir: &Path) -> Worker {
        let queue = Arc::new(
            EmbeddedQueue::open(&dir.join("queue.sqlite"), QueueSettings::default())
                .await
                .unwrap(),
        );
        let routes = self
            .routes
            .into_iter()
            .map(|(address, url)| (address.to_owned(), RouteUrl::new(url.parse().unwrap())))
            .collect::<BTreeMap<_, _>>();
        let srv = Arc::new(self.srv);
        let resolver = PohttpResolver::new(routes, srv.clone()).with_egress(self.egress.clone());
        let settings = OutboundSettings {
            retry_initial_backoff: Duration::from_millis(20),
            retry_max_backoff: Duration::from_millis(200),
            poll_interval: Duration::from_millis(10),
            egress: self.egress,
            ..OutboundSettings::from_config(&GatewayConfig::default())
        };
        let metrics = Metrics::new().unwrap();
        let shutdown = Shutdown::new();
        let handle = outbound::spawn_with_lookup(
            queue.clone() as Arc<dyn DurableQueue>,
            resolver,
            metrics.clone(),
            settings,
            shutdown.listener(),
            hosts(),
        )
        .unwrap();
        Worker {
            queue,
            metrics,
            srv,
            _shutdown: shutdown,
            handle,
        }
    }
}

struct Worker {
    queue: Arc<EmbeddedQueue>,
    metrics: Metrics,
    srv: Arc<FakeSrv>,
    _shutdown: Shutdown,
    handle: OutboundHandle,
}

impl Worker {
    async fn publish(&self, id: &str, recipient_address: &str) {
        let parcel = OutboundParcel {
            parcel: Bytes::from(format!("parcel {id}")),
            recipient_address: recipient_address.to_owned(),
            expiry: Utc::now() + chrono::Duration::hours(1),
            parcel_id: id.to_owned(),
            origin: None,
        };
        self.queue
            .publish(QUEUE, parcel.to_queue_message())
            .await
            .unwrap();
        self.handle.wake();
    }

    async fn drained(&self, what: &str) {
        eventually(what, || async {
            self.queue.depth(QUEUE).await.unwrap() == 0
        })
        .await;
    }

    fn counter(&self, series: &str) -> u64 {
        let text = self.metrics.encode_text().unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(series))
            .map_or(0, |value| value.trim().parse().unwrap())
    }

    fn outcomes(&self, outcome: &str) -> u64 {
        self.counter(&format!(
            "gateway_parcels_delivered_total{{outcome=\"{outcome}\"}} "
        ))
    }

    fn egress_refused(&self, reason: &str) -> u64 {
        self.counter(&format!(
            "gateway_egress_refused_total{{reason=\"{reason}\"}} "
        ))
    }

    async fn dead_letters(&self) -> usize {
        self.queue.dead_letters(QUEUE, 100).await.unwrap().len()
    }

    fn srv_asked(&self) -> Vec<String> {
        self.srv.asked.lock().unwrap().clone()
    }
}

// === tests ===

#[actix_rt::test]
async fn ip_literal_addresses_are_refused_without_a_connection() {
    let dir = tempfile::tempdir().unwrap();
    let trap = Trap::start().await;
    let recipient = Recipient::default();
    let endpoint = start_recipient(&recipient);
    // Were the resolver to ask DNS about these addresses, it would be sent to the trap.
    let mut setup = Setup::new().route("good.example", format!("http://{endpoint}/"));
    let literals = [
        "127.0.0.1",
        "2130706433",
        "0x7f.1",
        "[::1]",
        "::ffff:127.0.0.1",
    ];
    for address in literals {
        setup = setup.srv(address, "127.0.0.1", trap.port());
    }
    let worker = setup.start(dir.path()).await;

    // A burst from several senders: refused parcels mixed with deliverable ones.
    for round in 0..4 {
        for (index, address) in literals.iter().enumerate() {
            worker
                .publish(&format!("bad-{round}-{index}"), address)
                .await;
        }
        worker
            .publish(&format!("good-{round}"), "good.example")
            .await;
    }
    worker.publish("private", "10.1.2.3").await;
    worker.publish("metadata", "169.254.169.254").await;

    worker.drained("every parcel to be settled").await;
    assert_eq!(trap.connections(), 0, "no connection to a refused address");
    assert_eq!(worker.egress_refused("loopback"), 20);
    assert_eq!(worker.egress_refused("private"), 1);
    assert_eq!(worker.egress_refused("link_local"), 1);
    assert_eq!(worker.outcomes("refused"), 22);
    assert_eq!(worker.outcomes("retry"), 0, "a refusal is never retried");
    assert_eq!(worker.dead_letters().await, 0);
    assert!(worker.srv_asked().is_empty(), "{:?}", worker.srv_asked());
    // The worker survived all of it and still delivers.
    assert_eq!(recipient.received().len(), 4);
    assert_eq!(worker.outcomes("delivered"), 4);
    worker.publish("after", "good.example").await;
    worker.drained("a delivery after the refusals").await;
    assert_eq!(worker.outcomes("delivered"), 5);
}

#[actix_rt::test]
async fn srv_targets_that_are_or_resolve_to_private_addresses_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let trap = Trap::start().await;
    let worker = Setup::new()
        .srv("rebound.example", REBOUND, trap.port())
        .srv("literal.example", "127.0.0.1", trap.port())
        .start(dir.path())
        .await;
    worker.publish("rebound", "rebound.example").await;
    worker.publish("literal", "literal.example").await;

    worker.drained("both parcels to be settled").await;
    assert_eq!(trap.connections(), 0);
    assert_eq!(worker.egress_refused("loopback"), 2);
    assert_eq!(worker.outcomes("refused"), 2);
    assert_eq!(worker.outcomes("retry"), 0);
    assert_eq!(worker.dead_letters().await, 0);
    let mut asked = worker.srv_asked();
    asked.sort();
    assert_eq!(
        asked,
        [
            "_awala-pdc._tcp.literal.example.",
            "_awala-pdc._tcp.rebound.example."
        ]
    );
}

#[actix_rt::test]
async fn a_route_may_not_redirect_to_a_private_address() {
    let dir = tempfile::tempdir().unwrap();
    let trap = Trap::start().await;
    // Scheme-relative: an absolute `http:` location is refused for being cleartext anyway.
    let recipient = Recipient::redirecting([
        format!("//127.0.0.1:{}/literal", trap.port()),
        format!("//{REBOUND}:{}/rebound", trap.port()),
        format!("https://[::1]:{}/v6", trap.port()),
        // Within the route's own origin a redirect is still the operator's choice.
        "/same-origin".to_owned(),
    ]);
    let endpoint = start_recipient(&recipient);
    let worker = Setup::new()
        .route("routed.example", format!("http://{endpoint}/"))
        .start(dir.path())
        .await;
    for id in ["literal", "rebound", "v6", "same-origin"] {
        worker.publish(id, "routed.example").await;
        worker.drained(id).await;
    }

    assert_eq!(trap.connections(), 0);
    assert_eq!(worker.egress_refused("loopback"), 3);
    assert_eq!(worker.outcomes("refused"), 3);
    assert_eq!(worker.outcomes("retry"), 0);
    assert_eq!(worker.outcomes("delivered"), 1);
    assert_eq!(recipient.received(), ["/", "/", "/", "/", "/same-origin"]);
}

#[actix_rt::test]
async fn allow_listed_private_destinations_are_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = Recipient::default();
    let allowed_endpoint = start_recipient(&allowed);
    let port = allowed_endpoint.port();
    let router = Recipient::redirecting([
        format!("//127.0.0.1:{port}/by-network"),
        format!("//{REBOUND}:{port}/by-host"),
    ]);
    let endpoint = start_recipient(&router);

    // By network: any host whose address is in it.
    let worker = Setup::new()
        .route("routed.example", format!("http://{endpoint}/"))
        .allow(&["127.0.0.0/8"])
        .start(dir.path())
        .await;
    worker.publish("by-network", "routed.example").await;
    worker.drained("the allow-listed network's delivery").await;
    assert_eq!(allowed.received(), ["/by-network"]);
    assert_eq!(worker.outcomes("delivered"), 1);
    assert_eq!(worker.egress_refused("loopback"), 0);
    drop(worker);

    // By host name: that name may resolve anywhere.
    let dir = tempfile::tempdir().unwrap();
    let worker = Setup::new()
        .route("routed.example", format!("http://{endpoint}/"))
        .allow(&[REBOUND])
        .start(dir.path())
        .await;
    worker.publish("by-host", "routed.example").await;
    worker.drained("the allow-listed host's delivery").await;
    assert_eq!(allowed.received(), ["/by-network", "/by-host"]);
    assert_eq!(worker.outcomes("delivered"), 1);
    assert_eq!(worker.egress_refused("loopback"), 0);
}
