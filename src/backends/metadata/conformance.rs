//! The behaviour every [`MetadataStore`] must show, as async checks over a fresh, empty store.
//!
//! An implementation runs the suite with `metadata_conformance!(async { (guard, store) })`,
//! where `guard` keeps the storage alive (a temp dir, a dropped-on-exit schema) and `store` is an
//! `Arc<dyn MetadataStore>`.

use chrono::{DateTime, TimeZone, Utc};

use super::{
    MetadataStore, OwnCertificate, ParcelCollection, ParcelIndexKey, PeerSessionKey,
    SessionKeyRecord, CURRENT_NODE_ID,
};

#[path = "conformance_private_gateways.rs"]
mod private_gateways;
pub use private_gateways::{
    internet_bound_parcels_pending_until_settled, parcels_stored_per_gateway,
    private_gateway_registry, private_gateway_revocation,
};

fn t(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + seconds, 0)
        .single()
        .expect("valid time")
}

fn certificate(subject: &str, der: u8, not_after: i64) -> OwnCertificate {
    OwnCertificate {
        subject_id: subject.to_string(),
        issuer_id: subject.to_string(),
        der: vec![0x30, der],
        not_after: t(not_after),
    }
}

fn session_key(id: u8, peer: Option<&str>, created: i64) -> SessionKeyRecord {
    SessionKeyRecord {
        key_id: vec![id; 8],
        owner_node_id: "0own".to_string(),
        peer_id: peer.map(str::to_string),
        created_at: t(created),
        sealed_key: vec![1, id],
    }
}

/// Config items read back what was set, and `set` replaces.
pub async fn config_items(store: &dyn MetadataStore) {
    assert_eq!(store.get_config(CURRENT_NODE_ID).await.expect("get"), None);
    store.set_config(CURRENT_NODE_ID, "0a").await.expect("set");
    store.set_config(CURRENT_NODE_ID, "0b").await.expect("set");
    assert_eq!(
        store.get_config(CURRENT_NODE_ID).await.expect("get"),
        Some("0b".to_string())
    );
    store.health_check().await.expect("healthy");
}

/// Valid certificates are listed latest expiry first; expired ones are skipped and purged.
pub async fn own_certificates(store: &dyn MetadataStore) {
    store
        .save_certificate(&certificate("0a", 1, 100))
        .await
        .expect("save");
    store
        .save_certificate(&certificate("0a", 2, 300))
        .await
        .expect("save");
    store
        .save_certificate(&certificate("0a", 2, 300))
        .await
        .expect("same der again");
    store
        .save_certificate(&certificate("0a", 3, 200))
        .await
        .expect("save");
    store
        .save_certificate(&certificate("0b", 4, 900))
        .await
        .expect("other subject");
    let valid = store.valid_certificates("0a", t(150)).await.expect("list");
    let ders: Vec<_> = valid.iter().map(|c| c.der[1]).collect();
    assert_eq!(ders, vec![2, 3]);
    assert_eq!(valid[0], certificate("0a", 2, 300));
    let latest = store
        .latest_certificate("0a", t(150))
        .await
        .expect("latest");
    assert_eq!(latest.map(|c| c.der[1]), Some(2));
    assert_eq!(
        store
            .latest_certificate("0a", t(300))
            .await
            .expect("latest"),
        None
    );
    assert_eq!(
        store
            .delete_expired_certificates(t(200))
            .await
            .expect("purge"),
        2
    );
    assert_eq!(
        store
            .valid_certificates("0a", t(0))
            .await
            .expect("list")
            .len(),
        1
    );
}

/// Identity keys are replaced by node id; session keys are found by id, latest unbound by date.
pub async fn sealed_keys(store: &dyn MetadataStore) {
    assert_eq!(store.get_identity_key("0own").await.expect("get"), None);
    store
        .save_identity_key("0own", b"sealed-1")
        .await
        .expect("save");
    store
        .save_identity_key("0own", b"sealed-2")
        .await
        .expect("replace");
    assert_eq!(
        store.get_identity_key("0own").await.expect("get"),
        Some(b"sealed-2".to_vec())
    );
    store
        .save_session_key(&session_key(1, None, 10))
        .await
        .expect("save");
    store
        .save_session_key(&session_key(2, None, 20))
        .await
        .expect("save");
    store
        .save_session_key(&session_key(3, Some("0pg"), 30))
        .await
        .expect("save");
    let duplicate = store.save_session_key(&session_key(3, None, 40)).await;
    assert_eq!(
        duplicate.expect_err("id clash").kind,
        crate::backends::BackendErrorKind::Conflict
    );
    assert_eq!(
        store.get_session_key(&[3; 8]).await.expect("get"),
        Some(session_key(3, Some("0pg"), 30))
    );
    assert_eq!(store.get_session_key(&[9; 8]).await.expect("get"), None);
    let unbound = store
        .latest_unbound_session_key("0own")
        .await
        .expect("latest");
    assert_eq!(unbound, Some(session_key(2, None, 20)));
    assert_eq!(
        store
            .latest_unbound_session_key("0other")
            .await
            .expect("latest"),
        None
    );
}

