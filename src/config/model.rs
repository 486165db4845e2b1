//! The configuration types, their compiled defaults and their TOML shape.
//!
//! Every struct denies unknown keys, and every field has a default, so a TOML file only names
//! what it changes. Durations are whole seconds in TOML; accessors return [`Duration`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::secrets::{redact_url, Secret};
use crate::actors::outbound::egress::AllowEntry;

/// The only config file version this gateway reads.
pub const CONFIG_VERSION: u32 = 1;

/// Internet address used when none is configured: a syntactically valid domain that lets a first
/// local run start. Peers cannot reach it, so `main` warns when
/// [`GatewayConfig::internet_address_defaulted`] is set.
pub const DEFAULT_INTERNET_ADDRESS: &str = "awala.local";

/// The merged gateway configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Config format version; only [`CONFIG_VERSION`] is accepted.
    pub version: u32,
    /// Our Internet address (a domain name), which private gateways and peers know us by.
    pub internet_address: String,
    /// True when no layer set `internet_address` and the placeholder default is in use.
    #[serde(skip)]
    pub internet_address_defaulted: bool,
    /// Where embedded backends keep their files; defaults of backend URLs derive from it.
    pub data_dir: PathBuf,
    /// Listening sockets.
    pub listen: ListenConfig,
    /// Which parts of the gateway this process runs.
    pub roles: BTreeSet<Role>,
    /// Static PoHTTP routes: Internet address → endpoint URL, consulted before DNS SRV.
    pub pohttp_routes: BTreeMap<String, RouteUrl>,
    /// DNS resolver to use for SRV lookups; the system resolver when unset.
    pub dns_server: Option<SocketAddr>,
    /// Whether SRV answers must validate under DNSSEC.
    pub dnssec: bool,
    /// Non-public destinations outbound deliveries may reach anyway: CIDR networks, addresses or
    /// host names. Routes need no entry; everything else must be public unicast.
    pub egress_allow: Vec<AllowEntry>,
    /// Backend URLs (derived from `data_dir` by the caller when unset).
    pub backends: BackendsConfig,
    /// The key-encryption key that seals private keys at rest.
    pub keys: KeysConfig,
    /// The admin API on the admin listener.
    pub admin: AdminConfig,
    /// Protocol and resource limits.
    pub limits: LimitsConfig,
    /// Logging.
    pub log: LogConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            version: CONFIG_VERSION,
            internet_address: DEFAULT_INTERNET_ADDRESS.to_owned(),
            internet_address_defaulted: true,
            data_dir: PathBuf::from("./awala-data"),
            listen: ListenConfig::default(),
            roles: Role::ALL.into_iter().collect(),
            pohttp_routes: BTreeMap::new(),
            dns_server: None,
            dnssec: true,
            egress_allow: Vec::new(),
            backends: BackendsConfig::default(),
            keys: KeysConfig::default(),
            admin: AdminConfig::default(),
            limits: LimitsConfig::default(),
            log: LogConfig::default(),
        }
    }
}

/// A PoHTTP endpoint URL. Routes may embed credentials (`https://user:pass@host/`), so `Debug`
/// and `Serialize` print it redacted; [`RouteUrl::url`] gives the real one.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RouteUrl(url::Url);

impl RouteUrl {
    /// Wraps a URL already checked to be http or https.
    pub fn new(url: url::Url) -> Self {
        Self(url)
    }

    /// The real URL, for the delivery worker.
    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

impl fmt::Debug for RouteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RouteUrl({:?})", redact_url(self.0.as_str()))
    }
}

impl Serialize for RouteUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&redact_url(self.0.as_str()))
    }
}

/// Listening socket addresses, one per binding plus the admin/metrics server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenConfig {
    pub poweb: SocketAddr,
    pub pohttp: SocketAddr,
    pub cogrpc: SocketAddr,
    pub admin: SocketAddr,
}

const fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            poweb: loopback(8080),
            pohttp: loopback(8081),
            cogrpc: loopback(8082),
            admin: loopback(8090),
        }
    }
}

/// A part of the gateway that one process can run (`serve --roles`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Poweb,
    Pohttp,
    Cogrpc,
    Workers,
}

impl Role {
    /// Every role, the default set.
    pub const ALL: [Role; 4] = [Role::Poweb, Role::Pohttp, Role::Cogrpc, Role::Workers];

    /// The name used in config, env and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Poweb => "poweb",
            Role::Pohttp => "pohttp",
            Role::Cogrpc => "cogrpc",
            Role::Workers => "workers",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown role `{s}`; expected poweb, pohttp, cogrpc or workers"))
    }
}

/// Parses a comma-separated role list (`poweb,workers`); `all` means every role.
pub fn parse_roles(value: &str) -> Result<BTreeSet<Role>, String> {
    if value.trim().eq_ignore_ascii_case("all") {
        return Ok(Role::ALL.into_iter().collect());
    }
    let roles = value
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(Role::from_str)
        .collect::<Result<BTreeSet<_>, _>>()?;
    if roles.is_empty() {
        return Err("at least one role is required".to_owned());
    }
    Ok(roles)
}

