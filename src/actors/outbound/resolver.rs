//! Where a parcel for an Internet address is POSTed (notes §1.2 and §6.2).
//!
//! A configured route wins; otherwise the first answer of the DNS SRV record
//! `_awala-pdc._tcp.<address>` (DNSSEC-validated when configured) gives `https://target:port/`;
//! when there is no such record (NXDOMAIN or no SRV answer), `https://<address>/`. Only routes
//! may use plain `http`: anything DNS yields is `https`, with the SRV target as TLS SNI and
//! `Host`. The lookup sits behind [`SrvLookup`] so the choice logic is testable without DNS.
//!
//! An address that is a non-public IP literal is refused here, before any lookup; what DNS
//! yields is checked by the HTTP client on the addresses it connects to (`dns_guard`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;
use thiserror::Error;
use url::Url;

use super::egress::{ip_literal, EgressPolicy, EgressRefusal};
use crate::config::RouteUrl;
use crate::protocols::awala::messages::is_valid_domain;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::pohttp::client::srv_name;

/// Longest a whole SRV lookup may take before the delivery is retried later.
pub const DNS_LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Where to POST, and whether plain `http` is acceptable there (and for its redirects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: Url,
    /// Only an operator's route may say `http://`.
    pub allow_plain_http: bool,
    /// An operator's route: its origin (not where it redirects) is exempt from the egress
    /// policy, as the operator chose it.
    pub exempt: bool,
}

/// The first SRV answer, or the fact that there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrvAnswer {
    Found {
        target: String,
        port: u16,
    },
    /// NXDOMAIN or no SRV record: fall back to `https://<address>`.
    Absent,
}

/// Why no URL could be worked out for an address.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ResolveError {
    #[error("`{0}` is not an internet address")]
    BadAddress(String),
    #[error("dns lookup of {name} failed: {reason}")]
    Lookup { name: String, reason: String },
    #[error("srv answer for {name} is not dnssec-validated")]
    Unvalidated { name: String },
    #[error("srv target `{target}` of {name} is not a host name")]
    BadTarget { name: String, target: String },
    #[error(transparent)]
    Egress(EgressRefusal),
}

impl ResolveError {
    /// A malformed or refused address never resolves; everything else may once DNS is fixed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, ResolveError::BadAddress(_) | ResolveError::Egress(_))
    }

    /// Bounded label for metrics.
    pub fn name(&self) -> &'static str {
        match self {
            ResolveError::BadAddress(_) => "bad_address",
            ResolveError::Lookup { .. } => "dns_lookup",
            ResolveError::Unvalidated { .. } => "dns_unvalidated",
            ResolveError::BadTarget { .. } => "dns_bad_target",
            ResolveError::Egress(_) => "egress_refused",
        }
    }
}

impl HasErrorCode for ResolveError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            ResolveError::Egress(refusal) => refusal.error_code(),
            ResolveError::BadAddress(_) => GatewayErrorCode::Malformed,
            _ => GatewayErrorCode::Unavailable,
        }
    }
}

/// Looks up the first SRV answer for a fully qualified name.
#[async_trait]
pub trait SrvLookup: Send + Sync {
    async fn first_srv(&self, name: &str) -> Result<SrvAnswer, ResolveError>;
}

/// Chooses the delivery URL of an Internet address.
pub struct PohttpResolver {
    routes: BTreeMap<String, RouteUrl>,
    srv: Arc<dyn SrvLookup>,
    egress: EgressPolicy,
}

impl PohttpResolver {
    /// `routes` keys are lower-case addresses (the config checks that). The egress policy is
    /// the strict one until [`PohttpResolver::with_egress`] says otherwise.
    pub fn new(routes: BTreeMap<String, RouteUrl>, srv: Arc<dyn SrvLookup>) -> Self {
        PohttpResolver {
            routes,
            srv,
            egress: EgressPolicy::default(),
        }
    }

    /// Judges IP-literal addresses by `egress` (with its allow-list).
    pub fn with_egress(mut self, egress: EgressPolicy) -> Self {
        self.egress = egress;
        self
    }

