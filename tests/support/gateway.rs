//! Starting the real `awala-gateway serve` binary on a free port, and a tiny HTTP/1.1 client
//! (one request per connection) so black-box tests need no HTTP client crate.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long a debug build may take to create its identity and listen on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A running gateway, killed when dropped.
pub struct Gateway {
    pub child: Child,
    /// PoWeb port.
    pub port: u16,
    pub pohttp_port: u16,
    pub admin_port: u16,
    /// CogRPC port (listened on only when the `cogrpc` role runs).
    pub cogrpc_port: u16,
    pub data_dir: PathBuf,
}

/// How to start a gateway beyond its data directory and address.
#[derive(Debug, Clone, Default)]
pub struct GatewayOptions {
    /// `--roles` value; `poweb,pohttp` when `None`.
    pub roles: Option<String>,
    /// More flags, e.g. `--pohttp-route pong.test=http://127.0.0.1:9000`.
    pub extra_args: Vec<String>,
    /// Fixed ports (to restart a gateway on the same ones); free ports when `None`.
    pub ports: Option<(u16, u16, u16)>,
    /// Extra environment variables (`AWALA_LIMITS_*` and the like).
    pub env: Vec<(String, String)>,
    /// Distributed backends' namespace (replicas share one); derived from the data directory
    /// when `None`, so a restarted gateway finds its data again.
    pub namespace: Option<String>,
    /// Quorum queues (the production default) instead of the classic ones distributed tests
    /// use (`distributed::queue_url`).
    pub quorum_queues: bool,
    /// A file that takes the gateway's standard error (its logs); inherited when `None`.
    pub stderr: Option<PathBuf>,
}

impl GatewayOptions {
    /// `roles`, with Internet-bound parcels for `pong.test` routed to `endpoint_port` on loopback
    /// and retried after one second.
    pub fn routed(roles: &str, endpoint_port: u16) -> Self {
        GatewayOptions {
            roles: Some(roles.into()),
            extra_args: vec![
                "--pohttp-route".into(),
                format!("pong.test=http://127.0.0.1:{endpoint_port}"),
            ],
            env: vec![(
                "AWALA_LIMITS_OUTBOUND_RETRY_INITIAL_BACKOFF_SECONDS".into(),
                "1".into(),
            )],
            ..GatewayOptions::default()
        }
    }
}

impl Gateway {
    /// Starts `serve` (PoWeb and PoHTTP) on free loopback ports and waits for `GET /` to
    /// answer 200.
    pub fn start(data_dir: &Path, internet_address: &str) -> Gateway {
        Gateway::start_with(data_dir, internet_address, &GatewayOptions::default())
    }

