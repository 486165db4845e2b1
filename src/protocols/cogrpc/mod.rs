//! CogRPC binding codec (RS-008): generated wire types and services, the closed
//! [`CogrpcEndpoint`] enum, CCA metadata parsing, status mapping and server limits.
//!
//! Layout:
//! - [`generated`]: tonic/prost code generated from `proto/` (committed; see
//!   `tests/cogrpc_codegen.rs`). Wire types stay inside this binding (house style, practice 3):
//!   handlers convert a [`CargoDelivery`] into domain cargo before anything else sees it.
//! - [`alias`]: serves one handler under both package names.
//! - [`cca`]: the `authorization` metadata of `CollectCargo`.
//! - [`status`]: where CogRPC's status codes deviate from the generic table.
//!
//! Both `relaynet.cogrpc.CargoRelay` (what couriers call) and `awala.cogrpc.CargoRelay` (the
//! spec's name, DESIGN §6) are generated. The second reuses the first's messages, so a handler
//! implements [`CargoRelay`] once and [`awala_server`] registers it under the spec's name too.
//! Dependency rule: no I/O, no backends, no actors, no tonic transport.

use std::sync::Arc;
use std::time::Duration;

use crate::protocols::awala::limits::MAX_RAMF_MESSAGE_LENGTH;

pub mod alias;
pub mod cca;
pub mod generated;
pub mod status;

pub use alias::SpecPackageAlias;
pub use cca::{parse_cca_metadata, CcaMetadataError, AUTHORIZATION_METADATA_KEY};
pub use generated::relaynet::cogrpc::cargo_relay_client::CargoRelayClient;
pub use generated::relaynet::cogrpc::cargo_relay_server::{CargoRelay, CargoRelayServer};
pub use generated::relaynet::cogrpc::{CargoDelivery, CargoDeliveryAck};
pub use status::{
    collect_cargo_failure_code, deliver_cargo_disposition, CargoDisposition, CollectCargoStep,
};

/// The service name couriers call (and REF's health service name).
pub const RELAYNET_SERVICE_NAME: &str = "relaynet.cogrpc.CargoRelay";
/// The service name RS-008 gives.
pub const AWALA_SERVICE_NAME: &str = "awala.cogrpc.CargoRelay";
/// Service name `grpc.health.v1.Health` reports as SERVING, as REF does (besides `""`); probes
/// in existing deployments ask for it.
pub const HEALTH_SERVICE_NAME: &str = RELAYNET_SERVICE_NAME;

/// Largest inbound message: a maximal RAMF message plus the `CargoDelivery` envelope (REF's
/// value). tonic's default of 4 MiB would refuse legitimate cargo.
pub const MAX_DECODING_MESSAGE_SIZE: usize = MAX_RAMF_MESSAGE_LENGTH + 256;
/// Largest outbound message we let tonic encode: same bound, since we only send cargo.
pub const MAX_ENCODING_MESSAGE_SIZE: usize = MAX_DECODING_MESSAGE_SIZE;
/// Largest request metadata (HTTP/2 header list): a base64 CCA is about 4.9 KiB.
pub const MAX_METADATA_SIZE: usize = 6_000;
/// Concurrent streams per connection, as REF.
pub const MAX_CONCURRENT_STREAMS: u32 = 3;
/// Idle connections are closed after this long, as REF: the default of
/// `limits.cogrpc_idle_timeout_seconds`.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a connection is pinged (HTTP/2 PING) to learn whether the courier is still there;
/// REF relies on TCP alone, which can take hours to notice a vanished peer holding a call open.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a ping may go unanswered before the connection is closed.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Connections are recycled after this long, as REF...
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(15 * 60);
/// ...with this grace period for calls in flight.
pub const MAX_CONNECTION_AGE_GRACE: Duration = Duration::from_secs(30);

/// Every CogRPC method (house style, practice 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CogrpcEndpoint {
    /// Courier → gateway cargo.
    DeliverCargo,
    /// Gateway → courier cargo, authorised by a CCA.
    CollectCargo,
}