/// Old session keys go, but never the newest of a peer (or the newest unbound one).
pub async fn session_key_cleanup_keeps_newest_per_peer(store: &dyn MetadataStore) {
    for record in [
        session_key(1, None, 10),
        session_key(2, None, 20),
        session_key(3, Some("0pg"), 30),
        session_key(4, Some("0pg"), 40),
        session_key(5, Some("0pg2"), 15),
        session_key(6, Some("0pg"), 500),
    ] {
        store.save_session_key(&record).await.expect("save");
    }
    // Cut-off at 100: keys 1, 3, 4 are old and superseded; 2 and 5 are old but newest.
    assert_eq!(
        store
            .delete_session_keys_older_than(t(100))
            .await
            .expect("purge"),
        3
    );
    for (id, kept) in [
        (1, false),
        (2, true),
        (3, false),
        (4, false),
        (5, true),
        (6, true),
    ] {
        let found = store
            .get_session_key(&[id; 8])
            .await
            .expect("get")
            .is_some();
        assert_eq!(found, kept, "key {id}");
    }
}

/// A peer key is replaced only by one carried in a newer message.
pub async fn peer_session_keys_keep_newest(store: &dyn MetadataStore) {
    let key = |id: u8, created: i64| PeerSessionKey {
        peer_id: "0pg".to_string(),
        key_id: vec![id; 8],
        spki_der: vec![0x30, id],
        creation_date: t(created),
    };
    assert_eq!(store.get_peer_session_key("0pg").await.expect("get"), None);
    assert!(store
        .save_peer_session_key_if_newer(&key(1, 100))
        .await
        .expect("save"));
    assert!(!store
        .save_peer_session_key_if_newer(&key(2, 50))
        .await
        .expect("older"));
    assert!(!store
        .save_peer_session_key_if_newer(&key(3, 100))
        .await
        .expect("same date"));
    assert_eq!(
        store.get_peer_session_key("0pg").await.expect("get"),
        Some(key(1, 100))
    );
    assert!(store
        .save_peer_session_key_if_newer(&key(4, 200))
        .await
        .expect("newer"));
    assert_eq!(
        store.get_peer_session_key("0pg").await.expect("get"),
        Some(key(4, 200))
    );
}

/// Collections dedup on the 4-tuple, list unexpired per gateway, and expire.
pub async fn parcel_collections_dedup_and_expire(store: &dyn MetadataStore) {
    let collection = |parcel: &str, pg: &str, expiry: i64| ParcelCollection {
        parcel_id: parcel.to_string(),
        pg_id: pg.to_string(),
        recipient_id: "https://example.com".to_string(),
        sender_id: "0sender".to_string(),
        expiry: t(expiry),
    };
    assert!(!store
        .is_parcel_collected(&collection("p1", "0pg", 100))
        .await
        .expect("lookup"));
    assert!(store
        .record_parcel_collection(&collection("p1", "0pg", 100))
        .await
        .expect("new"));
    // The lookup matches on the four ids only, whatever expiry it is given.
    assert!(store
        .is_parcel_collected(&collection("p1", "0pg", 1))
        .await
        .expect("lookup"));
    assert!(!store
        .is_parcel_collected(&collection("p1", "0other", 100))
        .await
        .expect("lookup"));
    assert!(!store
        .record_parcel_collection(&collection("p1", "0pg", 100))
        .await
        .expect("dup"));
    assert!(store
        .record_parcel_collection(&collection("p1", "0pg2", 100))
        .await
        .expect("new"));
    assert!(store
        .record_parcel_collection(&collection("p2", "0pg", 50))
        .await
        .expect("new"));
    let listed = store
        .parcel_collections_for_gateway("0pg", t(60), 10)
        .await
        .expect("list");
    assert_eq!(listed, vec![collection("p1", "0pg", 100)]);
    let all = store
        .parcel_collections_for_gateway("0pg", t(0), 10)
        .await
        .expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(
        store
            .parcel_collections_for_gateway("0pg", t(0), 1)
            .await
            .expect("page")
            .len(),
        1
    );
    assert_eq!(
        store
            .delete_expired_parcel_collections(t(60))
            .await
            .expect("purge"),
        1
    );
    assert!(store
        .record_parcel_collection(&collection("p2", "0pg", 50))
        .await
        .expect("gone"));
}

