//! Runs only when `AWALA_TEST_S3_URL` is set (e.g.
//! `s3://awala-test?endpoint=http://127.0.0.1:9000&region=us-east-1`, the moto server that
//! scripts/services.sh starts), with `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` set. Each test
//! works under a key prefix of its own, emptied afterwards, so runs sharing a bucket never see
//! each other's objects. Without the URL the tests are skipped, except under CI (`CI` set).

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use object_store::{ObjectStore as _, ObjectStoreExt as _};

use super::S3ObjectStore;
use crate::backends::error::BackendErrorKind;
use crate::backends::objects::s3_config::{S3Config, S3Credentials};
use crate::backends::objects::ObjectStore;

const URL_VARIABLE: &str = "AWALA_TEST_S3_URL";

/// Empties the test's prefix when the test ends.
pub struct Namespace {
    store: S3ObjectStore,
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let store = self.store.clone();
        // Drop runs inside the test's runtime: clean up from a thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    let prefix = store
                        .config
                        .prefix
                        .as_deref()
                        .map(object_store::path::Path::from);
                    let locations = store
                        .store
                        .list(prefix.as_ref())
                        .filter_map(|meta| async move { meta.ok().map(|meta| meta.location) })
                        .collect::<Vec<_>>()
                        .await;
                    for location in locations {
                        let _ = store.store.delete(&location).await;
                    }
                });
            }
        })
        .join();
    }
}

/// The test configuration with a fresh prefix, or `None` when no server is configured.
fn test_config() -> Option<S3Config> {
    let Ok(url) = std::env::var(URL_VARIABLE) else {
        let ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
        assert!(
            !ci,
            "CI is set but {URL_VARIABLE} is not: set it to an S3 URL (e.g. \
             s3://awala-test?endpoint=http://127.0.0.1:9000&region=us-east-1, as scripts/test.sh \
             does) so the S3 conformance suite runs instead of being skipped"
        );
        return None;
    };
    let mut config = S3Config::parse(&url).expect("AWALA_TEST_S3_URL parses");
    let run = format!("awala-test-{}", uuid::Uuid::new_v4().simple());
    config.prefix = Some(match config.prefix {
        Some(prefix) => format!("{prefix}/{run}"),
        None => run,
    });
    Some(config)
}

pub(crate) async fn open() -> (Option<Namespace>, Option<Arc<dyn ObjectStore>>) {
    let Some(config) = test_config() else {
        return (None, None);
    };
    let credentials = S3Credentials::from_env().expect("AWS credentials");
    let store = S3ObjectStore::open_with(config, credentials).expect("open");
    let namespace = Namespace {
        store: store.clone(),
    };
    (Some(namespace), Some(Arc::new(store)))
}

crate::objects_conformance!(open(), optional);

/// Objects of one namespace are invisible from another sharing the bucket.
#[tokio::test]
async fn prefixes_keep_stores_apart() {
    let ((Some(_a_guard), Some(a)), (Some(_b_guard), Some(b))) = (open().await, open().await)
    else {
        eprintln!("skipped: {URL_VARIABLE} is not set");
        return;
    };
    a.put("k/1", Bytes::from_static(b"a")).await.expect("put");
    assert_eq!(b.get("k/1").await.expect("get"), None);
    assert!(b.list("", 10).await.expect("list").is_empty());
    assert_eq!(a.list("", 10).await.expect("list"), vec!["k/1"]);
}

/// A server that does not answer is `Unavailable` (503 at the edge), soon, not after minutes.
#[tokio::test]
async fn unreachable_server_is_unavailable() {
    // Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
    let config =
        S3Config::parse("s3://bucket?endpoint=http://127.0.0.1:9&region=us-east-1").expect("parse");
    let credentials = S3Credentials {
        access_key_id: "id".into(),
        secret_access_key: "secret".into(),
        session_token: None,
    };
    let store = S3ObjectStore::open_with(config, Some(credentials)).expect("open");
    let started = std::time::Instant::now();
    let error = store
        .put("k", Bytes::from_static(b"x"))
        .await
        .expect_err("nothing listens");
    assert_eq!(error.kind, BackendErrorKind::Unavailable, "{error}");
    let error = store.get("k").await.expect_err("nothing listens");
    assert_eq!(error.kind, BackendErrorKind::Unavailable, "{error}");
    let error = store.health_check().await.expect_err("nothing listens");
    assert_eq!(error.kind, BackendErrorKind::Unavailable, "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
