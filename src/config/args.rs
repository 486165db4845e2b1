//! The `serve` command-line flags: an external contract, so names never change silently.

use std::path::PathBuf;

/// Flags of `awala-gateway serve`; `main.rs` flattens this into its `serve` subcommand.
///
/// Values stay strings here and are parsed by the same code as the environment layer, so errors
/// read the same and name the flag.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct ServeArgs {
    /// TOML config file (overrides compiled defaults; env and flags override it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for embedded backends' data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// This gateway's Internet address (a domain name).
    #[arg(long, value_name = "ADDR")]
    pub internet_address: Option<String>,
    /// PoWeb listening socket.
    #[arg(long, value_name = "HOST:PORT")]
    pub poweb_listen: Option<String>,
    /// PoHTTP listening socket.
    #[arg(long, value_name = "HOST:PORT")]
    pub pohttp_listen: Option<String>,
    /// CogRPC listening socket.
    #[arg(long, value_name = "HOST:PORT")]
    pub cogrpc_listen: Option<String>,
    /// Admin and metrics listening socket.
    #[arg(long, value_name = "HOST:PORT")]
    pub admin_listen: Option<String>,
    /// Static PoHTTP route, repeatable; overrides DNS SRV for that address.
    #[arg(long = "pohttp-route", value_name = "ADDR=URL")]
    pub pohttp_routes: Vec<String>,
    /// Non-public destination deliveries may reach anyway (CIDR, address or host), repeatable.
    #[arg(long = "egress-allow", value_name = "CIDR|HOST")]
    pub egress_allow: Vec<String>,
    /// DNS server for SRV lookups (the system resolver when unset).
    #[arg(long, value_name = "HOST:PORT")]
    pub dns_server: Option<String>,
    /// Roles this process runs, comma-separated.
    #[arg(long, value_name = "poweb,pohttp,cogrpc,workers")]
    pub roles: Option<String>,
    /// Metadata database: `sqlite://PATH`, `postgres://…` (a secret: printed redacted).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Object store for parcel bodies: `file://PATH`, `s3://…` (a secret: printed redacted).
    #[arg(long, value_name = "URL")]
    pub objects: Option<String>,
    /// Durable queues: `embedded://`, `amqp://…` (a secret: printed redacted).
    #[arg(long, value_name = "URL")]
    pub queue: Option<String>,
    /// Notifications: `memory://`, `redis://…` (a secret: printed redacted).
    #[arg(long, value_name = "URL")]
    pub pubsub: Option<String>,
    /// Key-encryption key file shared by every replica (`<data-dir>/kek.bin` when unset);
    /// created with mode 0600 if missing. `AWALA_KEK` (the key itself) takes precedence.
    #[arg(long, value_name = "PATH")]
    pub kek_file: Option<PathBuf>,
    /// Log verbosity: trace, debug, info, warn or error (`RUST_LOG`, when set, wins).
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Log line format: `text` for terminals, `json` (one object per line) for machines.
    #[arg(long, value_name = "text|json")]
    pub log_format: Option<String>,
    /// Print the merged configuration (secrets redacted) and exit.
    #[arg(long)]
    pub print_config: bool,
}

impl ServeArgs {
    /// Every `(flag, key)` pair: the overrides of a value for every flag.
    pub(crate) fn flag_keys() -> Vec<(&'static str, &'static str)> {
        let text = Some(String::new());
        let path = Some(PathBuf::new());
        let every = ServeArgs {
            config: None,
            data_dir: path.clone(),
            internet_address: text.clone(),
            poweb_listen: text.clone(),
            pohttp_listen: text.clone(),
            cogrpc_listen: text.clone(),
            admin_listen: text.clone(),
            pohttp_routes: vec![String::new()],
            egress_allow: vec![String::new()],
            dns_server: text.clone(),
            roles: text.clone(),
            database: text.clone(),
            objects: text.clone(),
            queue: text.clone(),
            pubsub: text.clone(),
            kek_file: path,
            log_level: text.clone(),
            log_format: text,
            print_config: false,
        };
        every
            .overrides()
            .into_iter()
            .map(|(flag, key, _)| (flag, key))
            .collect()
    }