/// A CCA is fulfilled once per gateway until purged after expiry.
pub async fn cca_fulfilments_are_single_use(store: &dyn MetadataStore) {
    assert!(store
        .record_cca_fulfilment("0pg", "cca1", t(100))
        .await
        .expect("first"));
    assert!(!store
        .record_cca_fulfilment("0pg", "cca1", t(100))
        .await
        .expect("replay"));
    assert!(store
        .record_cca_fulfilment("0pg2", "cca1", t(100))
        .await
        .expect("other pg"));
    assert!(store
        .record_cca_fulfilment("0pg", "cca2", t(10))
        .await
        .expect("other cca"));
    assert_eq!(
        store
            .delete_expired_cca_fulfilments(t(50))
            .await
            .expect("purge"),
        1
    );
    assert!(!store
        .record_cca_fulfilment("0pg", "cca1", t(100))
        .await
        .expect("still used"));
    assert!(store
        .record_cca_fulfilment("0pg", "cca2", t(10))
        .await
        .expect("purged"));
}

/// The parcel index: replace-same-key with a new sequence, paging, expiry, get, delete.
pub async fn parcel_index(store: &dyn MetadataStore) {
    let key = |pg: &str, parcel: &str| ParcelIndexKey::new(pg, "0recipient", "0sender", parcel);
    let k1 = key("0pg", "p1");
    assert_eq!(k1.parcel_id_digest.len(), 64);
    let received = t(0) + chrono::Duration::microseconds(1_500_000);
    let time_prefix = format!("parcels/gateway-bound/{:016}-", received.timestamp_micros());
    assert!(k1.object_key(received).starts_with(&time_prefix));
    assert_ne!(
        k1.object_key(received),
        key("0pg2", "p1").object_key(received)
    );
    let first = store
        .upsert_parcel(&k1, &k1.object_key(received), t(100), 10)
        .await
        .expect("upsert");
    assert_eq!(first.replaced_object_key, None);
    let first = first.entry;
    let e2 = store
        .upsert_parcel(&key("0pg", "p2"), "o2", t(20), 20)
        .await
        .expect("upsert")
        .entry;
    let e3 = store
        .upsert_parcel(&key("0pg", "p3"), "o3", t(100), 30)
        .await
        .expect("upsert")
        .entry;
    store
        .upsert_parcel(&key("0pg2", "p1"), "o4", t(100), 40)
        .await
        .expect("upsert");
    assert!(first.sequence < e2.sequence && e2.sequence < e3.sequence);
    let replaced = store
        .upsert_parcel(&k1, "o1-new", t(200), 11)
        .await
        .expect("replace");
    assert_eq!(
        replaced.replaced_object_key,
        Some(k1.object_key(received)),
        "the superseded object is named for deletion"
    );
    assert_eq!(
        store
            .upsert_parcel(&k1, "o1-new", t(200), 11)
            .await
            .expect("same object")
            .replaced_object_key,
        None,
        "an object the entry still uses is not named"
    );
    let replaced = store.get_parcel(&k1).await.expect("get").expect("kept");
    assert!(
        replaced.sequence > e3.sequence,
        "a replaced parcel is listed again"
    );
    assert_eq!(
        store.get_parcel(&k1).await.expect("get"),
        Some(replaced.clone())
    );

    let listed = store
        .list_parcels_for_gateway("0pg", t(0), 0, 10)
        .await
        .expect("list");
    let objects: Vec<_> = listed.iter().map(|e| e.object_key.as_str()).collect();
    assert_eq!(objects, vec!["o2", "o3", "o1-new"]);
    let unexpired = store
        .list_parcels_for_gateway("0pg", t(50), 0, 10)
        .await
        .expect("list");
    assert_eq!(unexpired.len(), 2, "expired parcels are skipped");
    let page1 = store
        .list_parcels_for_gateway("0pg", t(0), 0, 2)
        .await
        .expect("page");
    let page2 = store
        .list_parcels_for_gateway("0pg", t(0), page1[1].sequence, 2)
        .await
        .expect("page");
    assert_eq!(page1.len() + page2.len(), 3);
    assert_eq!(page2[0], replaced);

    assert_eq!(
        store.delete_parcel(&k1).await.expect("delete"),
        Some("o1-new".to_string())
    );
    assert_eq!(store.delete_parcel(&k1).await.expect("delete again"), None);
    assert_eq!(store.get_parcel(&k1).await.expect("get"), None);

    let expired = store
        .delete_expired_parcels(t(150), 1)
        .await
        .expect("expire");
    assert_eq!(
        expired,
        vec!["o2".to_string()],
        "oldest expiry first, bounded by limit"
    );
    let mut rest = store
        .delete_expired_parcels(t(150), 10)
        .await
        .expect("expire");
    rest.sort();
    assert_eq!(rest, vec!["o3".to_string(), "o4".to_string()]);
    assert!(store
        .list_parcels_for_gateway("0pg", t(0), 0, 10)
        .await
        .expect("list")
        .is_empty());
}

