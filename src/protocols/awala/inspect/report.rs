//! The JSON description being built, with the value formats every describer shares.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::ArtifactKind;
use crate::protocols::awala::keys::{sha256, EcCurve};
use crate::protocols::awala::pki::Certificate;

pub(super) struct Report(Map<String, Value>);

impl Report {
    pub(super) fn new(kind: ArtifactKind, length: usize) -> Self {
        let mut map = Map::new();
        map.insert("type".into(), kind.name().into());
        map.insert("length".into(), length.into());
        Report(map)
    }

    pub(super) fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.0.insert(key.to_string(), value.into());
    }

    pub(super) fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

pub(super) fn date(value: DateTime<Utc>) -> Value {
    value.to_rfc3339_opts(SecondsFormat::Secs, true).into()
}

pub(super) fn digest(bytes: &[u8]) -> Value {
    hex::encode(sha256(bytes)).into()
}

pub(super) fn digests<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Value {
    Value::Array(items.into_iter().map(digest).collect())
}

pub(super) fn curve(curve: EcCurve) -> &'static str {
    match curve {
        EcCurve::P256 => "P-256",
        EcCurve::P384 => "P-384",
        EcCurve::P521 => "P-521",
    }
}

/// The fields operators look at first in a certificate.
pub(super) fn certificate(certificate: &Certificate) -> Value {
    let mut map = Map::new();
    map.insert("subject_id".into(), certificate.subject_id().into());
    map.insert(
        "issuer_id".into(),
        certificate
            .issuer_id()
            .map(Value::from)
            .unwrap_or(Value::Null),
    );
    map.insert("not_before".into(), date(certificate.not_before()));
    map.insert("not_after".into(), date(certificate.not_after()));
    map.insert("is_ca".into(), certificate.is_ca().into());
    map.insert(
        "path_len".into(),
        certificate
            .path_len_constraint()
            .map(Value::from)
            .unwrap_or(Value::Null),
    );
    map.insert(
        "serial_hex".into(),
        hex::encode(certificate.serial_number()).into(),
    );
    Value::Object(map)
}
