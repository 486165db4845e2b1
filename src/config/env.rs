//! The registry of settings that string layers (environment variables and flags) can set.
//!
//! One table names every key once, with its `AWALA_*` variable and its parser, so the
//! environment and the command line share parsing and error wording.

use std::path::PathBuf;

use super::model::{parse_roles, GatewayConfig, RouteUrl};
use super::parse;
use super::secrets::Secret;

/// Applies one string value to the config, or says why it is invalid.
pub(crate) type Apply = fn(&mut GatewayConfig, &str) -> Result<(), String>;

/// A setting that a string layer can set.
pub(crate) struct Setting {
    /// Dotted key as written in TOML (`listen.poweb`).
    pub key: &'static str,
    /// Environment variable name.
    pub env: &'static str,
    pub apply: Apply,
}

/// Every `AWALA_*` environment variable the gateway reads, in documentation order.
///
/// `AWALA_CONFIG` names the TOML file (like `--config`); the rest override keys of the file.
const ENV_VAR_NAMES: &[&str] = &[
    "AWALA_CONFIG",
    "AWALA_INTERNET_ADDRESS",
    "AWALA_DATA_DIR",
    "AWALA_POWEB_LISTEN",
    "AWALA_POHTTP_LISTEN",
    "AWALA_COGRPC_LISTEN",
    "AWALA_ADMIN_LISTEN",
    "AWALA_ROLES",
    "AWALA_POHTTP_ROUTES",
    "AWALA_DNS_SERVER",
    "AWALA_DNSSEC",
    "AWALA_EGRESS_ALLOW",
    "AWALA_DATABASE_URL",
    "AWALA_DATABASE_URL_FILE",
    "AWALA_OBJECT_STORE_URL",
    "AWALA_OBJECT_STORE_URL_FILE",
    "AWALA_QUEUE_URL",
    "AWALA_QUEUE_URL_FILE",
    "AWALA_PUBSUB_URL",
    "AWALA_PUBSUB_URL_FILE",
    "AWALA_KEK",
    "AWALA_KEK_FILE",
    "AWALA_ADMIN_TOKEN",
    "AWALA_ADMIN_TOKEN_FILE",
    "AWALA_LIMITS_FUTURE_MESSAGE_TOLERANCE_SECONDS",
    "AWALA_LIMITS_WEBSOCKET_PING_INTERVAL_SECONDS",
    "AWALA_LIMITS_HANDSHAKE_TIMEOUT_SECONDS",
    "AWALA_LIMITS_PONG_TIMEOUT_SECONDS",
    "AWALA_LIMITS_MAX_SOCKETS_PER_PRIVATE_GATEWAY",
    "AWALA_LIMITS_MAX_WEBSOCKET_CONNECTIONS",
    "AWALA_LIMITS_COLLECTION_WINDOW",
    "AWALA_LIMITS_MAX_IN_FLIGHT_DELIVERIES_PER_DESTINATION",
    "AWALA_LIMITS_OUTBOUND_RETRY_INITIAL_BACKOFF_SECONDS",
    "AWALA_LIMITS_OUTBOUND_RETRY_MAX_BACKOFF_SECONDS",
    "AWALA_LIMITS_ACTOR_MAILBOX_CAPACITY",
    "AWALA_LIMITS_MAX_IN_FLIGHT_REQUESTS",
    "AWALA_LIMITS_QUEUE_CAPACITY",
    "AWALA_LIMITS_MAILBOX_OVERLOAD",
    "AWALA_LIMITS_HTTP_HEADER_TIMEOUT_SECONDS",
    "AWALA_LIMITS_HTTP_BODY_TIMEOUT_SECONDS",
    "AWALA_LIMITS_HTTP_DISCONNECT_TIMEOUT_SECONDS",
    "AWALA_LIMITS_MAX_COGRPC_CONNECTIONS",
    "AWALA_LIMITS_MAX_COGRPC_CALLS",
    "AWALA_LIMITS_COGRPC_IDLE_TIMEOUT_SECONDS",
    "AWALA_LIMITS_REGISTRATION_RATE_PER_MINUTE",
    "AWALA_LIMITS_REGISTRATION_BURST",
    "AWALA_LIMITS_REGISTRATION_RATE_TRACKED_ADDRESSES",
    "AWALA_LIMITS_REGISTRATION_CONCURRENCY",
    "AWALA_LIMITS_REGISTRATION_QUEUE",
    "AWALA_LIMITS_MAX_PARCELS_STORED_PER_PRIVATE_GATEWAY",
    "AWALA_LIMITS_MAX_BYTES_STORED_PER_PRIVATE_GATEWAY",
    "AWALA_LIMITS_MAX_INTERNET_BOUND_PER_PRIVATE_GATEWAY",
    "AWALA_LIMITS_PRIVATE_GATEWAY_DELIVERIES_PER_SECOND",
    "AWALA_LIMITS_PRIVATE_GATEWAY_DELIVERY_BURST",
    "AWALA_LOG_LEVEL",
    "AWALA_LOG_FORMAT",
];

