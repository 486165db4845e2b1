//! Command-line entry point: composition root only. Reads files, the clock and the environment,
//! and hands everything to the library.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use awala_gateway::actors::admin;
use awala_gateway::actors::admin_api::AdminApi;
use awala_gateway::actors::cogrpc;
use awala_gateway::actors::gateway::GatewayContext;
use awala_gateway::actors::housekeeping::{self, HousekeepingSettings};
use awala_gateway::actors::identity;
use awala_gateway::actors::load_shield::LoadShield;
use awala_gateway::actors::outbound;
use awala_gateway::actors::parcel_router::ParcelRouter;
use awala_gateway::actors::pohttp::{self, PohttpState};
use awala_gateway::actors::poweb::server::HttpEdgeLimits;
use awala_gateway::actors::poweb::{self, PowebState};
use awala_gateway::actors::{certificate_renewal, private_gateways};
use awala_gateway::backends::keys::KekSettings;
use awala_gateway::backends::queue::{BlockedObserver, OverloadMode, QueueLimits, QueueSettings};
use awala_gateway::backends::{BackendOptions, BackendUrls, Backends};
use awala_gateway::config::{GatewayConfig, MailboxOverload, Role, ServeArgs};
use awala_gateway::protocols::awala::inspect::{self, ArtifactKind, InspectOptions, Verdict};
use awala_gateway::protocols::awala::keys::{IdentityPublicKey, SessionKeyId, SessionPrivateKey};
use awala_gateway::protocols::awala::pki::Certificate;
use awala_gateway::protocols::poweb::PowebCloseReason;
use awala_gateway::supervision::faults::{Faults, TEST_FAULTS_ENV};
use awala_gateway::supervision::{DrainOutcome, Shutdown};

/// How long workers may take to finish in-flight work after the stop signal.
const SHUTDOWN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

mod admin_cli;
mod bench;
mod keys_cli;

#[derive(Parser)]
#[command(name = "awala-gateway", version, about = "Awala Internet gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Recognise an Awala artifact (message, certificate, CMS value, control message), print a
    /// JSON description and validate it. Exit 0 if valid, 1 if invalid or malformed, 2 on usage
    /// errors.
    Inspect(InspectArgs),
    /// Run the gateway: the roles chosen with `--roles` (all by default) and the admin listener.
    // Boxed: the flags outgrew the other variants (clippy's large_enum_variant).
    Serve(Box<ServeArgs>),
    /// Load generator against a running gateway: registers private gateways, delivers parcels
    /// over PoHTTP, collects them over PoWeb, and reports throughput, latency and RSS.
    Bench(bench::BenchArgs),
    /// Operate a running gateway through its admin API.
    Admin(admin_cli::AdminArgs),
    /// The gateway's identity key and certificates, in the backends `serve` would use.
    Keys(Box<keys_cli::KeysArgs>),
}

