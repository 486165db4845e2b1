//! Small bodies in MongoDB, in a `small_objects` collection of the metadata database, keyed by
//! `_id` (whose index orders keys bytewise, as the bucket does); a document without a body (and
//! `large: true`) is a large-body marker.

use std::collections::HashMap;

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::{Collection, Database};

use super::inline::{prefix_end, Row, RowKind, SmallTable};
use crate::backends::error::BackendError;
use crate::backends::metadata::mongo::{binary, connect, get_bytes, get_str, mongo};

/// The `small_objects` collection.
pub struct MongoSmallTable {
    db: Database,
}

impl MongoSmallTable {
    /// Connects to the database of a `mongodb://` URL (or `database` instead).
    pub async fn open(url: &str, database: Option<&str>) -> Result<Self, BackendError> {
        Ok(MongoSmallTable {
            db: connect(url, database).await?,
        })
    }

    fn collection(&self) -> Collection<Document> {
        self.db.collection("small_objects")
    }
}

fn row_of(document: &Document) -> Result<Row, BackendError> {
    if document.contains_key("body") {
        Ok(Row::Body(Bytes::from(get_bytes(document, "body")?)))
    } else {
        Ok(Row::Large)
    }
}

#[async_trait]
impl SmallTable for MongoSmallTable {
    async fn put(&self, key: &str, row: Row) -> Result<bool, BackendError> {
        let document = match &row {
            Row::Body(body) => doc! { "_id": key, "body": binary(body) },
            // `large` lets a deletion tell the kinds apart without fetching the body.
            Row::Large => doc! { "_id": key, "large": true },
        };
        // Answers with the document as it was before (the driver's default).
        let before = self
            .collection()
            .find_one_and_replace(doc! { "_id": key }, document)
            .upsert(true)
            .await
            .map_err(mongo("storing a small object"))?;
        Ok(before.is_some_and(|document| row_of(&document).ok() == Some(Row::Large)))
    }

    async fn get_many(&self, keys: &[String]) -> Result<HashMap<String, Row>, BackendError> {
        let documents: Vec<Document> = self
            .collection()
            .find(doc! { "_id": { "$in": keys } })
            .await
            .map_err(mongo("reading small objects"))?
            .try_collect()
            .await
            .map_err(mongo("reading small objects"))?;
        documents
            .iter()
            .map(|document| Ok((get_str(document, "_id")?, row_of(document)?)))
            .collect()
    }

    async fn delete(&self, key: &str) -> Result<Option<RowKind>, BackendError> {
        let before = self
            .collection()
            .find_one_and_delete(doc! { "_id": key })
            .projection(doc! { "_id": 1, "large": 1 })
            .await
            .map_err(mongo("deleting a small object"))?;
        Ok(before.map(|document| {
            if document.get_bool("large").unwrap_or(false) {
                RowKind::Large
            } else {
                RowKind::Body
            }
        }))
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError> {
        let filter = match prefix_end(prefix) {
            Some(end) => doc! { "_id": { "$gte": prefix, "$lt": end } },
            None => doc! {},
        };
        let documents: Vec<Document> = self
            .collection()
            .find(filter)
            .projection(doc! { "_id": 1 })
            .sort(doc! { "_id": 1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await
            .map_err(mongo("listing small objects"))?
            .try_collect()
            .await
            .map_err(mongo("listing small objects"))?;
        documents
            .iter()
            .map(|document| get_str(document, "_id"))
            .collect()
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(mongo("pinging the server"))?;
        Ok(())
    }
}