    /// The flag values as `(flag, key, value)` triples, in the order they apply.
    pub(crate) fn overrides(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut out = Vec::new();
        let mut push = |flag, key, value: Option<String>| {
            if let Some(value) = value {
                out.push((flag, key, value));
            }
        };
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        push(
            "--internet-address",
            "internet_address",
            self.internet_address.clone(),
        );
        push("--data-dir", "data_dir", path(&self.data_dir));
        push("--poweb-listen", "listen.poweb", self.poweb_listen.clone());
        push(
            "--pohttp-listen",
            "listen.pohttp",
            self.pohttp_listen.clone(),
        );
        push(
            "--cogrpc-listen",
            "listen.cogrpc",
            self.cogrpc_listen.clone(),
        );
        push("--admin-listen", "listen.admin", self.admin_listen.clone());
        push("--dns-server", "dns_server", self.dns_server.clone());
        push("--roles", "roles", self.roles.clone());
        push("--database", "backends.database_url", self.database.clone());
        push(
            "--objects",
            "backends.object_store_url",
            self.objects.clone(),
        );
        push("--queue", "backends.queue_url", self.queue.clone());
        push("--pubsub", "backends.pubsub_url", self.pubsub.clone());
        push("--kek-file", "keys.kek_file", path(&self.kek_file));
        push("--log-level", "log.level", self.log_level.clone());
        push("--log-format", "log.format", self.log_format.clone());
        for route in &self.pohttp_routes {
            push("--pohttp-route", "pohttp_routes", Some(route.clone()));
        }
        for entry in &self.egress_allow {
            push("--egress-allow", "egress_allow", Some(entry.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flag_names_are_the_contract() -> anyhow::Result<()> {
        let cli = Cli::try_parse_from([
            "serve",
            "--config",
            "/etc/awala.toml",
            "--data-dir",
            "/var/lib/awala",
            "--internet-address",
            "gw.example.com",
            "--poweb-listen",
            "0.0.0.0:80",
            "--pohttp-listen",
            "0.0.0.0:81",
            "--cogrpc-listen",
            "0.0.0.0:82",
            "--admin-listen",
            "0.0.0.0:90",
            "--pohttp-route",
            "a.test=https://a.test",
            "--pohttp-route",
            "b.test=http://b.test:8080",
            "--egress-allow",
            "10.0.0.0/8",
            "--egress-allow",
            "pdc.corp.example",
            "--dns-server",
            "1.1.1.1:53",
            "--roles",
            "poweb,workers",
            "--database",
            "postgres://awala:pw@db/awala",
            "--objects",
            "s3://parcels?region=eu",
            "--queue",
            "amqp://guest:guest@mq:5672/%2f",
            "--pubsub",
            "redis://cache:6379",
            "--kek-file",
            "/run/secrets/kek",
            "--log-level",
            "debug",
            "--log-format",
            "json",
            "--print-config",
        ])?;
        let args = cli.serve;
        assert!(args.print_config);
        assert_eq!(args.pohttp_routes.len(), 2);
        assert_eq!(args.roles.as_deref(), Some("poweb,workers"));
        assert_eq!(args.egress_allow.len(), 2);
        assert_eq!(
            args.database.as_deref(),
            Some("postgres://awala:pw@db/awala")
        );
        assert_eq!(args.objects.as_deref(), Some("s3://parcels?region=eu"));
        assert_eq!(
            args.queue.as_deref(),
            Some("amqp://guest:guest@mq:5672/%2f")
        );
        assert_eq!(args.pubsub.as_deref(), Some("redis://cache:6379"));
        assert_eq!(args.kek_file, Some(PathBuf::from("/run/secrets/kek")));
        assert_eq!(args.log_level.as_deref(), Some("debug"));
        assert_eq!(args.log_format.as_deref(), Some("json"));
        assert_eq!(args.overrides().len(), 19);
        Ok(())
    }
}
