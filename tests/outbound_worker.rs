//! The outbound delivery worker against a real PoHTTP recipient (actix-web on 127.0.0.1) and a
//! real embedded queue file. Backoffs are milliseconds; tests wait for observable states (queue
//! depth, requests received, metrics) with a generous deadline, never for a fixed time.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use tokio::sync::Semaphore;

use awala_gateway::actors::mailbox::OutboundParcel;
use awala_gateway::actors::outbound::{
    self, OutboundHandle, OutboundSettings, PohttpResolver, ResolveError, SrvAnswer, SrvLookup,
};
use awala_gateway::backends::queue::{DurableQueue, EmbeddedQueue, QueueName, QueueSettings};
use awala_gateway::config::{GatewayConfig, RouteUrl};
use awala_gateway::supervision::{DrainOutcome, Shutdown};
use awala_gateway::telemetry::Metrics;
use support::wait::eventually;

mod support;

const ADDRESS: &str = "pong.example";
const QUEUE: QueueName = QueueName::OutboundParcels;

// === the recipient ===

#[derive(Clone, Copy)]
enum Reply {
    Status(u16),
    Redirect(u16, &'static str),
    /// Wait for a permit of the gate, then answer 202.
    Hold,
}

#[derive(Debug, Clone)]
struct Received {
    path: String,
    content_type: Option<String>,
    body: Bytes,
}

/// A PoHTTP endpoint answering from a script (202 once the script is exhausted).
#[derive(Clone)]
struct Recipient {
    script: Arc<Mutex<VecDeque<Reply>>>,
    default_hold: Arc<std::sync::atomic::AtomicBool>,
    received: Arc<Mutex<Vec<Received>>>,
    gate: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Default for Recipient {
    fn default() -> Self {
        Recipient {
            script: Arc::default(),
            default_hold: Arc::default(),
            received: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
        }
    }
}

impl Recipient {
    fn scripted(replies: impl IntoIterator<Item = Reply>) -> Self {
        let recipient = Recipient::default();
        recipient.script.lock().unwrap().extend(replies);
        recipient
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn next_reply(&self) -> Reply {
        let scripted = self.script.lock().unwrap().pop_front();
        match scripted {
            Some(reply) => reply,
            None if self.default_hold.load(Ordering::SeqCst) => Reply::Hold,
            None => Reply::Status(202),
        }
    }
}

async fn recipient_handler(
    request: HttpRequest,
    body: Bytes,
    recipient: web::Data<Recipient>,
) -> HttpResponse {
    recipient.received.lock().unwrap().push(Received {
        path: request.path().to_owned(),
        content_type: request
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        body,
    });
    let status = |code: u16| actix_web::http::StatusCode::from_u16(code).unwrap();
    match recipient.next_reply() {
        Reply::Status(code) => HttpResponse::build(status(code)).body("{}"),
        Reply::Redirect(code, location) => HttpResponse::build(status(code))
            .insert_header(("location", location))
            .finish(),
        Reply::Hold => {
            let now = recipient.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            recipient.max_in_flight.fetch_max(now, Ordering::SeqCst);
            recipient.gate.acquire().await.unwrap().forget();
            recipient.in_flight.fetch_sub(1, Ordering::SeqCst);
            HttpResponse::Accepted().body("{}")
        }
    }
}

fn start_recipient(recipient: &Recipient, address: SocketAddr) -> actix_web::dev::ServerHandle {
    let data = web::Data::new(recipient.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(recipient_handler))
    })
    .workers(1)
    .bind(address)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    handle
}

/// A worker whose queue is in a new directory (kept while the returned guard lives), routed to
/// a new server that answers as `recipient` says.
async fn start_worker_for(
    recipient: &Recipient,
) -> (tempfile::TempDir, actix_web::dev::ServerHandle, Worker) {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = free_port();
    let server = start_recipient(recipient, endpoint);
    let worker = start_worker(dir.path(), endpoint).await;
    (dir, server, worker)
}

fn free_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], support::gateway::free_port()))
}

// === the worker ===

/// Tests route every address; DNS is never reachable here.
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

fn settings() -> OutboundSettings {
    OutboundSettings {
        retry_initial_backoff: Duration::from_millis(20),
        retry_max_backoff: Duration::from_millis(200),
        max_in_flight_per_destination: 2,
        destination_queue_capacity: 16,
        max_leased: 64,
        poll_interval: Duration::from_millis(10),
        busy_retry_after: Duration::from_millis(20),
        ..OutboundSettings::from_config(&GatewayConfig::default())
    }
}

struct Worker {
    queue: Arc<EmbeddedQueue>,
    metrics: Metrics,
    shutdown: Shutdown,
    handle: OutboundHandle,
}

