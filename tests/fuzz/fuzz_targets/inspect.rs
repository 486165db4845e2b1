//! `awala-gateway inspect` on arbitrary bytes with default options: artifact detection, then
//! the describer and validator of whatever kind was recognised.
#![no_main]

use awala_gateway::protocols::awala::inspect::{inspect, InspectOptions};
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A fixed `now`, so runs are reproducible.
    let now: DateTime<Utc> = DateTime::from_timestamp(1_795_000_000, 0).expect("valid timestamp");
    let _ = inspect(data, &InspectOptions::new(now));
});
