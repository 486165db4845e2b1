//! Graceful shutdown: broadcast a signal, drain until a deadline, then give up.

use std::time::Duration;

use tokio::sync::watch;

/// Outcome of [`Shutdown::drain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainOutcome {
    /// Every listener finished (dropped its [`ShutdownListener`]) before the deadline.
    Drained,
    /// The deadline passed with this many listeners still running; the caller stops them.
    DeadlineExceeded { remaining: usize },
}

/// The trigger side of graceful shutdown (the mini-redis pattern: broadcast, then wait for every
/// listener to be dropped).
#[derive(Debug)]
pub struct Shutdown {
    signal: watch::Sender<bool>,
}

/// Held by every task or actor that must finish its work before the process exits.
///
/// A listener may follow several triggers ([`ShutdownListener::or`]): the process's, and the
/// one of the subtree its worker belongs to, so that a parent being restarted stops its
/// children the same way a process shutdown does, while the process drain still waits for
/// them.
#[derive(Debug, Clone)]
pub struct ShutdownListener {
    signals: Vec<watch::Receiver<bool>>,
}

impl Shutdown {
    pub fn new() -> Self {
        Self {
            signal: watch::channel(false).0,
        }
    }

    /// A listener to hand to one worker; drop it when that worker is done.
    pub fn listener(&self) -> ShutdownListener {
        ShutdownListener {
            signals: vec![self.signal.subscribe()],
        }
    }

    /// Broadcasts the signal, then waits until every listener is dropped or `deadline` passes.
    pub async fn drain(self, deadline: Duration) -> DrainOutcome {
        self.signal.send_replace(true);
        match tokio::time::timeout(deadline, self.signal.closed()).await {
            Ok(()) => DrainOutcome::Drained,
            Err(_) => DrainOutcome::DeadlineExceeded {
                remaining: self.signal.receiver_count(),
            },
        }
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl ShutdownListener {
    /// A listener that stops when either `self` or `other` does, and holds both up.
    pub fn or(mut self, other: ShutdownListener) -> ShutdownListener {
        self.signals.extend(other.signals);
        self
    }

    /// Whether shutdown has been signalled (or a trigger dropped, which also means "stop").
    pub fn is_shutdown(&self) -> bool {
        self.signals
            .iter()
            .any(|signal| *signal.borrow() || signal.has_changed().is_err())
    }

    /// Resolves once shutdown is signalled (at once if it already was).
    pub async fn recv(&mut self) {
        let waits = self.signals.iter_mut().map(|signal| {
            Box::pin(async move {
                // An error means the trigger was dropped, which also means "stop".
                let _ = signal.wait_for(|stop| *stop).await;
            })
        });
        let waits: Vec<_> = waits.collect();
        if !waits.is_empty() {
            futures::future::select_all(waits).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn a_listener_of_two_triggers_stops_with_either_and_holds_both() {
        tokio::time::pause();
        let process = Shutdown::new();
        let subtree = Shutdown::new();
        let mut worker = process.listener().or(subtree.listener());
        assert!(!worker.is_shutdown());
        drop(subtree); // The subtree's parent went away.
        assert!(worker.is_shutdown());
        worker.recv().await;
        // The process drain still waits for the worker.
        assert_eq!(
            process.drain(Duration::from_secs(1)).await,
            DrainOutcome::DeadlineExceeded { remaining: 1 }
        );

        let process = Shutdown::new();
        let subtree = Shutdown::new();
        let mut worker = process.listener().or(subtree.listener());
        let stopped = actix_rt::spawn(async move {
            worker.recv().await;
        });
        assert_eq!(
            process.drain(Duration::from_secs(1)).await,
            DrainOutcome::Drained
        );
        assert!(stopped.await.is_ok());
        drop(subtree);
    }
}
