//! Parcel collection over WebSocket: streaming mode and close codes (RS-016, notes §5.3).

use crate::protocols::error_code::GatewayErrorCode;

/// Streaming-mode header every client sends today.
pub const RELAYNET_STREAMING_MODE_HEADER: &str = "X-Relaynet-Streaming-Mode";
/// Streaming-mode header as RS-016 spells it.
pub const AWALA_STREAMING_MODE_HEADER: &str = "X-Awala-Streaming-Mode";
/// The only header value that selects [`StreamingMode::CloseUponCompletion`].
pub const CLOSE_UPON_COMPLETION: &str = "close-upon-completion";

/// Our extension: a client that reads the socket message by message (not as a byte stream, as
/// the published JS client does) may ask for more unacknowledged deliveries than the default.
pub const COLLECTION_WINDOW_HEADER: &str = "X-Awala-Collection-Window";

/// The window a collection socket gets: what the client asked for with
/// [`COLLECTION_WINDOW_HEADER`] (a decimal count), capped at `max`, or `default` when it asked
/// for nothing readable. Never below one.
pub fn collection_window(header_opt: Option<&str>, default: usize, max: usize) -> usize {
    let requested_opt = header_opt.and_then(|value| value.trim().parse::<usize>().ok());
    requested_opt
        .map_or(default, |requested| requested.min(max))
        .max(1)
}

/// How long a collection connection lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StreamingMode {
    /// Send what is queued, then keep pushing new parcels until either side closes (default).
    #[default]
    KeepAlive,
    /// Send what is queued, then close with 1000 once every parcel was acknowledged.
    CloseUponCompletion,
}

impl StreamingMode {
    /// The mode requested by the upgrade request's headers (pass each header's value, if any).
    ///
    /// The `Relaynet` header wins when both are present, since it is the one clients send. Only
    /// the exact value `close-upon-completion` selects that mode; absence and any other value
    /// (including `keep-alive` and garbage) mean keep-alive, as in REF.
    pub fn from_headers(relaynet_opt: Option<&str>, awala_opt: Option<&str>) -> StreamingMode {
        match relaynet_opt.or(awala_opt) {
            Some(CLOSE_UPON_COMPLETION) => StreamingMode::CloseUponCompletion,
            _ => StreamingMode::KeepAlive,
        }
    }

    /// Bounded label for spans and metrics.
    pub fn name(self) -> &'static str {
        match self {
            StreamingMode::KeepAlive => "keep_alive",
            StreamingMode::CloseUponCompletion => "close_upon_completion",
        }
    }
}

/// WebSocket close codes PoWeb sends.
pub mod close_code {
    /// Collection complete (close-upon-completion), or "reconnect" in keep-alive mode.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// Invalid handshake response or acknowledgement.
    pub const CANNOT_ACCEPT: u16 = 1003;
    /// The request came from a web browser (`Origin` header).
    pub const POLICY_VIOLATION: u16 = 1008;
    /// An inbound message over the 6 KiB limit.
    pub const TOO_BIG: u16 = 1009;
    /// Internal error (REF: the live stream failed).
    pub const INTERNAL_ERROR: u16 = 1011;
    /// RS-016 "closing early, retry later". The JS client treats it as a fatal server error and
    /// stops collecting, so we only send it in close-upon-completion mode.
    pub const RETRY_LATER: u16 = 4000;
}

/// RFC 6455 §5.5: a control frame carries at most 125 bytes, 2 of which are the code.
pub const MAX_CLOSE_REASON_LEN: usize = 123;

/// Why the server closes a collection connection; each maps to a code and a reason text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowebCloseReason {
    /// Every queued parcel was sent and acknowledged (close-upon-completion).
    Complete,
    /// The first client message was not a parseable `HandshakeResponse`.
    InvalidHandshakeResponse,
    /// The handshake response carried no nonce signature.
    MissingNonceSignatures,
    /// A nonce signature did not verify or its signer was not issued by us.
    InvalidNonceSignature,
    /// An acknowledgement named no pending delivery.
    UnknownDeliveryId,
    /// The operator revoked a private gateway the session collects for.
    Revoked,
    /// An inbound message exceeded the inbound size limit.
    MessageTooLarge,
    /// The upgrade request carried `Origin`: browsers may not collect (RS-016).
    BrowserRequest,
    /// A backend or mailbox is unavailable; the client should come back. The code depends on
    /// the mode because of how clients react (see [`close_code::RETRY_LATER`]).
    RetryLater(StreamingMode),
    /// The gateway is shutting down.
    GoingAway,
    /// No handshake response arrived within the configured time.
    HandshakeTimeout,
    /// No pong arrived within the configured time: the peer is gone or stuck.
    PongTimeout,
    /// Our own failure.
    Internal,
}

impl PowebCloseReason {
    /// How to close after a failure that happened once collection was under way.
    pub fn for_stream_failure(code: GatewayErrorCode, mode: StreamingMode) -> PowebCloseReason {
        match code {
            GatewayErrorCode::Unavailable => PowebCloseReason::RetryLater(mode),
            _ => PowebCloseReason::Internal,
        }
    }