/// Many writes at once (group commit in some stores): each gets its own sequence, every entry is
/// listed exactly once, and concurrent deletes each report their own entry.
pub async fn parcel_index_concurrent_writes(store: &dyn MetadataStore) {
    let keys: Vec<ParcelIndexKey> = (0..200)
        .map(|i| ParcelIndexKey::new("0pg", "0recipient", "0sender", &format!("p{i}")))
        .collect();
    let object_keys: Vec<String> = keys.iter().map(|key| key.object_key(t(0))).collect();
    let entries = futures::future::join_all(
        keys.iter()
            .zip(&object_keys)
            .map(|(key, object_key)| store.upsert_parcel(key, object_key, t(100), 1)),
    )
    .await;
    let mut sequences: Vec<i64> = entries
        .into_iter()
        .map(|upserted| upserted.expect("upsert").entry.sequence)
        .collect();
    sequences.sort_unstable();
    sequences.dedup();
    assert_eq!(sequences.len(), keys.len(), "sequences are distinct");
    let mut listed = 0;
    let mut after = 0;
    loop {
        let page = store
            .list_parcels_for_gateway("0pg", t(0), after, 64)
            .await
            .expect("list");
        let Some(last) = page.last() else { break };
        after = last.sequence;
        listed += page.len();
    }
    assert_eq!(listed, keys.len());
    let deleted = futures::future::join_all(keys.iter().map(|key| store.delete_parcel(key))).await;
    let deleted: Vec<Option<String>> = deleted
        .into_iter()
        .map(|result| result.expect("delete"))
        .collect();
    assert_eq!(
        deleted,
        object_keys.into_iter().map(Some).collect::<Vec<_>>(),
        "each delete names its own entry's object"
    );
    assert!(store
        .list_parcels_for_gateway("0pg", t(0), 0, 10)
        .await
        .expect("list")
        .is_empty());
}

/// Conditional deletes (an acknowledged parcel): only the entry read is deleted, never one that
/// replaced it, and concurrent ones (group commit in some stores) each get their own answer.
pub async fn parcel_index_conditional_delete(store: &dyn MetadataStore) {
    let key = |parcel: &str| ParcelIndexKey::new("0pg", "0recipient", "0sender", parcel);
    let k1 = key("p1");
    let read = store
        .upsert_parcel(&k1, "o1", t(100), 1)
        .await
        .expect("upsert")
        .entry;
    let replaced = store
        .upsert_parcel(&k1, "o1-new", t(100), 1)
        .await
        .expect("replace")
        .entry;
    assert!(!store
        .delete_parcel_if_sequence(&k1, read.sequence)
        .await
        .expect("stale delete"));
    assert_eq!(
        store.get_parcel(&k1).await.expect("get"),
        Some(replaced.clone()),
        "the replacement is kept"
    );
    let other = store
        .upsert_parcel(&key("p2"), "o2", t(100), 1)
        .await
        .expect("upsert")
        .entry;
    assert!(!store
        .delete_parcel_if_sequence(&key("p2"), replaced.sequence)
        .await
        .expect("another key's sequence"));
    assert!(store
        .delete_parcel_if_sequence(&k1, replaced.sequence)
        .await
        .expect("delete"));
    assert!(!store
        .delete_parcel_if_sequence(&k1, replaced.sequence)
        .await
        .expect("delete again"));
    assert_eq!(store.get_parcel(&k1).await.expect("get"), None);
    assert!(store
        .delete_parcel_if_sequence(&key("p2"), other.sequence)
        .await
        .expect("delete"));

    // Even entries are replaced before the deletes run: their deletes find nothing.
    let keys: Vec<ParcelIndexKey> = (0..100).map(|i| key(&format!("c{i}"))).collect();
    let mut sequences = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let first = store
            .upsert_parcel(key, "o", t(100), 1)
            .await
            .expect("upsert");
        if i % 2 == 0 {
            store
                .upsert_parcel(key, "o-new", t(100), 1)
                .await
                .expect("replace");
        }
        sequences.push(first.entry.sequence);
    }
    let deleted = futures::future::join_all(
        keys.iter()
            .zip(&sequences)
            .map(|(key, sequence)| store.delete_parcel_if_sequence(key, *sequence)),
    )
    .await;
    for (i, result) in deleted.into_iter().enumerate() {
        assert_eq!(result.expect("delete"), i % 2 == 1, "entry {i}");
    }
    let left = store
        .list_parcels_for_gateway("0pg", t(0), 0, 1000)
        .await
        .expect("list");
    assert_eq!(left.len(), 50);
    assert!(left.iter().all(|entry| entry.object_key == "o-new"));
}