/// Every `AWALA_*` environment variable the gateway reads (see [`super`] for their meaning).
pub fn env_var_names() -> &'static [&'static str] {
    ENV_VAR_NAMES
}

/// Environment variable naming the config file.
pub(crate) const CONFIG_FILE_ENV: &str = "AWALA_CONFIG";

macro_rules! setting {
    ($key:literal, $env:literal, |$cfg:ident, $value:ident| $body:expr) => {
        Setting {
            key: $key,
            env: $env,
            apply: |$cfg: &mut GatewayConfig, $value: &str| -> Result<(), String> {
                $body;
                Ok(())
            },
        }
    };
}

macro_rules! secret_settings {
    ($field:ident, $file_field:ident, $key:literal, $file_key:literal, $env:literal, $file_env:literal) => {
        [
            setting!($key, $env, |c, v| {
                c.backends.$field = Some(Secret::new(v.trim()));
                // A later layer's value replaces an earlier layer's file, and vice versa.
                c.backends.$file_field = None;
            }),
            setting!($file_key, $file_env, |c, v| {
                c.backends.$file_field = Some(PathBuf::from(v));
                c.backends.$field = None;
            }),
        ]
    };
}

macro_rules! limit_setting {
    ($field:ident, $key:literal, $env:literal) => {
        setting!($key, $env, |c, v| c.limits.$field = parse::number(v)?)
    };
}

