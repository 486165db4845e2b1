//! The one error-code table shared by PoWeb, PoHTTP and CogRPC (house style, practice 5).
//!
//! Every layer has its own `thiserror` enum and implements [`HasErrorCode`]; a binding turns the
//! code into an HTTP status, a gRPC status code or a WebSocket close code with the methods here.
//! Where real clients need a binding to answer differently (PoWeb's 401 for every
//! countersignature failure and 422 for invalid parcels, CogRPC's `UNAUTHENTICATED` for bad CCAs
//! and `UNAVAILABLE` for internal failures), the binding module has its own mapping function
//! that says so; this table stays generic and is never bent for one binding.

use serde::Serialize;

/// The class of a failure, in the terms every binding needs to choose its answer.
///
/// Add a code only when an existing one would make some binding answer wrongly; each variant
/// says why it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayErrorCode {
    /// The request does not parse: bad framing, bad DER/base64, missing field.
    Malformed,
    /// The caller did not prove who it is: missing or unverifiable credentials (countersignature,
    /// CCA, handshake signatures).
    Unauthorized,
    /// Well-formed and authenticated, but refused: expired, untrusted chain, wrong recipient.
    Forbidden,
    /// Over a size limit; the caller must not retry the same bytes.
    TooLarge,
    /// Exists because PoWeb and PoHTTP clients rely on `415` for a wrong `Content-Type`, which
    /// no other code conveys over HTTP.
    UnsupportedMediaType,
    /// Exists because a replay (a CCA already fulfilled) is neither malformed nor forbidden in
    /// itself: retrying the same request can never succeed, unlike `Unavailable`.
    Conflict,
    /// Exists because a client too slow to send its request (a body trickled past the deadline)
    /// is neither malformed nor our failure: HTTP has `408` for it, and the same bytes sent
    /// faster can succeed, which `Malformed` (400) would deny and `Unavailable` (503) would blame
    /// on the server.
    TimedOut,
    /// Exists because a caller over its own rate limit must be told so (`429` + `Retry-After`)
    /// apart from a server that is overloaded for everyone (`Unavailable`).
    RateLimited,
    /// Exists because a peer over its storage quota is refused for what it already holds here,
    /// neither for its rate (`RateLimited`) nor for an overload shared by all (`Unavailable`):
    /// HTTP has `507` for it, and it clears once the peer collects.
    QuotaExceeded,
    /// A dependency or a mailbox cannot take the work now (backend outage, full mailbox); the
    /// caller should retry later.
    Unavailable,
    /// Our own bug or an unexpected failure; nothing the caller did.
    Internal,
}

/// Numeric gRPC status codes (grpc/doc/statuscodes.md), kept here so this table does not depend
/// on tonic's enum layout and can be pinned by plain numbers in tests.
pub mod grpc {
    /// `INVALID_ARGUMENT`.
    pub const INVALID_ARGUMENT: i32 = 3;
    /// `DEADLINE_EXCEEDED`.
    pub const DEADLINE_EXCEEDED: i32 = 4;
    /// `ALREADY_EXISTS`.
    pub const ALREADY_EXISTS: i32 = 6;
    /// `PERMISSION_DENIED`.
    pub const PERMISSION_DENIED: i32 = 7;
    /// `RESOURCE_EXHAUSTED`.
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    /// `INTERNAL`.
    pub const INTERNAL: i32 = 13;
    /// `UNAVAILABLE`.
    pub const UNAVAILABLE: i32 = 14;
    /// `UNAUTHENTICATED`.
    pub const UNAUTHENTICATED: i32 = 16;
}

impl GatewayErrorCode {
    /// Every code, for exhaustive tests and documentation tables.
    pub const ALL: [GatewayErrorCode; 11] = [
        GatewayErrorCode::Malformed,
        GatewayErrorCode::Unauthorized,
        GatewayErrorCode::Forbidden,
        GatewayErrorCode::TooLarge,
        GatewayErrorCode::UnsupportedMediaType,
        GatewayErrorCode::Conflict,
        GatewayErrorCode::TimedOut,
        GatewayErrorCode::RateLimited,
        GatewayErrorCode::QuotaExceeded,
        GatewayErrorCode::Unavailable,
        GatewayErrorCode::Internal,
    ];

