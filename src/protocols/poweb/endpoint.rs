//! PoWeb routing: method + path in, a closed [`PowebEndpoint`] or a [`RoutingError`] out.

use thiserror::Error;

use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};

/// Every PoWeb operation the gateway serves (house style, practice 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowebEndpoint {
    /// `GET|HEAD /`: process health (REF only; probes depend on it).
    Health,
    /// `GET|HEAD /connection-params.der`: outside `/v1`, used by Android gateways.
    ConnectionParams,
    /// `POST /v1/pre-registrations` (clients) or `/v1/pre-registration` (spec): issue a PNRA.
    PreRegisterNode,
    /// `POST /v1/nodes`: PNRR in, PNR out.
    RegisterNode,
    /// `POST /v1/parcels`: countersigned parcel delivery.
    DeliverParcel,
    /// `GET /v1/parcel-collection`: WebSocket upgrade for parcel collection.
    CollectParcels,
}

/// Why routing answered the request itself instead of yielding an endpoint.
///
/// Shared by both HTTP bindings (PoHTTP uses it too), because REF's method guard behaves the
/// same on every Fastify server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RoutingError {
    /// No such path: `404`.
    #[error("no such path")]
    NotFound,
    /// Known path, other method: `405` with this `Allow` value.
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed {
        /// Value of the `Allow` response header.
        allow: &'static str,
    },
    /// Not a failure: `OPTIONS` on a known path is answered `204` with this `Allow` value (and no
    /// CORS headers, which the spec forbids).
    #[error("options request; allowed: {allow}")]
    Options {
        /// Value of the `Allow` response header.
        allow: &'static str,
    },
}

impl RoutingError {
    /// The HTTP status to answer with: 404, 405 or 204.
    pub fn http_status(&self) -> u16 {
        match self {
            RoutingError::NotFound => 404,
            RoutingError::MethodNotAllowed { .. } => 405,
            RoutingError::Options { .. } => 204,
        }
    }

    /// The `Allow` header value to send, if any.
    pub fn allow(&self) -> Option<&'static str> {
        match self {
            RoutingError::NotFound => None,
            RoutingError::MethodNotAllowed { allow } | RoutingError::Options { allow } => {
                Some(allow)
            }
        }
    }

    /// Route a request against a fixed table of `(path, allowed methods, endpoint)` rows.
    ///
    /// `allow` lists the methods exactly as sent in `Allow`, comma-separated. The path must not
    /// carry a query string; one is stripped anyway so that a careless caller cannot get a 404.
    pub(crate) fn route<E: Copy>(
        table: &[(&'static str, &'static str, E)],
        method: &str,
        path: &str,
    ) -> Result<E, RoutingError> {
        let path = path.split_once('?').map_or(path, |(before, _)| before);
        let (_, allow, endpoint) = table
            .iter()
            .find(|(candidate, _, _)| *candidate == path)
            .ok_or(RoutingError::NotFound)?;
        // HTTP methods are case-sensitive (RFC 9110 §9.1).
        if allow.split(", ").any(|allowed| allowed == method) {
            Ok(*endpoint)
        } else if method == "OPTIONS" {
            Err(RoutingError::Options { allow })
        } else {
            Err(RoutingError::MethodNotAllowed { allow })
        }
    }
}

impl HasErrorCode for RoutingError {
    /// The class for metrics only: responses use [`RoutingError::http_status`], because the
    /// table has no 404/405/204 and routing answers never reach another binding.
    fn error_code(&self) -> GatewayErrorCode {
        GatewayErrorCode::Malformed
    }
}

const GET_HEAD: &str = "GET, HEAD";
const POST: &str = "POST";
const GET: &str = "GET";

/// PoWeb's routes. Both pre-registration spellings are served (DESIGN §6).
const ROUTES: [(&str, &str, PowebEndpoint); 7] = [
    ("/", GET_HEAD, PowebEndpoint::Health),
    (
        "/connection-params.der",
        GET_HEAD,
        PowebEndpoint::ConnectionParams,
    ),
    (
        "/v1/pre-registrations",
        POST,
        PowebEndpoint::PreRegisterNode,
    ),
    ("/v1/pre-registration", POST, PowebEndpoint::PreRegisterNode),
    ("/v1/nodes", POST, PowebEndpoint::RegisterNode),
    ("/v1/parcels", POST, PowebEndpoint::DeliverParcel),
    ("/v1/parcel-collection", GET, PowebEndpoint::CollectParcels),
];

