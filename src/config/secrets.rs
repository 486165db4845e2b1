//! Secret-bearing values: redaction for printing, and `*_file` reading with permission checks.
//!
//! A [`Secret`] never shows its credentials through `Debug` or `Serialize`, so no log line and no
//! `--print-config` output can leak a password, whichever path formats it.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize, Serializer};

/// What replaces a password (or an unparseable secret) in printed output.
pub const REDACTED: &str = "REDACTED";

/// A string that may carry credentials (a backend URL such as `postgres://user:pass@host/db`).
///
/// `Debug` and `Serialize` print the redacted form; only [`Secret::expose`] gives the real value.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from config, env, a flag or a secret file.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value, for the one place that opens the connection.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value with any password and query string replaced, safe to print.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({:?})", self.redacted())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

/// Redacts the credentials of a URL: the password, and query parameters (which often carry
/// tokens). The user name stays, because operators need it to debug "which account".
/// Anything that does not parse as a URL is redacted whole: we cannot tell where its secret is.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return REDACTED.to_owned();
    };
    if url.password().is_some() && url.set_password(Some(REDACTED)).is_err() {
        return REDACTED.to_owned();
    }
    if url.query().is_some() {
        url.set_query(Some(REDACTED));
    }
    url.to_string()
}

/// Why a secret file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("it is readable by group or others (mode {mode:o}); run `chmod 600` on it")]
    TooOpen { mode: u32 },
    #[error("it is empty")]
    Empty,
}

/// Reads a secret from a file, refusing files that group or others can read or write.
///
/// Trailing newlines are trimmed, since `echo secret > file` adds one.
pub fn read_secret_file(path: &Path) -> Result<Secret, SecretFileError> {
    check_permissions(path)?;
    let content = std::fs::read_to_string(path)?;
    let value = content.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        return Err(SecretFileError::Empty);
    }
    Ok(Secret::new(value))
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), SecretFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretFileError::TooOpen { mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), SecretFileError> {
    // No portable mode bits: rely on the platform's ACLs.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_and_queries() {
        assert_eq!(
            redact_url("postgres://user:pass@db:5432/awala"),
            "postgres://user:REDACTED@db:5432/awala"
        );
        assert_eq!(
            redact_url("amqp://guest:guest@rabbit:5672/%2f"),
            "amqp://guest:REDACTED@rabbit:5672/%2f"
        );
        assert_eq!(
            redact_url("s3://bucket?secret_key=abc"),
            "s3://bucket?REDACTED"
        );
        assert_eq!(redact_url("sqlite:///var/db"), "sqlite:///var/db");
        assert_eq!(redact_url("not a url with pass"), REDACTED);
    }

    #[test]
    fn debug_and_serialize_never_show_the_password() {
        let secret = Secret::new("redis://:hunter2@cache:6379");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let json = serde_json::to_string(&secret).unwrap_or_default();
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(secret.expose(), "redis://:hunter2@cache:6379");
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_must_be_private() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("db-url");
        std::fs::write(&path, "postgres://u:p@h/db\n")?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        assert!(matches!(
            read_secret_file(&path),
            Err(SecretFileError::TooOpen { mode: 0o644 })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        assert_eq!(read_secret_file(&path)?.expose(), "postgres://u:p@h/db");
        Ok(())
    }
}
