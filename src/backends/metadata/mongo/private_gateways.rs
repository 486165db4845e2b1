//! The private gateway registry on MongoDB: collection `private_gateways`, keyed by the
//! gateway's id. `$min`/`$max` keep the first registration and the latest sighting and
//! certificate in one upsert, whichever replica writes first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use super::{collection_id, date, get_date, get_i64, get_str, limit_of, mongo, MongoMetadataStore};
use crate::backends::error::BackendError;
use crate::backends::metadata::private_gateways::{
    PrivateGatewayRecord, PrivateGatewayStore, StoredTotals,
};
use crate::backends::metadata::ParcelCollection;

const COLLECTION: &str = "private_gateways";

fn optional_date(document: &Document, key: &str) -> Result<Option<DateTime<Utc>>, BackendError> {
    match document.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(_) => get_date(document, key).map(Some),
    }
}

fn record_of(document: &Document) -> Result<PrivateGatewayRecord, BackendError> {
    Ok(PrivateGatewayRecord {
        id: get_str(document, "_id")?,
        registered_at: optional_date(document, "registered_at")?,
        certificate_expiry: optional_date(document, "certificate_expiry")?,
        last_seen: optional_date(document, "last_seen")?,
        revoked_at: optional_date(document, "revoked_at")?,
    })
}

impl MongoMetadataStore {
    async fn upsert_gateway(
        &self,
        pg_id: &str,
        update: Document,
        context: &'static str,
    ) -> Result<(), BackendError> {
        self.collection(COLLECTION)
            .update_one(doc! { "_id": pg_id }, update)
            .upsert(true)
            .await
            .map_err(mongo(context))?;
        Ok(())
    }
}

#[async_trait]
impl PrivateGatewayStore for MongoMetadataStore {
    async fn record_registration(
        &self,
        pg_id: &str,
        certificate_expiry: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), BackendError> {
        let update = doc! {
            "$min": { "registered_at": date(now) },
            "$max": { "certificate_expiry": date(certificate_expiry), "last_seen": date(now) },
        };
        self.upsert_gateway(pg_id, update, "recording a registration")
            .await
    }

    async fn record_seen(&self, seen: &[(String, DateTime<Utc>)]) -> Result<(), BackendError> {
        for (pg_id, at) in seen {
            let update = doc! { "$max": { "last_seen": date(*at) } };
            self.upsert_gateway(pg_id, update, "recording when private gateways were seen")
                .await?;
        }
        Ok(())
    }

    async fn revoke_private_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, BackendError> {
        let previous = self.get_private_gateway(pg_id).await?;
        if previous.is_some_and(|record| record.revoked_at.is_some()) {
            return Ok(false);
        }
        // `$min`: of two replicas revoking at once, the first time stays.
        let update = doc! { "$min": { "revoked_at": date(now) } };
        self.upsert_gateway(pg_id, update, "revoking a private gateway")
            .await?;
        Ok(true)
    }

    async fn revoked_private_gateways(&self) -> Result<Vec<String>, BackendError> {
        let documents: Vec<Document> = self
            .collection(COLLECTION)
            .find(doc! { "revoked_at": { "$type": "date" } })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(mongo("listing revoked private gateways"))?
            .try_collect()
            .await
            .map_err(mongo("listing revoked private gateways"))?;
        documents
            .iter()
            .map(|document| get_str(document, "_id"))
            .collect()
    }

    async fn get_private_gateway(
        &self,
        pg_id: &str,
    ) -> Result<Option<PrivateGatewayRecord>, BackendError> {
        self.collection(COLLECTION)
            .find_one(doc! { "_id": pg_id })
            .await
            .map_err(mongo("reading a private gateway"))?
            .as_ref()
            .map(record_of)
            .transpose()
    }

    async fn list_private_gateways(
        &self,
        after_id: &str,
        limit: usize,
    ) -> Result<Vec<PrivateGatewayRecord>, BackendError> {
        let documents = self
            .find_all(
                COLLECTION,
                doc! { "_id": { "$gt": after_id } },
                doc! { "_id": 1 },
                limit_of(limit),
                "listing private gateways",
            )
            .await?;
        documents.iter().map(record_of).collect()
    }

    async fn stored_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredTotals, BackendError> {
        let pipeline = [
            doc! { "$match": { "pg_id": pg_id, "expiry": { "$gt": date(now) } } },
            doc! { "$group": {
                "_id": Bson::Null,
                "parcels": { "$sum": 1_i64 },
                "bytes": { "$sum": "$size" },
            } },
        ];
        let groups: Vec<Document> = self
            .collection("parcel_index")
            .aggregate(pipeline)
            .await
            .map_err(mongo("counting what is stored for a private gateway"))?
            .try_collect()
            .await
            .map_err(mongo("counting what is stored for a private gateway"))?;
        let Some(group) = groups.first() else {
            return Ok(StoredTotals::default());
        };
        let number = |key: &str| -> Result<u64, BackendError> {
            let value = match group.get(key) {
                Some(Bson::Int32(value)) => i64::from(*value),
                _ => get_i64(group, key)?,
            };
            u64::try_from(value).map_err(|_| BackendError::corrupt(format!("negative {key}")))
        };
        Ok(StoredTotals {
            parcels: number("parcels")?,
            bytes: number("bytes")?,
        })
    }

    async fn pending_internet_bound(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, BackendError> {
        self.collection("parcel_collections")
            .count_documents(doc! {
                "pg_id": pg_id, "pending": true, "expiry": { "$gt": date(now) },
            })
            .await
            .map_err(mongo("counting pending internet-bound parcels"))
    }

    async fn settle_internet_bound(
        &self,
        collection: &ParcelCollection,
    ) -> Result<(), BackendError> {
        self.collection("parcel_collections")
            .update_one(
                doc! { "_id": collection_id(collection) },
                doc! {
                    "$set": { "pending": false },
                    "$setOnInsert": {
                        "pg_id": &collection.pg_id, "expiry": date(collection.expiry),
                    },
                },
            )
            .upsert(true)
            .await
            .map_err(mongo("settling an internet-bound parcel"))?;
        Ok(())
    }

    async fn delete_parcels_for_gateway(
        &self,
        pg_id: &str,
        limit: usize,
    ) -> Result<Vec<String>, BackendError> {
        let found = self
            .find_all(
                "parcel_index",
                doc! { "pg_id": pg_id },
                doc! { "sequence": 1 },
                limit_of(limit),
                "listing the parcels of a private gateway",
            )
            .await?;
        self.delete_entries_found(&found, "deleting the parcels of a private gateway")
            .await
    }
}
