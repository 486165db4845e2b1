//! The PKI behind every item: one realistic deployment (Internet gateway, private gateway,
//! private endpoint, peer endpoint) plus a few odd certificates, as relaynet-core's generator
//! builds it (`tests/interop/vectors/lib/gen-pki.mjs`). Keys are shared by all items.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::manifest_item;
use super::{object, plus, Output, DAY, HOUR};
use awala_gateway::protocols::awala::keys::{
    EcCurve, HashAlgorithm, IdentityPrivateKey, IdentityPublicKey, SessionKeyPair,
};
use awala_gateway::protocols::awala::pki::{
    issue_certificate, issue_delivery_authorization, issue_endpoint_certificate,
    issue_gateway_certificate, self_issue_identity_certificate, Certificate, CertificateIssuance,
};

pub struct Node {
    pub key: IdentityPrivateKey,
    pub public: IdentityPublicKey,
    pub id: String,
}

impl Node {
    fn generate(bits: u32) -> Node {
        let key = IdentityPrivateKey::generate(bits).unwrap();
        let public = key.public_key();
        let id = public.node_id();
        Node { key, public, id }
    }
}

pub struct Nodes {
    pub ig: Node,
    pub pg: Node,
    pub pe: Node,
    pub peer: Node,
    pub rsa3072: Node,
    pub rsa4096: Node,
}

/// A certificate and the `certificate` fields a checker must find in it.
pub struct CertRecord {
    pub cert: Certificate,
    pub fields: Map<String, Value>,
    /// Valid at `created_at`; the others become `invalid` items.
    pub valid_now: bool,
}

/// A session key pair with what the manifest says about it.
pub struct Session {
    pub pair: SessionKeyPair,
    pub curve: &'static str,
}

impl Session {
    fn generate(curve: EcCurve, name: &'static str) -> Session {
        Session {
            pair: SessionKeyPair::generate(curve).unwrap(),
            curve: name,
        }
    }

    pub fn key_id_hex(&self) -> String {
        hex::encode(self.pair.id.as_bytes())
    }
}

pub struct Pki {
    pub now: DateTime<Utc>,
    pub nodes: Nodes,
    pub certs: BTreeMap<&'static str, CertRecord>,
    pub sessions: BTreeMap<&'static str, Session>,
    pub ig_address: &'static str,
}

impl Pki {
    pub fn cert(&self, name: &str) -> &Certificate {
        &self.certs[name].cert
    }

    pub fn session(&self, name: &str) -> &Session {
        &self.sessions[name]
    }

    pub fn build(now: DateTime<Utc>) -> Pki {
        let nodes = generate_nodes();
        // Back-dated starts give peers clock-drift slack, as the reference gateway does; every
        // end date stays within its issuer's so that issuance never clamps it.
        let start = plus(now, -3 * HOUR);
        let (ig_end, pg_end, pe_end, pda_end, cda_end) = (
            plus(now, 360 * DAY),
            plus(now, 180 * DAY),
            plus(now, 170 * DAY),
            plus(now, 90 * DAY),
            plus(now, 14 * DAY),
        );
        let (ig, pg, pe, peer) = (&nodes.ig, &nodes.pg, &nodes.pe, &nodes.peer);
        let mut certs = BTreeMap::new();
        let mut add = |name, cert: Certificate, subject: &Node, issuer: &Node, dates, ca, len| {
            let fields = certificate_fields(subject, issuer, dates, ca, len);
            let (from, to) = dates;
            let valid_now = from <= now && now <= to;
            certs.insert(
                name,
                CertRecord {
                    cert,
                    fields,
                    valid_now,
                },
            );
        };

        let ig_cert = self_issue_identity_certificate(&ig.key, start, ig_end).unwrap();
        let pg_cert =
            issue_gateway_certificate(&pg.public, &ig.key, Some(&ig_cert), start, pg_end, 1)
                .unwrap();
        let pe_cert =
            issue_endpoint_certificate(&pe.public, &pg.key, Some(&pg_cert), start, pe_end).unwrap();
        let pda =
            issue_delivery_authorization(&peer.public, &pe.key, &pe_cert, start, pda_end).unwrap();
        // The desktop (JS) gateway issues its CDAs from its self-issued certificate, as CAs...
        let pg_self = self_issue_identity_certificate(&pg.key, start, pg_end).unwrap();
        let cda = issue_gateway_certificate(&ig.public, &pg.key, Some(&pg_self), start, cda_end, 1)
            .unwrap();
        // ...whereas the Android gateway issues non-CA ones from its IG-issued certificate.
        let cda_jvm =
            issue_delivery_authorization(&ig.public, &pg.key, &pg_cert, start, cda_end).unwrap();
        // Internet endpoints self-issue their certificates.
        let peer_self =
            issue_endpoint_certificate(&peer.public, &peer.key, None, start, pda_end).unwrap();
        add("ig", ig_cert, ig, ig, (start, ig_end), true, 2);
        add("pg", pg_cert, pg, ig, (start, pg_end), true, 1);
        add("pe", pe_cert, pe, pg, (start, pe_end), true, 0);
        add("pda", pda, peer, pe, (start, pda_end), false, 0);
        add("pg-self", pg_self, pg, pg, (start, pg_end), true, 2);
        add("cda", cda, ig, pg, (start, cda_end), true, 1);
        add("cda-jvm-style", cda_jvm, ig, pg, (start, cda_end), false, 0);
        add(
            "peer-self",
            peer_self,
            peer,
            peer,
            (start, pda_end),
            true,
            0,
        );

        let month = plus(now, 30 * DAY);
        for (name, node, hash) in [
            ("rsa3072-self", &nodes.rsa3072, HashAlgorithm::Sha256),
            ("rsa4096-self", &nodes.rsa4096, HashAlgorithm::Sha256),
            // Larger keys go with larger digests in the libraries' key-type tables.
            ("rsa3072-self-sha384", &nodes.rsa3072, HashAlgorithm::Sha384),
            ("rsa4096-self-sha512", &nodes.rsa4096, HashAlgorithm::Sha512),
        ] {
            let cert = self_issued(node, start, month, true, 2, hash);
            add(name, cert, node, node, (start, month), true, 2);
        }
        for (name, from, to) in [
            ("expired", plus(now, -20 * DAY), plus(now, -10 * DAY)),
            ("not-yet-valid", plus(now, DAY), plus(now, 10 * DAY)),
        ] {
            let cert = self_issued(peer, from, to, true, 0, HashAlgorithm::Sha256);
            add(name, cert, peer, peer, (from, to), true, 0);
        }

        let sessions = BTreeMap::from([
            ("igP256", Session::generate(EcCurve::P256, "P-256")),
            ("igP384", Session::generate(EcCurve::P384, "P-384")),
            ("igP521", Session::generate(EcCurve::P521, "P-521")),
            ("igOther", Session::generate(EcCurve::P256, "P-256")),
            ("pgP256", Session::generate(EcCurve::P256, "P-256")),
            ("peP256", Session::generate(EcCurve::P256, "P-256")),
        ]);
        Pki {
            now,
            nodes,
            certs,
            sessions,
            ig_address: "gateway.example.com",
        }
    }
}

