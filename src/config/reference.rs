//! The reference of every setting, and the documented TOML `--print-config` writes from it.
//!
//! [`DOCS`] holds one line per key of the settings registry ([`super::env::settings`]); tests
//! check that the two name the same keys and that the model has no key outside them, so an
//! option cannot be added without its documentation.

use super::args::ServeArgs;
use super::env::settings;

/// What each key means, by dotted TOML key.
pub(crate) const DOCS: &[(&str, &str)] = &[
    ("internet_address", "This gateway's Awala Internet address (a domain name) that private gateways and peers know it by."),
    ("data_dir", "Directory of the embedded backends' files; the default backend URLs and the KEK file derive from it."),
    ("listen.poweb", "PoWeb listening socket (private gateways: registration, parcel delivery and collection)."),
    ("listen.pohttp", "PoHTTP listening socket (parcels from Internet endpoints and gateways)."),
    ("listen.cogrpc", "CogRPC listening socket (couriers' cargo delivery and collection)."),
    ("listen.admin", "Admin listener: /metrics, /live, /ready, /status and the admin API under /v1/."),
    ("roles", "Roles this process runs: any of poweb, pohttp, cogrpc, workers (or all)."),
    ("pohttp_routes", "Static PoHTTP routes, Internet address = endpoint URL, consulted before DNS SRV."),
    ("dns_server", "DNS resolver (HOST:PORT) for SRV lookups; the system resolver when unset."),
    ("dnssec", "Whether SRV answers must validate under DNSSEC."),
    ("egress_allow", "Non-public destinations outbound deliveries may reach anyway (CIDR networks, addresses, host names)."),
    ("backends.database_url", "Metadata database: sqlite://PATH, postgres://... or mongodb://... (a secret); sqlite in data_dir when unset."),
    ("backends.database_url_file", "A file (mode 0600) holding database_url, instead of the value itself."),
    ("backends.object_store_url", "Object store of parcel bodies: file://PATH or s3://BUCKET?endpoint=...&region=... (a secret); files in data_dir when unset."),
    ("backends.object_store_url_file", "A file (mode 0600) holding object_store_url."),
    ("backends.queue_url", "Durable mailboxes: embedded:// or amqp://user:pass@host:port/vhost (a secret); embedded when unset."),
    ("backends.queue_url_file", "A file (mode 0600) holding queue_url."),
    ("backends.pubsub_url", "Notifications: memory:// or redis://host:port/db (a secret); memory when unset."),
    ("backends.pubsub_url_file", "A file (mode 0600) holding pubsub_url."),
    ("keys.kek", "The key-encryption key itself, base64 or hex of 32 octets; environment only, never printed; wins over kek_file."),
    ("keys.kek_file", "Key-encryption key file shared by replicas; data_dir/kek.bin when unset; created mode 0600 if missing."),
    ("admin.token", "Bearer token of the admin API (a secret); without one the API answers on a loopback listener only."),
    ("admin.token_file", "A file (mode 0600) holding the admin token."),
    ("limits.future_message_tolerance_seconds", "How far in the future a message's creation date may be (clock skew allowance)."),
    ("limits.websocket_ping_interval_seconds", "Interval between WebSocket pings on parcel collection."),
    ("limits.handshake_timeout_seconds", "Time a client has to complete the collection handshake."),
    ("limits.pong_timeout_seconds", "Time without a pong after which a collection socket is closed."),
    ("limits.max_sockets_per_private_gateway", "Open collection sockets allowed per private gateway."),
    ("limits.max_websocket_connections", "Open collection sockets allowed in all, counted from the upgrade."),
    ("limits.collection_window", "Deliveries a collection socket may have unacknowledged unless its client asks for more (keep 1 for the published JS client)."),
    ("limits.max_in_flight_deliveries_per_destination", "Concurrent PoHTTP deliveries per destination Internet address."),
    ("limits.outbound_retry_initial_backoff_seconds", "First delay before retrying an outbound delivery."),
    ("limits.outbound_retry_max_backoff_seconds", "Cap on the outbound retry delay."),
    ("limits.actor_mailbox_capacity", "Capacity of each in-process actor mailbox."),
    ("limits.max_in_flight_requests", "Requests one HTTP binding works on at once; more are shed with 503."),
    ("limits.queue_capacity", "Messages a durable mailbox may hold before the overload mode applies (503 / UNAVAILABLE at the edge)."),
    ("limits.mailbox_overload", "What a full mailbox does to its sender: block (a bounded wait) or reject_newest."),
    ("limits.http_header_timeout_seconds", "Time an HTTP client has to send a request head; then 408 and close."),
    ("limits.http_body_timeout_seconds", "Time an HTTP client has to send a whole request body; then 408 and close."),
    ("limits.http_disconnect_timeout_seconds", "Time an HTTP client has to close its side once we close a connection."),
    ("limits.max_cogrpc_connections", "Open CogRPC connections; more are closed as soon as they are accepted."),
    ("limits.max_cogrpc_calls", "CogRPC calls in flight; more are refused UNAVAILABLE."),
    ("limits.cogrpc_idle_timeout_seconds", "Time a CogRPC connection may stay open without a call."),
    ("limits.registration_rate_per_minute", "Pre-registrations and registrations one source address may make per minute, sustained (then 429)."),
    ("limits.registration_burst", "Pre-registrations and registrations one source address may make in a burst."),
    ("limits.registration_rate_tracked_addresses", "Source addresses whose registration rate is tracked at once."),
    ("limits.registration_concurrency", "Registrations signed at once; 0 means one per CPU core."),
    ("limits.registration_queue", "Registrations that may wait for a signing slot; more are refused with 503."),
    ("limits.max_parcels_stored_per_private_gateway", "Unexpired parcels stored for one private gateway; more are refused with 507 until it collects (0: no limit)."),
    ("limits.max_bytes_stored_per_private_gateway", "Bytes of unexpired parcels stored for one private gateway; more are refused with 507 (0: no limit)."),
    ("limits.max_internet_bound_per_private_gateway", "Internet-bound parcels one private gateway may have queued or in flight; more are refused with 429 (0: no limit)."),
    ("limits.private_gateway_deliveries_per_second", "PoWeb parcel deliveries one private gateway may make per second, sustained (then 429; 0: no limit)."),
    ("limits.private_gateway_delivery_burst", "PoWeb parcel deliveries one private gateway may make in a burst."),
    ("log.level", "Log verbosity: trace, debug, info, warn or error (RUST_LOG wins when set)."),
    ("log.format", "Log line format: text, or json (one object per line)."),
];

