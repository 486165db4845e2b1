//! PoHTTP ingest: pre-signed parcels posted at a fixed concurrency, each latency recorded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::stats::PhaseReport;

/// Posts every parcel in `parcels` with `concurrency` requests in flight, spread round-robin
/// over `pohttp_urls` (one per replica; comma-separated on the command line). A parcel answered
/// with anything but 202 is a failure (counted, not retried).
///
/// URLs are parsed once and bodies are shared, not copied: the generator runs on the same cores
/// as the gateway, so every microsecond it spends is one the gateway does not get.
pub async fn run(
    client: &reqwest::Client,
    pohttp_urls: &str,
    parcels: Arc<Vec<Bytes>>,
    concurrency: usize,
) -> PhaseReport {
    let urls: Result<Vec<reqwest::Url>, _> =
        pohttp_urls.split(',').map(reqwest::Url::parse).collect();
    let urls = match urls {
        Ok(urls) => Arc::new(urls),
        Err(error) => {
            eprintln!("invalid pohttp url in {pohttp_urls}: {error}");
            return PhaseReport::new("pohttp ingest", 0, parcels.len(), Duration::ZERO, vec![]);
        }
    };
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers = (0..concurrency.max(1)).map(|_| {
        let client = client.clone();
        let urls = urls.clone();
        let parcels = parcels.clone();
        let next = next.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(parcel) = parcels.get(index) else {
                    break;
                };
                let sent = Instant::now();
                let result = client
                    .post(urls[index % urls.len()].clone())
                    .header("content-type", "application/vnd.awala.parcel")
                    .body(parcel.clone())
                    .send()
                    .await;
                match result {
                    Ok(response) if response.status().as_u16() == 202 => {
                        let _ = response.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    Ok(response) => {
                        failures += 1;
                        if failures <= 3 {
                            eprintln!("pohttp answered {}", response.status());
                        }
                    }
                    Err(error) => {
                        failures += 1;
                        if failures <= 3 {
                            eprintln!("pohttp request failed: {error}");
                        }
                    }
                }
            }
            (latencies, failures)
        })
    });
    let mut latencies: Vec<Duration> = Vec::with_capacity(parcels.len());
    let mut failures = 0;
    for worker in futures::future::join_all(workers).await {
        let (worker_latencies, worker_failures) = worker.expect("ingest worker panicked");
        latencies.extend(worker_latencies);
        failures += worker_failures;
    }
    PhaseReport::new(
        "pohttp ingest",
        latencies.len(),
        failures,
        started.elapsed(),
        latencies,
    )
}
