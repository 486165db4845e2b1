//! Conformance checks of the private gateway registry (part of [`super::conformance`]).

use super::t;
use crate::backends::metadata::{MetadataStore, ParcelCollection, ParcelIndexKey, StoredTotals};

/// Registrations keep the first time and the latest certificate and sighting; sightings create
/// records of gateways that registered before the registry; pages go in id order.
pub async fn private_gateway_registry(store: &dyn MetadataStore) {
    assert_eq!(store.get_private_gateway("0a").await.expect("get"), None);
    store
        .record_registration("0a", t(1_000), t(10))
        .await
        .expect("register");
    store
        .record_registration("0a", t(900), t(20))
        .await
        .expect("register again, with an older certificate");
    let record = store
        .get_private_gateway("0a")
        .await
        .expect("get")
        .expect("recorded");
    assert_eq!(record.id, "0a");
    assert_eq!(record.registered_at, Some(t(10)));
    assert_eq!(record.certificate_expiry, Some(t(1_000)));
    assert_eq!(record.last_seen, Some(t(20)));
    assert_eq!(record.revoked_at, None);

    store
        .record_seen(&[("0a".to_owned(), t(15)), ("0b".to_owned(), t(30))])
        .await
        .expect("seen");
    let a = store
        .get_private_gateway("0a")
        .await
        .expect("get")
        .expect("a");
    assert_eq!(a.last_seen, Some(t(20)), "an older sighting does not win");
    let b = store
        .get_private_gateway("0b")
        .await
        .expect("get")
        .expect("b");
    assert_eq!((b.registered_at, b.certificate_expiry), (None, None));
    assert_eq!(b.last_seen, Some(t(30)));
    store
        .record_registration("0b", t(2_000), t(40))
        .await
        .expect("b registers");
    let b = store
        .get_private_gateway("0b")
        .await
        .expect("get")
        .expect("b");
    assert_eq!(b.registered_at, Some(t(40)));
    assert_eq!(b.last_seen, Some(t(40)));

    store
        .record_seen(&[("0c".to_owned(), t(50))])
        .await
        .expect("seen");
    let ids = |records: Vec<crate::backends::metadata::PrivateGatewayRecord>| -> Vec<String> {
        records.into_iter().map(|record| record.id).collect()
    };
    let all = store.list_private_gateways("", 10).await.expect("list");
    assert_eq!(ids(all), ["0a", "0b", "0c"]);
    let first = store.list_private_gateways("", 2).await.expect("page");
    assert_eq!(ids(first), ["0a", "0b"]);
    let next = store.list_private_gateways("0b", 2).await.expect("page");
    assert_eq!(ids(next), ["0c"]);
}

/// Revocation is recorded once, with its first time, and known gateways and unknown ones alike
/// can be revoked; sightings and registrations afterwards do not undo it.
pub async fn private_gateway_revocation(store: &dyn MetadataStore) {
    assert!(store
        .revoked_private_gateways()
        .await
        .expect("none")
        .is_empty());
    store
        .record_registration("0a", t(1_000), t(10))
        .await
        .expect("register");
    store
        .record_registration("0b", t(1_000), t(10))
        .await
        .expect("register");
    assert!(store
        .revoke_private_gateway("0a", t(20))
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_private_gateway("0a", t(30))
        .await
        .expect("again"));
    assert!(store
        .revoke_private_gateway("0unknown", t(40))
        .await
        .expect("unknown"));
    store
        .record_seen(&[("0a".to_owned(), t(50))])
        .await
        .expect("seen");
    store
        .record_registration("0a", t(2_000), t(60))
        .await
        .expect("register");
    let a = store
        .get_private_gateway("0a")
        .await
        .expect("get")
        .expect("a");
    assert_eq!(a.revoked_at, Some(t(20)));
    let mut revoked = store.revoked_private_gateways().await.expect("revoked");
    revoked.sort();
    assert_eq!(revoked, ["0a", "0unknown"]);
    let b = store
        .get_private_gateway("0b")
        .await
        .expect("get")
        .expect("b");
    assert_eq!(b.revoked_at, None);
}