/// Keys never printed with their value, whatever the config holds.
const NEVER_PRINTED: &[&str] = &["keys.kek"];

fn doc(key: &str) -> &'static str {
    DOCS.iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, text)| text)
}

fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let (section, name) = key
        .split_once('.')
        .map_or((None, key), |(s, n)| (Some(s), n));
    match section {
        None => table.get(name),
        Some(section) => table.get(section)?.as_table()?.get(name),
    }
}

/// Writes `current` (the redacted merged config) as TOML that `--config` reads back, each key
/// preceded by its meaning, default, environment variable and flag. Unset keys are commented
/// out, so the output is also a template.
pub(crate) fn documented(current: &toml::Table, defaults: &toml::Table) -> String {
    let flags = ServeArgs::flag_keys();
    let mut out = String::from(
        "# awala-gateway configuration (serve --print-config): every option, its meaning,\n\
         # default, environment variable and flag. Precedence: flags > environment > this file >\n\
         # defaults. Secrets print redacted.\n\n",
    );
    if let Some(version) = current.get("version") {
        out.push_str(&format!("version = {version}\n"));
    }
    // TOML puts top-level keys before the first `[section]`; sections keep the registry's order.
    let mut ordered = settings();
    let mut sections: Vec<&str> = Vec::new();
    for setting in &ordered {
        if let Some((section, _)) = setting.key.split_once('.') {
            if !sections.contains(&section) {
                sections.push(section);
            }
        }
    }
    ordered.sort_by_key(|setting| {
        setting
            .key
            .split_once('.')
            .and_then(|(section, _)| sections.iter().position(|s| *s == section))
            .map_or(0, |index| index + 1)
    });
    let mut section: Option<&str> = None;
    for setting in ordered {
        let (key_section, name) = setting
            .key
            .split_once('.')
            .map_or((None, setting.key), |(s, n)| (Some(s), n));
        if key_section != section {
            if let Some(header) = key_section {
                out.push_str(&format!("\n[{header}]\n"));
            }
            section = key_section;
        }
        let default = lookup(defaults, setting.key).map_or("unset".to_owned(), |v| v.to_string());
        let flag = flags
            .iter()
            .find(|(_, key)| *key == setting.key)
            .map_or(String::new(), |(flag, _)| format!("; flag: {flag}"));
        out.push_str(&format!(
            "\n# {}\n# default: {default}; env: {}{flag}\n",
            doc(setting.key),
            setting.env
        ));
        match lookup(current, setting.key) {
            Some(value) if !NEVER_PRINTED.contains(&setting.key) => {
                out.push_str(&format!("{name} = {value}\n"));
            }
            _ => out.push_str(&format!("# {name} =\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewayConfig;

    #[test]
    fn every_setting_is_documented_once() {
        let keys: Vec<&str> = settings().iter().map(|s| s.key).collect();
        let documented: Vec<&str> = DOCS.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, documented);
        assert!(DOCS.iter().all(|(_, text)| !text.is_empty()));
    }

    #[test]
    fn the_model_has_no_key_outside_the_settings() -> anyhow::Result<()> {
        // Every optional field set, so serialisation shows every key.
        use crate::config::{RouteUrl, Secret};
        let mut config = GatewayConfig::default();
        let secret = || Some(Secret::new("x"));
        let file = || Some(std::path::PathBuf::from("/f"));
        config.pohttp_routes.insert(
            "a.test".to_owned(),
            RouteUrl::new(url::Url::parse("https://a.test/")?),
        );
        config.dns_server = Some("9.9.9.9:53".parse()?);
        config.egress_allow =
            crate::config::parse::egress_allow("10.0.0.0/8").map_err(anyhow::Error::msg)?;
        let b = &mut config.backends;
        (b.database_url, b.object_store_url) = (secret(), secret());
        (b.queue_url, b.pubsub_url) = (secret(), secret());
        (b.database_url_file, b.object_store_url_file) = (file(), file());
        (b.queue_url_file, b.pubsub_url_file) = (file(), file());
        config.keys.kek_file = file();
        config.admin.token = secret();
        config.admin.token_file = file();
        let table = toml::Table::try_from(&config)?;
        let keys: Vec<&str> = settings().iter().map(|s| s.key).collect();
        for (name, value) in &table {
            let nested = value.as_table().filter(|_| name != "pohttp_routes");
            let leaves: Vec<String> = match nested {
                Some(section) => section.keys().map(|k| format!("{name}.{k}")).collect(),
                None => vec![name.clone()],
            };
            for leaf in leaves {
                assert!(
                    leaf == "version" || keys.contains(&leaf.as_str()),
                    "`{leaf}` has no setting, so no env variable, flag or documentation"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn every_flag_names_a_setting() {
        let keys: Vec<&str> = settings().iter().map(|s| s.key).collect();
        for (flag, key) in ServeArgs::flag_keys() {
            assert!(keys.contains(&key), "{flag} sets unknown `{key}`");
        }
    }
}
