//! Readiness (`/ready`, and `/health` as its alias): is this process able to do its job now?
//!
//! Every backend is checked at once, each within [`CHECK_TIMEOUT`], so a hung engine makes the
//! probe answer 503 in bounded time instead of hanging it (an orchestrator's probe that times out
//! tells nobody which backend is at fault). Each role's supervised workers must run too.
//! Liveness (`/live`) checks none of this: restarting a process because its database is down
//! would not bring the database back.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use crate::actors::gateway::GatewayContext;
use crate::backends::{BackendError, Backends};
use crate::supervision::status::RoleReport;

/// How long one backend's health check may take before it counts as down.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The outcome of one backend's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendCheck {
    /// `ok` or `error`.
    pub status: &'static str,
    /// What failed (`unavailable: …`, or that it gave no answer in time), when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl BackendCheck {
    fn ok() -> Self {
        Self {
            status: "ok",
            error: None,
        }
    }

    fn failed(error: impl Into<String>) -> Self {
        Self {
            status: "error",
            error: Some(error.into()),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Every backend's check, one field per backend so the JSON names each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendChecks {
    pub queue: BackendCheck,
    pub metadata: BackendCheck,
    pub objects: BackendCheck,
    pub pubsub: BackendCheck,
    pub keys: BackendCheck,
}

impl BackendChecks {
    pub fn all_ok(&self) -> bool {
        self.named().iter().all(|(_, check)| check.is_ok())
    }

    /// Each check with its field name.
    pub fn named(&self) -> [(&'static str, &BackendCheck); 5] {
        [
            ("queue", &self.queue),
            ("metadata", &self.metadata),
            ("objects", &self.objects),
            ("pubsub", &self.pubsub),
            ("keys", &self.keys),
        ]
    }
}

/// The `/ready` body.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// `ok` or `unavailable`, as the status code says.
    pub status: &'static str,
    pub backends: BackendChecks,
    pub roles: Vec<RoleReport>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.status == "ok"
    }
}

/// Checks every backend and every role of `context`, each backend within `timeout`.
pub async fn check(context: &GatewayContext, timeout: Duration) -> Readiness {
    let backends = check_backends(&context.backends, timeout).await;
    for (name, backend) in backends.named() {
        context.metrics.set_backend_up(name, backend.is_ok());
    }
    let roles = context.roles.report();
    let ready = backends.all_ok() && roles.iter().all(|role| role.up);
    Readiness {
        status: if ready { "ok" } else { "unavailable" },
        backends,
        roles,
    }
}

/// Runs every backend's health check concurrently, each bounded by `timeout`.
pub async fn check_backends(backends: &Backends, timeout: Duration) -> BackendChecks {
    let (queue, metadata, objects, pubsub, keys) = futures::join!(
        bounded(timeout, backends.queue.health_check()),
        bounded(timeout, backends.metadata.health_check()),
        bounded(timeout, backends.objects.health_check()),
        bounded(timeout, backends.notifier.health_check()),
        bounded(timeout, backends.sealer.health_check()),
    );
    BackendChecks {
        queue,
        metadata,
        objects,
        pubsub,
        keys,
    }
}

/// One check, failed if it does not answer within `timeout`.
pub async fn bounded(
    timeout: Duration,
    check: impl Future<Output = Result<(), BackendError>>,
) -> BackendCheck {
    match tokio::time::timeout(timeout, check).await {
        Ok(Ok(())) => BackendCheck::ok(),
        Ok(Err(error)) => BackendCheck::failed(error.to_string()),
        Err(_) => BackendCheck::failed(format!(
            "unavailable: no answer within {} ms",
            timeout.as_millis()
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;

    use super::*;
    use crate::actors::cogrpc::test_support::Fixture;
    use crate::backends::keys::KekSettings;
    use crate::backends::BackendOptions;

    #[tokio::test]
    async fn a_check_that_never_answers_fails_in_bounded_time() {
        let started = Instant::now();
        let check = bounded(
            Duration::from_millis(50),
            std::future::pending::<Result<(), BackendError>>(),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(check.status, "error");
        assert_eq!(
            check.error.as_deref(),
            Some("unavailable: no answer within 50 ms")
        );
    }

    #[tokio::test]
    async fn failures_keep_their_kind_and_message() {
        let check = bounded(CHECK_TIMEOUT, async {
            Err(BackendError::unavailable("connection refused"))
        })
        .await;
        assert_eq!(
            check.error.as_deref(),
            Some("unavailable: connection refused")
        );
        assert!(bounded(CHECK_TIMEOUT, async { Ok(()) }).await.is_ok());
    }

    #[actix_rt::test]
    async fn every_backend_is_named_and_an_exposed_kek_file_makes_keys_fail() {
        let dir = tempfile::tempdir().expect("temp dir");
        let kek_file = dir.path().join("kek");
        let f = Fixture::with_options(BackendOptions {
            kek: KekSettings {
                value: None,
                file: Some(kek_file.clone()),
            },
            ..BackendOptions::default()
        })
        .await;
        f.context.roles.register_role("poweb");
        let ready = check(&f.context, CHECK_TIMEOUT).await;
        assert!(ready.is_ready(), "{ready:?}");
        let json = serde_json::to_value(&ready).expect("json");
        for backend in ["queue", "metadata", "objects", "pubsub", "keys"] {
            assert_eq!(json["backends"][backend]["status"], "ok", "{json}");
        }

        // Someone made the real KEK file readable: the keys check fails, the others do not.
        std::fs::set_permissions(&kek_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let ready = check(&f.context, CHECK_TIMEOUT).await;
        assert!(!ready.is_ready());
        assert_eq!(ready.status, "unavailable");
        assert!(ready.backends.queue.is_ok());
        assert!(ready.backends.metadata.is_ok());
        let error = ready.backends.keys.error.clone().unwrap_or_default();
        assert!(error.contains("chmod 600"), "{error}");
        let text = f.context.metrics.encode_text().expect("metrics");
        assert!(
            text.contains(r#"gateway_backend_up{backend="keys"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"gateway_backend_up{backend="metadata"} 1"#),
            "{text}"
        );
    }
}
