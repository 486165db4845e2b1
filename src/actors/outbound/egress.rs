//! The egress policy of outbound PoHTTP deliveries: only public unicast addresses.
//!
//! Anyone can register a private gateway and address a parcel to any Internet address, so
//! without this check the gateway would POST wherever a sender's DNS (or IP literal) pointed:
//! its own loopback, the cloud metadata service, the operator's private network (SSRF).
//! [`special_range`] is the pure classification; [`EgressPolicy`] adds the operator's
//! allow-list. The check happens on the address actually connected to (see `dns_guard`), not on
//! an earlier lookup that DNS could contradict a moment later.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use url::{Host, Url};

use crate::protocols::awala::messages::is_valid_domain;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};

/// A non-public range an address falls in; [`SpecialRange::name`] is the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialRange {
    Unspecified,
    Loopback,
    /// RFC 1918 and IPv6 unique local addresses.
    Private,
    LinkLocal,
    /// Shared address space of carrier-grade NAT (RFC 6598).
    Cgnat,
    Multicast,
    Broadcast,
    Documentation,
    Benchmarking,
    /// Deprecated IPv6 site-local addresses.
    SiteLocal,
    /// IPv6 discard prefix (RFC 6666).
    DiscardOnly,
    /// IANA special-purpose blocks with no public unicast use (IETF protocol assignments,
    /// local-use NAT64, the 6to4 relay anycast, SRv6 SIDs).
    SpecialPurpose,
    /// Not allocated for unicast: 240.0.0.0/4 and IPv6 outside 2000::/3.
    Reserved,
}

impl SpecialRange {
    /// Every range, for documentation and tests of the bounded label set.
    pub const ALL: [SpecialRange; 13] = [
        SpecialRange::Unspecified,
        SpecialRange::Loopback,
        SpecialRange::Private,
        SpecialRange::LinkLocal,
        SpecialRange::Cgnat,
        SpecialRange::Multicast,
        SpecialRange::Broadcast,
        SpecialRange::Documentation,
        SpecialRange::Benchmarking,
        SpecialRange::SiteLocal,
        SpecialRange::DiscardOnly,
        SpecialRange::SpecialPurpose,
        SpecialRange::Reserved,
    ];

    /// Bounded label for metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            SpecialRange::Unspecified => "unspecified",
            SpecialRange::Loopback => "loopback",
            SpecialRange::Private => "private",
            SpecialRange::LinkLocal => "link_local",
            SpecialRange::Cgnat => "cgnat",
            SpecialRange::Multicast => "multicast",
            SpecialRange::Broadcast => "broadcast",
            SpecialRange::Documentation => "documentation",
            SpecialRange::Benchmarking => "benchmarking",
            SpecialRange::SiteLocal => "site_local",
            SpecialRange::DiscardOnly => "discard_only",
            SpecialRange::SpecialPurpose => "special_purpose",
            SpecialRange::Reserved => "reserved",
        }
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// First match wins, so the broadcast address comes before the reserved /4 that holds it.
const V4_RANGES: &[(u32, u8, SpecialRange)] = &[
    (v4(255, 255, 255, 255), 32, SpecialRange::Broadcast),
    (v4(0, 0, 0, 0), 8, SpecialRange::Unspecified),
    (v4(10, 0, 0, 0), 8, SpecialRange::Private),
    (v4(100, 64, 0, 0), 10, SpecialRange::Cgnat),
    (v4(127, 0, 0, 0), 8, SpecialRange::Loopback),
    (v4(169, 254, 0, 0), 16, SpecialRange::LinkLocal),
    (v4(172, 16, 0, 0), 12, SpecialRange::Private),
    (v4(192, 0, 0, 0), 24, SpecialRange::SpecialPurpose),
    (v4(192, 0, 2, 0), 24, SpecialRange::Documentation),
    (v4(192, 88, 99, 0), 24, SpecialRange::SpecialPurpose),
    (v4(192, 168, 0, 0), 16, SpecialRange::Private),
    (v4(198, 18, 0, 0), 15, SpecialRange::Benchmarking),
    (v4(198, 51, 100, 0), 24, SpecialRange::Documentation),
    (v4(203, 0, 113, 0), 24, SpecialRange::Documentation),
    (v4(224, 0, 0, 0), 4, SpecialRange::Multicast),
    (v4(240, 0, 0, 0), 4, SpecialRange::Reserved),
];

const fn v6(segments: [u16; 8]) -> u128 {
    let mut bits = 0u128;
    let mut index = 0;
    while index < 8 {
        bits = (bits << 16) | segments[index] as u128;
        index += 1;
    }
    bits
}