#[derive(clap::Args)]
struct InspectArgs {
    /// The artifact (DER or RAMF bytes), or `-` for standard input.
    file: String,
    /// A trusted certificate (DER); repeat for several. Enables chain validation.
    #[arg(long = "trust", value_name = "CERT.der")]
    trusted: Vec<PathBuf>,
    /// A session private key (PKCS#8 DER) to decrypt cargo, CCA and envelope payloads.
    #[arg(long = "session-key", value_name = "KEY.der")]
    session_keys: Vec<PathBuf>,
    /// The content a detached signature covers.
    #[arg(long = "plaintext", value_name = "FILE")]
    plaintext: Option<PathBuf>,
    /// An identity public key (SPKI DER) that may have signed a registration authorisation.
    /// Without it (or `--trust`), a PNRA is described but its signature is not checked.
    #[arg(long = "signer-key", value_name = "SPKI.der")]
    signer_keys: Vec<PathBuf>,
    /// Skip recognition and read the artifact as this kind (e.g. `parcel`, `pnra`).
    #[arg(long)]
    kind: Option<String>,
    /// Validate as of this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Inspect(args) => match run_inspect(args) {
            Ok(code) => code,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            }
        },
        Command::Bench(args) => match bench::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
        Command::Admin(args) => match admin_cli::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
        Command::Keys(args) => match keys_cli::run(*args, backend_settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
        Command::Serve(args) => match run_serve(*args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = GatewayConfig::load(&args, &|name| std::env::var(name).ok())
        .context("loading the configuration")?;
    if args.print_config {
        print!("{}", config.to_redacted_toml()?);
        return Ok(());
    }
    awala_gateway::telemetry::init_tracing(config.log.level, config.log.format)?;
    if config.internet_address_defaulted {
        tracing::warn!(
            internet_address = %config.internet_address,
            "no internet address configured; peers cannot reach this placeholder (set --internet-address)"
        );
    }
    actix_web::rt::System::new().block_on(serve(config))
}

/// The backend URLs and options `config` names, without a blocked-mailbox observer (`serve`
/// adds its own); `keys` opens the same backends with them.
fn backend_settings(config: &GatewayConfig) -> (BackendUrls, BackendOptions) {
    let secret = |value: &Option<awala_gateway::config::Secret>| {
        value.as_ref().map(|secret| secret.expose().to_owned())
    };
    let urls = BackendUrls {
        database_url: secret(&config.backends.database_url),
        object_store_url: secret(&config.backends.object_store_url),
        queue_url: secret(&config.backends.queue_url),
        pubsub_url: secret(&config.backends.pubsub_url),
    };
    let queue_limits = QueueLimits {
        capacity: u64::from(config.limits.queue_capacity),
        overload: match config.limits.mailbox_overload {
            MailboxOverload::Block => OverloadMode::Block,
            MailboxOverload::RejectNewest => OverloadMode::RejectNewest,
        },
        ..QueueLimits::default()
    };
    let options = BackendOptions {
        queues: QueueSettings::uniform(queue_limits),
        kek: KekSettings {
            value: secret(&config.keys.kek),
            file: config.keys.kek_file.clone(),
        },
        ..BackendOptions::default()
    };
    (urls, options)
}

async fn serve(config: GatewayConfig) -> anyhow::Result<()> {
    let stop = StopSignal::install().context("watching stop signals")?;
    let (urls, mut options) = backend_settings(&config);
    let metrics = awala_gateway::telemetry::Metrics::new()?;
    let blocked_metrics = metrics.clone();
    // A queue is the mailbox of the workers that consume it.
    options.queue_blocked = Some(BlockedObserver::new(move |queue, waited| {
        blocked_metrics.record_mailbox_blocked(queue.as_str(), waited);
    }));
    let backends = Backends::open_with(&urls, &config.data_dir, options)
        .await
        .with_context(|| format!("opening the backends in {}", config.data_dir.display()))?;
    let identity = identity::bootstrap(&backends, Utc::now())
        .await
        .context("loading the gateway identity")?;
    tracing::info!(node_id = %identity.node_id(), "gateway identity loaded");
    let context = Arc::new(
        GatewayContext::new(
            backends,
            Arc::new(identity),
            config.internet_address.clone(),
            config.limits.clone(),
            metrics.clone(),
        )
        .with_faults(Arc::new(test_faults()?)),
    );
    let router = Arc::new(ParcelRouter::new(context.clone()));
    // Revocations are enforced from the first request on, then kept fresh by the sync actor.
    context
        .private_gateways
        .sync(&*context.backends.metadata)
        .await
        .context("loading the private gateway registry")?;
    private_gateways::start_sync(context.clone());
    certificate_renewal::start(context.clone());

    for role in &config.roles {
        context.roles.register_role(role.as_str());
    }
    // On SIGINT/SIGTERM every server is stopped, draining in-flight requests first.
    let mut servers: Vec<(&'static str, actix_web::dev::Server)> = Vec::new();
    let admin_api = AdminApi::new(config.admin.token.clone(), config.listen.admin);
    if admin_api.is_locked() {
        tracing::warn!(
            listen = %config.listen.admin,
            "the admin API is off: it listens beyond loopback and no admin.token is set"
        );
    }
    let admin = admin::bind(context.clone(), config.listen.admin, admin_api.clone())
        .with_context(|| format!("binding admin to {}", config.listen.admin))?;
    log_listening("admin", &admin.addresses);
    servers.push(("admin", admin.server));
    if config.roles.contains(&Role::Poweb) {
        let state = PowebState::new(context.clone(), router.clone());
        // Collection sockets outlive requests: tell them to go (1001) as soon as a stop
        // signal arrives, while actix-web drains the rest.
        let collections = state.collections.clone();
        let stop = stop.clone();
        actix_web::rt::spawn(async move {
            stop.wait().await;
            collections.close_all(PowebCloseReason::GoingAway);
        });
        let server = poweb::bind(state, config.listen.poweb)
            .with_context(|| format!("binding poweb to {}", config.listen.poweb))?;
        log_listening("poweb", &server.addresses);
        servers.push(("poweb", server.server));
    }
    if config.roles.contains(&Role::Pohttp) {
        let state = PohttpState {
            router: router.clone(),
            metrics: metrics.clone(),
            shield: LoadShield::new(config.limits.max_in_flight_requests as usize),
            edge: HttpEdgeLimits::from_limits(&config.limits),
        };
        let server = pohttp::bind(state, config.listen.pohttp)
            .with_context(|| format!("binding pohttp to {}", config.listen.pohttp))?;
        log_listening("pohttp", &server.addresses);
        servers.push(("pohttp", server.server));
    }
    let shutdown = Shutdown::new();
    let mut outbound_opt = None;
    if config.roles.contains(&Role::Workers) {
        let handle = outbound::spawn_from_config(&config, &context, shutdown.listener())
            .context("starting the outbound delivery worker")?;
        tracing::info!("outbound delivery worker started");
        outbound_opt = Some(handle);
    }
    let mut cogrpc_opt = None;
    if config.roles.contains(&Role::Cogrpc) {
        let server = cogrpc::bind(context.clone(), config.listen.cogrpc)
            .with_context(|| format!("binding cogrpc to {}", config.listen.cogrpc))?;
        log_listening("cogrpc", &[server.address]);
        cogrpc_opt = Some(server);
    }
    if config.roles.contains(&Role::Workers) {
        // Stopped with the actix system; a cargo cut short goes back to the mailbox with its consumer.
        cogrpc::start_cargo_unwrappers(router.clone(), cogrpc::UnwrapperSettings::default());
        tracing::info!("cargo unwrapping workers started");
        // Hourly: expired records, unusable session keys (DESIGN §6) and unnamed bodies go.
        admin_api.set_housekeeper(housekeeping::start(
            context.clone(),
            HousekeepingSettings::default(),
        ));
        tracing::info!("housekeeping started");
    }
    let handles: Vec<actix_web::dev::ServerHandle> =
        servers.iter().map(|(_, server)| server.handle()).collect();
    let http_stop = stop.clone();
    actix_web::rt::spawn(async move {
        http_stop.wait().await;
        // Graceful: each drains its requests for up to its shutdown timeout.
        futures::future::join_all(handles.iter().map(|handle| handle.stop(true))).await;
    });
    let cogrpc_run = async move {
        match cogrpc_opt {
            Some(server) => server
                .serve(stop.wait())
                .await
                .context("running the cogrpc server"),
            None => Ok(()),
        }
    };
    let http_run =
        futures::future::join_all(servers.into_iter().map(|(name, server)| async move {
            server
                .await
                .with_context(|| format!("running the {name} server"))
        }));
    let (results, cogrpc_result) = futures::join!(http_run, cogrpc_run);
    // Workers finish their attempts in flight; unfinished parcels stay in the durable mailbox.
    if let DrainOutcome::DeadlineExceeded { remaining } = shutdown.drain(SHUTDOWN_DEADLINE).await {
        tracing::warn!(remaining, "workers still busy at the shutdown deadline");
    }
    if let Some(handle) = outbound_opt {
        handle.stopped().await;
    }
    for result in results {
        result?;
    }
    cogrpc_result?;
    tracing::info!("stopped");
    Ok(())
}

/// Fault points armed through the hidden `AWALA_TEST_FAULTS` (black-box tests of supervision).
fn test_faults() -> anyhow::Result<Faults> {
    let spec = std::env::var(TEST_FAULTS_ENV).unwrap_or_default();
    let faults = Faults::from_spec(&spec).with_context(|| format!("reading {TEST_FAULTS_ENV}"))?;
    if !spec.trim().is_empty() {
        tracing::warn!(spec = %spec, "fault injection is armed; this process will panic on purpose");
    }
    Ok(faults)
}

/// The one owner of SIGINT and SIGTERM, installed before anything listens. A tokio handler
/// replaces the default action and a handler registered later never sees an earlier signal, so
/// each server watching for itself (as actix-web does) loses a signal that arrives while the
/// servers are still starting, and the process runs on.
#[derive(Clone)]
struct StopSignal {
    stopped: tokio::sync::watch::Receiver<bool>,
}

impl StopSignal {
    fn install() -> std::io::Result<StopSignal> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let (sender, stopped) = tokio::sync::watch::channel(false);
        actix_web::rt::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            tracing::info!("stop signal received");
            let _ = sender.send(true);
        });
        Ok(StopSignal { stopped })
    }

    /// Resolves once a stop signal has arrived (at once if one already has).
    async fn wait(&self) {
        let mut stopped = self.stopped.clone();
        let _ = stopped.wait_for(|stopped| *stopped).await;
    }
}