    pub async fn resolve(&self, address: &str) -> Result<Target, ResolveError> {
        let normalised = normalise_address(address);
        if let Some(route) = normalised.as_ref().ok().and_then(|a| self.routes.get(a)) {
            let url = route.url().clone();
            return Ok(Target {
                allow_plain_http: url.scheme() == "http",
                exempt: true,
                url,
            });
        }
        // Before the domain check: `[::1]` and `2130706433` are no domains, but what they are
        // is the more useful answer (and the one operators count).
        self.check_literal(address).map_err(ResolveError::Egress)?;
        let address = normalised?;
        let name = format!("{}.", srv_name(&address));
        match self.srv.first_srv(&name).await? {
            SrvAnswer::Found { target, port } => srv_url(&name, &target, port),
            SrvAnswer::Absent => fallback_url(&address),
        }
        .map(|url| Target {
            url,
            allow_plain_http: false,
            exempt: false,
        })
    }
}

impl PohttpResolver {
    /// Refuses an address that is an IP literal (in any form) outside the egress policy.
    pub fn check_literal(&self, address: &str) -> Result<(), EgressRefusal> {
        match ip_literal(address) {
            Some(ip) => self.egress.check_ip(address.trim(), ip),
            None => Ok(()),
        }
    }
}

/// Lower case, no trailing dot, and a valid domain name (anything else could smuggle a port,
/// path or credentials into the URL we build).
pub fn normalise_address(address: &str) -> Result<String, ResolveError> {
    let normalised = address.trim().trim_end_matches('.').to_ascii_lowercase();
    if is_valid_domain(&normalised) {
        Ok(normalised)
    } else {
        Err(ResolveError::BadAddress(address.to_owned()))
    }
}

/// `https://<address>/`, port 443.
pub fn fallback_url(address: &str) -> Result<Url, ResolveError> {
    Url::parse(&format!("https://{address}/"))
        .map_err(|_| ResolveError::BadAddress(address.to_owned()))
}

/// `https://<target>:<port>/` from an SRV answer; the target loses its trailing dot.
pub fn srv_url(name: &str, target: &str, port: u16) -> Result<Url, ResolveError> {
    let host = target.trim_end_matches('.').to_ascii_lowercase();
    let bad_target = || ResolveError::BadTarget {
        name: name.to_owned(),
        target: target.to_owned(),
    };
    if !is_valid_domain(&host) || port == 0 {
        return Err(bad_target());
    }
    Url::parse(&format!("https://{host}:{port}/")).map_err(|_| bad_target())
}

// === impl DnsSrvLookup ===

/// SRV lookups with hickory: the configured server or the system's, DNSSEC when asked.
pub struct DnsSrvLookup {
    resolver: TokioResolver,
    dnssec: bool,
}

impl DnsSrvLookup {
    pub fn new(dns_server: Option<SocketAddr>, dnssec: bool) -> Result<Self, ResolveError> {
        let setup_error = |error: &dyn std::fmt::Display| ResolveError::Lookup {
            name: "(resolver set-up)".to_owned(),
            reason: error.to_string(),
        };
        let mut builder = match dns_server {
            Some(server) => {
                let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
                for connection in &mut name_server.connections {
                    connection.port = server.port();
                }
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![name_server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio().map_err(|e| setup_error(&e))?,
        };
        let options = builder.options_mut();
        options.validate = dnssec;
        options.timeout = Duration::from_secs(2);
        options.attempts = 1;
        let resolver = builder.build().map_err(|e| setup_error(&e))?;
        Ok(DnsSrvLookup { resolver, dnssec })
    }
}

#[async_trait]
impl SrvLookup for DnsSrvLookup {
    async fn first_srv(&self, name: &str) -> Result<SrvAnswer, ResolveError> {
        let failed = |reason: String| ResolveError::Lookup {
            name: name.to_owned(),
            reason,
        };
        let lookup =
            match tokio::time::timeout(DNS_LOOKUP_TIMEOUT, self.resolver.srv_lookup(name)).await {
                Err(_) => return Err(failed("timed out".to_owned())),
                Ok(Err(error)) if error.is_no_records_found() => return Ok(SrvAnswer::Absent),
                Ok(Err(error)) => return Err(failed(error.to_string())),
                Ok(Ok(lookup)) => lookup,
            };
        // The reference client uses the first answer only (no priority or weight handling).
        let Some(record) = lookup
            .answers()
            .iter()
            .find(|record| matches!(record.data, RData::SRV(_)))
        else {
            return Ok(SrvAnswer::Absent);
        };
        if self.dnssec && !record.proof.is_secure() {
            return Err(ResolveError::Unvalidated {
                name: name.to_owned(),
            });
        }
        let RData::SRV(srv) = &record.data else {
            return Ok(SrvAnswer::Absent);
        };
        Ok(SrvAnswer::Found {
            target: srv.target.to_ascii(),
            port: srv.port,
        })
    }
}

#[cfg(test)]
#[path = "resolver_tests.rs"]
mod tests;
