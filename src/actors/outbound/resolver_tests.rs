use std::sync::Mutex;

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::SRV;
use hickory_resolver::proto::rr::{Name, Record, RecordType};
use tokio::net::UdpSocket;

use super::*;

/// Answers from a table, and remembers what it was asked.
struct FakeSrv {
    answer: Result<SrvAnswer, ResolveError>,
    asked: Mutex<Vec<String>>,
}

impl FakeSrv {
    fn new(answer: Result<SrvAnswer, ResolveError>) -> Arc<Self> {
        Arc::new(FakeSrv {
            answer,
            asked: Mutex::default(),
        })
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

#[async_trait]
impl SrvLookup for FakeSrv {
    async fn first_srv(&self, name: &str) -> Result<SrvAnswer, ResolveError> {
        self.asked.lock().unwrap().push(name.to_owned());
        self.answer.clone()
    }
}

fn routes(pairs: &[(&str, &str)]) -> BTreeMap<String, RouteUrl> {
    pairs
        .iter()
        .map(|(address, url)| ((*address).to_owned(), RouteUrl::new(url.parse().unwrap())))
        .collect()
}

fn target(url: &str, allow_plain_http: bool) -> Target {
    Target {
        url: url.parse().unwrap(),
        allow_plain_http,
        exempt: false,
    }
}

fn route_target(url: &str) -> Target {
    Target {
        exempt: true,
        ..target(url, url.starts_with("http:"))
    }
}

#[tokio::test]
async fn a_route_wins_over_dns() {
    let srv = FakeSrv::new(Ok(SrvAnswer::Absent));
    let resolver = PohttpResolver::new(
        routes(&[
            ("pong.example", "http://127.0.0.1:9000/pdc"),
            ("secure.example", "https://pdc.secure.example:8443/"),
        ]),
        srv.clone(),
    );
    assert_eq!(
        resolver.resolve("Pong.Example.").await,
        Ok(route_target("http://127.0.0.1:9000/pdc"))
    );
    assert_eq!(
        resolver.resolve("secure.example").await,
        Ok(route_target("https://pdc.secure.example:8443/"))
    );
    assert!(srv.asked().is_empty(), "routes must not touch DNS");
}

#[tokio::test]
async fn srv_answers_give_https_target_and_port() {
    let srv = FakeSrv::new(Ok(SrvAnswer::Found {
        target: "PoHTTP.example.com.".to_owned(),
        port: 8443,
    }));
    let resolver = PohttpResolver::new(BTreeMap::new(), srv.clone());
    assert_eq!(
        resolver.resolve("example.com").await,
        Ok(target("https://pohttp.example.com:8443/", false))
    );
    assert_eq!(srv.asked(), ["_awala-pdc._tcp.example.com."]);
}

#[tokio::test]
async fn no_srv_record_falls_back_to_the_address_on_443() {
    let resolver = PohttpResolver::new(BTreeMap::new(), FakeSrv::new(Ok(SrvAnswer::Absent)));
    let resolved = resolver.resolve("frankfurt.relaycorp.cloud").await.unwrap();
    assert_eq!(
        resolved,
        target("https://frankfurt.relaycorp.cloud/", false)
    );
    assert_eq!(resolved.url.port_or_known_default(), Some(443));
}

#[tokio::test]
async fn dns_failures_are_retryable_and_bad_addresses_are_not() {
    let failure = ResolveError::Lookup {
        name: "_awala-pdc._tcp.example.com.".to_owned(),
        reason: "timed out".to_owned(),
    };
    let resolver = PohttpResolver::new(BTreeMap::new(), FakeSrv::new(Err(failure.clone())));
    let error = resolver.resolve("example.com").await.unwrap_err();
    assert_eq!(error, failure);
    assert!(!error.is_permanent());
    for address in [
        "",
        "localhost",
        "evil.example:1/path",
        "user@evil.example",
        "a..b",
    ] {
        let error = resolver.resolve(address).await.unwrap_err();
        assert!(error.is_permanent(), "{address}: {error}");
        assert_eq!(error.error_code(), GatewayErrorCode::Malformed);
    }
}

#[tokio::test]
async fn non_public_ip_literals_are_refused_before_any_lookup() {
    let srv = FakeSrv::new(Ok(SrvAnswer::Absent));
    let resolver = PohttpResolver::new(
        routes(&[("10.9.9.9", "http://127.0.0.1:9000/")]),
        srv.clone(),
    );
    for (address, range) in [
        ("127.0.0.1", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f.1", "loopback"),
        ("[::1]", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link_local"),
        ("[fe80::1]", "link_local"),
    ] {
        match resolver.resolve(address).await {
            Err(ResolveError::Egress(refusal)) => {
                assert_eq!(refusal.range.name(), range, "{address}");
                assert_eq!(refusal.host, address);
            }
            other => panic!("{address}: {other:?}"),
        }
    }
    assert!(
        srv.asked().is_empty(),
        "refused addresses must not reach DNS"
    );
    let error = resolver.resolve("127.0.0.1").await.unwrap_err();
    assert!(error.is_permanent());
    assert_eq!(error.error_code(), GatewayErrorCode::Forbidden);
    // A route wins even for an IP-literal address, and public literals resolve as before.
    assert_eq!(
        resolver.resolve("10.9.9.9").await,
        Ok(route_target("http://127.0.0.1:9000/"))
    );
    assert_eq!(
        resolver.resolve("8.8.8.8").await,
        Ok(target("https://8.8.8.8/", false))
    );
}

#[tokio::test]
async fn allow_listed_ip_literals_resolve() {
    let policy = EgressPolicy::new(["10.0.0.0/8".parse().unwrap()]);
    let resolver = PohttpResolver::new(BTreeMap::new(), FakeSrv::new(Ok(SrvAnswer::Absent)))
        .with_egress(policy);
    assert_eq!(
        resolver.resolve("10.1.2.3").await,
        Ok(target("https://10.1.2.3/", false))
    );
    assert!(matches!(
        resolver.resolve("127.0.0.1").await,
        Err(ResolveError::Egress(_))
    ));
}

#[test]
fn srv_targets_must_be_host_names() {
    let name = "_awala-pdc._tcp.example.com.";
    assert_eq!(
        srv_url(name, "pdc.example.com.", 443).unwrap().as_str(),
        "https://pdc.example.com/"
    );
    for (bad, port) in [(".", 443), ("pdc.example.com", 0), ("a/b.example", 443)] {
        assert!(matches!(
            srv_url(name, bad, port),
            Err(ResolveError::BadTarget { .. })
        ));
    }
}

// === the real lookup against a local DNS server ===

/// A one-zone DNS server on UDP: an SRV record for `_awala-pdc._tcp.found.test.`, NXDOMAIN for
/// everything else.
async fn start_dns_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 4096];
        loop {
            let Ok((length, peer)) = socket.recv_from(&mut buffer).await else {
                return;
            };
            let Ok(request) = Message::from_vec(&buffer[..length]) else {
                continue;
            };
            let mut response = Message::response(request.metadata.id, request.metadata.op_code);
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            response.add_queries(request.queries.clone());
            let srv_name = Name::from_ascii("_awala-pdc._tcp.found.test.").unwrap();
            match request.queries.first() {
                Some(query)
                    if query.query_type() == RecordType::SRV && query.name() == &srv_name =>
                {
                    let target = Name::from_ascii("pohttp.found.test.").unwrap();
                    response.add_answer(Record::from_rdata(
                        srv_name,
                        60,
                        RData::SRV(SRV::new(0, 1, 8443, target)),
                    ));
                }
                _ => response.metadata.response_code = ResponseCode::NXDomain,
            }
            let bytes = response.to_vec().unwrap();
            let _ = socket.send_to(&bytes, peer).await;
        }
    });
    address
}

