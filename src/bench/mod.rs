//! `awala-gateway bench`: a load generator against a running gateway (issue 3's figures).
//!
//! Phases: register private gateways over PoWeb; pre-sign parcels for endpoints behind them
//! (not timed as gateway work); post them over PoHTTP at a fixed concurrency (throughput and
//! latency percentiles); collect and acknowledge them over PoWeb WebSockets; optionally hold
//! idle keep-alive sockets open. With `--gateway-pid`, the gateway's RSS is sampled between
//! phases. Everything talks to loopback addresses the operator passes in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;

use awala_gateway::protocols::awala::keys::IdentityPrivateKey;

mod collect;
mod ingest;
mod peers;
mod stats;

use peers::PrivateGateway;
use stats::{rss_bytes, PhaseReport};

/// Registrations in flight at once (each costs the gateway an RSA signature).
const REGISTRATION_CONCURRENCY: usize = 8;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// PoWeb base URL of the gateway.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    poweb_url: String,
    /// PoHTTP URL of the gateway; several, comma-separated, spread the load over replicas.
    #[arg(long, default_value = "http://127.0.0.1:8081")]
    pohttp_url: String,
    /// Private gateways to register (parcels are spread over them round-robin).
    #[arg(long, default_value_t = 10)]
    gateways: usize,
    /// Parcels to deliver over PoHTTP.
    #[arg(long, default_value_t = 10_000)]
    parcels: usize,
    /// PoHTTP requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Parcel payload size.
    #[arg(long, default_value_t = 1024)]
    payload_bytes: usize,
    /// Leave the parcels stored (no collection phase), e.g. to watch RSS with many waiting.
    #[arg(long)]
    skip_collection: bool,
    /// Deliveries in flight per collection socket. 1 reads as the published JS client does
    /// (and counts frames it would have lost); more asks the gateway for a wider window.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=128))]
    collect_window: u16,
    /// Idle keep-alive collection sockets to open after the other phases.
    #[arg(long, default_value_t = 0)]
    idle_sockets: usize,
    /// How long to hold the idle sockets open before sampling RSS.
    #[arg(long, default_value_t = 10)]
    idle_seconds: u64,
    /// PID of the gateway process, to report its resident memory between phases.
    #[arg(long)]
    gateway_pid: Option<u32>,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(args))
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(REGISTRATION_CONCURRENCY))
        .timeout(Duration::from_secs(30))
        .build()?;
    let internet_endpoint_key = Arc::new(IdentityPrivateKey::generate(2048)?);
    let rss = |label: &str| {
        if let Some(pid) = args.gateway_pid {
            match rss_bytes(pid) {
                Some(bytes) => println!("gateway rss {label:<28} {:>8.1} MiB", mib(bytes)),
                None => println!("gateway rss {label:<28} unavailable (pid {pid})"),
            }
        }
    };

    let started = Instant::now();
    let gateways: Vec<Arc<PrivateGateway>> = futures::stream::iter(0..args.gateways.max(1))
        .map(|_| peers::register(&client, &args.poweb_url, &internet_endpoint_key))
        .buffer_unordered(REGISTRATION_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|result| result.map(Arc::new))
        .collect::<anyhow::Result<_>>()
        .context("registering private gateways")?;
    println!(
        "registered {} private gateways in {:.2} s",
        gateways.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let parcels = Arc::new(sign_parcels(
        &gateways,
        &internet_endpoint_key,
        args.parcels,
        args.payload_bytes,
    )?);
    println!(
        "pre-signed {} parcels of {} B payload in {:.2} s (client side, not gateway work)",
        parcels.len(),
        args.payload_bytes,
        started.elapsed().as_secs_f64()
    );
    rss("before ingest");

    let collection_url = format!(
        "{}/v1/parcel-collection",
        args.poweb_url.replacen("http", "ws", 1)
    );
    let mut reports: Vec<PhaseReport> = Vec::new();
    reports.push(ingest::run(&client, &args.pohttp_url, parcels.clone(), args.concurrency).await);
    println!("{}", reports[0].line());
    rss("after ingest");
    drop(parcels);

    if !args.skip_collection {
        let report =
            collect::run(&collection_url, &gateways, usize::from(args.collect_window)).await;
        println!("{}", report.line());
        reports.push(report);
        rss("after collection");
    }

    if args.idle_sockets > 0 {
        let started = Instant::now();
        let (opened, handles) =
            collect::open_idle(&collection_url, &gateways, args.idle_sockets).await;
        println!(
            "opened {opened} idle keep-alive sockets in {:.2} s; holding {} s",
            started.elapsed().as_secs_f64(),
            args.idle_seconds
        );
        tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
        rss(&format!("with {opened} idle sockets"));
        let still_open = handles
            .iter()
            .filter(|handle| !handle.is_finished())
            .count();
        println!("{still_open} of {opened} idle sockets still open");
        for handle in handles {
            handle.abort();
        }
    }
    let failed: usize = reports.iter().map(|report| report.failures).sum();
    anyhow::ensure!(failed == 0, "{failed} operations failed");
    Ok(())
}

/// Signs `count` parcels round-robin over `gateways`, on every core.
fn sign_parcels(
    gateways: &[Arc<PrivateGateway>],
    key: &IdentityPrivateKey,
    count: usize,
    payload_bytes: usize,
) -> anyhow::Result<Vec<bytes::Bytes>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || {
                    let start = thread * per_thread;
                    let end = count.min(start + per_thread);
                    (start..end)
                        .map(|index| {
                            let gateway = &gateways[index % gateways.len()];
                            let mut payload = vec![0u8; payload_bytes];
                            payload[..8.min(payload_bytes)]
                                .copy_from_slice(&index.to_be_bytes()[..8.min(payload_bytes)]);
                            gateway.parcel(key, payload).map(bytes::Bytes::from)
                        })
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut parcels = Vec::with_capacity(count);
        for worker in workers {
            parcels.extend(worker.join().expect("signing thread panicked")?);
        }
        Ok(parcels)
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
