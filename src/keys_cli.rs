//! `awala-gateway keys`: the gateway's identity in the backends that `serve` would use, read
//! from the same configuration (`--config`, `--data-dir`, backend URLs, `AWALA_*`).
//!
//! - `init`: creates the identity key, its first certificate and an unbound session key when
//!   the backends hold none (what `serve` does on its first start), and prints the node id.
//! - `show`: the node id, the own certificates still valid and the unbound session key id.
//! - `rotate-certificate`: issues a new identity certificate; older ones stay trusted until
//!   they expire. A running gateway issues from it once it loads the identity again.
//! - `connection-params`: the DER connection parameters `GET /connection-params.der` serves.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use serde::Serialize;

use awala_gateway::actors::identity::{self, GatewayIdentity};
use awala_gateway::backends::{BackendOptions, BackendUrls, Backends};
use awala_gateway::config::{GatewayConfig, LogLevel, ServeArgs};
use awala_gateway::protocols::awala::messages::NodeConnectionParams;

#[derive(clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(clap::Subcommand)]
enum KeysCommand {
    /// Create the identity (key, certificate, session key) if there is none; print its node id.
    Init(ServeArgs),
    /// Print the node id, the valid own certificates and the unbound session key id (JSON).
    Show(ServeArgs),
    /// Issue a new identity certificate; the older ones stay trusted until they expire.
    RotateCertificate(ServeArgs),
    /// Write the connection parameters (DER) that private gateways fetch.
    ConnectionParams {
        #[command(flatten)]
        serve: ServeArgs,
        /// Where to write them; standard output when absent.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

type Settings = fn(&GatewayConfig) -> (BackendUrls, BackendOptions);

pub fn run(args: KeysArgs, settings: Settings) -> anyhow::Result<()> {
    let serve = match &args.command {
        KeysCommand::Init(serve)
        | KeysCommand::Show(serve)
        | KeysCommand::RotateCertificate(serve)
        | KeysCommand::ConnectionParams { serve, .. } => serve,
    };
    let config = GatewayConfig::load(serve, &|name| std::env::var(name).ok())
        .context("loading the configuration")?;
    // Warnings only: the commands' own output goes to stdout.
    let level = match config.log.level {
        LogLevel::Trace | LogLevel::Debug => config.log.level,
        _ => LogLevel::Warn,
    };
    awala_gateway::telemetry::init_tracing(level, config.log.format)?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(keys(args.command, config, settings))
}

#[derive(Serialize)]
struct CertificateView {
    not_before: chrono::DateTime<Utc>,
    not_after: chrono::DateTime<Utc>,
    sha256: String,
}

#[derive(Serialize)]
struct IdentityView<'a> {
    node_id: &'a str,
    internet_address: &'a str,
    certificates: Vec<CertificateView>,
    unbound_session_key_id: String,
}

async fn keys(
    command: KeysCommand,
    config: GatewayConfig,
    settings: Settings,
) -> anyhow::Result<()> {
    let (urls, options) = settings(&config);
    let backends = Backends::open_with(&urls, &config.data_dir, options)
        .await
        .with_context(|| format!("opening the backends in {}", config.data_dir.display()))?;
    let creating = matches!(command, KeysCommand::Init(_));
    if !creating && !identity::exists(&backends).await? {
        anyhow::bail!(
            "these backends hold no gateway identity yet; run `awala-gateway keys init` (or `serve`) first"
        );
    }
    let now = Utc::now();
    let identity = identity::bootstrap(&backends, now)
        .await
        .context("loading the gateway identity")?;
    match command {
        KeysCommand::Init(_) => println!("{}", identity.node_id()),
        KeysCommand::Show(_) => {
            let view = describe(&identity, &config.internet_address);
            println!("{}", serde_json::to_string_pretty(&view)?);
        }
        KeysCommand::RotateCertificate(_) => {
            let issued = identity.rotate_certificate(now).await?;
            println!(
                "issued identity certificate valid until {}",
                issued.not_after().to_rfc3339()
            );
        }
        KeysCommand::ConnectionParams { output, .. } => {
            let der = NodeConnectionParams {
                internet_address: config.internet_address.clone(),
                identity_key: identity.public_key(),
                session_key: identity.unbound_session_key().clone(),
            }
            .encode()?;
            match output {
                Some(path) => std::fs::write(&path, &der)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout().write_all(&der)?,
            }
        }
    }
    Ok(())
}

fn describe<'a>(identity: &'a GatewayIdentity, internet_address: &'a str) -> IdentityView<'a> {
    IdentityView {
        node_id: identity.node_id(),
        internet_address,
        certificates: identity
            .certificates()
            .iter()
            .map(|certificate| CertificateView {
                not_before: certificate.not_before(),
                not_after: certificate.not_after(),
                sha256: hex::encode(certificate.der_digest()),
            })
            .collect(),
        unbound_session_key_id: identity.unbound_session_key().id.to_hex(),
    }
}
