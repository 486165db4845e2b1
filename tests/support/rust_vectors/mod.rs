//! Interop vectors made by the Rust core (`tests/interop/MANIFEST.md`), for relaynet-core, Bouncy
//! Castle and our own checker to read.
//!
//! Every expected field comes from what we fed the core (keys, dates, ids, plaintexts), never
//! from parsing our own output: a value we wrote wrongly must show up as a mismatch.
//!
//! - [`pki`]: the keys and certificates of one realistic deployment, and the certificate items.
//! - [`ramf`]: signing one RAMF message per item; [`parcels`] and [`cargo`] (with CCAs) use it.
//! - [`crypto`]: detached signatures, encapsulated SignedData and session envelopes.
//! - [`messages`]: control, PoWeb binding and registration messages.
//! - [`edges`]: boundary values (expiry instants, empty values, post-2049 validity).
//! - [`large_keys`]: RSA-3072/4096 signers and subjects with SHA-384/512.

mod cargo;
mod crypto;
mod edges;
mod large_keys;
mod messages;
mod parcels;
mod pki;
mod ramf;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde_json::{Map, Value};

use super::manifest::{Item, Manifest};
use awala_gateway::protocols::awala::keys::sha256;

pub const PRODUCER: &str = "awala-gateway";
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// Items the relaynet-core checker skips by design: it cannot parse the JVM CertificationPath
/// encoding (MANIFEST.md, "How the relaynet-core checker reads the manifest").
pub const RELAYNET_CORE_SKIPS: &[&str] = &["certification-path-jvm", "certificate-rotation-jvm"];

/// Writes every artifact and `manifest.json` into `dir` (created if needed); returns the
/// manifest.
pub fn write_rust_vectors(dir: &Path) -> Manifest {
    std::fs::create_dir_all(dir).unwrap();
    // Every date derives from this one clock reading, at the second precision of Awala dates.
    let now = Utc::now().trunc_subsecs(0);
    let mut out = Output::new(dir);
    let pki = pki::Pki::build(now);
    let cert_paths = pki::write_certificates(&mut out, &pki);
    let parcels = parcels::write_parcels(&mut out, &pki, &cert_paths);
    let cargo = cargo::write_cargo_and_ccas(&mut out, &pki, &cert_paths, &parcels);
    let signatures = crypto::write_detached_signatures(&mut out, &pki, &cert_paths, &parcels);
    crypto::write_signed_data(&mut out, &pki, &cert_paths);
    crypto::write_session_envelopes(&mut out, &pki);
    edges::write_edge_cases(&mut out, &pki, &cert_paths);
    large_keys::write_large_key_items(&mut out, &pki, &cert_paths, &parcels);
    messages::write_control_messages(&mut out, &pki, &parcels, &cargo);
    messages::write_binding_messages(&mut out, &parcels, &signatures);
    messages::write_registration_messages(&mut out, &pki);
    out.finish(now)
}

/// Collects artifact files and manifest items.
pub struct Output {
    dir: PathBuf,
    items: Vec<Item>,
    names: HashSet<String>,
}

impl Output {
    fn new(dir: &Path) -> Self {
        Output {
            dir: dir.to_path_buf(),
            items: Vec::new(),
            names: HashSet::new(),
        }
    }

    /// Writes `bytes` at `relative` (to the manifest) and returns that path.
    pub fn file(&self, relative: &str, bytes: &[u8]) -> String {
        let full = self.dir.join(relative);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, bytes).unwrap();
        relative.to_string()
    }

    /// Registers an item whose file is already written.
    pub fn item(&mut self, item: Item) {
        assert!(
            self.names.insert(item.name.clone()),
            "duplicate {}",
            item.name
        );
        assert!(
            self.dir.join(&item.file).exists(),
            "{} not written",
            item.file
        );
        self.items.push(item);
    }

    /// Writes `bytes` as `NAME.der` and registers a valid item of `kind` with `fields`.
    pub fn valid(&mut self, name: &str, kind: &str, bytes: &[u8], fields: Value) -> String {
        let file = self.file(&format!("{name}.der"), bytes);
        self.item(Item {
            name: name.into(),
            kind: kind.into(),
            file: file.clone(),
            expect: "valid".into(),
            fields: object(fields),
            ..Item::default()
        });
        file
    }

    fn finish(self, now: DateTime<Utc>) -> Manifest {
        let manifest = Manifest {
            producer: PRODUCER.into(),
            created_at: iso(now),
            items: self.items,
        };
        let json = serde_json::to_string_pretty(&manifest).unwrap();
        std::fs::write(self.dir.join("manifest.json"), json + "\n").unwrap();
        manifest
    }
}

/// ISO 8601 UTC with second precision, as the manifest wants dates.
pub fn iso(date: DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha256(bytes))
}

pub fn plus(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    now + chrono::Duration::seconds(seconds)
}

/// A `json!({...})` object as manifest fields.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("fields must be an object, not {other}"),
    }
}

/// An item with the common keys set; callers add the optional ones.
pub fn manifest_item(
    name: &str,
    kind: &str,
    file: &str,
    expect: &str,
    reason: Option<&str>,
    fields: Map<String, Value>,
) -> Item {
    Item {
        name: name.into(),
        kind: kind.into(),
        file: file.into(),
        expect: expect.into(),
        reason: reason.map(Into::into),
        fields,
        ..Item::default()
    }
}
