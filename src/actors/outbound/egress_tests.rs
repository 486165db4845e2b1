use super::*;
use SpecialRange::*;

/// Every range with its first and last address, and the public neighbours just outside it.
#[test]
fn special_ranges_and_their_boundaries() {
    let table: &[(&str, Option<SpecialRange>)] = &[
        // IPv4
        ("0.0.0.0", Some(Unspecified)),
        ("0.255.255.255", Some(Unspecified)),
        ("1.0.0.0", None),
        ("9.255.255.255", None),
        ("10.0.0.0", Some(Private)),
        ("10.255.255.255", Some(Private)),
        ("11.0.0.0", None),
        ("100.63.255.255", None),
        ("100.64.0.0", Some(Cgnat)),
        ("100.127.255.255", Some(Cgnat)),
        ("100.128.0.0", None),
        ("126.255.255.255", None),
        ("127.0.0.0", Some(Loopback)),
        ("127.0.0.1", Some(Loopback)),
        ("127.255.255.255", Some(Loopback)),
        ("128.0.0.0", None),
        ("169.253.255.255", None),
        ("169.254.0.0", Some(LinkLocal)),
        ("169.254.169.254", Some(LinkLocal)),
        ("169.254.255.255", Some(LinkLocal)),
        ("169.255.0.0", None),
        ("172.15.255.255", None),
        ("172.16.0.0", Some(Private)),
        ("172.31.255.255", Some(Private)),
        ("172.32.0.0", None),
        ("191.255.255.255", None),
        ("192.0.0.0", Some(SpecialPurpose)),
        ("192.0.0.255", Some(SpecialPurpose)),
        ("192.0.1.0", None),
        ("192.0.2.0", Some(Documentation)),
        ("192.0.2.255", Some(Documentation)),
        ("192.0.3.0", None),
        ("192.88.98.255", None),
        ("192.88.99.0", Some(SpecialPurpose)),
        ("192.88.99.255", Some(SpecialPurpose)),
        ("192.88.100.0", None),
        ("192.167.255.255", None),
        ("192.168.0.0", Some(Private)),
        ("192.168.255.255", Some(Private)),
        ("192.169.0.0", None),
        ("198.17.255.255", None),
        ("198.18.0.0", Some(Benchmarking)),
        ("198.19.255.255", Some(Benchmarking)),
        ("198.20.0.0", None),
        ("198.51.99.255", None),
        ("198.51.100.0", Some(Documentation)),
        ("198.51.100.255", Some(Documentation)),
        ("198.51.101.0", None),
        ("203.0.112.255", None),
        ("203.0.113.0", Some(Documentation)),
        ("203.0.113.255", Some(Documentation)),
        ("203.0.114.0", None),
        ("223.255.255.255", None),
        ("224.0.0.0", Some(Multicast)),
        ("239.255.255.255", Some(Multicast)),
        ("240.0.0.0", Some(Reserved)),
        ("255.255.255.254", Some(Reserved)),
        ("255.255.255.255", Some(Broadcast)),
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        // IPv6 without an embedded IPv4 address
        ("::", Some(Unspecified)),
        ("::1", Some(Loopback)),
        ("100::", Some(DiscardOnly)),
        ("100::ffff:ffff:ffff:ffff", Some(DiscardOnly)),
        ("100:0:0:1::", Some(Reserved)),
        ("2001:1::1", None),
        ("2001:2::", Some(Benchmarking)),
        ("2001:2:0:ffff:ffff:ffff:ffff:ffff", Some(Benchmarking)),
        ("2001:2:1::", None),
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ("2001:db8::", Some(Documentation)),
        (
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            Some(Documentation),
        ),
        ("2001:db9::", None),
        ("3ffe:ffff::", None),
        ("3fff::", Some(Documentation)),
        (
            "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
            Some(Documentation),
        ),
        ("3fff:1000::", None),
        ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
        ("2000::", None),
        ("2606:4700:4700::1111", None),
        ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ("4000::", Some(Reserved)),
        ("5f00::", Some(SpecialPurpose)),
        (
            "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Some(SpecialPurpose),
        ),
        ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
        ("fc00::", Some(Private)),
        ("fd12:3456::1", Some(Private)),
        ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Private)),
        ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
        ("fe80::", Some(LinkLocal)),
        ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(LinkLocal)),
        ("fec0::", Some(SiteLocal)),
        ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(SiteLocal)),
        ("ff00::", Some(Multicast)),
        ("ff02::1", Some(Multicast)),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Multicast)),
        // IPv6 forms judged by their embedded IPv4 address
        ("::ffff:127.0.0.1", Some(Loopback)),
        ("::ffff:10.0.0.1", Some(Private)),
        ("::ffff:169.254.169.254", Some(LinkLocal)),
        ("::ffff:8.8.8.8", None),
        ("::ffff:0:127.0.0.1", Some(Loopback)),
        ("::ffff:0:8.8.8.8", None),
        ("::127.0.0.1", Some(Loopback)),
        ("::0.0.0.2", Some(Unspecified)),
        ("::8.8.8.8", None),
        ("64:ff9b::127.0.0.1", Some(Loopback)),
        ("64:ff9b::192.168.1.1", Some(Private)),
        ("64:ff9b::8.8.8.8", None),
        ("64:ff9b:1::", Some(SpecialPurpose)),
        ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", Some(SpecialPurpose)),
        ("2002:7f00:1::", Some(Loopback)),
        ("2002:a9fe:a9fe::1", Some(LinkLocal)),
        ("2002:808:808::1", None),
        // Teredo: server 65.54.227.120, client 8.8.8.8 (inverted: f7f7:f7f7) is public...
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", None),
        // ...client 127.0.0.1 (inverted: 80ff:fffe) is not, nor is a server of 10.0.0.1.
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", Some(Loopback)),
        ("2001:0:a00:1:8000:63bf:f7f7:f7f7", Some(Private)),
    ];
    for (address, expected) in table {
        let ip: IpAddr = address.parse().unwrap();
        assert_eq!(special_range(ip), *expected, "{address}");
    }
    // Every label is in use, so the table covers each range at least once.
    for range in SpecialRange::ALL {
        assert!(
            table.iter().any(|(_, found)| *found == Some(range)),
            "{range:?} untested"
        );
    }
}

