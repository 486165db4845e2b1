//! `GET|HEAD /`: the process is up. Touches no backend, as in REF (probes depend on it); the
//! server only listens once the identity is loaded, so answering means ready.

use actix_web::HttpResponse;

use super::body::ok;
use crate::protocols::poweb::media;

const BANNER: &str = "Success! The PoWeb service works.\n";

pub fn handle() -> HttpResponse {
    ok(media::TEXT_PLAIN, BANNER)
}
