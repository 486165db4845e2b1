//! A bounded pool for CPU-heavy request work (RSA signatures and verifications of
//! registrations), off the HTTP I/O workers.
//!
//! The work runs on tokio's blocking threads, at most `threads` at once; at most `queue` more
//! wait for a slot, and past that the caller is refused at once, so a flood of registrations
//! turns into quick 503s instead of a queue that grows until every client has timed out. The
//! I/O workers never run the work themselves, so they keep answering pings, deliveries and
//! health checks whatever the registration load.

use std::sync::Arc;

use thiserror::Error;
use tokio::sync::Semaphore;

use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};

/// Why pooled work did not run to completion.
#[derive(Debug, Error)]
pub enum PoolError {
    #[error("the signing pool is full")]
    Full,
    /// The work panicked (the blocking task is its panic boundary).
    #[error("pooled work failed: {0}")]
    Failed(String),
}

impl HasErrorCode for PoolError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            PoolError::Full => GatewayErrorCode::Unavailable,
            PoolError::Failed(_) => GatewayErrorCode::Internal,
        }
    }
}

/// Admission to a bounded set of blocking threads. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CpuPool {
    /// Work running now.
    running: Arc<Semaphore>,
    /// Work running or waiting to run.
    admitted: Arc<Semaphore>,
}

impl CpuPool {
    /// `threads` at once (0: one per CPU core), with `queue` more waiting.
    pub fn new(threads: usize, queue: usize) -> Self {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            threads => threads,
        };
        CpuPool {
            running: Arc::new(Semaphore::new(threads)),
            admitted: Arc::new(Semaphore::new(threads + queue)),
        }
    }

    /// Runs `work` on a blocking thread once a slot is free, or refuses at once with
    /// [`PoolError::Full`] when `threads + queue` calls are already admitted.
    pub async fn run<T, W>(&self, work: W) -> Result<T, PoolError>
    where
        T: Send + 'static,
        W: FnOnce() -> T + Send + 'static,
    {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| PoolError::Full)?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|closed| PoolError::Failed(closed.to_string()))?;
        // The permits go with the work, not with this future: a caller that goes away does not
        // stop the thread, so its slot stays taken until the thread is done.
        tokio::task::spawn_blocking(move || {
            let _slots = (admitted, running);
            work()
        })
        .await
        .map_err(|join| PoolError::Failed(join.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_work_and_refuses_past_threads_plus_queue() {
        let pool = CpuPool::new(1, 1);
        let (release, gate) = mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let blocked = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    gate.recv().expect("released");
                    1
                })
                .await
            })
        };
        started.await.expect("first work running");
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| 2).await })
        };
        // The waiting call holds the one queue place; wait until it has taken it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while pool.admitted.available_permits() > 0 {
            assert!(tokio::time::Instant::now() < deadline, "never queued");
            tokio::task::yield_now().await;
        }
        assert!(matches!(pool.run(|| 3).await, Err(PoolError::Full)));
        release.send(()).expect("release");
        assert_eq!(blocked.await.expect("join").expect("ran"), 1);
        assert_eq!(waiting.await.expect("join").expect("ran"), 2);
        assert_eq!(pool.run(|| 4).await.expect("free again"), 4);
    }

    #[tokio::test]
    async fn a_panic_is_a_failure_not_a_crash() {
        let pool = CpuPool::new(1, 0);
        let result = pool.run(|| panic!("boom")).await;
        assert!(matches!(result, Err(PoolError::Failed(_))));
        assert_eq!(pool.run(|| 5).await.expect("pool still usable"), 5);
    }
}
