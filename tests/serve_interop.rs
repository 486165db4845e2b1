//! The published PoWeb client (`@relaycorp/relaynet-poweb` 1.6.35) registers with the real
//! binary: `tests/interop/e2e/registration.mjs` does the talking, this starts the gateway.

mod support;

use support::gateway::Gateway;
use support::node::run_e2e;

#[test]
fn serve_registration_with_the_js_poweb_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), "gw.example.com");
    run_e2e(
        "e2e/registration.mjs",
        &[
            format!("http://127.0.0.1:{}", gateway.port),
            "gw.example.com".into(),
        ],
        &[
            "registered",
            "certificate chains to the gateway certificate",
            "session key present",
            "registration with another key refused",
        ],
    );
}
