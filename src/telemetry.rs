//! Tracing subscriber set-up and every Prometheus metric of the gateway, defined once.
//!
//! Names follow house style (practice 13): the `gateway_` prefix, snake case, `_total` on
//! counters, `_seconds`/`_bytes` units. Label values come from bounded sets only: the enums
//! below, or `&'static str` constants owned by the code that records them (an `Endpoint::name()`,
//! an actor's type name). Never peer addresses, parcel IDs or worker UUIDs. Code records through
//! the typed methods of [`Metrics`], never through raw label strings.
//!
//! # Metrics
//!
//! | name | type | labels | meaning |
//! | --- | --- | --- | --- |
//! | `gateway_requests_total` | counter | `binding`, `endpoint`, `outcome` | requests handled, by result (`ok`, `client_error`, `unavailable`, `server_error`) |
//! | `gateway_request_duration_seconds` | histogram | `binding`, `endpoint` | time to answer a request |
//! | `gateway_parcels_stored_total` | counter | `binding` | parcels durably stored for a private gateway, by the binding they came in on |
//! | `gateway_parcels_delivered_total` | counter | `outcome` | outbound PoHTTP delivery attempts and drops (`delivered`, `refused`, `retry`, `expired`, `dead_lettered`) |
//! | `gateway_egress_refused_total` | counter | `reason` | outbound deliveries refused by the egress policy, by the range of the address (`loopback`, `private`, `link_local`, `cgnat`, `multicast`, `broadcast`, `documentation`, `benchmarking`, `unspecified`, `site_local`, `discard_only`, `special_purpose`, `reserved`) |
//! | `gateway_mailbox_depth` | gauge | `queue` | messages waiting in a mailbox |
//! | `gateway_mailbox_blocked_seconds_total` | counter | `actor` | time senders spent waiting on a full mailbox |
//! | `gateway_actor_restarts_total` | counter | `actor`, `cause` | supervised restarts (`panic`, `error`, `killed`) |
//! | `gateway_actor_escalations_total` | counter | `actor` | supervisors that ran out of restarts and handed the failure to their parent |
//! | `gateway_websocket_connections` | gauge | none | open parcel-collection WebSockets |
//! | `gateway_collection_sessions` | gauge | none | collection sessions past their handshake (live sessions) |
//! | `gateway_cargo_unwrapped_total` | counter | `outcome` | cargo processed by the unwrapping worker (`ok`, `invalid`, `undecryptable`) |
//! | `gateway_errors_total` | counter | `error_type`, `stage` | errors, one typed event each |
//! | `gateway_rate_limited_total` | counter | `binding`, `endpoint` | requests refused with 429 because their source address (registration) or private gateway (parcel delivery) was over its rate |
//! | `gateway_housekeeping_deleted_total` | counter | `kind` | records and bodies deleted by housekeeping |
//! | `gateway_parcel_bytes_stored_total` | counter | `binding` | bytes of the parcels counted in `gateway_parcels_stored_total` |
//! | `gateway_backend_up` | gauge | `backend` | 1 if the backend (`queue`, `metadata`, `objects`, `pubsub`, `keys`) passed its last readiness check, else 0 |
//! | `gateway_quota_refusals_total` | counter | `quota` | parcels refused because their private gateway was over a quota (`parcels_stored`, `bytes_stored`: 507; `internet_bound_pending`: 429) |

use std::time::Duration;