#[test]
fn labels_are_bounded_and_distinct() {
    let names: std::collections::BTreeSet<&str> =
        SpecialRange::ALL.iter().map(|range| range.name()).collect();
    assert_eq!(names.len(), SpecialRange::ALL.len());
    assert!(names
        .iter()
        .all(|name| name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
}

#[test]
fn ip_literals_in_every_form_the_url_parser_accepts() {
    let loopback = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    for form in [
        "127.0.0.1",
        "127.0.0.1.",
        " 127.0.0.1 ",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "%31%32%37.0.0.1",
    ] {
        assert_eq!(ip_literal(form), loopback, "{form}");
    }
    assert_eq!(ip_literal("[::1]"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    assert_eq!(ip_literal("::1"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    assert_eq!(ip_literal("10.1.2.3"), "10.1.2.3".parse().ok());
    for name in [
        "example.com",
        "127.0.0.1.example.com",
        "0x7f.example",
        "1.2.3.4.5",
        "",
        "evil.example/127.0.0.1",
        "127.0.0.1:80",
        "user@127.0.0.1",
    ] {
        assert_eq!(ip_literal(name), None, "{name}");
    }
}

#[test]
fn networks_parse_and_match_canonically() {
    let net: IpNet = "10.0.0.0/8".parse().unwrap();
    assert!(net.contains("10.255.0.1".parse().unwrap()));
    assert!(net.contains("::ffff:10.1.1.1".parse().unwrap()));
    assert!(!net.contains("11.0.0.0".parse().unwrap()));
    assert!(!net.contains("fd00::1".parse().unwrap()));
    let host: IpNet = "127.0.0.1".parse().unwrap();
    assert_eq!(host.to_string(), "127.0.0.1/32");
    assert!(!host.contains("127.0.0.2".parse().unwrap()));
    let ula: IpNet = "fd00::/8".parse().unwrap();
    assert!(ula.contains("fd12::1".parse().unwrap()));
    assert!(!ula.contains("fc00::1".parse().unwrap()));
    let everything: IpNet = "::/0".parse().unwrap();
    assert!(everything.contains("::1".parse().unwrap()));
    assert_eq!(
        "::ffff:10.0.0.0/8".parse::<IpNet>().unwrap().to_string(),
        "10.0.0.0/8"
    );
    for bad in ["10.0.0.0/33", "fd00::/129", "10.0.0/8", "10.0.0.0/", "x/8"] {
        assert!(bad.parse::<IpNet>().is_err(), "{bad}");
    }
}

#[test]
fn allow_entries_are_networks_or_host_names() {
    let entry = |text: &str| text.parse::<AllowEntry>();
    assert_eq!(
        entry("192.168.0.0/16").unwrap().to_string(),
        "192.168.0.0/16"
    );
    assert_eq!(entry("10.1.2.3").unwrap().to_string(), "10.1.2.3/32");
    assert_eq!(entry("fd00::/8").unwrap().to_string(), "fd00::/8");
    assert_eq!(
        entry(" PDC.Internal.Example. ").unwrap(),
        AllowEntry::Host("pdc.internal.example".to_owned())
    );
    for bad in [
        "",
        "localhost",
        "0x7f.1",
        "pdc.example:8080",
        "a b.example",
        "10.0.0.0/40",
    ] {
        assert!(entry(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_policy_allows_public_addresses_and_the_allow_list() {
    let strict = EgressPolicy::default();
    assert_eq!(
        strict.check_ip("dns.google", "8.8.8.8".parse().unwrap()),
        Ok(())
    );
    assert_eq!(
        strict.check_ip("evil.example", "169.254.169.254".parse().unwrap()),
        Err(EgressRefusal {
            host: "evil.example".to_owned(),
            address: "169.254.169.254".parse().unwrap(),
            range: LinkLocal,
        })
    );
    let policy = EgressPolicy::new([
        "10.0.0.0/8".parse().unwrap(),
        "pdc.internal.example".parse().unwrap(),
    ]);
    assert_eq!(
        policy.check_ip("a.example", "10.9.9.9".parse().unwrap()),
        Ok(())
    );
    assert!(policy
        .check_ip("a.example", "127.0.0.1".parse().unwrap())
        .is_err());
    assert_eq!(
        policy.check_ip("PDC.internal.example.", "127.0.0.1".parse().unwrap()),
        Ok(())
    );
    let url = |text: &str| Url::parse(text).unwrap();
    assert!(strict.check_url(&url("https://0x7f.1/")).is_err());
    assert!(strict.check_url(&url("http://[::1]:8080/")).is_err());
    assert!(strict.check_url(&url("http://[::ffff:7f00:1]/")).is_err());
    assert_eq!(strict.check_url(&url("https://localhost.example/")), Ok(()));
    assert_eq!(policy.check_url(&url("http://10.1.2.3:9000/")), Ok(()));
}

#[test]
fn filtering_keeps_only_reachable_addresses() {
    let policy = EgressPolicy::default();
    let ips =
        |list: &[&str]| -> Vec<IpAddr> { list.iter().map(|ip| ip.parse().unwrap()).collect() };
    assert_eq!(
        policy.filter("mixed.example", ips(&["127.0.0.1", "8.8.8.8", "fd00::1"])),
        Ok(ips(&["8.8.8.8"]))
    );
    assert_eq!(
        policy.filter("rebound.example", ips(&["10.0.0.1", "127.0.0.1"])),
        Err(FilterError::Refused(EgressRefusal {
            host: "rebound.example".to_owned(),
            address: "10.0.0.1".parse().unwrap(),
            range: Private,
        }))
    );
    assert_eq!(
        policy.filter("empty.example", Vec::new()),
        Err(FilterError::NoAddresses("empty.example".to_owned()))
    );
}