impl CogrpcEndpoint {
    /// Every endpoint, for metric pre-registration and tests.
    pub const ALL: [CogrpcEndpoint; 2] =
        [CogrpcEndpoint::DeliverCargo, CogrpcEndpoint::CollectCargo];

    /// The span name and bounded `endpoint` metric label.
    pub fn name(self) -> &'static str {
        match self {
            CogrpcEndpoint::DeliverCargo => "deliver_cargo",
            CogrpcEndpoint::CollectCargo => "collect_cargo",
        }
    }

    /// The endpoint of a gRPC request path (`/<package>.CargoRelay/<Method>`), under either
    /// package name; `None` for anything else (tonic answers `UNIMPLEMENTED` for those).
    pub fn from_grpc_path(path: &str) -> Option<CogrpcEndpoint> {
        let rest = path.strip_prefix('/')?;
        let (service, method) = rest.split_once('/')?;
        if service != RELAYNET_SERVICE_NAME && service != AWALA_SERVICE_NAME {
            return None;
        }
        match method {
            "DeliverCargo" => Some(CogrpcEndpoint::DeliverCargo),
            "CollectCargo" => Some(CogrpcEndpoint::CollectCargo),
            _ => None,
        }
    }
}

/// The `relaynet.cogrpc.CargoRelay` service for `handler`, with REF's message limits.
pub fn relaynet_server<T: CargoRelay>(handler: Arc<T>) -> CargoRelayServer<T> {
    CargoRelayServer::from_arc(handler)
        .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_ENCODING_MESSAGE_SIZE)
}

/// The same `handler` as `awala.cogrpc.CargoRelay`, with the same limits.
pub fn awala_server<T: CargoRelay>(
    handler: Arc<T>,
) -> generated::awala::cogrpc::cargo_relay_server::CargoRelayServer<SpecPackageAlias<T>> {
    generated::awala::cogrpc::cargo_relay_server::CargoRelayServer::new(SpecPackageAlias(handler))
        .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_ENCODING_MESSAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded() {
        assert_eq!(CogrpcEndpoint::DeliverCargo.name(), "deliver_cargo");
        assert_eq!(CogrpcEndpoint::CollectCargo.name(), "collect_cargo");
    }

    #[test]
    fn paths_map_to_endpoints_under_both_packages() {
        use CogrpcEndpoint::*;
        let cases = [
            (
                "/relaynet.cogrpc.CargoRelay/DeliverCargo",
                Some(DeliverCargo),
            ),
            (
                "/relaynet.cogrpc.CargoRelay/CollectCargo",
                Some(CollectCargo),
            ),
            ("/awala.cogrpc.CargoRelay/DeliverCargo", Some(DeliverCargo)),
            ("/awala.cogrpc.CargoRelay/CollectCargo", Some(CollectCargo)),
            ("/relaynet.cogrpc.CargoRelay/Other", None),
            ("/grpc.health.v1.Health/Check", None),
            ("relaynet.cogrpc.CargoRelay/DeliverCargo", None),
            ("/", None),
        ];
        for (path, expected) in cases {
            assert_eq!(CogrpcEndpoint::from_grpc_path(path), expected, "{path}");
        }
    }

    #[test]
    fn limits_match_ref() {
        assert_eq!(MAX_DECODING_MESSAGE_SIZE, 9_437_184 + 256);
        assert_eq!(MAX_METADATA_SIZE, 6_000);
        assert_eq!(HEALTH_SERVICE_NAME, "relaynet.cogrpc.CargoRelay");
        assert_eq!(
            crate::config::LimitsConfig::default().cogrpc_idle_timeout(),
            IDLE_TIMEOUT
        );
    }

    #[test]
    fn generated_service_names_match() {
        assert_eq!(
            generated::relaynet::cogrpc::cargo_relay_server::SERVICE_NAME,
            RELAYNET_SERVICE_NAME
        );
        assert_eq!(
            generated::awala::cogrpc::cargo_relay_server::SERVICE_NAME,
            AWALA_SERVICE_NAME
        );
    }
}
