//! PoWeb binding codec (RS-016): pure parsing and status mapping for the HTTP and WebSocket
//! endpoints private gateways use.
//!
//! Layout:
//! - [`endpoint`]: routing to the closed [`PowebEndpoint`] enum, 404/405/OPTIONS answers.
//! - [`media`]: exact outbound content types, the lenient inbound matcher, JSON error bodies.
//! - [`countersignature`]: the `Authorization` header of parcel delivery.
//! - [`pre_registration`]: the hex digest body of pre-registration.
//! - [`status`]: where PoWeb's statuses deviate from the generic error table.
//! - [`collection`]: streaming mode and WebSocket close codes of parcel collection.
//!
//! Dependency rule: nothing here performs I/O or imports backends or actors; handlers extract
//! values from actix requests and call these functions.

pub mod collection;
pub mod countersignature;
pub mod endpoint;
pub mod media;
pub mod pre_registration;
pub mod status;

pub use collection::{PowebCloseReason, StreamingMode};
pub use countersignature::{
    parse_countersignature_header, CountersignatureError, WWW_AUTHENTICATE,
};
pub use endpoint::{PowebEndpoint, RoutingError};
pub use media::{content_type_matches, json_error_body};
pub use pre_registration::{parse_pre_registration_body, PreRegistrationError};
pub use status::{
    delivery_failure_status, registration_failure_status, DeliveryStep, RegistrationStep,
};

/// RS-016 body limit for `POST /v1/nodes` (REF allowed 9 MiB; DESIGN §6 takes the spec's).
pub const REGISTRATION_MAX_BODY: usize = 1024 * 1024;

/// Largest inbound WebSocket message: handshake responses (about 1.9 KiB per certificate) and
/// acknowledgements, as REF limits them.
pub const MAX_INBOUND_WS_MESSAGE: usize = 6 * 1024;

/// How often the server pings collection sockets; the JS client drops the socket after 7 s
/// without one.
pub const PING_INTERVAL_SECS: u64 = 5;

/// RS-016: drop a collection socket after this long without a pong.
pub const PONG_TIMEOUT_SECS: u64 = 9;