/// Backend URLs. Each may instead be read from a private file via its `*_file` twin, so that
/// credentials need not sit in the config file or the environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendsConfig {
    /// `sqlite://…`, `postgres://…` or `mongodb://…`.
    pub database_url: Option<Secret>,
    pub database_url_file: Option<PathBuf>,
    /// `file://…` or `s3://bucket?…`.
    pub object_store_url: Option<Secret>,
    pub object_store_url_file: Option<PathBuf>,
    /// `embedded://` or `amqp://…`.
    pub queue_url: Option<Secret>,
    pub queue_url_file: Option<PathBuf>,
    /// `memory://` or `redis://…`.
    pub pubsub_url: Option<Secret>,
    pub pubsub_url_file: Option<PathBuf>,
}

/// The admin API's bearer token (`Authorization: Bearer TOKEN` on every `/v1/` request).
/// Without one, the API answers only on a loopback `listen.admin`; beyond loopback it refuses
/// every `/v1/` request (403) while `/live`, `/ready` and `/metrics` still answer probes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    pub token: Option<Secret>,
    /// A file holding the token (mode 0600), instead of `token`.
    pub token_file: Option<PathBuf>,
}

/// Where the key-encryption key (KEK) comes from: `kek` (env `AWALA_KEK` only) wins over
/// `kek_file`, which wins over `<data_dir>/kek.bin`. Replicas must share one KEK.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// A KEK file shared by replicas (raw 32 octets, or base64 or hex); created mode 0600 if
    /// missing, refused if group or others can read it.
    pub kek_file: Option<PathBuf>,
    /// The KEK itself, base64 or hex of 32 octets. Only the environment may set it: a config
    /// file holding it would be one more copy of the key, so TOML refuses the key and
    /// `--print-config` leaves it out.
    #[serde(skip)]
    pub kek: Option<Secret>,
}

/// What a full mailbox does to its sender (house style, practice 8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailboxOverload {
    /// The sender waits (a bounded time); backpressure reaches the binding, which answers 503.
    #[default]
    Block,
    /// The new message is refused at once and the sender answers 503.
    RejectNewest,
}

impl FromStr for MailboxOverload {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "block" => Ok(Self::Block),
            "reject_newest" => Ok(Self::RejectNewest),
            other => Err(format!(
                "unknown overload mode `{other}`; expected block or reject_newest"
            )),
        }
    }
}