    /// The close code to send.
    pub fn code(self) -> u16 {
        match self {
            PowebCloseReason::Complete => close_code::NORMAL,
            PowebCloseReason::InvalidHandshakeResponse
            | PowebCloseReason::MissingNonceSignatures
            | PowebCloseReason::InvalidNonceSignature
            | PowebCloseReason::UnknownDeliveryId
            | PowebCloseReason::Revoked => close_code::CANNOT_ACCEPT,
            PowebCloseReason::MessageTooLarge => close_code::TOO_BIG,
            PowebCloseReason::BrowserRequest
            | PowebCloseReason::HandshakeTimeout
            | PowebCloseReason::PongTimeout => close_code::POLICY_VIOLATION,
            // 1000 makes both clients reconnect in keep-alive mode; 4000 would stop the JS one.
            PowebCloseReason::RetryLater(StreamingMode::KeepAlive) => close_code::NORMAL,
            PowebCloseReason::RetryLater(StreamingMode::CloseUponCompletion) => {
                close_code::RETRY_LATER
            }
            PowebCloseReason::GoingAway => close_code::GOING_AWAY,
            PowebCloseReason::Internal => close_code::INTERNAL_ERROR,
        }
    }

    /// The reason text to send (at most [`MAX_CLOSE_REASON_LEN`] bytes).
    pub fn reason(self) -> &'static str {
        match self {
            PowebCloseReason::Complete => "all available parcels were delivered",
            PowebCloseReason::InvalidHandshakeResponse => "invalid handshake response",
            PowebCloseReason::MissingNonceSignatures => {
                "handshake response carries no nonce signatures"
            }
            PowebCloseReason::InvalidNonceSignature => "nonce signature is invalid",
            PowebCloseReason::UnknownDeliveryId => "unknown delivery id sent as acknowledgement",
            PowebCloseReason::Revoked => "private gateway was revoked",
            PowebCloseReason::MessageTooLarge => "message is too large",
            PowebCloseReason::BrowserRequest => "web browser requests are disabled",
            PowebCloseReason::RetryLater(_) => "service temporarily unavailable; retry later",
            PowebCloseReason::GoingAway => "gateway is shutting down",
            PowebCloseReason::HandshakeTimeout => "handshake response not received in time",
            PowebCloseReason::PongTimeout => "pong not received in time",
            PowebCloseReason::Internal => "internal server error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PowebCloseReason::*;
    use super::*;

    #[test]
    fn streaming_mode_needs_the_exact_value() {
        use StreamingMode::*;
        let cases = [
            (None, None, KeepAlive),
            (Some("close-upon-completion"), None, CloseUponCompletion),
            (None, Some("close-upon-completion"), CloseUponCompletion),
            (Some("keep-alive"), None, KeepAlive),
            (Some("Close-Upon-Completion"), None, KeepAlive),
            (Some("close-upon-completion "), None, KeepAlive),
            (Some(""), None, KeepAlive),
            (Some("keep-alive"), Some("close-upon-completion"), KeepAlive),
            (
                Some("close-upon-completion"),
                Some("keep-alive"),
                CloseUponCompletion,
            ),
        ];
        for (relaynet, awala, expected) in cases {
            assert_eq!(
                StreamingMode::from_headers(relaynet, awala),
                expected,
                "{relaynet:?} {awala:?}"
            );
        }
        assert_eq!(StreamingMode::default(), KeepAlive);
    }

    #[test]
    fn collection_window_is_what_the_client_asked_within_bounds() {
        let cases = [
            (None, 1),
            (Some("16"), 16),
            (Some(" 16 "), 16),
            (Some("1000"), 128),
            (Some("0"), 1),
            (Some("-3"), 1),
            (Some("many"), 1),
            (Some(""), 1),
        ];
        for (header, expected) in cases {
            assert_eq!(collection_window(header, 1, 128), expected, "{header:?}");
        }
        assert_eq!(collection_window(None, 8, 128), 8, "operator's default");
        assert_eq!(collection_window(Some("x"), 8, 128), 8);
    }

    #[test]
    fn close_codes_are_pinned() {
        let cases = [
            (Complete, 1000),
            (InvalidHandshakeResponse, 1003),
            (MissingNonceSignatures, 1003),
            (InvalidNonceSignature, 1003),
            (UnknownDeliveryId, 1003),
            (MessageTooLarge, 1009),
            (BrowserRequest, 1008),
            (RetryLater(StreamingMode::KeepAlive), 1000),
            (RetryLater(StreamingMode::CloseUponCompletion), 4000),
            (GoingAway, 1001),
            (HandshakeTimeout, 1008),
            (PongTimeout, 1008),
            (Revoked, 1003),
            (Internal, 1011),
        ];
        for (reason, code) in cases {
            assert_eq!(reason.code(), code, "{reason:?}");
            assert!(!reason.reason().is_empty());
            assert!(reason.reason().len() <= MAX_CLOSE_REASON_LEN, "{reason:?}");
        }
    }

    #[test]
    fn stream_failures_map_by_code_and_mode() {
        let mode = StreamingMode::CloseUponCompletion;
        assert_eq!(
            PowebCloseReason::for_stream_failure(GatewayErrorCode::Unavailable, mode),
            RetryLater(mode)
        );
        assert_eq!(
            PowebCloseReason::for_stream_failure(GatewayErrorCode::Internal, mode),
            Internal
        );
    }
}
