//! The interop manifest (`tests/interop/MANIFEST.md`): reading one and checking every item with
//! the Rust core, through the same `inspect` function operators use.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use awala_gateway::protocols::awala::inspect::{self, ArtifactKind, InspectOptions, Verdict};
use awala_gateway::protocols::awala::keys::{
    sha256, IdentityPublicKey, SessionKeyId, SessionPrivateKey,
};
use awala_gateway::protocols::awala::pki::Certificate;

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub producer: String,
    pub created_at: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub kind: String,
    pub file: String,
    pub expect: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_certificates: Vec<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decrypt: Option<Decrypt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detached: Option<Detached>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_public_key: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Decrypt {
    pub session_private_key: String,
    pub plaintext: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Detached {
    pub plaintext: String,
    pub oid: String,
}

/// Checks every item of the manifest in `dir`; returns `(name, Err(reason))` for failures and
/// the number of items checked.
pub fn check_manifest(dir: &Path) -> (usize, Vec<(String, String)>) {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    for item in &manifest.items {
        if let Err(reason) = check_item(dir, &manifest, item) {
            failures.push((item.name.clone(), reason));
        }
    }
    (manifest.items.len(), failures)
}

fn check_item(dir: &Path, manifest: &Manifest, item: &Item) -> Result<(), String> {
    let read = |file: &str| -> Result<Vec<u8>, String> {
        std::fs::read(dir.join(file)).map_err(|error| format!("{file}: {error}"))
    };
    let bytes = read(&item.file)?;
    let kind = ArtifactKind::from_name(&item.kind).ok_or("unknown kind")?;
    let now = parse_date(item.validate_at.as_deref().unwrap_or(&manifest.created_at))?;
    let trusted = item
        .trusted_certificates
        .iter()
        .map(|file| Certificate::from_der(&read(file)?).map_err(|e| format!("{file}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let session_keys = match &item.decrypt {
        Some(decrypt) => {
            let key = SessionPrivateKey::from_pkcs8_der(&read(&decrypt.session_private_key)?)
                .map_err(|error| format!("session key: {error}"))?;
            let id = decrypt
                .session_key_id
                .as_deref()
                .map(|hex_id| hex::decode(hex_id).map(SessionKeyId::from))
                .transpose()
                .map_err(|error| format!("session key id: {error}"))?;
            vec![(id, key)]
        }
        None => Vec::new(),
    };
    let signer_keys = match &item.signer_public_key {
        Some(file) => vec![IdentityPublicKey::from_spki_der(&read(file)?)
            .map_err(|error| format!("signer key: {error}"))?],
        None => Vec::new(),
    };
    let detached_plaintext = item
        .detached
        .as_ref()
        .map(|detached| read(&detached.plaintext))
        .transpose()?;
    let detached_purpose = item
        .detached
        .as_ref()
        .map(|detached| detached.oid.parse().map_err(|_| "bad oid".to_string()))
        .transpose()?;

    let mut options = InspectOptions::new(now);
    options.trusted = &trusted;
    options.session_keys = &session_keys;
    options.signer_keys = &signer_keys;
    options.detached_plaintext = detached_plaintext.as_deref();
    options.detached_purpose = detached_purpose;
    // Recognition is part of what operators rely on; malformed bytes need not be recognisable.
    if item.expect != "malformed" {
        let detected = inspect::detect::detect(&bytes);
        if detected != Some(kind) {
            return Err(format!("recognised as {detected:?}, not {}", item.kind));
        }
    }
    options.kind = Some(kind);
    let inspection = inspect::inspect(&bytes, &options);

    let verdict = match &inspection.verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid(_) => "invalid",
        Verdict::Malformed(_) => "malformed",
    };
    if verdict != item.expect {
        return Err(format!(
            "expected {}, got {:?} (producer's reason: {:?})",
            item.expect, inspection.verdict, item.reason
        ));
    }
    if item.expect != "valid" {
        return Ok(());
    }
    for (field, expected) in &item.fields {
        let actual = inspection.description.get(field).unwrap_or(&Value::Null);
        if !same(expected, actual) {
            return Err(format!("{field}: expected {expected}, got {actual}"));
        }
    }
    if let Some(decrypt) = &item.decrypt {
        let expected = hex::encode(sha256(&read(&decrypt.plaintext)?));
        let actual = inspection.description.get("plaintext_sha256");
        if actual != Some(&Value::from(expected.clone())) {
            return Err(format!("plaintext: expected {expected}, got {actual:?}"));
        }
    }
    Ok(())
}

/// JSON equality, with dates compared as instants (producers differ in fractional seconds).
fn same(expected: &Value, actual: &Value) -> bool {
    if expected == actual {
        return true;
    }
    match (expected.as_str(), actual.as_str()) {
        (Some(a), Some(b)) => matches!((parse_date(a), parse_date(b)), (Ok(a), Ok(b)) if a == b),
        _ => false,
    }
}

pub fn parse_date(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|date| date.with_timezone(&Utc))
        .map_err(|error| format!("date {value:?}: {error}"))
}

/// The repository root, for locating the harness scripts.
pub fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
