//! The object-store suite on small bodies in PostgreSQL and in MongoDB, each beside a local file
//! store (so it runs without S3), and on PostgreSQL beside S3 when `AWALA_TEST_S3_URL` is set.

use std::sync::Arc;

use bytes::Bytes;

use super::{InlineObjectStore, Row, SmallTable, DEFAULT_INLINE_MAX};
use crate::backends::metadata::mongo::tests::{url as mongodb_url, TestDatabase};
use crate::backends::metadata::postgres::tests::{fresh_schema, Schema};
use crate::backends::objects::mongo_table::MongoSmallTable;
use crate::backends::objects::postgres_table::PostgresSmallTable;
use crate::backends::objects::{LocalObjectStore, ObjectStore};

async fn postgres_table() -> Option<(Schema, Arc<PostgresSmallTable>)> {
    let schema = fresh_schema().await?;
    let table = PostgresSmallTable::open(schema.url(), Some(schema.name()))
        .await
        .expect("open the table");
    Some((schema, Arc::new(table)))
}

async fn mongodb_table() -> Option<(TestDatabase, Arc<MongoSmallTable>)> {
    let url = mongodb_url()?;
    let database = TestDatabase::fresh(url.clone());
    let table = MongoSmallTable::open(&url, Some(database.name()))
        .await
        .expect("open the collection");
    Some((database, Arc::new(table)))
}

fn files() -> (tempfile::TempDir, Arc<dyn ObjectStore>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalObjectStore::open(&dir.path().join("objects")).expect("open");
    (dir, Arc::new(store))
}

fn beside(table: Arc<dyn SmallTable>, large: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
    Some(Arc::new(InlineObjectStore::new(
        table,
        large,
        DEFAULT_INLINE_MAX,
    )))
}

mod postgres_beside_files {
    use super::*;

    async fn open() -> (
        Option<(Schema, tempfile::TempDir)>,
        Option<Arc<dyn ObjectStore>>,
    ) {
        let Some((schema, table)) = postgres_table().await else {
            return (None, None);
        };
        let (dir, large) = files();
        (Some((schema, dir)), beside(table, large))
    }

    crate::objects_conformance!(open(), optional);
}

mod mongodb_beside_files {
    use super::*;

    async fn open() -> (
        Option<(TestDatabase, tempfile::TempDir)>,
        Option<Arc<dyn ObjectStore>>,
    ) {
        let Some((database, table)) = mongodb_table().await else {
            return (None, None);
        };
        let (dir, large) = files();
        (Some((database, dir)), beside(table, large))
    }

    crate::objects_conformance!(open(), optional);
}

mod postgres_beside_s3 {
    use super::*;
    use crate::backends::objects::s3::tests::{open as open_s3, Namespace};

    async fn open() -> (Option<(Schema, Namespace)>, Option<Arc<dyn ObjectStore>>) {
        let (Some(namespace), Some(large)) = open_s3().await else {
            return (None, None);
        };
        let Some((schema, table)) = postgres_table().await else {
            return (None, None);
        };
        (Some((schema, namespace)), beside(table, large))
    }

    crate::objects_conformance!(open(), optional);
}

/// Small bodies stay out of the large store, large ones leave only a marker in the table, and a
/// key can move between them both ways without an older body showing through or lingering.
async fn each_body_lives_in_one_place(table: Arc<dyn SmallTable>) {
    let (_dir, large) = files();
    let store = InlineObjectStore::new(table.clone(), large.clone(), 1024);
    let row = |key: &str| {
        let table = table.clone();
        let key = key.to_owned();
        async move {
            table
                .get_many(std::slice::from_ref(&key))
                .await
                .expect("rows")
                .remove(&key)
        }
    };
    store
        .put("c/k", Bytes::from_static(b"small"))
        .await
        .expect("small");
    assert!(large.list("", 10).await.expect("list").is_empty());
    assert_eq!(
        row("c/k").await,
        Some(Row::Body(Bytes::from_static(b"small")))
    );

    let big = Bytes::from(vec![9u8; 2048]);
    store.put("c/k", big.clone()).await.expect("large");
    assert_eq!(row("c/k").await, Some(Row::Large));
    assert_eq!(store.get("c/k").await.expect("get"), Some(big));

    store
        .put("c/k", Bytes::from_static(b"again"))
        .await
        .expect("small");
    assert!(large.list("", 10).await.expect("list").is_empty());
    assert_eq!(
        store.get("c/k").await.expect("get"),
        Some(Bytes::from_static(b"again"))
    );
    assert_eq!(store.list("c/", 10).await.expect("list"), vec!["c/k"]);

    store
        .put("c/big", Bytes::from(vec![1u8; 4096]))
        .await
        .expect("large");
    store.delete("c/big").await.expect("delete");
    assert!(large.list("", 10).await.expect("list").is_empty());
    assert_eq!(row("c/big").await, None);
    store.delete("c/k").await.expect("delete");
    assert_eq!(store.get("c/k").await.expect("get"), None);
    assert!(store.list("", 10).await.expect("list").is_empty());
}

#[tokio::test]
async fn each_body_lives_in_one_place_on_postgres() {
    let Some((_schema, table)) = postgres_table().await else {
        eprintln!("skipped: AWALA_TEST_POSTGRES_URL is not set");
        return;
    };
    each_body_lives_in_one_place(table).await;
}

#[tokio::test]
async fn each_body_lives_in_one_place_on_mongodb() {
    let Some((_database, table)) = mongodb_table().await else {
        eprintln!("skipped: AWALA_TEST_MONGODB_URL is not set");
        return;
    };
    each_body_lives_in_one_place(table).await;
}

/// Bodies stored in the bucket before small ones went to the database (no row) stay readable
/// and deletable.
#[tokio::test]
async fn keys_without_a_row_are_read_from_the_large_store() {
    let Some((_schema, table)) = postgres_table().await else {
        eprintln!("skipped: AWALA_TEST_POSTGRES_URL is not set");
        return;
    };
    let (_dir, large) = files();
    large
        .put("old/k", Bytes::from_static(b"old"))
        .await
        .expect("put");
    let store = InlineObjectStore::new(table, large.clone(), 1024);
    assert_eq!(
        store.get_many(&["old/k".to_owned()]).await.expect("get"),
        vec![Some(Bytes::from_static(b"old"))]
    );
    assert_eq!(store.list("", 10).await.expect("list"), vec!["old/k"]);
    store.delete("old/k").await.expect("delete");
    assert_eq!(large.get("old/k").await.expect("get"), None);
}