async fn open_queue(path: &Path) -> Arc<EmbeddedQueue> {
    Arc::new(
        EmbeddedQueue::open(&path.join("queue.sqlite"), QueueSettings::default())
            .await
            .unwrap(),
    )
}

async fn start_worker(dir: &Path, endpoint: SocketAddr) -> Worker {
    let queue = open_queue(dir).await;
    let route = format!("http://{endpoint}/").parse().unwrap();
    let routes = BTreeMap::from([(ADDRESS.to_owned(), RouteUrl::new(route))]);
    let resolver = PohttpResolver::new(routes, Arc::new(NoDns));
    let metrics = Metrics::new().unwrap();
    let shutdown = Shutdown::new();
    let handle = outbound::spawn(
        queue.clone() as Arc<dyn DurableQueue>,
        resolver,
        metrics.clone(),
        settings(),
        shutdown.listener(),
    )
    .unwrap();
    Worker {
        queue,
        metrics,
        shutdown,
        handle,
    }
}

impl Worker {
    async fn publish(&self, parcel: &OutboundParcel) {
        self.queue
            .publish(QUEUE, parcel.to_queue_message())
            .await
            .unwrap();
        self.handle.wake();
    }

    async fn depth(&self) -> u64 {
        self.queue.depth(QUEUE).await.unwrap()
    }

    /// Waits until the mailbox holds nothing (`what` names that state in a timeout).
    async fn drained(&self, what: &str) {
        eventually(what, || async { self.depth().await == 0 }).await;
    }

    async fn dead_letter_count(&self) -> usize {
        self.queue.dead_letters(QUEUE, 10).await.unwrap().len()
    }

    /// `gateway_parcels_delivered_total{outcome}`.
    fn outcomes(&self, outcome: &str) -> u64 {
        let text = self.metrics.encode_text().unwrap();
        let prefix = format!("gateway_parcels_delivered_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0, |value| value.trim().parse().unwrap())
    }

    async fn stop(self) -> Arc<EmbeddedQueue> {
        assert_eq!(
            self.shutdown.drain(Duration::from_secs(10)).await,
            DrainOutcome::Drained
        );
        self.handle.stopped().await;
        self.queue
    }
}

fn parcel(id: &str, expires_in: chrono::Duration) -> OutboundParcel {
    // Binary on purpose (NUL, high bytes, CR LF): it must arrive byte for byte.
    let mut body = b"Awala\x50\x00\r\n\xff\xfe".to_vec();
    body.extend(id.as_bytes());
    OutboundParcel {
        parcel: Bytes::from(body),
        recipient_address: ADDRESS.to_owned(),
        expiry: Utc::now() + expires_in,
        parcel_id: id.to_owned(),
        origin: None,
    }
}

fn hour() -> chrono::Duration {
    chrono::Duration::hours(1)
}

// === tests ===

#[actix_rt::test]
async fn delivers_the_parcel_byte_for_byte_then_acks() {
    let recipient = Recipient::default();
    let (_dir, _server, worker) = start_worker_for(&recipient).await;
    let sent = parcel("delivered", hour());
    worker.publish(&sent).await;

    worker.drained("the parcel to be acked").await;
    let received = recipient.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, sent.parcel);
    assert_eq!(received[0].path, "/");
    assert_eq!(
        received[0].content_type.as_deref(),
        Some("application/vnd.awala.parcel")
    );
    assert_eq!(worker.outcomes("delivered"), 1);
    assert_eq!(worker.dead_letter_count().await, 0);
}

#[actix_rt::test]
async fn a_403_drops_the_parcel_without_retrying() {
    let recipient = Recipient::scripted([Reply::Status(403)]);
    let (_dir, _server, worker) = start_worker_for(&recipient).await;
    worker.publish(&parcel("refused", hour())).await;

    worker.drained("the refused parcel to be acked").await;
    // Acked means gone: nothing is left to retry, and it was not dead-lettered either.
    assert_eq!(recipient.received().len(), 1);
    assert_eq!(worker.outcomes("refused"), 1);
    assert_eq!(worker.outcomes("retry"), 0);
    assert_eq!(worker.dead_letter_count().await, 0);
}

#[actix_rt::test]
async fn a_500_is_retried_until_delivered() {
    let recipient = Recipient::scripted([Reply::Status(500), Reply::Status(503)]);
    let (_dir, _server, worker) = start_worker_for(&recipient).await;
    let sent = parcel("retried", hour());
    worker.publish(&sent).await;

    worker.drained("delivery on the third attempt").await;
    let received = recipient.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|request| request.body == sent.parcel));
    assert_eq!(worker.outcomes("retry"), 2);
    assert_eq!(worker.outcomes("delivered"), 1);
}