use prometheus::{
    CounterVec, Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::config::{LogFormat, LogLevel};

/// Every metric name, for documentation and tests.
pub const METRIC_NAMES: &[&str] = &[
    REQUESTS_TOTAL,
    REQUEST_DURATION_SECONDS,
    PARCELS_STORED_TOTAL,
    PARCELS_DELIVERED_TOTAL,
    EGRESS_REFUSED_TOTAL,
    MAILBOX_DEPTH,
    MAILBOX_BLOCKED_SECONDS_TOTAL,
    ACTOR_RESTARTS_TOTAL,
    ACTOR_ESCALATIONS_TOTAL,
    WEBSOCKET_CONNECTIONS,
    CARGO_UNWRAPPED_TOTAL,
    ERRORS_TOTAL,
    RATE_LIMITED_TOTAL,
    HOUSEKEEPING_DELETED_TOTAL,
    QUOTA_REFUSALS_TOTAL,
    PARCEL_BYTES_STORED_TOTAL,
    BACKEND_UP,
    COLLECTION_SESSIONS,
];

pub const REQUESTS_TOTAL: &str = "gateway_requests_total";
pub const REQUEST_DURATION_SECONDS: &str = "gateway_request_duration_seconds";
pub const PARCELS_STORED_TOTAL: &str = "gateway_parcels_stored_total";
pub const PARCELS_DELIVERED_TOTAL: &str = "gateway_parcels_delivered_total";
pub const EGRESS_REFUSED_TOTAL: &str = "gateway_egress_refused_total";
pub const MAILBOX_DEPTH: &str = "gateway_mailbox_depth";
pub const MAILBOX_BLOCKED_SECONDS_TOTAL: &str = "gateway_mailbox_blocked_seconds_total";
pub const ACTOR_RESTARTS_TOTAL: &str = "gateway_actor_restarts_total";
pub const ACTOR_ESCALATIONS_TOTAL: &str = "gateway_actor_escalations_total";
pub const WEBSOCKET_CONNECTIONS: &str = "gateway_websocket_connections";
pub const CARGO_UNWRAPPED_TOTAL: &str = "gateway_cargo_unwrapped_total";
pub const ERRORS_TOTAL: &str = "gateway_errors_total";
pub const RATE_LIMITED_TOTAL: &str = "gateway_rate_limited_total";
pub const HOUSEKEEPING_DELETED_TOTAL: &str = "gateway_housekeeping_deleted_total";
pub const QUOTA_REFUSALS_TOTAL: &str = "gateway_quota_refusals_total";
pub const PARCEL_BYTES_STORED_TOTAL: &str = "gateway_parcel_bytes_stored_total";
pub const BACKEND_UP: &str = "gateway_backend_up";
pub const COLLECTION_SESSIONS: &str = "gateway_collection_sessions";

macro_rules! label_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The label value.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $value),+ }
            }
        }
    };
}

label_enum!(
    /// The `binding` label.
    Binding { Poweb => "poweb", Pohttp => "pohttp", Cogrpc => "cogrpc" }
);
label_enum!(
    /// The `outcome` of a request, derived from the status class of the answer.
    RequestOutcome {
        Ok => "ok",
        ClientError => "client_error",
        Unavailable => "unavailable",
        ServerError => "server_error",
    }
);
label_enum!(
    /// The `outcome` of one outbound delivery attempt.
    DeliveryOutcome {
        Delivered => "delivered",
        Refused => "refused",
        Retry => "retry",
        Expired => "expired",
        DeadLettered => "dead_lettered",
    }
);
label_enum!(
    /// The `outcome` of unwrapping one cargo.
    CargoOutcome { Ok => "ok", Invalid => "invalid", Undecryptable => "undecryptable" }
);

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("metric registration failed: {0}")]
    Prometheus(#[from] prometheus::Error),
    #[error("cannot install the tracing subscriber: {0}")]
    Tracing(String),
    #[error("metrics are not valid UTF-8 text: {0}")]
    Encoding(#[from] std::string::FromUtf8Error),
}

/// Installs the global tracing subscriber: `RUST_LOG` when set (full filter syntax), else
/// `level` for everything. Logs go to stderr, so stdout stays for what commands print; they are
/// coloured only on a terminal, and never under `NO_COLOR`, so files and pipes get plain text.
pub fn init_tracing(level: LogLevel, format: LogFormat) -> Result<(), TelemetryError> {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level.as_str()));
    let ansi = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|error| TelemetryError::Tracing(error.to_string()))
}

/// Colour codes only help a person at a terminal; <https://no-color.org> says a non-empty
/// `NO_COLOR` turns them off even there.
fn use_colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|value| value.is_empty())
}

