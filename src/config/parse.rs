//! Parsers for single string values, shared by the environment and flag layers and by
//! validation of the file layer. Each returns a message that the caller wraps with the key and
//! the layer it came from.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::actors::outbound::egress::AllowEntry;

/// Parses `IP:PORT` or `localhost:PORT`.
///
/// Other host names are refused: a listening socket bound to whatever a name resolves to at
/// start-up is a surprise, and the DNS server must be an address anyway.
pub fn socket_addr(value: &str) -> Result<SocketAddr, String> {
    let value = value.trim();
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = value.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("`{value}` has an invalid port"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    Err(format!(
        "`{value}` is not an IP:PORT socket address (e.g. 127.0.0.1:8080 or [::]:8080)"
    ))
}

/// Parses a boolean written as `true`/`false`, `1`/`0` or `yes`/`no`.
pub fn boolean(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(format!("`{other}` is not a boolean (true or false)")),
    }
}

/// Parses a non-negative integer.
pub fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not a valid non-negative integer", value.trim()))
}

/// Validates an Awala Internet address: a DNS domain name, returned in lower case.
pub fn internet_address(value: &str) -> Result<String, String> {
    let name = value.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.len() > 253 {
        return Err(format!(
            "`{value}` is not a domain name (1 to 253 characters)"
        ));
    }
    for label in name.split('.') {
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(format!(
                "`{value}` is not a domain name (label `{label}` is invalid)"
            ));
        }
    }
    Ok(name)
}

/// Validates a PoHTTP endpoint URL: http or https, with a host.
pub fn pohttp_url(value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value.trim())
        .map_err(|error| format!("`{}` is not a URL: {error}", value.trim()))?;
    check_pohttp_url(&url)?;
    Ok(url)
}

/// Checks the scheme and host of a PoHTTP endpoint URL.
pub fn check_pohttp_url(url: &url::Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme `{}` is not supported; PoHTTP routes use http or https",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    Ok(())
}

/// Parses one `ADDR=URL` route.
pub fn route(value: &str) -> Result<(String, url::Url), String> {
    let (address, url) = value
        .split_once('=')
        .ok_or_else(|| format!("`{value}` is not of the form ADDR=URL"))?;
    Ok((internet_address(address)?, pohttp_url(url)?))
}

/// Parses comma-separated `ADDR=URL` routes (the `AWALA_POHTTP_ROUTES` form).
pub fn routes(value: &str) -> Result<Vec<(String, url::Url)>, String> {
    value
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(route)
        .collect()
}

/// Parses comma-separated egress allow-list entries (`10.0.0.0/8,pdc.internal.example`).
pub fn egress_allow(value: &str) -> Result<Vec<AllowEntry>, String> {
    value
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_and_validate() {
        let parsed = routes("Example.COM=https://pohttp.example.com/,b.test=http://127.0.0.1:9000")
            .unwrap_or_default();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].0, "example.com");
        assert_eq!(parsed[0].1.as_str(), "https://pohttp.example.com/");
        assert!(route("example.com").is_err_and(|e| e.contains("ADDR=URL")));
        assert!(route("example.com=ftp://x").is_err_and(|e| e.contains("scheme `ftp`")));
        assert!(route("bad_name=https://x").is_err_and(|e| e.contains("domain name")));
        assert!(route("a.test=not a url").is_err());
    }

    #[test]
    fn egress_allow_lists() {
        let parsed = egress_allow("10.0.0.0/8, fd00::/8,,PDC.Corp.Example").unwrap_or_default();
        let printed: Vec<String> = parsed.iter().map(ToString::to_string).collect();
        assert_eq!(printed, ["10.0.0.0/8", "fd00::/8", "pdc.corp.example"]);
        assert!(egress_allow("10.0.0.0/99").is_err_and(|e| e.contains("prefix length")));
        assert!(egress_allow("10.0.0.0/8,not a host").is_err_and(|e| e.contains("not a host")));
    }

    #[test]
    fn socket_addresses() {
        assert_eq!(socket_addr("0.0.0.0:80").ok(), "0.0.0.0:80".parse().ok());
        assert_eq!(socket_addr("[::1]:443").ok(), "[::1]:443".parse().ok());
        assert_eq!(socket_addr("localhost:1").ok(), "127.0.0.1:1".parse().ok());
        assert!(socket_addr("example.com:80").is_err());
        assert!(socket_addr("127.0.0.1").is_err());
        assert!(socket_addr("localhost:99999").is_err());
    }

    #[test]
    fn internet_addresses() {
        assert_eq!(
            internet_address("Gw.Example.com.").ok().as_deref(),
            Some("gw.example.com")
        );
        assert!(internet_address("").is_err());
        assert!(internet_address("-a.com").is_err());
        assert!(internet_address("a..com").is_err());
        assert!(internet_address("a b.com").is_err());
    }
}
