//! The router's storage steps against the embedded backends: which parcel bodies it leaves in
//! the object store when an upsert replaces an entry, and when the index write fails.

use bytes::Bytes;

use super::{RouteError, Routed};
use crate::actors::cogrpc::test_support::Fixture;

const PARCELS: &str = "parcels/";

async fn stored_bodies(f: &Fixture) -> Vec<String> {
    f.context
        .backends
        .objects
        .list(PARCELS, 100)
        .await
        .expect("list objects")
}

#[tokio::test]
async fn a_parcel_delivered_again_leaves_only_the_newest_body() {
    let f = Fixture::new().await;
    let (parcel, _) = f.parcel_for_other_private_gateway("same-id");
    for _ in 0..3 {
        let routed = f
            .router
            .route_from_private_gateway(Bytes::from(parcel.clone()), f.pg.id(), f.now)
            .await
            .expect("routed");
        assert!(matches!(routed, Routed::StoredForPrivateGateway { .. }));
    }
    let entries = f
        .context
        .backends
        .metadata
        .list_parcels_for_gateway(f.other_pg.id(), f.now, 0, 10)
        .await
        .expect("list entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(stored_bodies(&f).await, vec![entries[0].object_key.clone()]);
}

#[tokio::test]
async fn a_parcel_the_index_refuses_leaves_no_body_behind() {
    let f = Fixture::new().await;
    // Break the index from another connection: the body is written, then its entry fails.
    let database = f.data_dir().join("gateway.sqlite");
    let outsider = sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display()))
        .await
        .expect("open the metadata database");
    sqlx::query("DROP TABLE parcel_index")
        .execute(&outsider)
        .await
        .expect("drop the index");
    let (parcel, _) = f.parcel_for_other_private_gateway("doomed");

    let result = f
        .router
        .route_from_private_gateway(Bytes::from(parcel), f.pg.id(), f.now)
        .await;

    assert!(matches!(result, Err(RouteError::Backend(_))), "{result:?}");
    assert_eq!(stored_bodies(&f).await, Vec::<String>::new());
}