#[actix_rt::test]
async fn an_endpoint_that_is_down_gets_the_parcel_once_it_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = free_port(); // Nothing listens there yet: connections are refused.
    let worker = start_worker(dir.path(), endpoint).await;
    let sent = parcel("down-then-up", hour());
    worker.publish(&sent).await;

    eventually("a failed attempt", || async {
        worker.outcomes("retry") >= 1
    })
    .await;
    assert_eq!(
        worker.depth().await,
        1,
        "the parcel must stay in the mailbox"
    );
    let recipient = Recipient::default();
    let _server = start_recipient(&recipient, endpoint);
    worker.drained("delivery once the endpoint is up").await;
    assert_eq!(recipient.received().len(), 1);
    assert_eq!(recipient.received()[0].body, sent.parcel);
    assert_eq!(worker.outcomes("delivered"), 1);
}

#[actix_rt::test]
async fn redirects_are_followed_with_the_same_body() {
    let recipient = Recipient::scripted([
        Reply::Redirect(307, "/second"),
        Reply::Redirect(308, "/third"),
        Reply::Redirect(307, "/fourth"),
    ]);
    let (_dir, _server, worker) = start_worker_for(&recipient).await;
    let sent = parcel("redirected", hour());
    worker.publish(&sent).await;

    worker.drained("delivery after three redirects").await;
    let received = recipient.received();
    let paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/", "/second", "/third", "/fourth"]);
    assert!(received.iter().all(|request| request.body == sent.parcel));
    assert_eq!(worker.outcomes("delivered"), 1);
    assert_eq!(worker.outcomes("retry"), 0);
}

#[actix_rt::test]
async fn a_fourth_redirect_means_retry_later() {
    let recipient = Recipient::scripted([Reply::Redirect(307, "/again"); 4]);
    let (_dir, _server, worker) = start_worker_for(&recipient).await;
    worker.publish(&parcel("redirect-loop", hour())).await;

    worker.drained("delivery on the second attempt").await;
    let paths: Vec<String> = recipient.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/", "/again", "/again", "/again", "/"]);
    assert_eq!(worker.outcomes("retry"), 1);
    assert_eq!(worker.outcomes("delivered"), 1);
}

#[actix_rt::test]
async fn expired_parcels_are_dropped_without_a_request() {
    let recipient = Recipient::default();
    let (_dir, _server, worker) = start_worker_for(&recipient).await;
    worker
        .publish(&parcel("expired", -chrono::Duration::seconds(1)))
        .await;

    worker.drained("the expired parcel to be acked").await;
    assert!(recipient.received().is_empty());
    assert_eq!(worker.outcomes("expired"), 1);
    assert_eq!(worker.outcomes("delivered"), 0);
}

#[actix_rt::test]
async fn attempts_to_one_destination_are_bounded() {
    let recipient = Recipient::default();
    recipient.default_hold.store(true, Ordering::SeqCst);
    let (_dir, _server, worker) = start_worker_for(&recipient).await;
    for index in 0..5 {
        worker
            .publish(&parcel(&format!("bounded-{index}"), hour()))
            .await;
    }

    eventually("two attempts in flight", || async {
        recipient.in_flight.load(Ordering::SeqCst) == 2
    })
    .await;
    recipient.gate.add_permits(5);
    worker.drained("every parcel delivered").await;
    assert_eq!(recipient.received().len(), 5);
    assert_eq!(recipient.max_in_flight.load(Ordering::SeqCst), 2);
    assert_eq!(worker.outcomes("delivered"), 5);
}

#[actix_rt::test]
async fn a_restarted_worker_delivers_what_the_stopped_one_was_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = free_port();
    let recipient = Recipient::scripted([Reply::Status(500); 1_000]);
    let server = start_recipient(&recipient, endpoint);
    let first = start_worker(dir.path(), endpoint).await;
    let sent = parcel("survives-restart", hour());
    first.publish(&sent).await;
    eventually("the first worker to be retrying", || async {
        first.outcomes("retry") >= 2
    })
    .await;
    assert_eq!(first.outcomes("delivered"), 0);
    first.stop().await.close().await;
    server.stop(true).await;

    // A new process: a new queue handle on the same file, a recipient that now accepts.
    let recipient = Recipient::default();
    let _server = start_recipient(&recipient, endpoint);
    let second = start_worker(dir.path(), endpoint).await;
    eventually("the second worker to deliver", || async {
        second.depth().await == 0
    })
    .await;
    assert_eq!(recipient.received().len(), 1);
    assert_eq!(recipient.received()[0].body, sent.parcel);
    assert_eq!(second.outcomes("delivered"), 1);
}
