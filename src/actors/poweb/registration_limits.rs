//! What keeps pre-registrations and registrations (RSA signing and certificate issuance, open to
//! anyone) from starving the rest of PoWeb: a per-source-address rate limit answered with `429`,
//! and a bounded signing pool answered with `503` when full.
//!
//! The source address is the socket's peer address. Behind a proxy that is the proxy's, so all
//! clients share one bucket: raise `limits.registration_rate_per_minute` there (no forwarded
//! header is trusted, since nothing says which proxy may set it).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use super::body::error;
use crate::actors::cpu_pool::{CpuPool, PoolError};
use crate::actors::load_shield::RETRY_AFTER_SECS;
use crate::actors::rate_limit::RateLimiter;
use crate::config::LimitsConfig;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::poweb::PowebEndpoint;
use crate::telemetry::{Binding, Metrics};

/// The limits both registration endpoints share.
#[derive(Debug)]
pub struct RegistrationLimits {
    limiter: RateLimiter,
    pool: CpuPool,
}

impl RegistrationLimits {
    pub fn new(limits: &LimitsConfig) -> Self {
        RegistrationLimits {
            limiter: RateLimiter::new(
                limits.registration_rate_per_minute,
                limits.registration_burst,
                limits.registration_rate_tracked_addresses as usize,
            ),
            pool: CpuPool::new(
                limits.registration_concurrency as usize,
                limits.registration_queue as usize,
            ),
        }
    }

    /// Takes a token from the request's source address; when there is none, the answer: `429`
    /// with `Retry-After` (whole seconds, rounded up), counted. Checked before the body is read,
    /// so a limited client costs no more than its request head.
    pub fn refusal(
        &self,
        request: &HttpRequest,
        metrics: &Metrics,
        endpoint: PowebEndpoint,
    ) -> Option<HttpResponse> {
        // Only a socket without a peer address (never TCP) goes unlimited.
        let peer = request.peer_addr()?;
        self.limiter.check(peer.ip()).err().map(|wait| {
            metrics.record_rate_limited(Binding::Poweb, endpoint.name());
            let code = GatewayErrorCode::RateLimited;
            let mut response = error(code.http_status(), "too many registrations; retry later");
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            response
        })
    }

    /// The pool that registration's CPU work runs on.
    pub fn pool(&self) -> &CpuPool {
        &self.pool
    }
}

/// The answer when pooled work did not run: `503` with `Retry-After` when the pool is full.
pub fn pool_failure(metrics: &Metrics, stage: &'static str, failure: &PoolError) -> HttpResponse {
    match failure {
        PoolError::Full => {
            let code = failure.error_code();
            let mut response = error(code.http_status(), "server is busy; retry later");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            response
        }
        PoolError::Failed(_) => super::body::server_failure(metrics, stage, failure),
    }
}
