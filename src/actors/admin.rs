//! The admin listener: Prometheus metrics and readiness, apart from the peer-facing bindings so
//! operators can firewall it separately (`--admin-listen`, loopback by default).
//!
//! - `GET /metrics`: the text exposition of every gateway metric.
//! - `GET /health`: `200` when every backend answers its health check, `503` naming the failure
//!   otherwise (dependency-aware readiness, DESIGN §7).

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse, HttpServer};

use crate::actors::gateway::GatewayContext;

/// The Prometheus text format's content type.
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// A bound admin server, not yet awaited.
pub struct AdminServer {
    pub server: Server,
    pub addresses: Vec<SocketAddr>,
}

/// Binds the admin server on `listen` (one worker: it serves scrapes, not peers).
pub fn bind(context: Arc<GatewayContext>, listen: SocketAddr) -> std::io::Result<AdminServer> {
    let data = Data::from(context);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/metrics", web::get().to(metrics))
            .route("/health", web::get().to(health))
    })
    .workers(1)
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

async fn health(context: Data<GatewayContext>) -> HttpResponse {
    match context.backends.health_check().await {
        Ok(()) => HttpResponse::Ok().body("ok"),
        Err(error) => HttpResponse::ServiceUnavailable().body(format!("unhealthy: {error}")),
    }
}
