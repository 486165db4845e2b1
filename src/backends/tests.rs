//! Tests of the URL resolver and of the backends working together.

use std::path::Path;

use bytes::Bytes;

use super::{BackendErrorKind, BackendUrls, Backends};
use crate::backends::metadata::ParcelIndexKey;
use crate::backends::queue::{QueueMessage, QueueName};

#[test]
fn defaults_live_in_the_data_dir() {
    let urls = BackendUrls::default().resolved(Path::new("/var/lib/awala"));
    assert_eq!(urls.database_url, "sqlite:///var/lib/awala/gateway.sqlite");
    assert_eq!(urls.object_store_url, "file:///var/lib/awala/objects");
    assert_eq!(urls.queue_url, "embedded://");
    assert_eq!(urls.pubsub_url, "memory://");
}

#[tokio::test]
async fn embedded_defaults_open_and_work_together() {
    let dir = tempfile::tempdir().expect("temp dir");
    let backends = Backends::open(&BackendUrls::default(), dir.path())
        .await
        .expect("open");
    backends.health_check().await.expect("healthy");
    for file in ["gateway.sqlite", "queue.sqlite", "kek.bin", "objects"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
    let key = ParcelIndexKey::new("0pg", "0recipient", "0sender", "parcel-1");
    let now = chrono::Utc::now();
    let object_key = key.object_key(now);
    backends
        .objects
        .put(&object_key, Bytes::from_static(b"parcel"))
        .await
        .expect("put");
    backends
        .metadata
        .upsert_parcel(&key, &object_key, now + chrono::Duration::hours(1), 6)
        .await
        .expect("index");
    backends
        .queue
        .publish(QueueName::IncomingCargo, QueueMessage::new("cargo"))
        .await
        .expect("publish");
    let sealed = backends.sealer.seal(b"id", b"key").await.expect("seal");
    backends
        .metadata
        .save_identity_key("0own", &sealed)
        .await
        .expect("save");
    drop(backends);

    let reopened = Backends::open(&BackendUrls::default(), dir.path())
        .await
        .expect("reopen");
    let listed = reopened
        .metadata
        .list_parcels_for_gateway("0pg", now, 0, 10)
        .await
        .expect("list");
    let body = reopened
        .objects
        .get(&listed[0].object_key)
        .await
        .expect("get");
    assert_eq!(body, Some(Bytes::from_static(b"parcel")));
    assert_eq!(
        reopened
            .queue
            .depth(QueueName::IncomingCargo)
            .await
            .expect("depth"),
        1
    );
    let sealed = reopened
        .metadata
        .get_identity_key("0own")
        .await
        .expect("get");
    let key = reopened
        .sealer
        .unseal(b"id", &sealed.expect("sealed key"))
        .await;
    assert_eq!(key.expect("unseal"), b"key");
}

async fn open_error(urls: BackendUrls) -> super::BackendError {
    let dir = tempfile::tempdir().expect("temp dir");
    Backends::open(&urls, dir.path())
        .await
        .err()
        .expect("must fail")
}

#[tokio::test]
async fn unknown_schemes_and_urls_without_one_are_refused() {
    let unknown = open_error(BackendUrls {
        queue_url: Some("kafka://broker".into()),
        ..BackendUrls::default()
    })
    .await;
    assert!(
        unknown.message.contains("unknown scheme `kafka://`"),
        "{unknown}"
    );
    let no_scheme = open_error(BackendUrls {
        object_store_url: Some("/tmp/objects".into()),
        ..BackendUrls::default()
    })
    .await;
    assert!(no_scheme.message.contains("no scheme"), "{no_scheme}");
}

#[tokio::test]
async fn redis_and_s3_urls_open_their_backends() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Opening connects to neither (nothing listens on port 9): they report through health checks.
    let urls = BackendUrls {
        pubsub_url: Some("redis://127.0.0.1:9/0".into()),
        object_store_url: Some("s3://bucket?endpoint=http://127.0.0.1:9&region=us-east-1".into()),
        ..BackendUrls::default()
    };
    let backends = Backends::open(&urls, dir.path()).await.expect("open");
    let error = backends.notifier.health_check().await.expect_err("down");
    assert_eq!(error.kind, BackendErrorKind::Unavailable, "{error}");
    let bad = open_error(BackendUrls {
        object_store_url: Some("s3://bucket?endpont=typo".into()),
        ..BackendUrls::default()
    })
    .await;
    assert!(bad.message.contains("unknown parameter `endpont`"), "{bad}");
}