    /// A bounded, stable label for metrics (`error_type`) and logs.
    pub fn name(self) -> &'static str {
        match self {
            GatewayErrorCode::Malformed => "malformed",
            GatewayErrorCode::Unauthorized => "unauthorized",
            GatewayErrorCode::Forbidden => "forbidden",
            GatewayErrorCode::TooLarge => "too_large",
            GatewayErrorCode::UnsupportedMediaType => "unsupported_media_type",
            GatewayErrorCode::Conflict => "conflict",
            GatewayErrorCode::TimedOut => "timed_out",
            GatewayErrorCode::RateLimited => "rate_limited",
            GatewayErrorCode::QuotaExceeded => "quota_exceeded",
            GatewayErrorCode::Unavailable => "unavailable",
            GatewayErrorCode::Internal => "internal",
        }
    }

    /// The generic HTTP status for this code.
    pub fn http_status(self) -> u16 {
        match self {
            GatewayErrorCode::Malformed => 400,
            GatewayErrorCode::Unauthorized => 401,
            GatewayErrorCode::Forbidden => 403,
            GatewayErrorCode::TooLarge => 413,
            GatewayErrorCode::UnsupportedMediaType => 415,
            GatewayErrorCode::Conflict => 409,
            GatewayErrorCode::TimedOut => 408,
            GatewayErrorCode::RateLimited => 429,
            GatewayErrorCode::QuotaExceeded => 507,
            GatewayErrorCode::Unavailable => 503,
            GatewayErrorCode::Internal => 500,
        }
    }

    /// The generic gRPC status code (numeric, as on the wire in `grpc-status`).
    pub fn grpc_code(self) -> i32 {
        match self {
            GatewayErrorCode::Malformed => grpc::INVALID_ARGUMENT,
            GatewayErrorCode::Unauthorized => grpc::UNAUTHENTICATED,
            GatewayErrorCode::Forbidden => grpc::PERMISSION_DENIED,
            // gRPC itself answers RESOURCE_EXHAUSTED for oversized messages.
            GatewayErrorCode::TooLarge => grpc::RESOURCE_EXHAUSTED,
            // gRPC has no media types; a wrong payload type is a bad argument.
            GatewayErrorCode::UnsupportedMediaType => grpc::INVALID_ARGUMENT,
            GatewayErrorCode::Conflict => grpc::ALREADY_EXISTS,
            GatewayErrorCode::TimedOut => grpc::DEADLINE_EXCEEDED,
            // gRPC's own answer to a caller over its quota.
            GatewayErrorCode::RateLimited | GatewayErrorCode::QuotaExceeded => {
                grpc::RESOURCE_EXHAUSTED
            }
            GatewayErrorCode::Unavailable => grpc::UNAVAILABLE,
            GatewayErrorCode::Internal => grpc::INTERNAL,
        }
    }

    /// The generic gRPC status code as tonic's enum.
    pub fn tonic_code(self) -> tonic::Code {
        tonic::Code::from_i32(self.grpc_code())
    }

    /// The generic WebSocket close code (RFC 6455 §7.4, plus Awala's 4000 "retry later").
    pub fn ws_close_code(self) -> u16 {
        match self {
            // 1003 "cannot accept this data": what Awala servers send for bad handshakes/ACKs.
            GatewayErrorCode::Malformed | GatewayErrorCode::UnsupportedMediaType => 1003,
            // 1008 "policy violation": authenticated refusal of any kind.
            // A peer too slow or too frequent broke our policy, like the handshake timeout does.
            GatewayErrorCode::Unauthorized
            | GatewayErrorCode::Forbidden
            | GatewayErrorCode::Conflict
            | GatewayErrorCode::TimedOut
            | GatewayErrorCode::RateLimited
            | GatewayErrorCode::QuotaExceeded => 1008,
            GatewayErrorCode::TooLarge => 1009,
            // RS-016's "closing early, retry later"; PoWeb picks 1000 instead in keep-alive mode
            // because the JS client treats 4000 as fatal (see `poweb::collection`).
            GatewayErrorCode::Unavailable => 4000,
            GatewayErrorCode::Internal => 1011,
        }
    }

    /// Whether the caller may succeed by sending the same request again later.
    pub fn is_retriable(self) -> bool {
        matches!(
            self,
            GatewayErrorCode::TimedOut
                | GatewayErrorCode::RateLimited
                | GatewayErrorCode::QuotaExceeded
                | GatewayErrorCode::Unavailable
                | GatewayErrorCode::Internal
        )
    }
}

