//! Parcel delivery through the real binary, driven only by the published clients
//! (`tests/interop/e2e/delivery.mjs`): PoHTTP in, PoWeb in, refusals.

mod support;

use support::gateway::{Gateway, GatewayOptions};
use support::node::run_e2e;

const ADDRESS: &str = "gw.example.com";

fn ports(gateway: &Gateway) -> Vec<String> {
    vec![gateway.port.to_string(), gateway.pohttp_port.to_string()]
}

#[test]
fn pohttp_valid_duplicate_unauthorized_and_malformed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    let mut args = vec!["pohttp".to_string()];
    args.extend(ports(&gateway));
    run_e2e(
        "e2e/delivery.mjs",
        &args,
        &[
            "pohttp parcel accepted",
            "pohttp duplicate accepted",
            "pohttp unauthorized parcel refused",
            "pohttp malformed parcel refused",
        ],
    );
}

#[test]
fn poweb_refuses_foreign_countersignatures_and_invalid_parcels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start_with(
        dir.path(),
        ADDRESS,
        &GatewayOptions {
            roles: Some("poweb".into()),
            ..Default::default()
        },
    );
    let mut args = vec!["poweb-refused".to_string()];
    args.extend(ports(&gateway));
    run_e2e(
        "e2e/delivery.mjs",
        &args,
        &[
            "poweb delivery with a foreign countersignature refused",
            "poweb expired parcel refused",
        ],
    );
}
