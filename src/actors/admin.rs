//! The admin listener: Prometheus metrics and readiness, apart from the peer-facing bindings so
//! operators can firewall it separately (`--admin-listen`, loopback by default).
//!
//! - `GET /metrics`: the text exposition of every gateway metric.
//! - `GET /live`: `200` while the process serves; no backend is checked (liveness: restarting
//!   the process would not repair a backend).
//! - `GET /ready`: `200` when every backend answers its health check in time and every role of
//!   this process has its workers running, `503` otherwise (dependency-aware readiness, DESIGN
//!   §7; see [`readiness`](crate::actors::readiness)). The JSON body says which: `status`,
//!   `backends` (`queue`, `metadata`, `objects`, `pubsub`, `keys`, each `ok` or `error` with the
//!   failure), and per role whether it is `up` with the state of each supervised subtree
//!   (running, restarting, failed...).
//! - `GET /health`: the same as `/ready`, for probes configured before `/ready` existed.
//! - `/v1/…`: the admin API, behind a bearer token ([`admin_api`](crate::actors::admin_api)).

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse, HttpServer};

use serde::Serialize;

use crate::actors::admin_api::{self, AdminApi};
use crate::actors::gateway::GatewayContext;
use crate::actors::readiness;
use crate::actors::request_id;

/// The Prometheus text format's content type.
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// A bound admin server, not yet awaited.
pub struct AdminServer {
    pub server: Server,
    pub addresses: Vec<SocketAddr>,
}

/// Binds the admin server on `listen` (one worker: it serves scrapes, not peers).
pub fn bind(
    context: Arc<GatewayContext>,
    listen: SocketAddr,
    api: AdminApi,
) -> std::io::Result<AdminServer> {
    let data = Data::from(context);
    let api = Data::new(api);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(api.clone())
            .app_data(request_id::BindingName("admin"))
            .wrap(from_fn(request_id::http))
            .configure(admin_api::configure)
            .route("/metrics", web::get().to(metrics))
            .route("/live", web::get().to(live))
            .route("/ready", web::get().to(ready))
            .route("/health", web::get().to(ready))
    })
    .workers(1)
    // `serve` owns the stop signals and stops every server itself.
    .disable_signals()
    .bind(listen)?;
    let addresses = server.addrs();
    Ok(AdminServer {
        server: server.run(),
        addresses,
    })
}

async fn metrics(context: Data<GatewayContext>) -> HttpResponse {
    refresh_mailbox_depths(&context).await;
    match context.metrics.encode_text() {
        Ok(text) => HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static(METRICS_CONTENT_TYPE),
            ))
            .body(text),
        Err(error) => {
            tracing::error!(%error, "could not encode metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Mailbox depths are read from the queues at scrape time, so the gauge is never stale.
async fn refresh_mailbox_depths(context: &GatewayContext) {
    for queue in crate::backends::queue::QueueName::ALL {
        match context.backends.queue.depth(queue).await {
            Ok(depth) => context
                .metrics
                .set_mailbox_depth(queue.as_str(), i64::try_from(depth).unwrap_or(i64::MAX)),
            Err(error) => tracing::warn!(%error, queue = queue.as_str(), "queue depth unknown"),
        }
    }
}

/// The `/live` body.
#[derive(Debug, Serialize)]
struct Live {
    status: &'static str,
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Live { status: "ok" })
}

async fn ready(context: Data<GatewayContext>) -> HttpResponse {
    let body = readiness::check(&context, readiness::CHECK_TIMEOUT).await;
    if body.is_ready() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::cogrpc::test_support::Fixture;

    async fn get(context: Arc<GatewayContext>, path: &str) -> (u16, serde_json::Value) {
        let app = actix_web::test::init_service(
            App::new()
                .app_data(Data::from(context))
                .route("/live", web::get().to(live))
                .route("/ready", web::get().to(ready))
                .route("/health", web::get().to(ready)),
        )
        .await;
        let request = actix_web::test::TestRequest::get().uri(path).to_request();
        let response = actix_web::test::call_service(&app, request).await;
        let status = response.status().as_u16();
        let body = actix_web::test::read_body(response).await;
        (status, serde_json::from_slice(&body).expect("json body"))
    }

    async fn get_health(context: Arc<GatewayContext>) -> (u16, serde_json::Value) {
        let (status, body) = get(context.clone(), "/health").await;
        assert_eq!(
            get(context, "/ready").await,
            (status, body.clone()),
            "an alias"
        );
        (status, body)
    }

    #[actix_rt::test]
    async fn live_answers_while_ready_reports_failed_workers() {
        let f = Fixture::new().await;
        f.context.roles.register_role("workers");
        let _outbound = f.context.roles.register("workers", "outbound_delivery", 1);
        let (status, body) = get(f.context.clone(), "/ready").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["backends"]["keys"]["status"], "ok", "{body}");
        let (status, body) = get(f.context.clone(), "/live").await;
        assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
    }

    #[actix_rt::test]
    async fn a_role_without_running_workers_makes_health_503() {
        let f = Fixture::new().await;
        f.context.roles.register_role("poweb");
        f.context.roles.register_role("workers");
        let (status, body) = get_health(f.context.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ok");
        for backend in ["queue", "metadata", "objects", "pubsub", "keys"] {
            assert_eq!(body["backends"][backend]["status"], "ok", "{body}");
        }

        let outbound = f.context.roles.register("workers", "outbound_delivery", 1);
        let (status, body) = get_health(f.context.clone()).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["status"], "unavailable");
        assert_eq!(body["roles"][0]["role"], "poweb");
        assert_eq!(body["roles"][0]["up"], true);
        let workers = &body["roles"][1];
        assert_eq!(workers["up"], false);
        assert_eq!(workers["components"][0]["component"], "outbound_delivery");
        assert_eq!(workers["components"][0]["state"], "restarting");
        assert_eq!(workers["components"][0]["running"], 0);

        outbound.child_started();
        let (status, body) = get_health(f.context.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["roles"][1]["components"][0]["state"], "running");
    }
}