/// Implemented by every error that can reach a binding, so bindings never match on strings.
pub trait HasErrorCode {
    /// The class of this failure.
    fn error_code(&self) -> GatewayErrorCode;
}

impl HasErrorCode for GatewayErrorCode {
    fn error_code(&self) -> GatewayErrorCode {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::GatewayErrorCode::*;
    use super::*;

    /// The whole table, pinned: (code, name, HTTP, gRPC, WebSocket close, retriable).
    const TABLE: [(GatewayErrorCode, &str, u16, i32, u16, bool); 11] = [
        (Malformed, "malformed", 400, 3, 1003, false),
        (Unauthorized, "unauthorized", 401, 16, 1008, false),
        (Forbidden, "forbidden", 403, 7, 1008, false),
        (TooLarge, "too_large", 413, 8, 1009, false),
        (
            UnsupportedMediaType,
            "unsupported_media_type",
            415,
            3,
            1003,
            false,
        ),
        (Conflict, "conflict", 409, 6, 1008, false),
        (TimedOut, "timed_out", 408, 4, 1008, true),
        (RateLimited, "rate_limited", 429, 8, 1008, true),
        (QuotaExceeded, "quota_exceeded", 507, 8, 1008, true),
        (Unavailable, "unavailable", 503, 14, 4000, true),
        (Internal, "internal", 500, 13, 1011, true),
    ];

    #[test]
    fn table_is_pinned() {
        for (code, name, http, grpc, ws, retriable) in TABLE {
            assert_eq!(code.name(), name);
            assert_eq!(code.http_status(), http, "{code:?}");
            assert_eq!(code.grpc_code(), grpc, "{code:?}");
            assert_eq!(code.ws_close_code(), ws, "{code:?}");
            assert_eq!(code.is_retriable(), retriable, "{code:?}");
        }
        let pinned: Vec<_> = TABLE.iter().map(|row| row.0).collect();
        assert_eq!(pinned, GatewayErrorCode::ALL.to_vec());
    }

    #[test]
    fn tonic_codes_agree_with_numbers() {
        assert_eq!(Unauthorized.tonic_code(), tonic::Code::Unauthenticated);
        assert_eq!(Forbidden.tonic_code(), tonic::Code::PermissionDenied);
        assert_eq!(TooLarge.tonic_code(), tonic::Code::ResourceExhausted);
        assert_eq!(Conflict.tonic_code(), tonic::Code::AlreadyExists);
        assert_eq!(Unavailable.tonic_code(), tonic::Code::Unavailable);
        assert_eq!(Internal.tonic_code(), tonic::Code::Internal);
        assert_eq!(Malformed.tonic_code(), tonic::Code::InvalidArgument);
        assert_eq!(TimedOut.tonic_code(), tonic::Code::DeadlineExceeded);
        assert_eq!(RateLimited.tonic_code(), tonic::Code::ResourceExhausted);
    }

    #[test]
    fn serialises_as_its_name() {
        for code in GatewayErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.name()));
        }
    }
}
