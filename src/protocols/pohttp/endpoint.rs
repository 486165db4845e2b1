//! PoHTTP routing: everything happens on the root path.

use crate::protocols::poweb::RoutingError;

/// Every PoHTTP operation the gateway serves (house style, practice 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PohttpEndpoint {
    /// `GET|HEAD /`: process health (REF only; probes depend on it).
    Health,
    /// `POST /`: a parcel for one of our private gateways (RS-007 posts to the SRV target root).
    DeliverParcel,
}

/// The `Allow` value for `/`, as REF sends it.
pub const ALLOW: &str = "GET, HEAD, POST";

impl PohttpEndpoint {
    /// Every endpoint, for metric pre-registration and tests.
    pub const ALL: [PohttpEndpoint; 2] = [PohttpEndpoint::Health, PohttpEndpoint::DeliverParcel];

    /// The span name and bounded `endpoint` metric label.
    pub fn name(self) -> &'static str {
        match self {
            PohttpEndpoint::Health => "health",
            PohttpEndpoint::DeliverParcel => "deliver_parcel",
        }
    }

    /// Route a request; `path` is the URI path (a query string is ignored).
    pub fn parse(method: &str, path: &str) -> Result<PohttpEndpoint, RoutingError> {
        let path = path.split_once('?').map_or(path, |(before, _)| before);
        if path != "/" {
            return Err(RoutingError::NotFound);
        }
        // One path, two endpoints chosen by method, so the shared table router does not fit.
        match method {
            "POST" => Ok(PohttpEndpoint::DeliverParcel),
            "GET" | "HEAD" => Ok(PohttpEndpoint::Health),
            "OPTIONS" => Err(RoutingError::Options { allow: ALLOW }),
            _ => Err(RoutingError::MethodNotAllowed { allow: ALLOW }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_root_by_method() {
        assert_eq!(
            PohttpEndpoint::parse("POST", "/"),
            Ok(PohttpEndpoint::DeliverParcel)
        );
        assert_eq!(
            PohttpEndpoint::parse("POST", "/?a=b"),
            Ok(PohttpEndpoint::DeliverParcel)
        );
        assert_eq!(
            PohttpEndpoint::parse("GET", "/"),
            Ok(PohttpEndpoint::Health)
        );
        assert_eq!(
            PohttpEndpoint::parse("HEAD", "/"),
            Ok(PohttpEndpoint::Health)
        );
    }

    #[test]
    fn other_paths_and_methods() {
        assert_eq!(
            PohttpEndpoint::parse("POST", "/v1/parcels"),
            Err(RoutingError::NotFound)
        );
        assert_eq!(
            PohttpEndpoint::parse("POST", ""),
            Err(RoutingError::NotFound)
        );
        assert_eq!(
            PohttpEndpoint::parse("OPTIONS", "/x"),
            Err(RoutingError::NotFound)
        );
        for method in ["PUT", "DELETE", "PATCH", "post"] {
            let error = PohttpEndpoint::parse(method, "/").unwrap_err();
            assert_eq!(error, RoutingError::MethodNotAllowed { allow: ALLOW });
            assert_eq!(error.http_status(), 405);
        }
        let options = PohttpEndpoint::parse("OPTIONS", "/").unwrap_err();
        assert_eq!(options.http_status(), 204);
        assert_eq!(options.allow(), Some("GET, HEAD, POST"));
    }

    #[test]
    fn names_are_distinct() {
        assert_ne!(
            PohttpEndpoint::Health.name(),
            PohttpEndpoint::DeliverParcel.name()
        );
    }
}
