//! One PoHTTP delivery attempt: POST the parcel, follow 307/308 redirects (re-sending the
//! body), and read the answer with the pure classifier of `protocols::pohttp::client`.
//!
//! Redirects are followed here rather than by reqwest because reqwest's policy would not let us
//! refuse cleartext targets per route, nor count redirects the way the reference client does.
//!
//! Two HTTP clients: the open one for an operator's route (and redirects within its origin),
//! and the guarded one for everything else, whose resolver connects only where the egress
//! policy allows. IP-literal hosts never reach a resolver, so each hop checks those first.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use thiserror::Error;
use url::Url;

use super::dns_guard::{find_refusal, GuardedResolver, HostLookup};
use super::egress::{EgressPolicy, EgressRefusal};
use super::resolver::Target;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::pohttp::client::{
    classify_delivery_response, DeliveryOutcome, RetryReason, REQUEST_TIMEOUT_SECS,
};

/// The media type of a parcel POST (RS-007).
pub const PARCEL_CONTENT_TYPE: &str = "application/vnd.awala.parcel";
/// The reference client's per-request timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(REQUEST_TIMEOUT_SECS);

/// The final result of one attempt (redirects already followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The recipient answered 2xx.
    Delivered { status: u16 },
    /// The recipient refused the parcel for good (403 or another 4xx).
    Rejected { status: u16 },
    /// The egress policy refused the destination (or a redirect): never retried.
    Forbidden(EgressRefusal),
    /// Try again later.
    Retry(RetryCause),
}

/// Why an attempt is to be retried.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RetryCause {
    #[error("recipient answered {status}: {}", reason.name())]
    Response { status: u16, reason: RetryReason },
    #[error("redirect to `{0}` refused: only https may follow")]
    InsecureRedirect(String),
    #[error("redirect location `{0}` is not a url")]
    BadRedirect(String),
    #[error("request timed out")]
    Timeout,
    #[error("request failed: {0}")]
    Network(String),
    #[error("{0}")]
    Resolve(String),
}

impl RetryCause {
    /// Bounded label for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            RetryCause::Response { reason, .. } => reason.name(),
            RetryCause::InsecureRedirect(_) => RetryReason::InsecureRedirect.name(),
            RetryCause::BadRedirect(_) => "bad_redirect",
            RetryCause::Timeout => "timeout",
            RetryCause::Network(_) => "network",
            RetryCause::Resolve(_) => "resolve",
        }
    }
}

impl HasErrorCode for RetryCause {
    fn error_code(&self) -> GatewayErrorCode {
        GatewayErrorCode::Unavailable
    }
}

/// The HTTP clients of the outbound worker: no automatic redirects, a per-request timeout.
#[derive(Clone)]
pub struct PohttpClient {
    open: reqwest::Client,
    guarded: reqwest::Client,
    policy: EgressPolicy,
}

impl PohttpClient {
    pub fn new(
        timeout: Duration,
        policy: EgressPolicy,
        lookup: Arc<dyn HostLookup>,
    ) -> Result<Self, reqwest::Error> {
        let builder = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
        };
        let open = builder().build()?;
        // A proxy would resolve names itself, past the guard.
        let guarded = builder()
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(policy.clone(), lookup)))
            .build()?;
        Ok(PohttpClient {
            open,
            guarded,
            policy,
        })
    }

    /// POSTs `parcel` to `target`, following up to three 307/308 redirects.
    pub async fn attempt(&self, target: &Target, parcel: &Bytes) -> AttemptOutcome {
        let mut url = target.url.clone();
        let mut redirects = 0u8;
        loop {
            let http = match self.client_for(target, &url) {
                Ok(http) => http,
                Err(refusal) => return AttemptOutcome::Forbidden(refusal),
            };
            let (status, location) = match post(http, &url, parcel).await {
                Ok(answer) => answer,
                Err(Failure::Refused(refusal)) => return AttemptOutcome::Forbidden(refusal),
                Err(Failure::Retry(cause)) => return AttemptOutcome::Retry(cause),
            };
            match classify_delivery_response(status, location.as_deref(), redirects) {
                DeliveryOutcome::Delivered => return AttemptOutcome::Delivered { status },
                DeliveryOutcome::Rejected { status } => return AttemptOutcome::Rejected { status },
                DeliveryOutcome::Retry { reason } => {
                    return AttemptOutcome::Retry(RetryCause::Response { status, reason })
                }
                DeliveryOutcome::Redirect { url: location } => {
                    url = match redirect_target(&url, &location, target.allow_plain_http) {
                        Ok(next) => next,
                        Err(cause) => return AttemptOutcome::Retry(cause),
                    };
                    redirects += 1;
                }
            }
        }
    }

    /// The open client within a route's own origin; the guarded one, after checking IP-literal
    /// hosts, anywhere else (a route may redirect to whatever its server says).
    fn client_for(&self, target: &Target, url: &Url) -> Result<&reqwest::Client, EgressRefusal> {
        if target.exempt && url.origin() == target.url.origin() {
            return Ok(&self.open);
        }
        self.policy.check_url(url)?;
        Ok(&self.guarded)
    }
}

