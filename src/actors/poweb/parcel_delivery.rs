//! `POST /v1/parcels`: a private gateway hands over a parcel (notes §5.2).
//!
//! REF's order: the countersignature is verified before the parcel is parsed, so an anonymous
//! client cannot make us parse 8 MiB of CMS. Then the router decides: parcels for private peers
//! are stored for their gateway, Internet-bound ones are deduplicated and queued. `202` is sent
//! only once the router returned, i.e. once the effect is durable.

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;

use super::body::{error, has_content_type, read_capped, server_failure};
use super::PowebState;
use crate::actors::parcel_router::{RouteError, Routed};
use crate::protocols::awala::cms::PARCEL_DELIVERY_SIGNATURE_OID;
use crate::protocols::awala::limits::MAX_PARCEL_LENGTH;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::poweb::{
    delivery_failure_status, media, parse_countersignature_header, CountersignatureError,
    DeliveryStep, PowebEndpoint, WWW_AUTHENTICATE,
};
use crate::telemetry::Binding;

const STAGE: &str = "poweb_deliver_parcel";

pub async fn handle(request: &HttpRequest, payload: Payload, state: &PowebState) -> HttpResponse {
    if !has_content_type(request, media::PARCEL) {
        return error(415, "content type should be application/vnd.awala.parcel");
    }
    let signature = match countersignature(request) {
        Ok(signature) => signature,
        Err(failure) => return unauthorized(&failure.to_string()),
    };
    let body = match read_capped(request, payload, MAX_PARCEL_LENGTH).await {
        Ok(body) => body,
        Err(failure) => {
            let status = delivery_failure_status(DeliveryStep::Parcel, failure.error_code());
            return error(status, &failure.to_string());
        }
    };
    let now = Utc::now();
    let gateway = state.gateway.clone();
    let verify_body = body.clone();
    // RSA verification on a blocking thread, which is also the panic boundary for the CMS parser.
    let authenticated = tokio::task::spawn_blocking(move || {
        gateway.authenticate_private_gateway(
            &signature,
            &PARCEL_DELIVERY_SIGNATURE_OID,
            &verify_body,
            now,
        )
    })
    .await;
    let pg_id = match authenticated {
        Ok(Ok(signer)) => signer.subject_id().to_owned(),
        Ok(Err(failure)) => {
            tracing::info!(error = %failure, "refused parcel delivery countersignature");
            return unauthorized("parcel delivery countersignature is invalid");
        }
        Err(join) => {
            tracing::error!(error = %join, "countersignature verification task failed");
            return unauthorized("parcel delivery countersignature is invalid");
        }
    };
    if let Some(limited) = rate_limited(state, &pg_id) {
        return limited;
    }
    let size = body.len();
    match state
        .router
        .route_from_private_gateway(body, &pg_id, now)
        .await
    {
        Ok(routed) => {
            if let Routed::StoredForPrivateGateway { .. } = routed {
                state.metrics.record_parcel_stored(Binding::Poweb, size);
            }
            HttpResponse::Accepted().finish()
        }
        Err(failure @ RouteError::Backend(_)) | Err(failure @ RouteError::Internal(_)) => {
            server_failure(&state.metrics, STAGE, &failure)
        }
        Err(failure) => {
            tracing::info!(private_gateway_id = %pg_id, error = %failure, "refused parcel");
            let status = delivery_failure_status(DeliveryStep::Parcel, failure.error_code());
            let message = match failure.error_code() {
                GatewayErrorCode::Malformed | GatewayErrorCode::TooLarge => "parcel is malformed",
                _ => "parcel is invalid",
            };
            error(status, message)
        }
    }
}

fn countersignature(request: &HttpRequest) -> Result<Vec<u8>, CountersignatureError> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(CountersignatureError::Missing)?;
    parse_countersignature_header(value)
}

/// `429` with `Retry-After` when `pg_id` is over its delivery rate, counted. Checked once the
/// countersignature said who it is (one RSA verification) and before the parcel is.
fn rate_limited(state: &PowebState, pg_id: &str) -> Option<HttpResponse> {
    let wait = state
        .deliveries
        .as_ref()?
        .check_key(pg_id.to_owned())
        .err()?;
    state
        .metrics
        .record_rate_limited(Binding::Poweb, PowebEndpoint::DeliverParcel.name());
    tracing::info!(pg_id, "private gateway over its delivery rate");
    let code = GatewayErrorCode::RateLimited;
    let mut response = error(
        code.http_status(),
        "too many parcel deliveries; retry later",
    );
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    Some(response)
}

fn unauthorized(message: &str) -> HttpResponse {
    let mut response = error(401, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(WWW_AUTHENTICATE),
    );
    response
}
