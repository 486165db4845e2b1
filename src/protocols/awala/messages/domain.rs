//! Syntax of Awala Internet addresses (bare DNS domains).

/// Longest domain name.
const MAX_DOMAIN_LENGTH: usize = 253;
/// Longest label of a domain name.
const MAX_LABEL_LENGTH: usize = 63;

/// Whether `address` is a domain name of at least two labels of letters, digits and inner
/// hyphens. A trailing dot is rejected: the libraries never write one.
pub fn is_valid_domain(address: &str) -> bool {
    if address.is_empty() || address.len() > MAX_DOMAIN_LENGTH {
        return false;
    }
    let labels: Vec<&str> = address.split('.').collect();
    labels.len() >= 2 && labels.iter().all(|label| is_valid_label(label))
}

fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LENGTH
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_domains() {
        for address in [
            "example.com",
            "frankfurt.relaycorp.cloud",
            "a-b.c1.io",
            "x.y",
        ] {
            assert!(is_valid_domain(address), "{address}");
        }
    }

    #[test]
    fn rejects_non_domains() {
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = format!("{}.com", vec!["a".repeat(63); 4].join("."));
        for address in [
            "",
            "localhost",
            "example.com.",
            ".example.com",
            "exa mple.com",
            "-example.com",
            "example-.com",
            "example..com",
            "https://example.com",
            "example.com:443",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert!(!is_valid_domain(address), "{address}");
        }
    }
}
