//! RAMF messages: the format signature, SignedData verification and the field set, for each of
//! the three kinds (each has its own format signature and size limit).
#![no_main]

use awala_gateway::protocols::awala::ramf::{Cargo, CargoCollectionAuthorization, Parcel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Parcel::deserialize(data);
    let _ = Cargo::deserialize(data);
    let _ = CargoCollectionAuthorization::deserialize(data);
});
