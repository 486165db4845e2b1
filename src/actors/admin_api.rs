//! The admin API under `/v1/` on the admin listener, and who may call it.
//!
//! With a token configured (`admin.token`), every request must carry `Authorization: Bearer
//! TOKEN` (401 otherwise). Without one it answers only when the listener is on loopback: beyond
//! loopback every `/v1/` request gets 403, so exposing the port for probes never exposes the API.
//!
//! - `POST /v1/purge-expired`: runs a housekeeping sweep now and answers with what it deleted
//!   (through this process's housekeeper when it runs the workers role, directly otherwise).
//! - `GET /v1/queues`: each durable mailbox and the messages waiting in it.
//! - `GET /v1/queues/{queue}/dead-letters`: its oldest dead letters (up to 100), with the reason,
//!   attempts and attributes of each; bodies as their size.
//! - `GET /v1/actors`: this process's roles and supervised subtrees, with restart counts.
//! - the private gateway routes of [`super::admin_private_gateways`].

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, Next};
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::actors::gateway::GatewayContext;
use crate::actors::housekeeping::{self, HousekeepingHandle, HousekeepingSettings};
use crate::backends::queue::QueueName;
use crate::backends::BackendErrorKind;
use crate::config::Secret;
use crate::supervision::protect;
use crate::supervision::status::RoleReport;

/// What the API needs beyond the gateway context.
#[derive(Clone, Default)]
pub struct AdminApi {
    token: Option<Arc<Secret>>,
    /// Set once the housekeeper runs (after the listener is bound).
    housekeeper: Arc<OnceLock<HousekeepingHandle>>,
    /// Whether requests without a token are answered (the listener is on loopback).
    open_without_token: bool,
}

impl AdminApi {
    pub fn new(token: Option<Secret>, listen: SocketAddr) -> Self {
        AdminApi {
            token: token.map(Arc::new),
            housekeeper: Arc::default(),
            open_without_token: listen.ip().is_loopback(),
        }
    }

    /// Lets `/v1/purge-expired` go through this process's supervised housekeeper.
    pub fn set_housekeeper(&self, handle: HousekeepingHandle) {
        let _ = self.housekeeper.set(handle);
    }

    /// Whether beyond-loopback requests will all be refused (for a start-up warning).
    pub fn is_locked(&self) -> bool {
        self.token.is_none() && !self.open_without_token
    }

    /// The refusal `request` gets, or `None` when it may go through.
    fn refusal_for(&self, request: &HttpRequest) -> Option<HttpResponse> {
        let Some(token) = &self.token else {
            return if self.open_without_token {
                None
            } else {
                Some(refusal(
                    HttpResponse::Forbidden(),
                    "the admin API is off: it listens beyond loopback and no admin.token is set",
                ))
            };
        };
        let from_header = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        // A browser opening the status page cannot send a header; only that page takes the
        // token from the query, so API calls never put it in URLs.
        let from_query = (request.path() == STATUS_PATH)
            .then(|| query_token(request.query_string()))
            .flatten();
        let presented = from_header.or(from_query.as_deref());
        match presented {
            Some(presented)
                if presented.len() == token.expose().len()
                    && openssl::memcmp::eq(presented.as_bytes(), token.expose().as_bytes()) =>
            {
                None
            }
            _ => Some(refusal(
                HttpResponse::Unauthorized(),
                "a valid `Authorization: Bearer TOKEN` header is required",
            )),
        }
    }
}

#[derive(Serialize)]
struct ApiError<'a> {
    error: &'a str,
}

pub(crate) fn refusal(mut builder: actix_web::HttpResponseBuilder, message: &str) -> HttpResponse {
    let mut response = builder.json(ApiError { error: message });
    if response.status() == actix_web::http::StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// The status page's path, the one place a token may come in the query.
const STATUS_PATH: &str = "/status";

/// The `token` parameter of a query string, percent-decoded.
fn query_token(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
}

/// Adds the `/v1/` routes and the status page, all behind the token gate.
pub fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::resource(STATUS_PATH)
            .wrap(from_fn(require_token))
            .route(web::get().to(crate::actors::status_page::page)),
    );
    let scope = crate::actors::admin_private_gateways::configure(web::scope("/v1"));
    config.service(
        scope
            .wrap(from_fn(require_token))
            .route("/purge-expired", web::post().to(purge_expired))
            .route("/queues", web::get().to(queues))
            .route("/queues/{queue}/dead-letters", web::get().to(dead_letters))
            .route(
                "/queues/{queue}/dead-letters/{id}/retry",
                web::post().to(retry_dead_letter),
            )
            .route(
                "/queues/{queue}/dead-letters/{id}",
                web::delete().to(drop_dead_letter),
            )
            .route("/actors", web::get().to(actors)),
    );
}

/// The gate in front of every `/v1/` route, so no handler can forget it.
async fn require_token(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refused = match request.app_data::<Data<AdminApi>>() {
        Some(api) => api.refusal_for(request.request()),
        None => Some(refusal(
            HttpResponse::InternalServerError(),
            "the admin API is not configured",
        )),
    };
    match refused {
        Some(response) => Ok(request.into_response(response)),
        None => Ok(next.call(request).await?.map_into_boxed_body()),
    }
}