#[tokio::test]
async fn real_lookups_find_srv_records_and_nxdomain() {
    let server = start_dns_server().await;
    let lookup = DnsSrvLookup::new(Some(server), false).unwrap();
    assert_eq!(
        lookup.first_srv("_awala-pdc._tcp.found.test.").await,
        Ok(SrvAnswer::Found {
            target: "pohttp.found.test.".to_owned(),
            port: 8443,
        })
    );
    assert_eq!(
        lookup.first_srv("_awala-pdc._tcp.missing.test.").await,
        Ok(SrvAnswer::Absent)
    );
    let resolver = PohttpResolver::new(BTreeMap::new(), Arc::new(lookup));
    assert_eq!(
        resolver.resolve("found.test").await,
        Ok(target("https://pohttp.found.test:8443/", false))
    );
    assert_eq!(
        resolver.resolve("missing.test").await,
        Ok(target("https://missing.test/", false))
    );
}

#[tokio::test]
async fn unsigned_answers_fail_when_dnssec_is_required() {
    let server = start_dns_server().await;
    let lookup = DnsSrvLookup::new(Some(server), true).unwrap();
    // The zone is unsigned (and the root's keys unreachable): never a usable answer.
    let result = lookup.first_srv("_awala-pdc._tcp.found.test.").await;
    let error = result.expect_err("an unvalidated answer must not be used");
    assert!(!error.is_permanent(), "{error}");
}