/// The gateway's metrics, registered in their own registry (not the process-global one, so tests
/// and several gateways in one process do not collide).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_duration: HistogramVec,
    parcels_stored: IntCounterVec,
    parcels_delivered: IntCounterVec,
    egress_refused: IntCounterVec,
    mailbox_depth: IntGaugeVec,
    mailbox_blocked: CounterVec,
    actor_restarts: IntCounterVec,
    actor_escalations: IntCounterVec,
    websocket_connections: IntGauge,
    collection_sessions: IntGauge,
    cargo_unwrapped: IntCounterVec,
    errors: IntCounterVec,
    rate_limited: IntCounterVec,
    housekeeping_deleted: IntCounterVec,
    quota_refusals: IntCounterVec,
    parcel_bytes_stored: IntCounterVec,
    backend_up: IntGaugeVec,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Result<Self, TelemetryError> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(metric.clone()))?;
            Ok::<_, prometheus::Error>(metric)
        };
        let requests = counter(
            REQUESTS_TOTAL,
            "Requests handled, by binding, endpoint and outcome.",
            &["binding", "endpoint", "outcome"],
        )?;
        let parcels_stored = counter(
            PARCELS_STORED_TOTAL,
            "Parcels durably stored for private gateways, by incoming binding.",
            &["binding"],
        )?;
        let parcels_delivered = counter(
            PARCELS_DELIVERED_TOTAL,
            "Outbound PoHTTP delivery attempts, by outcome.",
            &["outcome"],
        )?;
        let egress_refused = counter(
            EGRESS_REFUSED_TOTAL,
            "Outbound deliveries refused by the egress policy, by address range.",
            &["reason"],
        )?;
        let actor_restarts = counter(
            ACTOR_RESTARTS_TOTAL,
            "Supervised actor restarts, by actor and cause.",
            &["actor", "cause"],
        )?;
        let actor_escalations = counter(
            ACTOR_ESCALATIONS_TOTAL,
            "Supervisors that ran out of restarts and escalated, by actor.",
            &["actor"],
        )?;
        let cargo_unwrapped = counter(
            CARGO_UNWRAPPED_TOTAL,
            "Cargo processed by the unwrapping worker, by outcome.",
            &["outcome"],
        )?;
        let errors = counter(
            ERRORS_TOTAL,
            "Errors, by type and processing stage.",
            &["error_type", "stage"],
        )?;
        let rate_limited = counter(
            RATE_LIMITED_TOTAL,
            "Requests refused because their source address was over its rate, by binding and endpoint.",
            &["binding", "endpoint"],
        )?;
        let housekeeping_deleted = counter(
            HOUSEKEEPING_DELETED_TOTAL,
            "Records and bodies deleted by housekeeping, by kind.",
            &["kind"],
        )?;
        let quota_refusals = counter(
            QUOTA_REFUSALS_TOTAL,
            "Parcels refused because their private gateway was over a storage quota, by quota.",
            &["quota"],
        )?;
        let parcel_bytes_stored = counter(
            PARCEL_BYTES_STORED_TOTAL,
            "Bytes of parcels durably stored for private gateways, by incoming binding.",
            &["binding"],
        )?;
        let backend_up = IntGaugeVec::new(
            Opts::new(
                BACKEND_UP,
                "Whether each backend passed its last readiness check (1) or not (0).",
            ),
            &["backend"],
        )?;
        registry.register(Box::new(backend_up.clone()))?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(REQUEST_DURATION_SECONDS, "Time to answer a request.")
                .buckets(prometheus::DEFAULT_BUCKETS.to_vec()),
            &["binding", "endpoint"],
        )?;
        registry.register(Box::new(request_duration.clone()))?;
        let mailbox_depth = IntGaugeVec::new(
            Opts::new(MAILBOX_DEPTH, "Messages waiting in a mailbox."),
            &["queue"],
        )?;
        registry.register(Box::new(mailbox_depth.clone()))?;
        let mailbox_blocked = CounterVec::new(
            Opts::new(
                MAILBOX_BLOCKED_SECONDS_TOTAL,
                "Time senders spent waiting on a full mailbox.",
            ),
            &["actor"],
        )?;
        registry.register(Box::new(mailbox_blocked.clone()))?;
        let websocket_connections = IntGauge::new(
            WEBSOCKET_CONNECTIONS,
            "Open parcel-collection WebSocket connections.",
        )?;
        registry.register(Box::new(websocket_connections.clone()))?;
        let collection_sessions = IntGauge::new(
            COLLECTION_SESSIONS,
            "Parcel-collection sessions past their handshake.",
        )?;
        registry.register(Box::new(collection_sessions.clone()))?;
        Ok(Self {
            registry,
            requests,
            request_duration,
            parcels_stored,
            parcels_delivered,
            egress_refused,
            mailbox_depth,
            mailbox_blocked,
            actor_restarts,
            actor_escalations,
            websocket_connections,
            collection_sessions,
            cargo_unwrapped,
            errors,
            rate_limited,
            housekeeping_deleted,
            quota_refusals,
            parcel_bytes_stored,
            backend_up,
        })
    }

    /// The registry, for exporters that need it.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Records one answered request and its duration.
    pub fn record_request(
        &self,
        binding: Binding,
        endpoint: &'static str,
        outcome: RequestOutcome,
        duration: Duration,
    ) {
        self.requests
            .with_label_values(&[binding.as_str(), endpoint, outcome.as_str()])
            .inc();
        self.request_duration
            .with_label_values(&[binding.as_str(), endpoint])
            .observe(duration.as_secs_f64());
    }

    /// Records a parcel of `bytes` stored for a private gateway.
    pub fn record_parcel_stored(&self, binding: Binding, bytes: usize) {
        self.parcels_stored
            .with_label_values(&[binding.as_str()])
            .inc();
        self.parcel_bytes_stored
            .with_label_values(&[binding.as_str()])
            .inc_by(bytes as u64);
    }

    /// Records the outcome of a backend's readiness check (`backend` is a field name of
    /// [`crate::actors::readiness::BackendChecks`]).
    pub fn set_backend_up(&self, backend: &'static str, up: bool) {
        self.backend_up
            .with_label_values(&[backend])
            .set(i64::from(up));
    }

    /// Records one outbound delivery attempt.
    pub fn record_parcel_delivery(&self, outcome: DeliveryOutcome) {
        self.parcels_delivered
            .with_label_values(&[outcome.as_str()])
            .inc();
    }

    /// Records a delivery the egress policy refused; `reason` is
    /// `actors::outbound::egress::SpecialRange::name()`.
    pub fn record_egress_refused(&self, reason: &'static str) {
        self.egress_refused.with_label_values(&[reason]).inc();
    }

    /// Sets the number of messages waiting in `queue`.
    pub fn set_mailbox_depth(&self, queue: &'static str, depth: i64) {
        self.mailbox_depth.with_label_values(&[queue]).set(depth);
    }

    /// Adds time a sender spent blocked on `actor`'s full mailbox.
    pub fn record_mailbox_blocked(&self, actor: &'static str, waited: Duration) {
        self.mailbox_blocked
            .with_label_values(&[actor])
            .inc_by(waited.as_secs_f64());
    }

    /// Records a supervised restart; `cause` is `supervision::RestartCause::as_str()`.
    pub fn record_actor_restart(&self, actor: &'static str, cause: &'static str) {
        self.actor_restarts.with_label_values(&[actor, cause]).inc();
    }

    /// Records a supervisor running out of restarts for `actor`.
    pub fn record_actor_escalation(&self, actor: &'static str) {
        self.actor_escalations.with_label_values(&[actor]).inc();
    }

    /// The open WebSocket gauge; sessions increment on open and decrement on close.
    pub fn websocket_connections(&self) -> &IntGauge {
        &self.websocket_connections
    }

    /// The gauge of collection sessions past their handshake.
    pub fn collection_sessions(&self) -> &IntGauge {
        &self.collection_sessions
    }

    /// Records one cargo processed by the unwrapping worker.
    pub fn record_cargo_unwrapped(&self, outcome: CargoOutcome) {
        self.cargo_unwrapped
            .with_label_values(&[outcome.as_str()])
            .inc();
    }

    /// Records one error event; both values are constants of the code that raises it.
    pub fn record_error(&self, error_type: &'static str, stage: &'static str) {
        self.errors.with_label_values(&[error_type, stage]).inc();
    }

    /// Records a request refused because its source address was over its rate.
    pub fn record_rate_limited(&self, binding: Binding, endpoint: &'static str) {
        self.rate_limited
            .with_label_values(&[binding.as_str(), endpoint])
            .inc();
    }

    /// Records what a housekeeping sweep deleted of one kind (a constant of the housekeeper).
    pub fn record_housekeeping_deleted(&self, kind: &'static str, count: u64) {
        self.housekeeping_deleted
            .with_label_values(&[kind])
            .inc_by(count);
    }

    /// Records a parcel refused for a storage quota (a constant of the quota module).
    pub fn record_quota_refusal(&self, quota: &'static str) {
        self.quota_refusals.with_label_values(&[quota]).inc();
    }

    /// The Prometheus text exposition, for `/metrics`.
    pub fn encode_text(&self) -> Result<String, TelemetryError> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(use_colour(true, None));
        assert!(use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(!use_colour(false, None));
        assert!(!use_colour(false, Some(OsStr::new("1"))));
    }

    #[test]
    fn every_metric_is_encoded_with_its_labels() -> Result<(), TelemetryError> {
        let metrics = Metrics::new()?;
        // Vec metrics only appear once a label set is used.
        metrics.record_request(
            Binding::Pohttp,
            "deliver_parcel",
            RequestOutcome::Ok,
            Duration::from_millis(3),
        );
        metrics.record_parcel_stored(Binding::Pohttp, 512);
        metrics.set_backend_up("metadata", true);
        metrics.record_parcel_delivery(DeliveryOutcome::Retry);
        metrics.record_egress_refused("loopback");
        metrics.set_mailbox_depth("outbound", 4);
        metrics.record_mailbox_blocked("outbound_delivery", Duration::from_millis(250));
        metrics.record_actor_restart("collection_session", "panic");
        metrics.record_actor_escalation("cargo_unwrapper");
        metrics.websocket_connections().inc();
        metrics.collection_sessions().inc();
        metrics.record_cargo_unwrapped(CargoOutcome::Invalid);
        metrics.record_error("ramf_malformed", "pohttp_in");
        metrics.record_rate_limited(Binding::Poweb, "pre_register_node");
        metrics.record_housekeeping_deleted("orphan_body", 2);
        metrics.record_quota_refusal("parcels_stored");
        let text = metrics.encode_text()?;
        for name in METRIC_NAMES {
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} missing:\n{text}"
            );
        }
        for series in [
            r#"gateway_requests_total{binding="pohttp",endpoint="deliver_parcel",outcome="ok"} 1"#,
            r#"gateway_request_duration_seconds_count{binding="pohttp",endpoint="deliver_parcel"} 1"#,
            r#"gateway_mailbox_blocked_seconds_total{actor="outbound_delivery"} 0.25"#,
            r#"gateway_actor_restarts_total{actor="collection_session",cause="panic"} 1"#,
            r#"gateway_actor_escalations_total{actor="cargo_unwrapper"} 1"#,
            r#"gateway_websocket_connections 1"#,
            r#"gateway_collection_sessions 1"#,
            r#"gateway_housekeeping_deleted_total{kind="orphan_body"} 2"#,
            r#"gateway_egress_refused_total{reason="loopback"} 1"#,
            r#"gateway_rate_limited_total{binding="poweb",endpoint="pre_register_node"} 1"#,
            r#"gateway_quota_refusals_total{quota="parcels_stored"} 1"#,
            r#"gateway_parcel_bytes_stored_total{binding="pohttp"} 512"#,
            r#"gateway_backend_up{backend="metadata"} 1"#,
        ] {
            assert!(text.contains(series), "{series} missing:\n{text}");
        }
        Ok(())
    }

    #[test]
    fn names_follow_house_style() {
        for name in METRIC_NAMES {
            assert!(name.starts_with("gateway_"), "{name}");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
        }
    }

    #[test]
    fn registries_are_independent() -> Result<(), TelemetryError> {
        // Two instances must not collide, which a global registry would make them do.
        let _first = Metrics::new()?;
        let _second = Metrics::new()?;
        Ok(())
    }
}