fn log_listening(binding: &str, addresses: &[std::net::SocketAddr]) {
    for address in addresses {
        tracing::info!(%address, binding, "listening");
    }
}

fn run_inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let bytes = if args.file == "-" {
        let mut buffer = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buffer)
            .context("reading standard input")?;
        buffer
    } else {
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file))?
    };
    let trusted = args
        .trusted
        .iter()
        .map(|path| {
            let der = read(path)?;
            Certificate::from_der(&der)
                .with_context(|| format!("{} is not a certificate", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let session_keys = args
        .session_keys
        .iter()
        .map(|path| {
            let key = SessionPrivateKey::from_pkcs8_der(&read(path)?)
                .with_context(|| format!("{} is not a session private key", path.display()))?;
            Ok((None::<SessionKeyId>, key))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let signer_keys = args
        .signer_keys
        .iter()
        .map(|path| {
            IdentityPublicKey::from_spki_der(&read(path)?)
                .with_context(|| format!("{} is not an identity public key", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let plaintext = args.plaintext.as_deref().map(read).transpose()?;
    let kind = match args.kind.as_deref() {
        Some(name) => {
            Some(ArtifactKind::from_name(name).with_context(|| format!("unknown kind {name:?}"))?)
        }
        None => None,
    };
    let now: DateTime<Utc> = match args.at.as_deref() {
        Some(at) => DateTime::parse_from_rfc3339(at)
            .with_context(|| format!("--at {at:?} is not an RFC 3339 date"))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };

    let options = InspectOptions {
        kind,
        trusted: &trusted,
        session_keys: &session_keys,
        detached_plaintext: plaintext.as_deref(),
        signer_keys: &signer_keys,
        ..InspectOptions::new(now)
    };
    let inspection = inspect::inspect(&bytes, &options);
    println!("{}", serde_json::to_string_pretty(&inspection.description)?);
    Ok(match inspection.verdict {
        Verdict::Valid => ExitCode::SUCCESS,
        Verdict::Invalid(reason) => {
            eprintln!("invalid: {reason}");
            ExitCode::from(1)
        }
        Verdict::Malformed(reason) => {
            eprintln!("malformed: {reason}");
            ExitCode::from(1)
        }
    })
}

fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}