enum Failure {
    Refused(EgressRefusal),
    Retry(RetryCause),
}

async fn post(
    http: &reqwest::Client,
    url: &Url,
    parcel: &Bytes,
) -> Result<(u16, Option<String>), Failure> {
    let response = http
        .post(url.clone())
        .header(CONTENT_TYPE, PARCEL_CONTENT_TYPE)
        .body(parcel.clone())
        .send()
        .await
        .map_err(|error| {
            if let Some(refusal) = find_refusal(&error) {
                Failure::Refused(refusal)
            } else if error.is_timeout() {
                Failure::Retry(RetryCause::Timeout)
            } else {
                Failure::Retry(RetryCause::Network(error_chain(&error)))
            }
        })?;
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Ok((response.status().as_u16(), location))
}

/// Resolves a `Location` against the URL that answered, refusing anything but https (plain
/// http too when the route itself was http).
pub fn redirect_target(
    current: &Url,
    location: &str,
    allow_plain_http: bool,
) -> Result<Url, RetryCause> {
    let next = current
        .join(location)
        .map_err(|_| RetryCause::BadRedirect(location.to_owned()))?;
    match next.scheme() {
        "https" => Ok(next),
        "http" if allow_plain_http => Ok(next),
        _ => Err(RetryCause::InsecureRedirect(location.to_owned())),
    }
}

/// reqwest's `Display` hides the cause (e.g. "connection refused"); operators need it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn relative_redirects_keep_the_scheme_and_host() {
        let current = url("https://pdc.example.com:8443/in");
        assert_eq!(
            redirect_target(&current, "/other", false),
            Ok(url("https://pdc.example.com:8443/other"))
        );
        assert_eq!(
            redirect_target(&current, "https://elsewhere.example/", false),
            Ok(url("https://elsewhere.example/"))
        );
    }

    #[test]
    fn cleartext_redirects_only_on_http_routes() {
        let plain = url("http://127.0.0.1:8080/");
        assert_eq!(
            redirect_target(&plain, "/next", true),
            Ok(url("http://127.0.0.1:8080/next"))
        );
        assert_eq!(
            redirect_target(&plain, "/next", false),
            Err(RetryCause::InsecureRedirect("/next".to_owned()))
        );
        let secure = url("https://pdc.example.com/");
        for location in ["http://pdc.example.com/", "ftp://pdc.example.com/"] {
            assert_eq!(
                redirect_target(&secure, location, false),
                Err(RetryCause::InsecureRedirect(location.to_owned()))
            );
        }
    }

    #[test]
    fn causes_have_bounded_names() {
        let cause = RetryCause::Response {
            status: 503,
            reason: RetryReason::ServerError,
        };
        assert_eq!(cause.name(), "server_error");
        assert_eq!(cause.to_string(), "recipient answered 503: server_error");
        assert_eq!(RetryCause::Timeout.name(), "timeout");
    }
}
