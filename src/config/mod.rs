//! Layered, strict and printable configuration (house style, practice 14).
//!
//! Layers apply in this order, each overriding the one before:
//! 1. compiled defaults ([`GatewayConfig::default`]);
//! 2. a TOML file (`--config FILE`, or `AWALA_CONFIG`), which must say `version = 1` and may
//!    contain only known keys;
//! 3. `AWALA_*` environment variables;
//! 4. `serve` flags ([`ServeArgs`]).
//!
//! Errors name the key and the layer that set it. Secret-bearing values (backend URLs) print
//! redacted, and each has a `*_file` twin whose file must not be readable by group or others.
//! Backend URLs can also be given as flags (`--database`, `--objects`, `--queue`, `--pubsub`).
//!
//! # Environment variables
//!
//! | variable | key |
//! | --- | --- |
//! | `AWALA_CONFIG` | the config file path (like `--config`) |
//! | `AWALA_INTERNET_ADDRESS` | `internet_address` |
//! | `AWALA_DATA_DIR` | `data_dir` |
//! | `AWALA_POWEB_LISTEN`, `AWALA_POHTTP_LISTEN`, `AWALA_COGRPC_LISTEN`, `AWALA_ADMIN_LISTEN` | `listen.*` |
//! | `AWALA_ROLES` | `roles`, comma-separated (`poweb,pohttp,cogrpc,workers` or `all`) |
//! | `AWALA_POHTTP_ROUTES` | `pohttp_routes`, comma-separated `ADDR=URL` (merged by address) |
//! | `AWALA_DNS_SERVER`, `AWALA_DNSSEC` | `dns_server`, `dnssec` |
//! | `AWALA_EGRESS_ALLOW` | `egress_allow`, comma-separated CIDRs, addresses or host names (added to the file's) |
//! | `AWALA_DATABASE_URL`, `AWALA_OBJECT_STORE_URL`, `AWALA_QUEUE_URL`, `AWALA_PUBSUB_URL` (each also `…_FILE`) | `backends.*` |
//! | `AWALA_KEK` (the key-encryption key, base64 or hex; env only, never printed), `AWALA_KEK_FILE` | `keys.kek`, `keys.kek_file` |
//! | `AWALA_ADMIN_TOKEN`, `AWALA_ADMIN_TOKEN_FILE` (the admin API's bearer token) | `admin.token`, `admin.token_file` |
//! | `AWALA_LIMITS_<KEY>` (e.g. `AWALA_LIMITS_PONG_TIMEOUT_SECONDS`) | `limits.<key>` |
//! | `AWALA_LOG_LEVEL`, `AWALA_LOG_FORMAT` | `log.level`, `log.format` |
//!
//! [`env_var_names`] lists them all. An empty variable counts as unset, as container runtimes
//! often pass empty values for unset ones.
//!
//! Layout: `model.rs` types and defaults, `args.rs` flags, `env.rs` the settings registry,
//! `parse.rs` value parsers, `secrets.rs` redaction and secret files, `reference.rs` the
//! documentation of every key that `--print-config` prints.

mod args;
mod env;
mod model;
mod parse;
mod reference;
mod secrets;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use args::ServeArgs;
pub use env::env_var_names;
pub use model::{
    parse_roles, AdminConfig, BackendsConfig, GatewayConfig, KeysConfig, LimitsConfig,
    ListenConfig, LogConfig, LogFormat, LogLevel, MailboxOverload, Role, RouteUrl, CONFIG_VERSION,
    DEFAULT_INTERNET_ADDRESS,
};
pub use secrets::{redact_url, Secret, SecretFileError, REDACTED};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    Defaults,
    File(PathBuf),
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Defaults => f.write_str("compiled defaults"),
            Layer::File(path) => write!(f, "config file {}", path.display()),
            Layer::Env(name) => write!(f, "environment variable {name}"),
            Layer::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("config file {path} has no `version` key; add `version = {CONFIG_VERSION}`")]
    MissingVersion { path: PathBuf },
    #[error("config file {path} has version {found}; this gateway reads version {CONFIG_VERSION}")]
    UnsupportedVersion { path: PathBuf, found: String },
    #[error("invalid `{key}` (from {layer}): {reason}")]
    Invalid {
        key: String,
        layer: Layer,
        reason: String,
    },
    #[error("`{key}` and `{key}_file` are both set in {layer}; keep one")]
    ConflictingSecret { key: &'static str, layer: Layer },
    #[error("cannot use secret file {path} for `{key}`: {source}")]
    SecretFile {
        key: &'static str,
        path: PathBuf,
        source: SecretFileError,
    },
    #[error("cannot print the configuration: {0}")]
    Print(String),
}

