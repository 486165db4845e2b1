//! Awala messages other than the CMS layers: the RAMF field set, the format signature, control
//! messages (PCA, certificate rotation, PoWeb frames, registration) and payload plaintexts.
//!
//! Everything is pure: bytes in, values or typed errors out, with dates passed in by callers.
//! Certificates stay raw DER here; the PKI layer turns them into certificate values.
//! Encodings follow `awala-protocol-notes.md` §2 byte for byte; decoders take strict DER only,
//! check declared lengths against `limits.rs` before copying, and reject trailing octets.

mod asn1;
pub mod batching;
pub mod cargo_message_set;
pub mod cca_request;
pub mod certification_path;
pub mod connection_params;
pub mod domain;
pub mod error;
pub mod field_set;
pub mod handshake;
pub mod node_registration;
pub mod parcel_delivery;
pub mod pca;
pub mod registration;
pub mod service_message;
mod session_key;
pub mod signature;

pub use batching::{batch_messages, CargoMessageBatch};
pub use cargo_message_set::{classify_item, CargoItem, CargoMessageSet};
pub use cca_request::CargoCollectionRequest;
pub use certification_path::{CertificateRotation, CertificationPath, CertificationPathEncoding};
pub use connection_params::NodeConnectionParams;
pub use domain::is_valid_domain;
pub use error::MessageError;
pub use field_set::{FieldSet, Recipient};
pub use handshake::{HandshakeChallenge, HandshakeResponse};
pub use node_registration::PrivateNodeRegistration;
pub use parcel_delivery::ParcelDelivery;
pub use pca::ParcelCollectionAck;
pub use registration::{PrivateNodeRegistrationAuthorization, PrivateNodeRegistrationRequest};
pub use service_message::ServiceMessage;
pub use signature::{detect, MessageType};