/// Ranges without an embedded IPv4 address; those with one are handled in [`special_range`].
const V6_RANGES: &[(u128, u8, SpecialRange)] = &[
    (v6([0, 0, 0, 0, 0, 0, 0, 0]), 128, SpecialRange::Unspecified),
    (v6([0, 0, 0, 0, 0, 0, 0, 1]), 128, SpecialRange::Loopback),
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]),
        48,
        SpecialRange::SpecialPurpose,
    ),
    (
        v6([0x100, 0, 0, 0, 0, 0, 0, 0]),
        64,
        SpecialRange::DiscardOnly,
    ),
    (
        v6([0x2001, 2, 0, 0, 0, 0, 0, 0]),
        48,
        SpecialRange::Benchmarking,
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]),
        32,
        SpecialRange::Documentation,
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0]),
        20,
        SpecialRange::Documentation,
    ),
    (
        v6([0x5f00, 0, 0, 0, 0, 0, 0, 0]),
        16,
        SpecialRange::SpecialPurpose,
    ),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0]), 7, SpecialRange::Private),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]),
        10,
        SpecialRange::LinkLocal,
    ),
    (
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0]),
        10,
        SpecialRange::SiteLocal,
    ),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0]),
        8,
        SpecialRange::Multicast,
    ),
];

const fn prefix_match(bits: u128, net: u128, prefix: u8, width: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = (width - prefix) as u32;
    (bits >> shift) == (net >> shift)
}

fn embedded_v4(bits: u128, shift: u32) -> Ipv4Addr {
    // Truncation is the point: the 32 bits at `shift` are the embedded address.
    Ipv4Addr::from((bits >> shift) as u32)
}

/// The non-public range `ip` is in, or `None` for a public unicast address.
///
/// IPv6 forms that carry an IPv4 address (mapped, compatible, translated, NAT64, 6to4 and
/// Teredo's server and client) are judged by that address: the packet ends up there.
pub fn special_range(ip: IpAddr) -> Option<SpecialRange> {
    match ip {
        IpAddr::V4(ip) => special_range_v4(ip),
        IpAddr::V6(ip) => special_range_v6(ip),
    }
}

fn special_range_v4(ip: Ipv4Addr) -> Option<SpecialRange> {
    let bits = u128::from(ip.to_bits());
    V4_RANGES
        .iter()
        .find(|(net, prefix, _)| prefix_match(bits, u128::from(*net), *prefix, 32))
        .map(|(_, _, range)| *range)
}

fn special_range_v6(ip: Ipv6Addr) -> Option<SpecialRange> {
    let bits = ip.to_bits();
    if let Some((_, _, range)) = V6_RANGES
        .iter()
        .find(|(net, prefix, _)| prefix_match(bits, *net, *prefix, 128))
    {
        return Some(*range);
    }
    let in_range = |segments, prefix| prefix_match(bits, v6(segments), prefix, 128);
    let embedded = if in_range([0, 0, 0, 0, 0, 0xffff, 0, 0], 96) // IPv4-mapped
        || in_range([0, 0, 0, 0, 0xffff, 0, 0, 0], 96) // IPv4-translated (SIIT)
        || in_range([0, 0, 0, 0, 0, 0, 0, 0], 96) // IPv4-compatible (deprecated)
        || in_range([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)
    {
        Some(embedded_v4(bits, 0))
    } else if in_range([0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        Some(embedded_v4(bits, 80))
    } else if in_range([0x2001, 0, 0, 0, 0, 0, 0, 0], 32) {
        // Teredo: the server at bits 32-63, the client inverted in the last 32 bits.
        let server = embedded_v4(bits, 64);
        let client = Ipv4Addr::from(!embedded_v4(bits, 0).to_bits());
        return special_range_v4(server).or_else(|| special_range_v4(client));
    } else {
        None
    };
    if let Some(v4) = embedded {
        return special_range_v4(v4);
    }
    if !in_range([0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return Some(SpecialRange::Reserved);
    }
    None
}

/// The IP address an Internet address or URL host denotes, in any form the URL parser reads as
/// one (`127.0.0.1`, `[::1]`, `::1`, `2130706433`, `0x7f.1`), or `None` for a domain name.
pub fn ip_literal(host: &str) -> Option<IpAddr> {
    let host = host.trim().trim_end_matches('.');
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = unbracketed.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(ip));
    }
    // Only the host may reach the parser: anything that could end it (`/`, `@`, `:`, `?`, `#`)
    // means this is no bare host and not ours to interpret.
    if host.is_empty() || host.contains(['/', '\\', '@', ':', '?', '#', '[', ']']) {
        return None;
    }
    let url = Url::parse(&format!("https://{host}/")).ok()?;
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

// === the allow-list ===

/// An IP network in CIDR notation; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    address: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_match(
                u128::from(ip.to_bits()),
                u128::from(net.to_bits()),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(ip.to_bits(), net.to_bits(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let (address, prefix) = match value.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("`{value}` is not an IP address or CIDR network"))?;
        // A mapped IPv6 network would never match: connections are judged canonically.
        let address = address.to_canonical();
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| format!("`{value}` has an invalid prefix length (0 to {width})"))?,
        };
        Ok(IpNet { address, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// One `egress_allow` entry: a network whose addresses may be reached, or a host name that may
/// resolve to anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AllowEntry {
    Net(IpNet),
    Host(String),
}

impl FromStr for AllowEntry {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let looks_numeric = value.contains(['/', ':']) || value.parse::<IpAddr>().is_ok();
        if looks_numeric {
            return value.parse().map(AllowEntry::Net);
        }
        let host = value.trim_end_matches('.').to_ascii_lowercase();
        if ip_literal(&host).is_some() {
            return Err(format!(
                "`{value}` is an IP address in an unusual form; write it as a dotted quad"
            ));
        }
        if !is_valid_domain(&host) {
            return Err(format!(
                "`{value}` is neither a CIDR network, an IP address nor a host name"
            ));
        }
        Ok(AllowEntry::Host(host))
    }
}

impl TryFrom<String> for AllowEntry {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        value.parse()
    }
}

