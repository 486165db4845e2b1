//! PoHTTP client side: how the outbound delivery worker reads a response (notes §6.2).
//!
//! Mirrors the reference client: 2xx delivered; 307/308 followed up to [`MAX_REDIRECTS`] times
//! (re-sending the body); 403 and every other 4xx are a refusal never retried; 5xx and
//! anything unexpected are retried until the parcel expires.

/// Consecutive redirects followed before giving up for now.
pub const MAX_REDIRECTS: u8 = 3;
/// Per-request timeout of the reference client.
pub const REQUEST_TIMEOUT_SECS: u64 = 3;
/// DNS SRV service label of PoHTTP parcel delivery.
pub const SRV_SERVICE: &str = "_awala-pdc._tcp";

/// The SRV name to resolve (with DNSSEC) for an Internet address; when it has no SRV record,
/// the reference client falls back to `https://<address>`.
pub fn srv_name(internet_address: &str) -> String {
    format!("{SRV_SERVICE}.{internet_address}")
}

/// What the worker does with a parcel after one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The recipient took the parcel: done.
    Delivered,
    /// The recipient refused the parcel for good: drop it.
    Rejected {
        /// The status it answered.
        status: u16,
    },
    /// Try again later (with backoff), unless the parcel has expired by then.
    Retry {
        /// Why, as a bounded label.
        reason: RetryReason,
    },
    /// POST the same body to this URL now. It is the raw `Location` value: the caller resolves
    /// relative references against the request URL and must refuse non-`https` results.
    Redirect {
        /// The `Location` header value.
        url: String,
    },
}

/// Why a delivery is retried; bounded for the `outcome` metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryReason {
    /// 5xx (including RS-007's 507 "no capacity for that gateway").
    ServerError,
    /// A 307/308 after [`MAX_REDIRECTS`] redirects already followed.
    TooManyRedirects,
    /// A 307/308 without a `Location` header.
    RedirectWithoutLocation,
    /// A redirect to plain `http:`; the reference client refuses cleartext URLs.
    InsecureRedirect,
    /// Any other status (1xx, other 3xx): a broken server we hope recovers.
    UnexpectedStatus,
}

impl RetryReason {
    /// Bounded label for metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            RetryReason::ServerError => "server_error",
            RetryReason::TooManyRedirects => "too_many_redirects",
            RetryReason::RedirectWithoutLocation => "redirect_without_location",
            RetryReason::InsecureRedirect => "insecure_redirect",
            RetryReason::UnexpectedStatus => "unexpected_status",
        }
    }
}

impl DeliveryOutcome {
    /// Bounded label for the `outcome` metric label.
    pub fn name(&self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Rejected { .. } => "rejected",
            DeliveryOutcome::Retry { .. } => "retry",
            DeliveryOutcome::Redirect { .. } => "redirect",
        }
    }
}

/// Classify a response to a parcel POST. `redirects_so_far` counts redirects already followed
/// for this delivery attempt.
pub fn classify_delivery_response(
    status: u16,
    location: Option<&str>,
    redirects_so_far: u8,
) -> DeliveryOutcome {
    let retry = |reason| DeliveryOutcome::Retry { reason };
    match status {
        200..=299 => DeliveryOutcome::Delivered,
        307 | 308 => {
            let Some(url) = location.map(str::trim).filter(|url| !url.is_empty()) else {
                return retry(RetryReason::RedirectWithoutLocation);
            };
            if redirects_so_far >= MAX_REDIRECTS {
                retry(RetryReason::TooManyRedirects)
            } else if url
                .get(..5)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http:"))
            {
                retry(RetryReason::InsecureRedirect)
            } else {
                DeliveryOutcome::Redirect {
                    url: url.to_owned(),
                }
            }
        }
        400..=499 => DeliveryOutcome::Rejected { status },
        500..=599 => retry(RetryReason::ServerError),
        _ => retry(RetryReason::UnexpectedStatus),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryOutcome::*;

    #[test]
    fn success_and_refusals() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(classify_delivery_response(status, None, 0), Delivered);
        }
        for status in [400, 403, 404, 413, 415, 422, 499] {
            assert_eq!(
                classify_delivery_response(status, None, 0),
                Rejected { status }
            );
        }
    }

    #[test]
    fn retries() {
        let cases = [
            (500, RetryReason::ServerError),
            (503, RetryReason::ServerError),
            (507, RetryReason::ServerError),
            (100, RetryReason::UnexpectedStatus),
            (301, RetryReason::UnexpectedStatus),
            (302, RetryReason::UnexpectedStatus),
            (304, RetryReason::UnexpectedStatus),
            (600, RetryReason::UnexpectedStatus),
            (0, RetryReason::UnexpectedStatus),
        ];
        for (status, reason) in cases {
            assert_eq!(
                classify_delivery_response(status, None, 0),
                Retry { reason }
            );
        }
    }

    #[test]
    fn redirects_up_to_three() {
        let url = "https://other.example/pdc";
        for (status, so_far) in [(307, 0), (308, 1), (307, 2)] {
            assert_eq!(
                classify_delivery_response(status, Some(url), so_far),
                Redirect {
                    url: url.to_owned()
                }
            );
        }
        assert_eq!(
            classify_delivery_response(307, Some(url), 3),
            Retry {
                reason: RetryReason::TooManyRedirects
            }
        );
        assert_eq!(
            classify_delivery_response(308, Some("/relative"), 0),
            Redirect {
                url: "/relative".to_owned()
            }
        );
    }

    #[test]
    fn bad_redirects_are_retried() {
        for location in [None, Some(""), Some("  ")] {
            assert_eq!(
                classify_delivery_response(307, location, 0),
                Retry {
                    reason: RetryReason::RedirectWithoutLocation
                }
            );
        }
        for location in ["http://plain.example/", "HTTP://plain.example/"] {
            assert_eq!(
                classify_delivery_response(308, Some(location), 0),
                Retry {
                    reason: RetryReason::InsecureRedirect
                }
            );
        }
    }

    #[test]
    fn srv_names() {
        assert_eq!(srv_name("example.com"), "_awala-pdc._tcp.example.com");
        assert_eq!(
            srv_name("pdc.example.org"),
            "_awala-pdc._tcp.pdc.example.org"
        );
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(Delivered.name(), "delivered");
        assert_eq!(Rejected { status: 403 }.name(), "rejected");
        assert_eq!(
            Retry {
                reason: RetryReason::ServerError
            }
            .name(),
            "retry"
        );
        assert_eq!(RetryReason::InsecureRedirect.name(), "insecure_redirect");
    }
}