impl PowebEndpoint {
    /// Every endpoint, for metric pre-registration and tests.
    pub const ALL: [PowebEndpoint; 6] = [
        PowebEndpoint::Health,
        PowebEndpoint::ConnectionParams,
        PowebEndpoint::PreRegisterNode,
        PowebEndpoint::RegisterNode,
        PowebEndpoint::DeliverParcel,
        PowebEndpoint::CollectParcels,
    ];

    /// The span name and bounded `endpoint` metric label.
    pub fn name(self) -> &'static str {
        match self {
            PowebEndpoint::Health => "health",
            PowebEndpoint::ConnectionParams => "connection_params",
            PowebEndpoint::PreRegisterNode => "pre_register_node",
            PowebEndpoint::RegisterNode => "register_node",
            PowebEndpoint::DeliverParcel => "deliver_parcel",
            PowebEndpoint::CollectParcels => "collect_parcels",
        }
    }

    /// Route a request; `path` is the URI path (a query string is ignored).
    pub fn parse(method: &str, path: &str) -> Result<PowebEndpoint, RoutingError> {
        RoutingError::route(&ROUTES, method, path)
    }
}

#[cfg(test)]
mod tests {
    use super::PowebEndpoint::*;
    use super::*;

    #[test]
    fn routes_every_endpoint() {
        let cases = [
            ("GET", "/", Health),
            ("HEAD", "/", Health),
            ("GET", "/connection-params.der", ConnectionParams),
            ("HEAD", "/connection-params.der", ConnectionParams),
            ("POST", "/v1/pre-registrations", PreRegisterNode),
            ("POST", "/v1/pre-registration", PreRegisterNode),
            ("POST", "/v1/nodes", RegisterNode),
            ("POST", "/v1/parcels", DeliverParcel),
            ("GET", "/v1/parcel-collection", CollectParcels),
            ("POST", "/v1/parcels?x=1", DeliverParcel),
        ];
        for (method, path, expected) in cases {
            assert_eq!(
                PowebEndpoint::parse(method, path),
                Ok(expected),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for path in [
            "/v1",
            "/v1/parcels/",
            "/v2/parcels",
            "",
            "/connection-params",
            "/V1/nodes",
        ] {
            let error = PowebEndpoint::parse("POST", path).unwrap_err();
            assert_eq!(error, RoutingError::NotFound, "{path}");
            assert_eq!(error.http_status(), 404);
            assert_eq!(error.allow(), None);
        }
    }

    #[test]
    fn other_methods_get_405_with_allow() {
        let cases = [
            ("POST", "/", "GET, HEAD"),
            ("DELETE", "/connection-params.der", "GET, HEAD"),
            ("GET", "/v1/parcels", "POST"),
            ("PUT", "/v1/nodes", "POST"),
            ("post", "/v1/nodes", "POST"),
            ("POST", "/v1/parcel-collection", "GET"),
            ("HEAD", "/v1/parcel-collection", "GET"),
        ];
        for (method, path, allow) in cases {
            let error = PowebEndpoint::parse(method, path).unwrap_err();
            assert_eq!(
                error,
                RoutingError::MethodNotAllowed { allow },
                "{method} {path}"
            );
            assert_eq!(error.http_status(), 405);
            assert_eq!(error.allow(), Some(allow));
        }
    }

    #[test]
    fn options_gets_204_with_allow() {
        let error = PowebEndpoint::parse("OPTIONS", "/v1/pre-registrations").unwrap_err();
        assert_eq!(error, RoutingError::Options { allow: "POST" });
        assert_eq!(error.http_status(), 204);
        assert_eq!(error.allow(), Some("POST"));
        assert_eq!(
            PowebEndpoint::parse("OPTIONS", "/nowhere"),
            Err(RoutingError::NotFound)
        );
    }

    #[test]
    fn names_are_distinct_snake_case() {
        let mut names: Vec<_> = PowebEndpoint::ALL.iter().map(|e| e.name()).collect();
        assert!(names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PowebEndpoint::ALL.len());
    }
}