/// Records which layer last set each key, so validation errors can name it.
#[derive(Debug, Default)]
struct Provenance(BTreeMap<String, Layer>);

impl Provenance {
    fn set(&mut self, key: &str, layer: Layer) {
        self.0.insert(key.to_owned(), layer);
    }

    fn of(&self, key: &str) -> Layer {
        self.0.get(key).cloned().unwrap_or(Layer::Defaults)
    }

    fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: key.to_owned(),
            layer: self.of(key),
            reason: reason.into(),
        }
    }
}

impl GatewayConfig {
    /// Merges defaults, the config file, the environment (read through `env`) and `args`.
    ///
    /// `env` is injected so that tests never touch the process environment; `main` passes
    /// `&|name| std::env::var(name).ok()`.
    pub fn load(
        args: &ServeArgs,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<GatewayConfig, ConfigError> {
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let mut provenance = Provenance::default();
        let file = args
            .config
            .clone()
            .or_else(|| env(env::CONFIG_FILE_ENV).map(PathBuf::from));
        let mut config = match file {
            Some(path) => Self::from_file(&path, &mut provenance)?,
            None => GatewayConfig::default(),
        };
        for setting in env::settings() {
            if let Some(value) = env(setting.env) {
                let layer = Layer::Env(setting.env);
                apply(&mut config, setting.key, setting.apply, &value, &layer)?;
                provenance.set(setting.key, layer);
            }
        }
        for (flag, key, value) in args.overrides() {
            let layer = Layer::Flag(flag);
            let setting = env::setting(key).ok_or_else(|| ConfigError::Invalid {
                key: key.to_owned(),
                layer: layer.clone(),
                reason: "no such setting (this is a bug)".to_owned(),
            })?;
            apply(&mut config, key, setting.apply, &value, &layer)?;
            provenance.set(key, layer);
        }
        config.resolve_secret_files()?;
        config.validate(&provenance)?;
        Ok(config)
    }

    /// Parses a config file over the compiled defaults.
    pub fn from_toml(path: &Path, text: &str) -> Result<GatewayConfig, ConfigError> {
        Self::parse_file(path, text, &mut Provenance::default())
    }

    fn from_file(path: &Path, provenance: &mut Provenance) -> Result<GatewayConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        Self::parse_file(path, &text, provenance)
    }