/// Dead letters listed at most.
const DEAD_LETTER_PAGE: usize = 100;

#[derive(Serialize)]
struct QueueDepth {
    queue: &'static str,
    depth: u64,
}

async fn queues(context: Data<GatewayContext>) -> HttpResponse {
    let mut depths = Vec::new();
    for queue in QueueName::ALL {
        match context.backends.queue.depth(queue).await {
            Ok(depth) => depths.push(QueueDepth {
                queue: queue.as_str(),
                depth,
            }),
            Err(error) => return unavailable(&error.to_string()),
        }
    }
    HttpResponse::Ok().json(depths)
}

#[derive(Serialize)]
struct DeadLetterView {
    message_id: String,
    reason: String,
    attempts: u32,
    dead_at: chrono::DateTime<chrono::Utc>,
    body_bytes: usize,
    attributes: std::collections::BTreeMap<String, String>,
}

/// The queue a path names, or the 404 that lists the real ones.
fn queue_named(name: &str) -> Result<QueueName, Box<HttpResponse>> {
    QueueName::ALL
        .into_iter()
        .find(|queue| queue.as_str() == name)
        .ok_or_else(|| {
            let known: Vec<&str> = QueueName::ALL.iter().map(|queue| queue.as_str()).collect();
            Box::new(refusal(
                HttpResponse::NotFound(),
                &format!("no queue {name:?}; the queues are {}", known.join(", ")),
            ))
        })
}

#[derive(Serialize)]
struct DeadLetterSettled<'a> {
    queue: &'static str,
    message_id: &'a str,
    action: &'static str,
}

/// `POST …/dead-letters/{id}/retry` and `DELETE …/dead-letters/{id}`.
async fn settle_dead_letter(
    context: Data<GatewayContext>,
    path: web::Path<(String, String)>,
    retry: bool,
) -> HttpResponse {
    let (queue, message_id) = path.into_inner();
    let queue = match queue_named(&queue) {
        Ok(queue) => queue,
        Err(response) => return *response,
    };
    let backend = &context.backends.queue;
    let (settled, action) = if retry {
        (
            backend.retry_dead_letter(queue, &message_id).await,
            "retried",
        )
    } else {
        (
            backend.drop_dead_letter(queue, &message_id).await,
            "dropped",
        )
    };
    match settled {
        Ok(()) => {
            tracing::info!(
                queue = queue.as_str(),
                message_id,
                action,
                "dead letter settled"
            );
            HttpResponse::Ok().json(DeadLetterSettled {
                queue: queue.as_str(),
                message_id: &message_id,
                action,
            })
        }
        Err(error) if error.kind == BackendErrorKind::NotFound => {
            refusal(HttpResponse::NotFound(), &error.to_string())
        }
        Err(error) => unavailable(&error.to_string()),
    }
}

async fn retry_dead_letter(
    context: Data<GatewayContext>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    settle_dead_letter(context, path, true).await
}

async fn drop_dead_letter(
    context: Data<GatewayContext>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    settle_dead_letter(context, path, false).await
}

async fn dead_letters(context: Data<GatewayContext>, path: web::Path<String>) -> HttpResponse {
    let queue = match queue_named(&path) {
        Ok(queue) => queue,
        Err(response) => return *response,
    };
    match context
        .backends
        .queue
        .dead_letters(queue, DEAD_LETTER_PAGE)
        .await
    {
        Ok(letters) => HttpResponse::Ok().json(
            letters
                .into_iter()
                .map(|letter| DeadLetterView {
                    message_id: letter.message_id,
                    reason: letter.reason,
                    attempts: letter.attempts,
                    dead_at: letter.dead_at,
                    body_bytes: letter.body.len(),
                    attributes: letter.attributes,
                })
                .collect::<Vec<_>>(),
        ),
        Err(error) => unavailable(&error.to_string()),
    }
}

#[derive(Serialize)]
struct ActorsView {
    roles: Vec<RoleReport>,
}

async fn actors(context: Data<GatewayContext>) -> HttpResponse {
    HttpResponse::Ok().json(ActorsView {
        roles: context.roles.report(),
    })
}

pub(crate) fn unavailable(message: &str) -> HttpResponse {
    refusal(HttpResponse::ServiceUnavailable(), message)
}

async fn purge_expired(context: Data<GatewayContext>, api: Data<AdminApi>) -> HttpResponse {
    let outcome = match api.housekeeper.get() {
        Some(handle) => handle.sweep_now().await,
        None => {
            let context = context.into_inner();
            let sweep = protect(async move {
                let settings = HousekeepingSettings::default();
                housekeeping::sweep(&context, &settings, chrono::Utc::now()).await
            })
            .await;
            match sweep {
                Ok(Ok(report)) => Ok(report),
                Ok(Err(error)) => Err(error.to_string()),
                Err(panic) => Err(format!("the sweep panicked: {panic}")),
            }
        }
    };
    match outcome {
        Ok(report) => HttpResponse::Ok().json(report),
        Err(message) => {
            tracing::warn!(%message, "purge-expired failed");
            unavailable(&message)
        }
    }
}

#[cfg(test)]
#[path = "admin_api_tests.rs"]
mod tests;
