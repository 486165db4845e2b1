//! The admin API's private gateway routes (mounted by [`super::admin_api::configure`]):
//!
//! - `GET /v1/private-gateways[?after=ID&limit=N]`: registry records in id order (100 per page
//!   unless `limit` says otherwise, at most 1,000), each with what is stored for it and its live
//!   collection sessions in this process.
//! - `GET /v1/private-gateways/{id}`: one of them (404 if the gateway is unknown and has
//!   nothing stored).
//! - `POST /v1/private-gateways/{id}/revoke`: revokes it (see [`private_gateways::revoke`]).

use actix_web::web::{self, Data};
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actors::admin_api::{refusal, unavailable};
use crate::actors::gateway::GatewayContext;
use crate::actors::private_gateways;
use crate::backends::metadata::{PrivateGatewayRecord, StoredTotals, MAX_PAGE};
use crate::backends::BackendError;

const DEFAULT_PAGE: usize = 100;
/// Longest id accepted; ours are 65 characters ("0" and a hex SHA-256).
const MAX_ID_LENGTH: usize = 128;

pub fn configure(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("/private-gateways", web::get().to(list))
        .route("/private-gateways/{id}", web::get().to(show))
        .route("/private-gateways/{id}/revoke", web::post().to(revoke))
}

/// A registry record with what the API adds to it.
#[derive(Serialize)]
struct GatewayView {
    id: String,
    registered_at: Option<DateTime<Utc>>,
    certificate_expiry: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    revoked: bool,
    revoked_at: Option<DateTime<Utc>>,
    parcels_stored: u64,
    bytes_stored: u64,
    live_sessions: usize,
}

async fn view_of(
    context: &GatewayContext,
    record: PrivateGatewayRecord,
    now: DateTime<Utc>,
) -> Result<GatewayView, BackendError> {
    let StoredTotals { parcels, bytes } = context
        .backends
        .metadata
        .stored_for_gateway(&record.id, now)
        .await?;
    let live_sessions = context.private_gateways.live_sessions(&record.id);
    // Sightings not yet synced are newer than the record's.
    Ok(GatewayView {
        revoked: record.revoked_at.is_some(),
        live_sessions,
        parcels_stored: parcels,
        bytes_stored: bytes,
        last_seen: record.last_seen,
        id: record.id,
        registered_at: record.registered_at,
        certificate_expiry: record.certificate_expiry,
        revoked_at: record.revoked_at,
    })
}

#[derive(Deserialize)]
struct Page {
    after: Option<String>,
    limit: Option<usize>,
}

async fn list(context: Data<GatewayContext>, page: web::Query<Page>) -> HttpResponse {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return refusal(
            HttpResponse::BadRequest(),
            &format!("limit must be between 1 and {MAX_PAGE}"),
        );
    }
    let now = Utc::now();
    let after = page.after.as_deref().unwrap_or("");
    let records = match context
        .backends
        .metadata
        .list_private_gateways(after, limit)
        .await
    {
        Ok(records) => records,
        Err(error) => return unavailable(&error.to_string()),
    };
    let mut views = Vec::with_capacity(records.len());
    for record in records {
        match view_of(&context, record, now).await {
            Ok(view) => views.push(view),
            Err(error) => return unavailable(&error.to_string()),
        }
    }
    HttpResponse::Ok().json(views)
}

/// The id a path names, or the 400 saying why it cannot be one.
fn id_of(path: &str) -> Result<&str, Box<HttpResponse>> {
    let plausible = !path.is_empty()
        && path.len() <= MAX_ID_LENGTH
        && path.bytes().all(|byte| byte.is_ascii_alphanumeric());
    if plausible {
        Ok(path)
    } else {
        Err(Box::new(refusal(
            HttpResponse::BadRequest(),
            "a private gateway id is up to 128 letters and digits",
        )))
    }
}

async fn show(context: Data<GatewayContext>, path: web::Path<String>) -> HttpResponse {
    let id = match id_of(&path) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let now = Utc::now();
    let record = match context.backends.metadata.get_private_gateway(id).await {
        Ok(Some(record)) => record,
        // Registered before the registry and not seen since: it may still have parcels.
        Ok(None) => PrivateGatewayRecord {
            id: id.to_owned(),
            registered_at: None,
            certificate_expiry: None,
            last_seen: None,
            revoked_at: None,
        },
        Err(error) => return unavailable(&error.to_string()),
    };
    let known =
        record.registered_at.is_some() || record.last_seen.is_some() || record.revoked_at.is_some();
    match view_of(&context, record, now).await {
        Ok(view) if !known && view.parcels_stored == 0 && view.live_sessions == 0 => refusal(
            HttpResponse::NotFound(),
            &format!("no private gateway {id} is known"),
        ),
        Ok(view) => HttpResponse::Ok().json(view),
        Err(error) => unavailable(&error.to_string()),
    }
}

async fn revoke(context: Data<GatewayContext>, path: web::Path<String>) -> HttpResponse {
    let id = match id_of(&path) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match private_gateways::revoke(&context, id, Utc::now()).await {
        Ok(revocation) => HttpResponse::Ok().json(revocation),
        Err(error) => unavailable(&error.to_string()),
    }
}