/// Protocol tolerances, timeouts, per-peer quotas and mailbox sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// How far in the future a message's creation date may be (clock skew allowance).
    pub future_message_tolerance_seconds: u64,
    /// Interval between WebSocket pings on parcel collection.
    pub websocket_ping_interval_seconds: u64,
    /// Time a client has to complete the collection handshake.
    pub handshake_timeout_seconds: u64,
    /// Time without a pong after which a collection socket is closed.
    pub pong_timeout_seconds: u64,
    /// Open collection sockets allowed per private gateway.
    pub max_sockets_per_private_gateway: u32,
    /// Open collection sockets allowed in all, counted from the upgrade (before the handshake).
    pub max_websocket_connections: u32,
    /// Deliveries a collection socket may have unacknowledged, unless its client asks for more
    /// (`X-Awala-Collection-Window`, up to 128). Keep 1 for the published JS client, which
    /// merges frames that arrive together and loses all but the first.
    pub collection_window: u32,
    /// Concurrent PoHTTP deliveries per destination Internet address.
    pub max_in_flight_deliveries_per_destination: u32,
    /// First delay before retrying an outbound delivery.
    pub outbound_retry_initial_backoff_seconds: u64,
    /// Cap on the outbound retry delay.
    pub outbound_retry_max_backoff_seconds: u64,
    /// Capacity of each in-process actor mailbox.
    pub actor_mailbox_capacity: u32,
    /// Requests one HTTP binding (PoWeb or PoHTTP) works on at once; more are shed with 503.
    pub max_in_flight_requests: u32,
    /// Messages a durable mailbox (queue) may hold pending before the overload mode applies.
    pub queue_capacity: u32,
    /// What a full mailbox does to its sender.
    pub mailbox_overload: MailboxOverload,
    /// Time an HTTP client has to send a connection's first request head; then 408 and close.
    pub http_header_timeout_seconds: u64,
    /// Time an HTTP client has to send a whole request body once its handler starts reading it;
    /// then 408 and close, so a slow sender holds its load-shield place no longer than this.
    pub http_body_timeout_seconds: u64,
    /// Time an HTTP client has to close its side once we close a connection; then it is dropped.
    pub http_disconnect_timeout_seconds: u64,
    /// Open CogRPC connections; more are closed as soon as they are accepted.
    pub max_cogrpc_connections: u32,
    /// CogRPC calls (`DeliverCargo`, `CollectCargo`) in flight; more are refused `UNAVAILABLE`.
    /// Each may hold one cargo (up to 9 MiB) in memory.
    pub max_cogrpc_calls: u32,
    /// Time a CogRPC connection may stay open without any call before it is closed.
    pub cogrpc_idle_timeout_seconds: u64,
    /// Pre-registrations and registrations one source address may make per minute, sustained.
    pub registration_rate_per_minute: u32,
    /// Pre-registrations and registrations one source address may make in a burst.
    pub registration_burst: u32,
    /// Source addresses whose registration rate is tracked at once (bounds the limiter's memory).
    pub registration_rate_tracked_addresses: u32,
    /// Registrations signed at once; 0 means one per CPU core.
    pub registration_concurrency: u32,
    /// Registrations that may wait for a signing slot; more are refused with 503.
    pub registration_queue: u32,
    /// Unexpired parcels stored for one private gateway; more are refused with 507 (PoHTTP,
    /// PoWeb) until it collects. 0 means no limit.
    pub max_parcels_stored_per_private_gateway: u64,
    /// Bytes of unexpired parcels stored for one private gateway; 0 means no limit.
    pub max_bytes_stored_per_private_gateway: u64,
    /// Internet-bound parcels one private gateway may have queued or in flight; more are refused
    /// with 429 until some are delivered, refused or expire. 0 means no limit.
    pub max_internet_bound_per_private_gateway: u64,
    /// PoWeb parcel deliveries one private gateway may make per second, sustained (then 429);
    /// 0 means no limit.
    pub private_gateway_deliveries_per_second: u32,
    /// PoWeb parcel deliveries one private gateway may make in a burst.
    pub private_gateway_delivery_burst: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            future_message_tolerance_seconds: 300,
            websocket_ping_interval_seconds: 5,
            handshake_timeout_seconds: 10,
            pong_timeout_seconds: 9,
            max_sockets_per_private_gateway: 8,
            max_websocket_connections: 20_000,
            collection_window: 1,
            max_in_flight_deliveries_per_destination: 16,
            outbound_retry_initial_backoff_seconds: 5,
            outbound_retry_max_backoff_seconds: 15 * 60,
            actor_mailbox_capacity: 64,
            max_in_flight_requests: 1024,
            queue_capacity: 10_000,
            mailbox_overload: MailboxOverload::Block,
            http_header_timeout_seconds: 10,
            http_body_timeout_seconds: 30,
            http_disconnect_timeout_seconds: 2,
            max_cogrpc_connections: 256,
            max_cogrpc_calls: 64,
            // REF's `grpc.max_connection_idle_ms`.
            cogrpc_idle_timeout_seconds: 5,
            // A registration is two requests (pre-registration, then registration): 30 at once
            // from one address (a NAT, a load generator), then one a second.
            registration_rate_per_minute: 120,
            registration_burst: 60,
            registration_rate_tracked_addresses: 10_000,
            registration_concurrency: 0,
            registration_queue: 16,
            max_parcels_stored_per_private_gateway: 100_000,
            max_bytes_stored_per_private_gateway: 10 * 1024 * 1024 * 1024,
            max_internet_bound_per_private_gateway: 1_000,
            private_gateway_deliveries_per_second: 1_000,
            private_gateway_delivery_burst: 2_000,
        }
    }
}

impl LimitsConfig {
    pub fn future_message_tolerance(&self) -> Duration {
        Duration::from_secs(self.future_message_tolerance_seconds)
    }
    pub fn websocket_ping_interval(&self) -> Duration {
        Duration::from_secs(self.websocket_ping_interval_seconds)
    }
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout_seconds)
    }
    pub fn pong_timeout(&self) -> Duration {
        Duration::from_secs(self.pong_timeout_seconds)
    }
    pub fn outbound_retry_initial_backoff(&self) -> Duration {
        Duration::from_secs(self.outbound_retry_initial_backoff_seconds)
    }
    pub fn outbound_retry_max_backoff(&self) -> Duration {
        Duration::from_secs(self.outbound_retry_max_backoff_seconds)
    }
    pub fn http_header_timeout(&self) -> Duration {
        Duration::from_secs(self.http_header_timeout_seconds)
    }
    pub fn http_body_timeout(&self) -> Duration {
        Duration::from_secs(self.http_body_timeout_seconds)
    }
    pub fn http_disconnect_timeout(&self) -> Duration {
        Duration::from_secs(self.http_disconnect_timeout_seconds)
    }
    pub fn cogrpc_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.cogrpc_idle_timeout_seconds)
    }
}

/// Log verbosity; `RUST_LOG`, when set, takes precedence (see `telemetry::init_tracing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "trace" => Ok(Self::Trace),
            "debug" => Ok(Self::Debug),
            "info" => Ok(Self::Info),
            "warn" => Ok(Self::Warn),
            "error" => Ok(Self::Error),
            other => Err(format!(
                "unknown log level `{other}`; expected trace, debug, info, warn or error"
            )),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!(
                "unknown log format `{other}`; expected text or json"
            )),
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub level: LogLevel,
    pub format: LogFormat,
}
