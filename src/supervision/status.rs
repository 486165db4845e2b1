//! Which workers this process runs and whether they are running now, for `/health`.
//!
//! Each supervised subtree (the outbound dispatcher, the cargo unwrappers...) registers one
//! [`WorkerStatus`] under the role it belongs to; its supervisors keep the counts current. A
//! subtree counts as down when none of its workers is running: between a crash and the restart
//! that follows its backoff, or while its root keeps failing.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// The live counts of one subtree.
#[derive(Debug)]
pub struct WorkerStatus {
    /// Workers the subtree runs when healthy.
    expected: usize,
    running: AtomicUsize,
    restarts: AtomicU64,
    escalations: AtomicU64,
    /// When the subtree's root last ran out of restarts, and for how long that counts.
    failing: Mutex<Option<(Instant, Duration)>>,
}

impl WorkerStatus {
    pub fn new(expected: usize) -> Self {
        WorkerStatus {
            expected,
            running: AtomicUsize::new(0),
            restarts: AtomicU64::new(0),
            escalations: AtomicU64::new(0),
            failing: Mutex::new(None),
        }
    }

    /// A worker of the subtree started (supervisors call it; public for tests of `/health`).
    pub fn child_started(&self) {
        self.running.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn child_stopped(&self) {
        // Saturating: a status shared by mistake must not wrap around to "very healthy".
        let _ = self
            .running
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    pub(crate) fn restarted(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn escalated(&self) {
        self.escalations.fetch_add(1, Ordering::Relaxed);
    }

    /// The root ran out of restarts at `now`: report the subtree as failing for `window`.
    pub(crate) fn mark_failing(&self, now: Instant, window: Duration) {
        *lock(&self.failing) = Some((now, window));
    }

    /// Workers running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Whether the subtree's root ran out of restarts within its window.
    pub fn is_failing(&self) -> bool {
        lock(&self.failing).is_some_and(|(since, window)| since.elapsed() < window)
    }

    fn report(&self, role: &'static str, component: &'static str) -> ComponentReport {
        let running = self.running();
        let failing = self.is_failing();
        let state = match (running, failing) {
            (0, true) => ComponentState::Failed,
            (0, false) => ComponentState::Restarting,
            (_, true) => ComponentState::Degraded,
            (_, false) => ComponentState::Running,
        };
        ComponentReport {
            role,
            component,
            state,
            running,
            expected: self.expected,
            restarts: self.restarts.load(Ordering::Relaxed),
            escalations: self.escalations.load(Ordering::Relaxed),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain values with no invariant a panic could break.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What `/health` says of one subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    /// At least one worker runs, and the root has not run out of restarts lately.
    Running,
    /// Workers run again, but the root ran out of restarts within its window.
    Degraded,
    /// No worker runs; a restart is due after its backoff.
    Restarting,
    /// No worker runs, and the root keeps failing (it still retries at its capped backoff).
    Failed,
}

/// One subtree in the `/health` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentReport {
    #[serde(skip)]
    pub role: &'static str,
    pub component: &'static str,
    pub state: ComponentState,
    pub running: usize,
    pub expected: usize,
    pub restarts: u64,
    pub escalations: u64,
}

impl ComponentReport {
    /// Whether the subtree does its job at all right now.
    pub fn is_up(&self) -> bool {
        self.running > 0
    }
}

/// The roles this process runs, each with its subtrees. Roles without supervised workers (the
/// servers) are registered with no components: they run as long as the process answers.
#[derive(Debug, Default)]
pub struct RoleRegistry {
    entries: Mutex<Vec<Entry>>,
}

#[derive(Debug)]
struct Entry {
    role: &'static str,
    component_opt: Option<(&'static str, Arc<WorkerStatus>)>,
}

/// One role in the `/health` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleReport {
    pub role: &'static str,
    /// False when one of its subtrees has no running worker.
    pub up: bool,
    pub components: Vec<ComponentReport>,
}

impl RoleRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that this process runs `role`.
    pub fn register_role(&self, role: &'static str) {
        let mut entries = lock(&self.entries);
        if !entries.iter().any(|entry| entry.role == role) {
            entries.push(Entry {
                role,
                component_opt: None,
            });
        }
    }

    /// Registers subtree `component` of `role`, expected to run `expected` workers.
    pub fn register(
        &self,
        role: &'static str,
        component: &'static str,
        expected: usize,
    ) -> Arc<WorkerStatus> {
        let status = Arc::new(WorkerStatus::new(expected));
        lock(&self.entries).push(Entry {
            role,
            component_opt: Some((component, Arc::clone(&status))),
        });
        status
    }

    /// Every role, in registration order.
    pub fn report(&self) -> Vec<RoleReport> {
        let entries = lock(&self.entries);
        let mut roles: Vec<RoleReport> = Vec::new();
        for entry in entries.iter() {
            let index = match roles.iter().position(|role| role.role == entry.role) {
                Some(index) => index,
                None => {
                    roles.push(RoleReport {
                        role: entry.role,
                        up: true,
                        components: Vec::new(),
                    });
                    roles.len() - 1
                }
            };
            if let (Some((component, status)), Some(role)) =
                (&entry.component_opt, roles.get_mut(index))
            {
                let report = status.report(entry.role, component);
                role.up &= report.is_up();
                role.components.push(report);
            }
        }
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn a_role_is_down_while_a_subtree_has_no_running_worker() {
        tokio::time::pause();
        let registry = RoleRegistry::new();
        registry.register_role("poweb");
        let outbound = registry.register("workers", "outbound_delivery", 1);
        let unwrappers = registry.register("workers", "cargo_unwrapping", 2);
        unwrappers.child_started();
        let report = registry.report();
        assert_eq!(report.len(), 2);
        assert!(
            report[0].up && report[0].components.is_empty(),
            "{report:?}"
        );
        assert!(!report[1].up, "the dispatcher is not running");
        assert_eq!(report[1].components[0].state, ComponentState::Restarting);
        assert_eq!(report[1].components[1].state, ComponentState::Running);

        outbound.child_started();
        assert!(registry.report()[1].up);
        outbound.child_stopped();
        outbound.mark_failing(Instant::now(), Duration::from_secs(60));
        assert_eq!(
            registry.report()[1].components[0].state,
            ComponentState::Failed
        );
        outbound.child_started();
        assert_eq!(
            registry.report()[1].components[0].state,
            ComponentState::Degraded
        );
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(
            registry.report()[1].components[0].state,
            ComponentState::Running
        );
        outbound.child_stopped();
        outbound.child_stopped();
        assert_eq!(outbound.running(), 0, "never below zero");
    }
}