/// Which bodies the index still names: those of live entries, not of deleted or replaced ones,
/// in batches larger than one query takes.
pub async fn parcel_object_keys_in_use(store: &dyn MetadataStore) {
    let key = |parcel: &str| ParcelIndexKey::new("0pg", "0recipient", "0sender", parcel);
    let mut named = Vec::new();
    for i in 0..300 {
        let k = key(&format!("p{i}"));
        let object_key = k.object_key(t(i));
        store
            .upsert_parcel(&k, &object_key, t(10_000), 1)
            .await
            .expect("upsert");
        named.push(object_key);
    }
    let replaced = key("p0");
    let new_key = replaced.object_key(t(500));
    let upserted = store
        .upsert_parcel(&replaced, &new_key, t(10_000), 1)
        .await
        .expect("replace");
    assert_eq!(
        upserted.replaced_object_key.as_deref(),
        Some(named[0].as_str())
    );
    store.delete_parcel(&key("p1")).await.expect("delete");

    let mut asked: Vec<String> = named.clone();
    asked.push(new_key.clone());
    asked.push("parcels/gateway-bound/never-stored".to_owned());
    let in_use = store
        .parcel_object_keys_in_use(&asked)
        .await
        .expect("in use");
    assert!(!in_use.contains(&named[0]), "the replaced body");
    assert!(!in_use.contains(&named[1]), "the deleted entry's body");
    assert!(in_use.contains(&new_key));
    assert!(!in_use.contains("parcels/gateway-bound/never-stored"));
    assert_eq!(in_use.len(), 299);
    assert!(store
        .parcel_object_keys_in_use(&[])
        .await
        .expect("none")
        .is_empty());
}

/// Runs every metadata check as its own `#[tokio::test]`; `$open` is an expression evaluating to
/// a future of `(guard, Arc<dyn MetadataStore>)` over fresh, empty storage. With `, optional`,
/// the future yields `(guard, Option<Arc<dyn MetadataStore>>)` and `None` skips the check (for
/// servers configured by environment variables).
#[macro_export]
macro_rules! metadata_conformance {
    ($open:expr) => {
        $crate::metadata_conformance!(@tests $open;
            config_items, own_certificates, sealed_keys,
            session_key_cleanup_keeps_newest_per_peer, peer_session_keys_keep_newest,
            parcel_collections_dedup_and_expire, cca_fulfilments_are_single_use, parcel_index,
            parcel_index_concurrent_writes, parcel_index_conditional_delete,
            parcel_object_keys_in_use, private_gateway_registry, private_gateway_revocation,
            parcels_stored_per_gateway, internet_bound_parcels_pending_until_settled);
    };
    ($open:expr, optional) => {
        $crate::metadata_conformance!(@optional $open;
            config_items, own_certificates, sealed_keys,
            session_key_cleanup_keeps_newest_per_peer, peer_session_keys_keep_newest,
            parcel_collections_dedup_and_expire, cca_fulfilments_are_single_use, parcel_index,
            parcel_index_concurrent_writes, parcel_index_conditional_delete,
            parcel_object_keys_in_use, private_gateway_registry, private_gateway_revocation,
            parcels_stored_per_gateway, internet_bound_parcels_pending_until_settled);
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
                $crate::backends::metadata::conformance::$name(&*store).await;
            }
        )*
    };
    (@tests $open:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_guard, store) = $open.await;
                $crate::backends::metadata::conformance::$name(&*store).await;
            }
        )*
    };
}
