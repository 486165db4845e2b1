//! The host resolver of the guarded HTTP client: it resolves, drops the addresses the egress
//! policy refuses, and hands only the rest to the connector. Checking here, on the very
//! addresses connected to, is what defeats DNS rebinding: a separate pre-check would resolve
//! once and let the connector resolve again to something else.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::egress::{EgressPolicy, EgressRefusal, FilterError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Resolves a host name to its addresses (A and AAAA).
#[async_trait]
pub trait HostLookup: Send + Sync {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The system resolver (`getaddrinfo`, so `/etc/hosts` too), as reqwest uses by default.
pub struct SystemLookup;

#[async_trait]
impl HostLookup for SystemLookup {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let addresses = tokio::net::lookup_host((host, 0)).await?;
        Ok(addresses.map(|address| address.ip()).collect())
    }
}

/// A reqwest resolver that never yields an address the policy refuses.
pub struct GuardedResolver {
    policy: EgressPolicy,
    lookup: Arc<dyn HostLookup>,
}

impl GuardedResolver {
    pub fn new(policy: EgressPolicy, lookup: Arc<dyn HostLookup>) -> Self {
        GuardedResolver { policy, lookup }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let lookup = Arc::clone(&self.lookup);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = lookup.lookup(&host).await?;
            let total = found.len();
            let kept = policy.filter(&host, found).map_err(|error| -> BoxError {
                match error {
                    FilterError::Refused(refusal) => Box::new(refusal),
                    FilterError::NoAddresses(_) => Box::new(error),
                }
            })?;
            if kept.len() < total {
                // Someone published a mix; the public ones are fine, the rest is worth a note.
                tracing::debug!(
                    host,
                    kept = kept.len(),
                    total,
                    "ignoring non-public addresses of a destination"
                );
            }
            // Port 0: the connector puts the URL's port in.
            let addrs: Addrs = Box::new(kept.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The refusal behind a failed request, if the guarded resolver is why it failed.
pub fn find_refusal(error: &(dyn std::error::Error + 'static)) -> Option<EgressRefusal> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(refusal) = error.downcast_ref::<EgressRefusal>() {
            return Some(refusal.clone());
        }
        // `io::Error::source` skips the error it wraps; look inside.
        if let Some(inner) = error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<EgressRefusal>())
        {
            return Some(inner.clone());
        }
        current = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::str::FromStr;

    use super::*;

    struct Table(HashMap<&'static str, Vec<IpAddr>>);

    #[async_trait]
    impl HostLookup for Table {
        async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
            self.0
                .get(host)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "nxdomain"))
        }
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|ip| ip.parse().unwrap()).collect()
    }

    fn resolver(policy: EgressPolicy) -> GuardedResolver {
        let table = HashMap::from([
            (
                "mixed.example",
                ips(&["10.0.0.1", "8.8.8.8", "::1", "2606:4700::1"]),
            ),
            ("internal.example", ips(&["127.0.0.1", "fd00::1"])),
        ]);
        GuardedResolver::new(policy, Arc::new(Table(table)))
    }

    async fn resolve(resolver: &GuardedResolver, host: &str) -> Result<Vec<IpAddr>, BoxError> {
        let name = Name::from_str(host).unwrap();
        let addrs = resolver.resolve(name).await?;
        Ok(addrs.map(|address| address.ip()).collect())
    }

    #[tokio::test]
    async fn only_allowed_addresses_reach_the_connector() {
        let strict = resolver(EgressPolicy::default());
        assert_eq!(
            resolve(&strict, "mixed.example").await.unwrap(),
            ips(&["8.8.8.8", "2606:4700::1"])
        );
        let error = resolve(&strict, "internal.example").await.unwrap_err();
        let refusal = find_refusal(error.as_ref()).expect("a refusal");
        assert_eq!(refusal.host, "internal.example");
        assert_eq!(refusal.range.name(), "loopback");
        // A failed lookup is no refusal: it may work later.
        let error = resolve(&strict, "missing.example").await.unwrap_err();
        assert!(find_refusal(error.as_ref()).is_none());

        let allowing = resolver(EgressPolicy::new([
            "fd00::/8".parse().unwrap(),
            "mixed.example".parse().unwrap(),
        ]));
        assert_eq!(
            resolve(&allowing, "internal.example").await.unwrap(),
            ips(&["fd00::1"])
        );
        assert_eq!(resolve(&allowing, "mixed.example").await.unwrap().len(), 4);
    }

    #[test]
    fn refusals_are_found_inside_io_errors() {
        let refusal = EgressRefusal {
            host: "x.example".to_owned(),
            address: "127.0.0.1".parse().unwrap(),
            range: super::super::egress::SpecialRange::Loopback,
        };
        let wrapped = io::Error::other(refusal.clone());
        assert_eq!(find_refusal(&wrapped), Some(refusal));
        assert_eq!(find_refusal(&io::Error::other("plain")), None);
    }
}
