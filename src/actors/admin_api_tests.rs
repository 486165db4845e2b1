use actix_web::test::{call_service, init_service, read_body, TestRequest};
use actix_web::App;

use super::*;
use crate::actors::cogrpc::collect_test_support::TestGateway;
use crate::backends::metadata::ParcelIndexKey;

const LOOPBACK: &str = "127.0.0.1:8090";
const EXPOSED: &str = "0.0.0.0:8090";

/// Sends `request` to the API routes of `gateway`, behind `api`'s gate.
async fn call(
    gateway: &TestGateway,
    api: AdminApi,
    request: TestRequest,
) -> (u16, serde_json::Value) {
    let app = init_service(
        App::new()
            .app_data(Data::from(gateway.context.clone()))
            .app_data(Data::new(api))
            .configure(configure),
    )
    .await;
    let response = call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let body = read_body(response).await;
    (status, serde_json::from_slice(&body).expect("json body"))
}

async fn purge(
    gateway: &TestGateway,
    api: AdminApi,
    authorization: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = TestRequest::post().uri("/v1/purge-expired");
    if let Some(value) = authorization {
        request = request.insert_header((header::AUTHORIZATION, value));
    }
    call(gateway, api, request).await
}

fn api(token: Option<&str>, listen: &str) -> AdminApi {
    AdminApi::new(
        token.map(Secret::new),
        listen.parse().expect("socket address"),
    )
}

#[actix_rt::test]
async fn purge_expired_sweeps_now_and_says_what_went() {
    let gateway = TestGateway::start().await;
    let now = chrono::Utc::now();
    gateway
        .store_parcel("0pg", b"old".to_vec(), now - chrono::Duration::hours(1))
        .await;
    let orphan_key =
        ParcelIndexKey::new("0pg", "0r", "0s", "p").object_key(now - chrono::Duration::hours(2));
    gateway
        .context
        .backends
        .objects
        .put(&orphan_key, bytes::Bytes::from_static(b"x"))
        .await
        .expect("put");

    let (status, body) = purge(&gateway, api(None, LOOPBACK), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expired_parcels"], 1, "{body}");
    assert_eq!(body["orphan_bodies"], 1, "{body}");

    // Through a running housekeeper, as `serve` with the workers role does.
    let with_housekeeper = api(None, LOOPBACK);
    with_housekeeper.set_housekeeper(housekeeping::start(
        gateway.context.clone(),
        HousekeepingSettings::default(),
    ));
    let (status, body) = purge(&gateway, with_housekeeper, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expired_parcels"], 0, "{body}");
}

#[actix_rt::test]
async fn a_token_is_required_once_set_and_beyond_loopback() {
    let gateway = TestGateway::start().await;
    for (token, listen, authorization, expected) in [
        (Some("s3cret"), LOOPBACK, None, 401),
        (Some("s3cret"), LOOPBACK, Some("Bearer wrong"), 401),
        (Some("s3cret"), LOOPBACK, Some("Bearer s3cre"), 401),
        (Some("s3cret"), LOOPBACK, Some("Basic s3cret"), 401),
        (Some("s3cret"), LOOPBACK, Some("Bearer s3cret"), 200),
        (Some("s3cret"), EXPOSED, Some("Bearer s3cret"), 200),
        (Some("s3cret"), EXPOSED, None, 401),
        (None, EXPOSED, None, 403),
        (None, EXPOSED, Some("Bearer anything"), 403),
        (None, LOOPBACK, None, 200),
    ] {
        let (status, body) = purge(&gateway, api(token, listen), authorization).await;
        assert_eq!(
            status, expected,
            "{token:?} {listen} {authorization:?}: {body}"
        );
        if expected != 200 {
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{body}"
            );
        }
    }
    assert!(api(None, EXPOSED).is_locked());
    assert!(!api(Some("t"), EXPOSED).is_locked());
    assert!(!api(None, LOOPBACK).is_locked());
}

async fn get(gateway: &TestGateway, api: AdminApi, uri: &str) -> (u16, serde_json::Value) {
    call(gateway, api, TestRequest::get().uri(uri)).await
}

#[actix_rt::test]
async fn queues_dead_letters_and_actors_answer_behind_the_same_gate() {
    let gateway = TestGateway::start().await;
    gateway.context.roles.register_role("poweb");

    let (status, body) = get(&gateway, api(None, LOOPBACK), "/v1/queues").await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|queue| queue["queue"].as_str())
        .collect();
    assert_eq!(names, ["incoming_cargo", "outbound_parcels"], "{body}");
    assert_eq!(body[0]["depth"], 0, "{body}");

    let (status, body) = get(
        &gateway,
        api(None, LOOPBACK),
        "/v1/queues/outbound_parcels/dead-letters",
    )
    .await;
    assert_eq!(
        (status, body.as_array().map(Vec::len)),
        (200, Some(0)),
        "{body}"
    );
    let (status, body) = get(
        &gateway,
        api(None, LOOPBACK),
        "/v1/queues/nope/dead-letters",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("outbound_parcels")),
        "{body}"
    );

    let (status, body) = get(&gateway, api(None, LOOPBACK), "/v1/actors").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["roles"][0]["role"], "poweb", "{body}");

    for uri in [
        "/v1/queues",
        "/v1/queues/incoming_cargo/dead-letters",
        "/v1/actors",
    ] {
        assert_eq!(get(&gateway, api(None, EXPOSED), uri).await.0, 403, "{uri}");
        assert_eq!(
            get(&gateway, api(Some("t"), LOOPBACK), uri).await.0,
            401,
            "{uri}"
        );
    }
}