/// Every key that env and flags can set, in the order of [`ENV_VAR_NAMES`] (less `AWALA_CONFIG`).
pub(crate) fn settings() -> Vec<Setting> {
    let mut all = vec![
        setting!("internet_address", "AWALA_INTERNET_ADDRESS", |c, v| {
            c.internet_address = parse::internet_address(v)?;
            c.internet_address_defaulted = false;
        }),
        setting!("data_dir", "AWALA_DATA_DIR", |c, v| c.data_dir =
            PathBuf::from(v)),
        setting!("listen.poweb", "AWALA_POWEB_LISTEN", |c, v| c
            .listen
            .poweb =
            parse::socket_addr(v)?),
        setting!("listen.pohttp", "AWALA_POHTTP_LISTEN", |c, v| c
            .listen
            .pohttp =
            parse::socket_addr(v)?),
        setting!("listen.cogrpc", "AWALA_COGRPC_LISTEN", |c, v| c
            .listen
            .cogrpc =
            parse::socket_addr(v)?),
        setting!("listen.admin", "AWALA_ADMIN_LISTEN", |c, v| c
            .listen
            .admin =
            parse::socket_addr(v)?),
        setting!("roles", "AWALA_ROLES", |c, v| c.roles = parse_roles(v)?),
        setting!("pohttp_routes", "AWALA_POHTTP_ROUTES", |c, v| {
            // Routes merge by address: a later layer adds routes or replaces one address's URL.
            c.pohttp_routes.extend(
                parse::routes(v)?
                    .into_iter()
                    .map(|(address, url)| (address, RouteUrl::new(url))),
            );
        }),
        setting!("dns_server", "AWALA_DNS_SERVER", |c, v| c.dns_server =
            Some(parse::socket_addr(v)?)),
        setting!("dnssec", "AWALA_DNSSEC", |c, v| c.dnssec =
            parse::boolean(v)?),
        setting!("egress_allow", "AWALA_EGRESS_ALLOW", |c, v| {
            // Like routes, a later layer adds entries rather than replacing the list.
            for entry in parse::egress_allow(v)? {
                if !c.egress_allow.contains(&entry) {
                    c.egress_allow.push(entry);
                }
            }
        }),
    ];
    all.extend(secret_settings!(
        database_url,
        database_url_file,
        "backends.database_url",
        "backends.database_url_file",
        "AWALA_DATABASE_URL",
        "AWALA_DATABASE_URL_FILE"
    ));
    all.extend(secret_settings!(
        object_store_url,
        object_store_url_file,
        "backends.object_store_url",
        "backends.object_store_url_file",
        "AWALA_OBJECT_STORE_URL",
        "AWALA_OBJECT_STORE_URL_FILE"
    ));
    all.extend(secret_settings!(
        queue_url,
        queue_url_file,
        "backends.queue_url",
        "backends.queue_url_file",
        "AWALA_QUEUE_URL",
        "AWALA_QUEUE_URL_FILE"
    ));
    all.extend(secret_settings!(
        pubsub_url,
        pubsub_url_file,
        "backends.pubsub_url",
        "backends.pubsub_url_file",
        "AWALA_PUBSUB_URL",
        "AWALA_PUBSUB_URL_FILE"
    ));
    all.extend([
        // Not a `secret_settings!` pair: the value and the file are independent sources with a
        // fixed precedence (the value wins), not one setting in two forms.
        setting!("keys.kek", "AWALA_KEK", |c, v| c.keys.kek =
            Some(Secret::new(v.trim()))),
        setting!("keys.kek_file", "AWALA_KEK_FILE", |c, v| c.keys.kek_file =
            Some(PathBuf::from(v))),
        setting!("admin.token", "AWALA_ADMIN_TOKEN", |c, v| {
            c.admin.token = Some(Secret::new(v.trim()));
            c.admin.token_file = None;
        }),
        setting!("admin.token_file", "AWALA_ADMIN_TOKEN_FILE", |c, v| {
            c.admin.token_file = Some(PathBuf::from(v));
            c.admin.token = None;
        }),
    ]);
    all.extend([
        limit_setting!(
            future_message_tolerance_seconds,
            "limits.future_message_tolerance_seconds",
            "AWALA_LIMITS_FUTURE_MESSAGE_TOLERANCE_SECONDS"
        ),
        limit_setting!(
            websocket_ping_interval_seconds,
            "limits.websocket_ping_interval_seconds",
            "AWALA_LIMITS_WEBSOCKET_PING_INTERVAL_SECONDS"
        ),
        limit_setting!(
            handshake_timeout_seconds,
            "limits.handshake_timeout_seconds",
            "AWALA_LIMITS_HANDSHAKE_TIMEOUT_SECONDS"
        ),
        limit_setting!(
            pong_timeout_seconds,
            "limits.pong_timeout_seconds",
            "AWALA_LIMITS_PONG_TIMEOUT_SECONDS"
        ),
        limit_setting!(
            max_sockets_per_private_gateway,
            "limits.max_sockets_per_private_gateway",
            "AWALA_LIMITS_MAX_SOCKETS_PER_PRIVATE_GATEWAY"
        ),
        limit_setting!(
            max_websocket_connections,
            "limits.max_websocket_connections",
            "AWALA_LIMITS_MAX_WEBSOCKET_CONNECTIONS"
        ),
        limit_setting!(
            collection_window,
            "limits.collection_window",
            "AWALA_LIMITS_COLLECTION_WINDOW"
        ),
        limit_setting!(
            max_in_flight_deliveries_per_destination,
            "limits.max_in_flight_deliveries_per_destination",
            "AWALA_LIMITS_MAX_IN_FLIGHT_DELIVERIES_PER_DESTINATION"
        ),
        limit_setting!(
            outbound_retry_initial_backoff_seconds,
            "limits.outbound_retry_initial_backoff_seconds",
            "AWALA_LIMITS_OUTBOUND_RETRY_INITIAL_BACKOFF_SECONDS"
        ),
        limit_setting!(
            outbound_retry_max_backoff_seconds,
            "limits.outbound_retry_max_backoff_seconds",
            "AWALA_LIMITS_OUTBOUND_RETRY_MAX_BACKOFF_SECONDS"
        ),
        limit_setting!(
            actor_mailbox_capacity,
            "limits.actor_mailbox_capacity",
            "AWALA_LIMITS_ACTOR_MAILBOX_CAPACITY"
        ),
        limit_setting!(
            max_in_flight_requests,
            "limits.max_in_flight_requests",
            "AWALA_LIMITS_MAX_IN_FLIGHT_REQUESTS"
        ),
        limit_setting!(
            queue_capacity,
            "limits.queue_capacity",
            "AWALA_LIMITS_QUEUE_CAPACITY"
        ),
        setting!(
            "limits.mailbox_overload",
            "AWALA_LIMITS_MAILBOX_OVERLOAD",
            |c, v| c.limits.mailbox_overload = v.parse()?
        ),
        limit_setting!(
            http_header_timeout_seconds,
            "limits.http_header_timeout_seconds",
            "AWALA_LIMITS_HTTP_HEADER_TIMEOUT_SECONDS"
        ),
        limit_setting!(
            http_body_timeout_seconds,
            "limits.http_body_timeout_seconds",
            "AWALA_LIMITS_HTTP_BODY_TIMEOUT_SECONDS"
        ),
        limit_setting!(
            http_disconnect_timeout_seconds,
            "limits.http_disconnect_timeout_seconds",
            "AWALA_LIMITS_HTTP_DISCONNECT_TIMEOUT_SECONDS"
        ),
        limit_setting!(
            max_cogrpc_connections,
            "limits.max_cogrpc_connections",
            "AWALA_LIMITS_MAX_COGRPC_CONNECTIONS"
        ),
        limit_setting!(
            max_cogrpc_calls,
            "limits.max_cogrpc_calls",
            "AWALA_LIMITS_MAX_COGRPC_CALLS"
        ),
        limit_setting!(
            cogrpc_idle_timeout_seconds,
            "limits.cogrpc_idle_timeout_seconds",
            "AWALA_LIMITS_COGRPC_IDLE_TIMEOUT_SECONDS"
        ),
        limit_setting!(
            registration_rate_per_minute,
            "limits.registration_rate_per_minute",
            "AWALA_LIMITS_REGISTRATION_RATE_PER_MINUTE"
        ),
        limit_setting!(
            registration_burst,
            "limits.registration_burst",
            "AWALA_LIMITS_REGISTRATION_BURST"
        ),
        limit_setting!(
            registration_rate_tracked_addresses,
            "limits.registration_rate_tracked_addresses",
            "AWALA_LIMITS_REGISTRATION_RATE_TRACKED_ADDRESSES"
        ),
        limit_setting!(
            registration_concurrency,
            "limits.registration_concurrency",
            "AWALA_LIMITS_REGISTRATION_CONCURRENCY"
        ),
        limit_setting!(
            registration_queue,
            "limits.registration_queue",
            "AWALA_LIMITS_REGISTRATION_QUEUE"
        ),
        limit_setting!(
            max_parcels_stored_per_private_gateway,
            "limits.max_parcels_stored_per_private_gateway",
            "AWALA_LIMITS_MAX_PARCELS_STORED_PER_PRIVATE_GATEWAY"
        ),
        limit_setting!(
            max_bytes_stored_per_private_gateway,
            "limits.max_bytes_stored_per_private_gateway",
            "AWALA_LIMITS_MAX_BYTES_STORED_PER_PRIVATE_GATEWAY"
        ),
        limit_setting!(
            max_internet_bound_per_private_gateway,
            "limits.max_internet_bound_per_private_gateway",
            "AWALA_LIMITS_MAX_INTERNET_BOUND_PER_PRIVATE_GATEWAY"
        ),
        limit_setting!(
            private_gateway_deliveries_per_second,
            "limits.private_gateway_deliveries_per_second",
            "AWALA_LIMITS_PRIVATE_GATEWAY_DELIVERIES_PER_SECOND"
        ),
        limit_setting!(
            private_gateway_delivery_burst,
            "limits.private_gateway_delivery_burst",
            "AWALA_LIMITS_PRIVATE_GATEWAY_DELIVERY_BURST"
        ),
        setting!("log.level", "AWALA_LOG_LEVEL", |c, v| c.log.level =
            v.parse()?),
        setting!("log.format", "AWALA_LOG_FORMAT", |c, v| c.log.format =
            v.parse()?),
    ]);
    all
}

/// Finds a setting by its dotted key.
pub(crate) fn setting(key: &str) -> Option<Setting> {
    settings().into_iter().find(|s| s.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_list_matches_the_settings_table() {
        let from_table: Vec<&str> = std::iter::once(CONFIG_FILE_ENV)
            .chain(settings().iter().map(|s| s.env))
            .collect();
        assert_eq!(from_table, env_var_names());
    }
}