    fn parse_file(
        path: &Path,
        text: &str,
        provenance: &mut Provenance,
    ) -> Result<GatewayConfig, ConfigError> {
        let parse_error = |error: toml::de::Error| ConfigError::ParseFile {
            path: path.to_owned(),
            message: error.to_string(),
        };
        // Check the version before the shape: a future version's keys would be "unknown" here.
        let table: toml::Table = toml::from_str(text).map_err(parse_error)?;
        match table.get("version") {
            None => {
                return Err(ConfigError::MissingVersion {
                    path: path.to_owned(),
                })
            }
            Some(toml::Value::Integer(v)) if *v == i64::from(CONFIG_VERSION) => {}
            Some(other) => {
                return Err(ConfigError::UnsupportedVersion {
                    path: path.to_owned(),
                    found: other.to_string(),
                })
            }
        }
        let mut config: GatewayConfig = toml::from_str(text).map_err(parse_error)?;
        let layer = Layer::File(path.to_owned());
        record_keys(&table, "", &layer, provenance);
        if table.contains_key("internet_address") {
            config.internet_address = parse::internet_address(&config.internet_address)
                .map_err(|reason| provenance.invalid("internet_address", reason))?;
            config.internet_address_defaulted = false;
        }
        let backends = &config.backends;
        for (key, set, file_set) in [
            (
                "backends.database_url",
                backends.database_url.is_some(),
                backends.database_url_file.is_some(),
            ),
            (
                "backends.object_store_url",
                backends.object_store_url.is_some(),
                backends.object_store_url_file.is_some(),
            ),
            (
                "backends.queue_url",
                backends.queue_url.is_some(),
                backends.queue_url_file.is_some(),
            ),
            (
                "backends.pubsub_url",
                backends.pubsub_url.is_some(),
                backends.pubsub_url_file.is_some(),
            ),
            (
                "admin.token",
                config.admin.token.is_some(),
                config.admin.token_file.is_some(),
            ),
        ] {
            if set && file_set {
                return Err(ConfigError::ConflictingSecret {
                    key,
                    layer: layer.clone(),
                });
            }
        }
        Ok(config)
    }

    /// Replaces each `*_file` reference with the secret it holds.
    fn resolve_secret_files(&mut self) -> Result<(), ConfigError> {
        let backends = &mut self.backends;
        for (key, file, value) in [
            (
                "backends.database_url_file",
                &backends.database_url_file,
                &mut backends.database_url,
            ),
            (
                "backends.object_store_url_file",
                &backends.object_store_url_file,
                &mut backends.object_store_url,
            ),
            (
                "backends.queue_url_file",
                &backends.queue_url_file,
                &mut backends.queue_url,
            ),
            (
                "backends.pubsub_url_file",
                &backends.pubsub_url_file,
                &mut backends.pubsub_url,
            ),
            (
                "admin.token_file",
                &self.admin.token_file,
                &mut self.admin.token,
            ),
        ] {
            if let Some(path) = file {
                let secret =
                    secrets::read_secret_file(path).map_err(|source| ConfigError::SecretFile {
                        key,
                        path: path.clone(),
                        source,
                    })?;
                *value = Some(secret);
            }
        }
        Ok(())
    }

