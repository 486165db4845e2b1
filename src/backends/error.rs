//! The one error type every backend returns.
//!
//! Callers branch on [`BackendErrorKind`] only, never on the message: a worker maps
//! `Unavailable` to "retry later" (nack, 503, `RESOURCE_EXHAUSTED`) and everything else to
//! "abort" (dead-letter, 500). The message is for logs; the source keeps the driver's error.

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

/// What went wrong, in the terms a caller needs to decide between retrying and aborting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendErrorKind {
    /// The thing asked for does not exist (or no longer does).
    NotFound,
    /// The operation clashes with the current state (a lost lease, a duplicate unique key).
    Conflict,
    /// The backend cannot take the operation now (full, overloaded, down, timed out). Retryable.
    Unavailable,
    /// Stored data does not decode or authenticate (bad sealed key, bad row, bad file mode).
    Corrupt,
    /// A bug or misconfiguration on our side (bad URL, bad key, unexpected driver error).
    Internal,
}

impl BackendErrorKind {
    /// Whether a caller may retry the same operation later with a chance of success.
    pub fn is_retryable(self) -> bool {
        matches!(self, BackendErrorKind::Unavailable)
    }
}

impl fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            BackendErrorKind::NotFound => "not found",
            BackendErrorKind::Conflict => "conflict",
            BackendErrorKind::Unavailable => "unavailable",
            BackendErrorKind::Corrupt => "corrupt",
            BackendErrorKind::Internal => "internal",
        };
        f.write_str(name)
    }
}

/// A backend failure: a kind to branch on, a lowercase message for logs, and the cause.
#[derive(Debug, Clone, Error)]
#[error("{kind}: {message}")]
pub struct BackendError {
    pub kind: BackendErrorKind,
    pub message: String,
    /// `Arc` so the error stays `Clone` (it is fanned out to several waiters at times).
    #[source]
    pub source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl BackendError {
    pub fn new(kind: BackendErrorKind, message: impl Into<String>) -> Self {
        BackendError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::Conflict, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::Unavailable, message)
    }

    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::Corrupt, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::Internal, message)
    }

    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// Classifies an I/O failure: running out of space or handles is retryable, the rest is not.
    pub fn from_io(context: &str, error: std::io::Error) -> Self {
        use std::io::ErrorKind;
        let kind = match error.kind() {
            ErrorKind::NotFound => BackendErrorKind::NotFound,
            ErrorKind::StorageFull
            | ErrorKind::TimedOut
            | ErrorKind::Interrupted
            | ErrorKind::WouldBlock
            | ErrorKind::ResourceBusy => BackendErrorKind::Unavailable,
            ErrorKind::InvalidData | ErrorKind::UnexpectedEof => BackendErrorKind::Corrupt,
            _ => BackendErrorKind::Internal,
        };
        Self::new(kind, format!("{context}: {error}")).with_source(error)
    }

    /// Classifies a SQL driver failure: pool exhaustion, busy databases and lost connections are
    /// retryable; unique violations are conflicts; undecodable rows are corrupt.
    pub fn from_sqlx(context: &str, error: sqlx::Error) -> Self {
        let kind = match &error {
            sqlx::Error::RowNotFound => BackendErrorKind::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                BackendErrorKind::Unavailable
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => BackendErrorKind::Conflict,
            // SQLITE_BUSY (5) / SQLITE_LOCKED (6) after the busy timeout: another writer.
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("5") | Some("6") | Some("517")) =>
            {
                BackendErrorKind::Unavailable
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => BackendErrorKind::Corrupt,
            _ => BackendErrorKind::Internal,
        };
        Self::new(kind, format!("{context}: {error}")).with_source(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_kind_then_message_and_source_is_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
        let error = BackendError::from_io("writing object", io);
        assert_eq!(error.kind(), BackendErrorKind::Unavailable);
        assert!(error.kind().is_retryable());
        assert!(error.to_string().starts_with("unavailable: writing object"));
        assert!(std::error::Error::source(&error).is_some());
        assert!(!BackendError::corrupt("x").kind().is_retryable());
    }
}
