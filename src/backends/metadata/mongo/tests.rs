//! The metadata conformance suite on MongoDB, when `AWALA_TEST_MONGODB_URL` (or `MONGODB_URL`,
//! to point it at a real MongoDB) is set; scripts/test.sh sets it to the secantusdb server that
//! scripts/services.sh starts. Each test gets a database of its own, dropped afterwards. Without
//! a URL the tests are skipped, except under CI (`CI` set).

use std::sync::Arc;

use mongodb::bson::doc;

use super::{MongoMetadataStore, MongoOptions};
use crate::backends::metadata::MetadataStore;

const URL_VARIABLES: [&str; 2] = ["AWALA_TEST_MONGODB_URL", "MONGODB_URL"];

pub(crate) fn url() -> Option<String> {
    let found = URL_VARIABLES
        .iter()
        .find_map(|name| std::env::var(name).ok());
    if found.is_none() {
        let ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
        assert!(
            !ci,
            "CI is set but AWALA_TEST_MONGODB_URL is not: set it to a MongoDB URL (e.g. \
             mongodb://127.0.0.1:27017/?directConnection=true, as scripts/test.sh does)"
        );
    }
    found
}

/// Drops the test database when the test ends.
pub struct TestDatabase {
    url: String,
    name: String,
}

impl TestDatabase {
    /// A database name of the test's own on the server at `url`, dropped with the guard.
    pub(crate) fn fresh(url: String) -> Self {
        let name = format!("awala_test_{}", uuid::Uuid::new_v4().simple());
        TestDatabase { url, name }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        crate::backends::clean_up_from_own_thread(async move {
            if let Ok(client) = mongodb::Client::with_uri_str(&url).await {
                let _ = client.database(&name).drop().await;
            }
        });
    }
}

async fn open_with(
    options: MongoOptions,
) -> (Option<TestDatabase>, Option<(MongoMetadataStore, String)>) {
    let Some(url) = url() else {
        return (None, None);
    };
    let name = format!("awala_test_{}", uuid::Uuid::new_v4().simple());
    let store = MongoMetadataStore::open_with(&url, Some(&name), options)
        .await
        .expect("open");
    let guard = TestDatabase {
        url,
        name: name.clone(),
    };
    (Some(guard), Some((store, name)))
}

async fn open() -> (Option<TestDatabase>, Option<Arc<dyn MetadataStore>>) {
    // The suite's records carry dates of 2023, which TTL indexes would let the server delete
    // while a test runs.
    let (guard, store) = open_with(MongoOptions { ttl_indexes: false }).await;
    let store = store.map(|(store, _)| Arc::new(store) as Arc<dyn MetadataStore>);
    (guard, store)
}

crate::metadata_conformance!(open(), optional);

#[tokio::test]
async fn collections_and_cca_fulfilments_get_ttl_indexes_and_the_parcel_index_does_not() {
    let (_guard, Some((store, _))) = open_with(MongoOptions::default()).await else {
        return;
    };
    for (collection, ttl_wanted) in [
        ("parcel_collections", true),
        ("cca_fulfilments", true),
        ("parcel_index", false),
    ] {
        let indexes: Vec<_> = futures::TryStreamExt::try_collect(
            store
                .collection(collection)
                .list_indexes()
                .await
                .expect("list indexes"),
        )
        .await
        .expect("list indexes");
        let ttl: Vec<_> = indexes
            .iter()
            .filter(|index| {
                index
                    .options
                    .as_ref()
                    .is_some_and(|options| options.expire_after.is_some())
            })
            .map(|index| index.keys.clone())
            .collect();
        if ttl_wanted {
            assert_eq!(ttl, vec![doc! { "expiry": 1 }], "{collection}");
        } else {
            assert!(ttl.is_empty(), "{collection}: {ttl:?}");
        }
    }
    // Opening again over existing indexes is fine (every replica does it at start).
    let (url, name) = (url().expect("url"), store.db.name().to_owned());
    MongoMetadataStore::open_with(&url, Some(&name), MongoOptions::default())
        .await
        .expect("reopen");
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_not_internal() {
    if url().is_none() {
        return;
    }
    // Nothing listens on port 9 (discard) here; the short timeout keeps the test quick.
    let store = MongoMetadataStore::open_with(
        "mongodb://127.0.0.1:9/?directConnection=true&serverSelectionTimeoutMS=300",
        Some("awala_unreachable"),
        MongoOptions::default(),
    )
    .await;
    let error = store.err().expect("no server");
    assert_eq!(
        error.kind,
        crate::backends::BackendErrorKind::Unavailable,
        "{error}"
    );
}
