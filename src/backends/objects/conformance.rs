//! The behaviour every [`ObjectStore`] must show, as async checks over a fresh, empty store.
//!
//! An implementation runs the suite with `objects_conformance!(async { (guard, store) })`.

use bytes::Bytes;

use super::ObjectStore;
use crate::backends::error::BackendErrorKind;

const KEY: &str = "parcels/gateway-bound/0pg/0recipient/0sender/abcdef";

/// Put, get, replace and idempotent delete.
pub async fn put_get_delete(store: &dyn ObjectStore) {
    assert_eq!(store.get(KEY).await.expect("get"), None);
    store
        .put(KEY, Bytes::from_static(b"one"))
        .await
        .expect("put");
    assert_eq!(
        store.get(KEY).await.expect("get"),
        Some(Bytes::from_static(b"one"))
    );
    store
        .put(KEY, Bytes::from_static(b"two"))
        .await
        .expect("replace");
    assert_eq!(
        store.get(KEY).await.expect("get"),
        Some(Bytes::from_static(b"two"))
    );
    store.put("empty", Bytes::new()).await.expect("empty body");
    assert_eq!(store.get("empty").await.expect("get"), Some(Bytes::new()));
    store.delete(KEY).await.expect("delete");
    assert_eq!(store.get(KEY).await.expect("get"), None);
    store.delete(KEY).await.expect("delete is idempotent");
    store.health_check().await.expect("healthy");
}

/// Listing by prefix, in key order, bounded by the limit.
pub async fn list_by_prefix(store: &dyn ObjectStore) {
    for key in ["p/a/2", "p/a/1", "p/a-b/1", "p/ab", "q/x", "p/a/sub/3"] {
        store.put(key, Bytes::from_static(b"x")).await.expect("put");
    }
    let all = store.list("", 100).await.expect("list");
    assert_eq!(
        all,
        vec!["p/a-b/1", "p/a/1", "p/a/2", "p/a/sub/3", "p/ab", "q/x"]
    );
    assert_eq!(
        store.list("p/a/", 100).await.expect("list"),
        vec!["p/a/1", "p/a/2", "p/a/sub/3"]
    );
    assert_eq!(
        store.list("p/a", 100).await.expect("list"),
        vec!["p/a-b/1", "p/a/1", "p/a/2", "p/a/sub/3", "p/ab"]
    );
    assert_eq!(
        store.list("p/", 2).await.expect("list"),
        vec!["p/a-b/1", "p/a/1"]
    );
    assert!(store.list("nothing/", 10).await.expect("list").is_empty());
    store.delete("p/a/1").await.expect("delete");
    assert_eq!(store.list("p/a/", 1).await.expect("list"), vec!["p/a/2"]);
}

/// Keys that could escape the store or clash with temporary files are refused before any I/O.
pub async fn bad_keys_are_refused(store: &dyn ObjectStore) {
    for key in [
        "",
        "/etc/passwd",
        "../escape",
        "a/../../b",
        "a/./b",
        "a//b",
        "a/",
        ".hidden",
        "a/.tmp-x",
        "a\\b",
        "a b",
        "é",
    ] {
        let error = store
            .put(key, Bytes::from_static(b"x"))
            .await
            .expect_err(key);
        assert_eq!(error.kind, BackendErrorKind::Internal, "{key}");
        assert!(store.get(key).await.is_err(), "{key}");
        assert!(store.delete(key).await.is_err(), "{key}");
    }
    assert!(store.list("../", 10).await.is_err());
    let long = "a".repeat(super::MAX_KEY_LENGTH + 1);
    assert!(store.put(&long, Bytes::new()).await.is_err());
}

/// Many puts at once (group commit in some stores): each key reads back its own body, and the
/// last of several puts to one key wins whole.
pub async fn concurrent_puts(store: &dyn ObjectStore) {
    let keys: Vec<String> = (0..100).map(|i| format!("many/k{i}")).collect();
    let results = futures::future::join_all(
        keys.iter()
            .enumerate()
            .map(|(i, key)| store.put(key, bytes::Bytes::from(format!("body {i}").into_bytes()))),
    )
    .await;
    assert!(results.into_iter().all(|result| result.is_ok()));
    for (i, key) in keys.iter().enumerate() {
        let body = store.get(key).await.expect("get").expect("present");
        assert_eq!(&body[..], format!("body {i}").as_bytes());
    }
    for round in 0..3u8 {
        store
            .put("many/same", bytes::Bytes::from(vec![round; 1000]))
            .await
            .expect("replace");
    }
    assert_eq!(
        &store.get("many/same").await.expect("get").expect("present")[..],
        &[2u8; 1000][..]
    );
    assert_eq!(store.list("many/", 1000).await.expect("list").len(), 101);
}

/// Reading several objects at once: bodies in the order asked, small and large alike, `None`
/// for missing keys, the same key twice answered twice, and bad keys refused.
pub async fn get_many_in_order(store: &dyn ObjectStore) {
    let large = Bytes::from(vec![7u8; 100 * 1024]);
    store
        .put("m/small", Bytes::from_static(b"small"))
        .await
        .expect("put");
    store.put("m/large", large.clone()).await.expect("put");
    let keys: Vec<String> = ["m/large", "m/missing", "m/small", "m/large"]
        .iter()
        .map(|key| key.to_string())
        .collect();
    assert_eq!(
        store.get_many(&keys).await.expect("get many"),
        vec![
            Some(large.clone()),
            None,
            Some(Bytes::from_static(b"small")),
            Some(large)
        ]
    );
    assert!(store.get_many(&[]).await.expect("nothing").is_empty());
    assert!(store
        .get_many(&["m/small".to_string(), "../escape".to_string()])
        .await
        .is_err());
}

/// Runs every object-store check as its own `#[tokio::test]`; `$open` is an expression
/// evaluating to a future of `(guard, Arc<dyn ObjectStore>)` over fresh, empty storage. With
/// `, optional`, the future yields `(guard, Option<Arc<dyn ObjectStore>>)` and `None` skips the
/// check (for servers configured by environment variables).
#[macro_export]
macro_rules! objects_conformance {
    ($open:expr) => {
        $crate::objects_conformance!(@tests $open;
            put_get_delete, list_by_prefix, bad_keys_are_refused, concurrent_puts,
            get_many_in_order);
    };
    ($open:expr, optional) => {
        $crate::objects_conformance!(@optional $open;
            put_get_delete, list_by_prefix, bad_keys_are_refused, concurrent_puts,
            get_many_in_order);
    };
    (@optional $open:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_guard, store) = $open.await;
                let Some(store) = store else {
                    eprintln!("skipped: the backend under test is not configured");
                    return;
                };
                $crate::backends::objects::conformance::$name(&*store).await;
            }
        )*
    };
    (@tests $open:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_guard, store) = $open.await;
                $crate::backends::objects::conformance::$name(&*store).await;
            }
        )*
    };
}