    /// Checks what each layer's parser cannot check alone (file values, cross-field rules).
    fn validate(&self, provenance: &Provenance) -> Result<(), ConfigError> {
        if self.roles.is_empty() {
            return Err(provenance.invalid("roles", "at least one role is required"));
        }
        for (address, url) in &self.pohttp_routes {
            let key = "pohttp_routes";
            let normalised = parse::internet_address(address)
                .map_err(|reason| provenance.invalid(key, reason))?;
            if &normalised != address {
                return Err(provenance.invalid(key, format!("write `{address}` in lower case")));
            }
            parse::check_pohttp_url(url.url()).map_err(|reason| {
                provenance.invalid(key, format!("route for {address}: {reason}"))
            })?;
        }
        if let Some(kek) = &self.keys.kek {
            // Checked here so the error names the layer; the backends decode it again to use it.
            crate::backends::keys::kek::decode_kek(kek.expose())
                .map_err(|reason| provenance.invalid("keys.kek", reason))?;
        }
        let limits = &self.limits;
        for (name, value) in [
            (
                "limits.websocket_ping_interval_seconds",
                limits.websocket_ping_interval_seconds,
            ),
            (
                "limits.handshake_timeout_seconds",
                limits.handshake_timeout_seconds,
            ),
            ("limits.pong_timeout_seconds", limits.pong_timeout_seconds),
            (
                "limits.max_sockets_per_private_gateway",
                u64::from(limits.max_sockets_per_private_gateway),
            ),
            (
                "limits.max_websocket_connections",
                u64::from(limits.max_websocket_connections),
            ),
            (
                "limits.collection_window",
                u64::from(limits.collection_window),
            ),
            (
                "limits.max_in_flight_deliveries_per_destination",
                u64::from(limits.max_in_flight_deliveries_per_destination),
            ),
            (
                "limits.outbound_retry_initial_backoff_seconds",
                limits.outbound_retry_initial_backoff_seconds,
            ),
            (
                "limits.actor_mailbox_capacity",
                u64::from(limits.actor_mailbox_capacity),
            ),
            (
                "limits.max_in_flight_requests",
                u64::from(limits.max_in_flight_requests),
            ),
            ("limits.queue_capacity", u64::from(limits.queue_capacity)),
            // Zero would switch actix-web's header timeout off, and the body deadline with it.
            (
                "limits.http_header_timeout_seconds",
                limits.http_header_timeout_seconds,
            ),
            (
                "limits.http_body_timeout_seconds",
                limits.http_body_timeout_seconds,
            ),
            (
                "limits.max_cogrpc_connections",
                u64::from(limits.max_cogrpc_connections),
            ),
            (
                "limits.max_cogrpc_calls",
                u64::from(limits.max_cogrpc_calls),
            ),
            (
                "limits.cogrpc_idle_timeout_seconds",
                limits.cogrpc_idle_timeout_seconds,
            ),
            (
                "limits.registration_rate_per_minute",
                u64::from(limits.registration_rate_per_minute),
            ),
            (
                "limits.registration_burst",
                u64::from(limits.registration_burst),
            ),
            (
                "limits.registration_rate_tracked_addresses",
                u64::from(limits.registration_rate_tracked_addresses),
            ),
        ] {
            if value == 0 {
                return Err(provenance.invalid(name, "must be greater than zero"));
            }
        }
        if limits.outbound_retry_max_backoff_seconds < limits.outbound_retry_initial_backoff_seconds
        {
            return Err(provenance.invalid(
                "limits.outbound_retry_max_backoff_seconds",
                "must not be below limits.outbound_retry_initial_backoff_seconds",
            ));
        }
        Ok(())
    }

    /// The merged configuration as TOML, with secrets redacted, for `--print-config`: every
    /// option with its meaning, default, environment variable and flag, unset ones commented.
    ///
    /// A secret read from a file prints as its `*_file` path only, which is where it came from
    /// and keeps the output loadable as a config file.
    pub fn to_redacted_toml(&self) -> Result<String, ConfigError> {
        let mut printable = self.clone();
        let backends = &mut printable.backends;
        for (file, value) in [
            (&backends.database_url_file, &mut backends.database_url),
            (
                &backends.object_store_url_file,
                &mut backends.object_store_url,
            ),
            (&backends.queue_url_file, &mut backends.queue_url),
            (&backends.pubsub_url_file, &mut backends.pubsub_url),
        ] {
            if file.is_some() {
                *value = None;
            }
        }
        let print = |error: toml::ser::Error| ConfigError::Print(error.to_string());
        let current = toml::Table::try_from(&printable).map_err(print)?;
        let defaults = toml::Table::try_from(GatewayConfig::default()).map_err(print)?;
        Ok(reference::documented(&current, &defaults))
    }
}

fn apply(
    config: &mut GatewayConfig,
    key: &str,
    apply: env::Apply,
    value: &str,
    layer: &Layer,
) -> Result<(), ConfigError> {
    apply(config, value).map_err(|reason| ConfigError::Invalid {
        key: key.to_owned(),
        layer: layer.clone(),
        reason,
    })
}

/// Records every dotted key path of a TOML table as set by `layer`.
fn record_keys(table: &toml::Table, prefix: &str, layer: &Layer, provenance: &mut Provenance) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            // Route keys are addresses, not config keys: the route map is one key.
            toml::Value::Table(inner) if path != "pohttp_routes" => {
                record_keys(inner, &path, layer, provenance)
            }
            _ => provenance.set(&path, layer.clone()),
        }
    }
}
