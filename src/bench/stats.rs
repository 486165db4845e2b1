//! Throughput and latency percentiles of one benchmark phase.

use std::time::Duration;

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct PhaseReport {
    pub name: &'static str,
    pub operations: usize,
    pub failures: usize,
    pub elapsed: Duration,
    /// Sorted latencies of the successful operations (may be empty for phases without them).
    pub latencies: Vec<Duration>,
}

impl PhaseReport {
    pub fn new(
        name: &'static str,
        operations: usize,
        failures: usize,
        elapsed: Duration,
        mut latencies: Vec<Duration>,
    ) -> Self {
        latencies.sort_unstable();
        PhaseReport {
            name,
            operations,
            failures,
            elapsed,
            latencies,
        }
    }

    pub fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The `p`-th percentile (0–100) by nearest rank, or `None` without latencies.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        percentile(&self.latencies, p)
    }

    /// One line of the report.
    pub fn line(&self) -> String {
        let ms = |p: f64| {
            self.percentile(p)
                .map(|d| format!("{:.2}", d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "-".into())
        };
        format!(
            "{:<22} {:>9} ok {:>6} failed {:>8.2} s {:>10.0}/s  p50 {:>7} ms  p90 {:>7} ms  p99 {:>7} ms  max {:>7} ms",
            self.name,
            self.operations,
            self.failures,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            ms(50.0),
            ms(90.0),
            ms(99.0),
            ms(100.0),
        )
    }
}

/// Nearest-rank percentile of sorted `values`.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Resident set size of process `pid` in bytes, from `/proc` (Linux).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&values, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&values, 100.0), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&values, 0.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn own_rss_is_readable() {
        assert!(rss_bytes(std::process::id()).is_some_and(|rss| rss > 0));
    }
}