    /// Starts `serve` with `options`.
    pub fn start_with(
        data_dir: &Path,
        internet_address: &str,
        options: &GatewayOptions,
    ) -> Gateway {
        let (port, pohttp_port, admin_port) = options
            .ports
            .unwrap_or_else(|| (free_port(), free_port(), free_port()));
        let cogrpc_port = free_port();
        let roles = options
            .roles
            .clone()
            .unwrap_or_else(|| "poweb,pohttp".into());
        let mut command = Command::new(env!("CARGO_BIN_EXE_awala-gateway"));
        if let Some(path) = &options.stderr {
            command.stderr(std::fs::File::create(path).expect("create the stderr file"));
        }
        let child = command
            .args(["serve", "--roles", &roles, "--data-dir"])
            .arg(data_dir)
            .args(["--internet-address", internet_address])
            .args(["--poweb-listen", &format!("127.0.0.1:{port}")])
            .args(["--pohttp-listen", &format!("127.0.0.1:{pohttp_port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin_port}")])
            .args(["--cogrpc-listen", &format!("127.0.0.1:{cogrpc_port}")])
            .args(&options.extra_args)
            .env("AWALA_LOG_LEVEL", "warn")
            .envs(distributed::env(data_dir, options))
            .envs(options.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn awala-gateway");
        let mut gateway = Gateway {
            child,
            port,
            pohttp_port,
            admin_port,
            cogrpc_port,
            data_dir: data_dir.to_owned(),
        };
        gateway.wait_ready();
        if roles.split(',').any(|role| role.trim() == "cogrpc") {
            gateway.wait_for_port(cogrpc_port);
        }
        gateway
    }

    /// Waits until `port` accepts connections (servers bound after the admin listener).
    fn wait_for_port(&mut self, port: u16) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("gateway exited early: {status}");
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "port {port} never opened"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("gateway exited early: {status}");
            }
            if let Ok(response) = request(self.admin_port, "GET", "/health", &[], b"") {
                if response.status == 200 {
                    return;
                }
            }
            assert!(started.elapsed() < START_TIMEOUT, "gateway did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One request to this gateway.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        request(self.port, method, path, headers, body).expect("http request")
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        self.child.wait().expect("wait")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ports handed to gateways under test: below Linux's default ephemeral range (32768–60999).
/// A port the kernel picked with `bind(:0)` and we released could be taken by any outgoing
/// connection (a Node client of a test running beside) before the gateway binds it; a port
/// outside that range can only be taken by another listener.
const TEST_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A free loopback port for a gateway under test (checked by binding it, then released).
/// Each call of this process takes the next port, starting where the process id points, so
/// concurrent tests and test binaries do not pick the same one.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let span = u32::from(TEST_PORTS.end - TEST_PORTS.start);
    let start = std::process::id().wrapping_mul(97);
    for _ in 0..span {
        let offset = start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = TEST_PORTS.start + u16::try_from(offset).expect("offset within span");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {TEST_PORTS:?}");
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One HTTP/1.1 request with `Connection: close`. A `content-length` in `headers` replaces the
/// computed one (to declare more than is sent); write errors are ignored, since the server may
/// answer and close before reading a refused body.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-length"))
    {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| invalid("head not utf-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// The distributed pass: with `AWALA_TEST_DISTRIBUTED=1` (or a [`GatewayOptions::namespace`]),
/// every gateway runs on RabbitMQ, PostgreSQL and, where their test URLs are set, Redis and S3,
/// each under a namespace of its own, instead of the embedded default.
pub mod distributed {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    use std::path::Path;
    use std::process::Command;

    use super::GatewayOptions;

    /// The metadata and object stores a gateway on `data_dir` with `options` uses, opened
    /// beside it (tests that look into them).
    pub async fn open_stores(
        data_dir: &Path,
        options: &GatewayOptions,
    ) -> (
        std::sync::Arc<dyn awala_gateway::backends::metadata::MetadataStore>,
        std::sync::Arc<dyn awala_gateway::backends::objects::ObjectStore>,
    ) {
        let env = env(data_dir, options);
        let pick = |name: &str, default: String| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .unwrap_or(default)
        };
        let database = pick(
            "AWALA_DATABASE_URL",
            format!("sqlite://{}", data_dir.join("gateway.sqlite").display()),
        );
        let objects = pick(
            "AWALA_OBJECT_STORE_URL",
            format!("file://{}", data_dir.join("objects").display()),
        );
        let metadata = awala_gateway::backends::open_metadata(&database)
            .await
            .expect("metadata store");
        let objects = awala_gateway::backends::open_objects_beside(&objects, &database)
            .await
            .expect("object store");
        (metadata, objects)
    }

    /// The durable queue a gateway on `data_dir` with `options` uses, opened beside it (tests
    /// that put messages in it).
    pub async fn open_queue(
        data_dir: &Path,
        options: &GatewayOptions,
    ) -> std::sync::Arc<dyn awala_gateway::backends::queue::DurableQueue> {
        use awala_gateway::backends::queue::amqp::AmqpQueue;
        use awala_gateway::backends::queue::{EmbeddedQueue, QueueLimits, QueueSettings};
        // A broker refuses to redeclare a queue with other arguments: the gateway's defaults.
        let limits = awala_gateway::config::LimitsConfig::default();
        let settings = QueueSettings::uniform(QueueLimits {
            capacity: u64::from(limits.queue_capacity),
            ..QueueLimits::default()
        });
        let url = env(data_dir, options)
            .into_iter()
            .find(|(key, _)| key == "AWALA_QUEUE_URL")
            .map(|(_, value)| value);
        match url {
            Some(url) => {
                std::sync::Arc::new(AmqpQueue::open(&url, settings).await.expect("amqp queue"))
            }
            None => std::sync::Arc::new(
                EmbeddedQueue::open(&data_dir.join("queue.sqlite"), settings)
                    .await
                    .expect("embedded queue"),
            ),
        }
    }

    /// Whether the engines' test URLs are set (tests that need them skip otherwise); under CI
    /// a skip would pass unseen, so there it fails.
    pub fn engines_configured() -> bool {
        let all = [
            "AWALA_TEST_AMQP_URL",
            "AWALA_TEST_POSTGRES_URL",
            "AWALA_TEST_REDIS_URL",
        ]
        .iter()
        .all(|name| std::env::var(name).is_ok());
        let ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
        assert!(
            all || !ci,
            "CI is set but the engines' URLs are not (scripts/test.sh exports them)"
        );
        all
    }

    /// Whether this run puts every gateway on the distributed backends.
    pub fn enabled() -> bool {
        std::env::var("AWALA_TEST_DISTRIBUTED").is_ok_and(|value| value == "1")
    }

    fn namespace_of(data_dir: &Path) -> String {
        let mut hasher = DefaultHasher::new();
        data_dir.hash(&mut hasher);
        format!("t{:016x}", hasher.finish())
    }

    /// The backend variables for a gateway on `data_dir`; none in an embedded run.
    pub fn env(data_dir: &Path, options: &GatewayOptions) -> Vec<(String, String)> {
        let namespace = match (&options.namespace, enabled()) {
            (Some(namespace), _) => namespace.clone(),
            (None, true) => namespace_of(data_dir),
            (None, false) => return Vec::new(),
        };
        let required = |name: &str| {
            std::env::var(name)
                .unwrap_or_else(|_| panic!("{name} must be set for a distributed gateway"))
        };
        let amqp = required("AWALA_TEST_AMQP_URL");
        // `AWALA_TEST_DISTRIBUTED_DATABASE=mongodb` puts the metadata on MongoDB instead.
        let metadata = match std::env::var("AWALA_TEST_DISTRIBUTED_DATABASE").as_deref() {
            Ok("mongodb") => mongodb_database(&required("AWALA_TEST_MONGODB_URL"), &namespace),
            _ => database(&required("AWALA_TEST_POSTGRES_URL"), &namespace),
        };
        let mut env = vec![
            (
                "AWALA_QUEUE_URL".to_owned(),
                queue_url(&amqp, &namespace, options.quorum_queues),
            ),
            ("AWALA_DATABASE_URL".to_owned(), metadata),
        ];
        if let Ok(redis) = std::env::var("AWALA_TEST_REDIS_URL") {
            env.push(("AWALA_PUBSUB_URL".to_owned(), redis));
        }
        if let Ok(s3) = std::env::var("AWALA_TEST_S3_URL") {
            env.push((
                "AWALA_OBJECT_STORE_URL".to_owned(),
                with_query(&s3, "prefix", &namespace),
            ));
        }
        env
    }

    /// The namespace's queues on the test broker: classic ones, which the broker deletes ten
    /// minutes after their last use. Every gateway of every test declares its own set, and a
    /// RabbitMQ 3.10 on two cores that had gathered some 300 quorum queues (a Raft cluster
    /// each) from these runs stopped answering. Quorum queues are proven by the queue suite
    /// and by the engine-fault test, which use them.
    fn queue_url(amqp: &str, namespace: &str, quorum: bool) -> String {
        let url = with_query(amqp, "prefix", namespace);
        let url = with_query(
            &url,
            "queue_type",
            if quorum { "quorum" } else { "classic" },
        );
        with_query(&url, "queue_expires_seconds", "600")
    }

    fn with_query(url: &str, key: &str, value: &str) -> String {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}{key}={value}")
    }

    /// `url` naming a database of the namespace's own (MongoDB creates it on first write).
    fn mongodb_database(url: &str, namespace: &str) -> String {
        let mut parsed = url::Url::parse(url).expect("AWALA_TEST_MONGODB_URL is a url");
        parsed.set_path(&format!("/awala_{namespace}"));
        parsed.to_string()
    }

    /// A database of the namespace's own on the test server, created when absent.
    fn database(admin_url: &str, namespace: &str) -> String {
        let name = format!("awala_{namespace}");
        let output = Command::new("psql")
            .arg(admin_url)
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("run psql");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() || stderr.contains("already exists"),
            "creating database {name}: {stderr}"
        );
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(admin_url);
        format!("{base}/{name}")
    }
}