/// RSA key generation dominates the run, so the six keys are made on parallel threads.
fn generate_nodes() -> Nodes {
    std::thread::scope(|scope| {
        let spawn = |bits| scope.spawn(move || Node::generate(bits));
        let handles = [2048, 2048, 2048, 2048, 3072, 4096].map(spawn);
        let mut nodes = handles.into_iter().map(|handle| handle.join().unwrap());
        let mut next = || nodes.next().unwrap();
        Nodes {
            ig: next(),
            pg: next(),
            pe: next(),
            peer: next(),
            rsa3072: next(),
            rsa4096: next(),
        }
    })
}

fn self_issued(
    node: &Node,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    is_ca: bool,
    path_len_constraint: u8,
    hash: HashAlgorithm,
) -> Certificate {
    issue_certificate(&CertificateIssuance {
        subject_public_key: &node.public,
        issuer_private_key: &node.key,
        issuer_certificate: None,
        not_before,
        not_after,
        is_ca,
        path_len_constraint,
        hash,
    })
    .unwrap()
}

fn certificate_fields(
    subject: &Node,
    issuer: &Node,
    (not_before, not_after): (DateTime<Utc>, DateTime<Utc>),
    is_ca: bool,
    path_len: u8,
) -> Map<String, Value> {
    object(json!({
        "subject_id": subject.id,
        "issuer_id": issuer.id,
        "not_before": super::iso(not_before),
        "not_after": super::iso(not_after),
        "is_ca": is_ca,
        "path_len": path_len,
    }))
}

/// Certificate items: every certificate of the PKI, one trusted chain, one untrusted, one
/// truncated. Returns the file of each certificate, by name, for trust anchors elsewhere.
pub fn write_certificates(out: &mut Output, pki: &Pki) -> BTreeMap<&'static str, String> {
    let mut paths = BTreeMap::new();
    for (name, record) in &pki.certs {
        let file = out.file(&format!("certs/{name}.der"), record.cert.der());
        let (expect, reason) = match record.valid_now {
            true => ("valid", None),
            false => (
                "invalid",
                Some("outside its validity period at validate_at"),
            ),
        };
        out.item(manifest_item(
            &format!("certificate-{name}"),
            "certificate",
            &file,
            expect,
            reason,
            record.fields.clone(),
        ));
        paths.insert(*name, file);
    }
    // The chains PoWeb countersignatures and cargo rely on, checked against their anchors.
    for (name, cert, anchor, expect, reason) in [
        ("certificate-pg-trusted-ig", "pg", "ig", "valid", None),
        ("certificate-pe-trusted-pg", "pe", "pg", "valid", None),
        (
            "certificate-cda-trusted-pg-self",
            "cda",
            "pg-self",
            "valid",
            None,
        ),
        (
            "certificate-cda-jvm-style-trusted-pg",
            "cda-jvm-style",
            "pg",
            "valid",
            None,
        ),
        (
            "certificate-pg-untrusted",
            "pg",
            "rsa4096-self",
            "invalid",
            Some("issuer (IG) is not among the trust anchors"),
        ),
    ] {
        let mut item = manifest_item(
            name,
            "certificate",
            &paths[cert],
            expect,
            reason,
            pki.certs[cert].fields.clone(),
        );
        item.trusted_certificates = vec![paths[anchor].clone()];
        out.item(item);
    }
    let pg = pki.cert("pg").der();
    let file = out.file("certs/truncated.der", &pg[..pg.len() - 40]);
    out.item(manifest_item(
        "certificate-truncated",
        "certificate",
        &file,
        "malformed",
        Some("DER truncated by 40 octets"),
        Map::new(),
    ));
    paths
}