impl From<AllowEntry> for String {
    fn from(entry: AllowEntry) -> String {
        entry.to_string()
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowEntry::Net(net) => net.fmt(f),
            AllowEntry::Host(host) => f.write_str(host),
        }
    }
}

// === the policy ===

/// Why a destination was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("egress to {host} ({address}) refused: {} address", range.name())]
pub struct EgressRefusal {
    /// The host as the URL or the Internet address names it.
    pub host: String,
    /// The address it is or resolved to (the first refused one).
    pub address: IpAddr,
    pub range: SpecialRange,
}

impl HasErrorCode for EgressRefusal {
    fn error_code(&self) -> GatewayErrorCode {
        GatewayErrorCode::Forbidden
    }
}

/// Public unicast addresses, plus what the operator allows. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allow: Arc<[AllowEntry]>,
}

impl EgressPolicy {
    pub fn new(allow: impl IntoIterator<Item = AllowEntry>) -> Self {
        EgressPolicy {
            allow: allow.into_iter().collect(),
        }
    }

    /// Whether `host` (a domain name) is allow-listed, so may resolve to any address.
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.allow
            .iter()
            .any(|entry| matches!(entry, AllowEntry::Host(allowed) if allowed.eq_ignore_ascii_case(host)))
    }

    /// Refuses `address` (reached as `host`) unless it is public or in an allowed network.
    pub fn check_ip(&self, host: &str, address: IpAddr) -> Result<(), EgressRefusal> {
        let Some(range) = special_range(address) else {
            return Ok(());
        };
        let allowed = self
            .allow
            .iter()
            .any(|entry| matches!(entry, AllowEntry::Net(net) if net.contains(address)));
        if allowed || self.host_allowed(host) {
            return Ok(());
        }
        Err(EgressRefusal {
            host: host.to_owned(),
            address,
            range,
        })
    }

    /// Checks a URL whose host is an IP literal (a connector never resolves those, so the
    /// resolver-side check would not see them). Domain hosts pass: they are checked once
    /// resolved.
    pub fn check_url(&self, url: &Url) -> Result<(), EgressRefusal> {
        let address = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(_)) | None => return Ok(()),
        };
        self.check_ip(url.host_str().unwrap_or_default(), address)
    }

    /// The resolved addresses of `host` that may be connected to; a refusal when none is left.
    pub fn filter(
        &self,
        host: &str,
        addresses: impl IntoIterator<Item = IpAddr>,
    ) -> Result<Vec<IpAddr>, FilterError> {
        let mut kept = Vec::new();
        let mut first_refusal = None;
        for address in addresses {
            match self.check_ip(host, address) {
                Ok(()) => kept.push(address),
                Err(refusal) => {
                    first_refusal.get_or_insert(refusal);
                }
            }
        }
        match first_refusal {
            Some(refusal) if kept.is_empty() => Err(FilterError::Refused(refusal)),
            _ if kept.is_empty() => Err(FilterError::NoAddresses(host.to_owned())),
            _ => Ok(kept),
        }
    }
}

/// Why [`EgressPolicy::filter`] left nothing to connect to.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    #[error(transparent)]
    Refused(EgressRefusal),
    #[error("{0} resolved to no address")]
    NoAddresses(String),
}

#[cfg(test)]
#[path = "egress_tests.rs"]
mod tests;
