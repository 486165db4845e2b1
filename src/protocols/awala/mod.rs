//! The pure Awala protocol core: RAMF, messages, PKI, CMS and channel sessions.
//!
//! Nothing here performs I/O, spawns tasks or reads the clock: callers pass `now`, trust anchors
//! and keys in, and get values or typed errors out. Inputs are parsed as BER where the libraries
//! emit BER; everything we produce is strict DER.
//!
//! Layout:
//! - [`limits`]: every size and time limit.
//! - [`error`]: the error kinds shared by all layers.
//! - [`keys`]: RSA identity keys and ECDH session keys over OpenSSL.
//! - [`messages`]: RAMF field set, format signatures, control messages and payload plaintexts.
//! - [`pki`]: X.509 certificates: parsing, issuance and certification path validation.
//! - [`ramf`]: parcels, cargo and CCAs: signed envelopes and their validation.
//! - [`inspect`]: recognise, describe and validate any artifact (`awala-gateway inspect`).
//! - [`cms`]: SignedData, detached signatures and session EnvelopedData (BER in, DER out).

pub mod cms;
pub mod error;
pub mod inspect;
pub mod keys;
pub mod limits;
pub mod messages;
pub mod pki;
pub mod ramf;