/// What is stored for a gateway is counted (unexpired only) and can be deleted a page at a
/// time, leaving other gateways' parcels alone.
pub async fn parcels_stored_per_gateway(store: &dyn MetadataStore) {
    let key = |pg: &str, parcel: &str| ParcelIndexKey::new(pg, "0recipient", "0sender", parcel);
    assert_eq!(
        store.stored_for_gateway("0pg", t(0)).await.expect("empty"),
        StoredTotals::default()
    );
    for (index, size) in [10_u64, 20, 30].into_iter().enumerate() {
        let parcel = format!("p{index}");
        store
            .upsert_parcel(&key("0pg", &parcel), &format!("o{index}"), t(100), size)
            .await
            .expect("upsert");
    }
    store
        .upsert_parcel(&key("0pg", "old"), "o-old", t(5), 1_000)
        .await
        .expect("upsert an expiring one");
    store
        .upsert_parcel(&key("0other", "p0"), "o-other", t(100), 7)
        .await
        .expect("upsert another gateway's");
    assert_eq!(
        store
            .stored_for_gateway("0pg", t(10))
            .await
            .expect("totals"),
        StoredTotals {
            parcels: 3,
            bytes: 60
        }
    );
    let mut deleted = store
        .delete_parcels_for_gateway("0pg", 3)
        .await
        .expect("first page");
    assert_eq!(deleted.len(), 3);
    deleted.extend(
        store
            .delete_parcels_for_gateway("0pg", 3)
            .await
            .expect("second page"),
    );
    deleted.sort();
    assert_eq!(deleted, ["o-old", "o0", "o1", "o2"]);
    assert!(store
        .delete_parcels_for_gateway("0pg", 3)
        .await
        .expect("none left")
        .is_empty());
    assert_eq!(
        store.stored_for_gateway("0pg", t(0)).await.expect("totals"),
        StoredTotals::default()
    );
    assert_eq!(
        store
            .stored_for_gateway("0other", t(0))
            .await
            .expect("other"),
        StoredTotals {
            parcels: 1,
            bytes: 7
        }
    );
}

/// Internet-bound parcels count as pending from their record until settled or expired, per
/// gateway; settling twice, or settling what was never recorded, changes nothing.
pub async fn internet_bound_parcels_pending_until_settled(store: &dyn MetadataStore) {
    let collection = |pg: &str, parcel: &str, expiry: i64| ParcelCollection {
        parcel_id: parcel.to_owned(),
        pg_id: pg.to_owned(),
        recipient_id: "0recipient".to_owned(),
        sender_id: "0sender".to_owned(),
        expiry: t(expiry),
    };
    assert_eq!(
        store
            .pending_internet_bound("0a", t(0))
            .await
            .expect("none"),
        0
    );
    for record in [
        collection("0a", "p1", 100),
        collection("0a", "p2", 100),
        collection("0a", "p3", 5),
        collection("0b", "p1", 100),
    ] {
        assert!(store
            .record_parcel_collection(&record)
            .await
            .expect("record"));
    }
    assert!(!store
        .record_parcel_collection(&collection("0a", "p1", 100))
        .await
        .expect("duplicate"));
    assert_eq!(
        store.pending_internet_bound("0a", t(0)).await.expect("a"),
        3
    );
    assert_eq!(
        store
            .pending_internet_bound("0a", t(10))
            .await
            .expect("one expired"),
        2
    );
    let p1 = collection("0a", "p1", 100);
    store.settle_internet_bound(&p1).await.expect("settle");
    store.settle_internet_bound(&p1).await.expect("again");
    assert_eq!(
        store.pending_internet_bound("0a", t(10)).await.expect("a"),
        1
    );
    // Settled before the edge recorded it (the worker was faster): it never counts.
    let early = collection("0a", "early", 100);
    store
        .settle_internet_bound(&early)
        .await
        .expect("settle first");
    assert!(!store
        .record_parcel_collection(&early)
        .await
        .expect("recorded after"));
    assert_eq!(
        store.pending_internet_bound("0a", t(10)).await.expect("a"),
        1
    );
    assert_eq!(
        store.pending_internet_bound("0b", t(10)).await.expect("b"),
        1
    );
    assert!(
        store
            .is_parcel_collected(&collection("0a", "p1", 100))
            .await
            .expect("still deduplicated"),
        "settling keeps the record that deduplicates"
    );
}
