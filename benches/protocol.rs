//! Protocol-core benchmarks (issue: parse + validate ≥ 20 000 parcels/s on one core and ≥ 50×
//! relaynet-core). `scripts/bench.sh` runs these beside the same operations in relaynet-core.

use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use awala_gateway::protocols::awala::cms::{self, EnvelopeOptions};
use awala_gateway::protocols::awala::keys::{
    EcCurve, HashAlgorithm, IdentityPrivateKey, SessionKeyPair,
};
use awala_gateway::protocols::awala::messages::Recipient;
use awala_gateway::protocols::awala::pki::{
    issue_delivery_authorization, issue_endpoint_certificate, issue_gateway_certificate,
    self_issue_identity_certificate, Certificate, CertificateCache, SignatureCache,
};
use awala_gateway::protocols::awala::ramf::{MessageDraft, Parcel, ValidationContext};

struct Fixture {
    now: DateTime<Utc>,
    trusted: Vec<Certificate>,
    parcel: Vec<u8>,
    draft: MessageDraft,
    sender_key: IdentityPrivateKey,
    sender_certificate: Certificate,
    chain: Vec<Certificate>,
}

/// Internet gateway → private gateway → private endpoint → PDA, and a parcel with a 1 KiB
/// payload from the PDA holder, carrying the 3-certificate chain (PDA, PE, PG).
fn fixture() -> Fixture {
    let now = Utc::now();
    let start = now - chrono::Duration::hours(1);
    let end = now + chrono::Duration::days(30);
    let ig = IdentityPrivateKey::generate(2048).unwrap();
    let pg = IdentityPrivateKey::generate(2048).unwrap();
    let pe = IdentityPrivateKey::generate(2048).unwrap();
    let peer = IdentityPrivateKey::generate(2048).unwrap();
    let ig_cert = self_issue_identity_certificate(&ig, start, end).unwrap();
    let pg_cert =
        issue_gateway_certificate(&pg.public_key(), &ig, Some(&ig_cert), start, end, 1).unwrap();
    let pe_cert =
        issue_endpoint_certificate(&pe.public_key(), &pg, Some(&pg_cert), start, end).unwrap();
    let pda = issue_delivery_authorization(&peer.public_key(), &pe, &pe_cert, start, end).unwrap();
    let draft = MessageDraft::new(
        Recipient {
            id: pe_cert.subject_id().to_string(),
            internet_address: None,
        },
        vec![7; 1024],
        now,
        3600,
    );
    let chain = vec![pe_cert, pg_cert];
    let parcel = Parcel::serialize(&draft, &peer, &pda, &chain, HashAlgorithm::Sha256).unwrap();
    Fixture {
        now,
        trusted: vec![ig_cert],
        parcel,
        draft,
        sender_key: peer,
        sender_certificate: pda,
        chain,
    }
}

fn parcels(c: &mut Criterion) {
    let fixture = fixture();
    let mut group = c.benchmark_group("parcel");
    group.throughput(Throughput::Elements(1));
    let cache = SignatureCache::default();
    let certificates = CertificateCache::default();
    // As the gateway runs it: parsed chains and verified chain signatures are remembered.
    group.bench_function("parse_validate_3_cert_chain", |b| {
        b.iter(|| {
            let parcel = Parcel::deserialize_cached(&fixture.parcel, &certificates).unwrap();
            let context = ValidationContext::new(fixture.now).with_cache(&cache);
            parcel
                .validate_with_trust(&fixture.trusted, &context)
                .unwrap()
        })
    });
    group.bench_function("parse_validate_3_cert_chain_signature_cache_only", |b| {
        b.iter(|| {
            let parcel = Parcel::deserialize(&fixture.parcel).unwrap();
            let context = ValidationContext::new(fixture.now).with_cache(&cache);
            parcel
                .validate_with_trust(&fixture.trusted, &context)
                .unwrap()
        })
    });
    group.bench_function("parse_validate_3_cert_chain_no_cache", |b| {
        b.iter(|| {
            let parcel = Parcel::deserialize(&fixture.parcel).unwrap();
            let context = ValidationContext::new(fixture.now);
            parcel
                .validate_with_trust(&fixture.trusted, &context)
                .unwrap()
        })
    });
    group.bench_function("sign", |b| {
        b.iter(|| {
            Parcel::serialize(
                &fixture.draft,
                &fixture.sender_key,
                &fixture.sender_certificate,
                &fixture.chain,
                HashAlgorithm::Sha256,
            )
            .unwrap()
        })
    });
    group.finish();
}

fn session_envelopes(c: &mut Criterion) {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let plaintext = vec![7u8; 1024 * 1024];
    let envelope = cms::session_encrypt(
        &plaintext,
        &recipient.session_key(),
        EnvelopeOptions::default(),
    )
    .unwrap()
    .envelope;
    let mut group = c.benchmark_group("session_envelope_1mib");
    group.throughput(Throughput::Bytes(plaintext.len() as u64));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("encrypt", |b| {
        b.iter_batched(
            || plaintext.clone(),
            |plaintext| {
                cms::session_encrypt(
                    &plaintext,
                    &recipient.session_key(),
                    EnvelopeOptions::default(),
                )
                .unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("decrypt", |b| {
        b.iter(|| cms::session_decrypt(&envelope, &recipient.private_key).unwrap())
    });
    group.finish();
}

criterion_group!(benches, parcels, session_envelopes);
criterion_main!(benches);
