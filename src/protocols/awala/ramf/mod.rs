//! RAMF messages (parcels, cargo, cargo collection authorisations): the 7-octet format
//! signature, a CMS SignedData whose content is the field set, and the libraries' validation.
//!
//! - [`message`]: the generic signed envelope, serialisation and deserialisation.
//! - [`kinds`]: the three concrete types, each with its own size limit and payload type.
//! - [`validation`]: timing, sender chain and recipient checks, with `now` passed in.

pub mod error;
pub mod kinds;
pub mod message;
pub mod validation;

pub use error::{RamfError, ValidationError};
pub use kinds::{Cargo, CargoCollectionAuthorization, Parcel};
pub use message::{MessageDraft, RamfMessage};
pub use validation::ValidationContext;

#[cfg(test)]
mod tests;
