//! Building the cargo for one CCA (protocol notes §8.3, REF `generateCargoes`), streamed: items
//! are read page by page, batched as they come, and each full batch is sealed into cargo and
//! handed to the courier before the next page is read. Memory stays at about one cargo
//! whatever the number of parcels queued, and a slow courier slows the reading down (the
//! channel to the gRPC stream is bounded).
//!
//! Items, in order: PCAs for the parcels we took from this gateway (until they expire), the
//! parcels stored for it (never deleted here: only a PCA, a PoWeb ACK or expiry removes them),
//! then a certificate rotation if its certificate expires within 90 days.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::cargo_batcher::StreamingBatcher;
use super::cca_authorization::blocking;
use super::collect_error::CollectError;
use crate::actors::gateway::GatewayContext;
use crate::backends::metadata::{ParcelCollection, MAX_PAGE};
use crate::protocols::awala::cms::{session_encrypt, EnvelopeOptions};
use crate::protocols::awala::keys::{HashAlgorithm, SessionKey};
use crate::protocols::awala::limits::{
    CERTIFICATE_ROTATION_THRESHOLD, ISSUANCE_BACKDATE, MAX_TTL_SECONDS,
};
use crate::protocols::awala::messages::{
    CargoMessageBatch, CargoMessageSet, CertificateRotation, CertificationPath,
    CertificationPathEncoding, ParcelCollectionAck, Recipient,
};
use crate::protocols::awala::pki::Certificate;
use crate::protocols::awala::ramf::{Cargo, MessageDraft};
use crate::protocols::cogrpc::{CargoDelivery, CollectCargoStep};
use crate::supervision::faults::FaultPoint;

/// Parcel index entries read per query; their bodies are fetched one at a time. Tiny in tests,
/// so that a few parcels cross page boundaries.
const PARCEL_PAGE: usize = if cfg!(test) { 7 } else { 100 };
/// Parcel bodies read ahead of the batch being filled.
const BODY_PREFETCH: usize = 8;
/// Parcel collections read per query (a PCA is a few hundred octets).
const COLLECTION_PAGE: usize = if cfg!(test) { 5 } else { MAX_PAGE };

/// Where cargo goes: the bounded channel feeding the gRPC response stream.
pub type DeliverySink = mpsc::Sender<Result<CargoDelivery, tonic::Status>>;

/// Everything needed to build cargo for one authorised collection.
#[derive(Debug, Clone)]
pub struct CargoPlan {
    pub pg_id: String,
    /// The CCA sender's certificate, renewed when it nears expiry.
    pub pg_certificate: Certificate,
    /// Sender certificate of every cargo (the CDA from the CCR), attached without CAs.
    pub cda: Certificate,
    /// The private gateway's latest session key: every cargo is encrypted to it.
    pub peer_session_key: SessionKey,
    pub now: DateTime<Utc>,
}

/// Whether the courier is still reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    CourierGone,
}

/// Builds and sends every cargo of `plan`; returns how many were sent.
pub async fn stream_cargo(
    context: Arc<GatewayContext>,
    plan: CargoPlan,
    sink: DeliverySink,
) -> Result<u64, CollectError> {
    let mut builder = CargoBuilder {
        context,
        plan,
        sink,
        batcher: StreamingBatcher::new(),
        sent: 0,
    };
    if builder.add_collection_acks().await? == Flow::Continue
        && builder.add_parcels().await? == Flow::Continue
        && builder.add_rotation().await? == Flow::Continue
    {
        for batch in std::mem::take(&mut builder.batcher)
            .finish()
            .map_err(build)?
        {
            if builder.send(batch).await? == Flow::CourierGone {
                break;
            }
        }
    }
    Ok(builder.sent)
}

struct CargoBuilder {
    context: Arc<GatewayContext>,
    plan: CargoPlan,
    sink: DeliverySink,
    batcher: StreamingBatcher,
    sent: u64,
}

impl CargoBuilder {
    /// PCAs, oldest expiry first. The store pages by expiry only, so each page restarts just
    /// before the last expiry seen and skips what was already added (ties at a page boundary).
    async fn add_collection_acks(&mut self) -> Result<Flow, CollectError> {
        let metadata = self.context.backends.metadata.clone();
        let mut after = self.plan.now;
        let mut added: HashMap<(String, String, String), DateTime<Utc>> = HashMap::new();
        loop {
            let page = metadata
                .parcel_collections_for_gateway(&self.plan.pg_id, after, COLLECTION_PAGE)
                .await
                .map_err(CollectError::backend(CollectCargoStep::CargoGeneration))?;
            let Some(last_expiry) = page.last().map(|collection| collection.expiry) else {
                return Ok(Flow::Continue);
            };
            let mut new_items = 0;
            for collection in &page {
                if added.contains_key(&collection_id(collection)) {
                    continue;
                }
                new_items += 1;
                added.insert(collection_id(collection), collection.expiry);
                if self.add_pca(collection).await? == Flow::CourierGone {
                    return Ok(Flow::CourierGone);
                }
            }
            if page.len() < COLLECTION_PAGE {
                return Ok(Flow::Continue);
            }
            if new_items == 0 {
                tracing::warn!(
                    pg_id = %self.plan.pg_id,
                    "over a page of parcel collections expire together; the rest wait for a later collection"
                );
                return Ok(Flow::Continue);
            }
            after = last_expiry - chrono::Duration::milliseconds(1);
            added.retain(|_, expiry| *expiry > after);
        }
    }

    async fn add_pca(&mut self, collection: &ParcelCollection) -> Result<Flow, CollectError> {
        let pca = ParcelCollectionAck {
            sender_endpoint_id: collection.sender_id.clone(),
            recipient_endpoint_id: collection.recipient_id.clone(),
            parcel_id: collection.parcel_id.clone(),
        };
        match pca.serialize() {
            Ok(item) => self.add(item, collection.expiry).await,
            Err(error) => {
                // The ids came from a parcel that parsed, so this is a stored-data problem.
                tracing::warn!(%error, pg_id = %self.plan.pg_id, "skipping a PCA that cannot be encoded");
                Ok(Flow::Continue)
            }
        }
    }

    /// Stored parcels in sequence order. Bodies are fetched a few at a time ahead of the batch
    /// being filled (reads overlap, memory stays bounded by [`BODY_PREFETCH`] bodies).
    async fn add_parcels(&mut self) -> Result<Flow, CollectError> {
        let backends = self.context.backends.clone();
        let failed = || CollectError::backend(CollectCargoStep::CargoGeneration);
        let mut after_sequence = i64::MIN;
        loop {
            let page = backends
                .metadata
                .list_parcels_for_gateway(
                    &self.plan.pg_id,
                    self.plan.now,
                    after_sequence,
                    PARCEL_PAGE,
                )
                .await
                .map_err(failed())?;
            let Some(last) = page.last() else {
                return Ok(Flow::Continue);
            };
            after_sequence = last.sequence;
            let fitting = page.into_iter().filter(|entry| {
                let oversized = usize::try_from(entry.size).map_or(true, |size| {
                    size > crate::protocols::awala::limits::MAX_CARGO_MESSAGE_LENGTH
                });
                if oversized {
                    tracing::warn!(pg_id = %self.plan.pg_id, size = entry.size, "skipping a parcel too large for cargo");
                }
                !oversized
            });
            let mut bodies = futures::stream::iter(fitting.collect::<Vec<_>>())
                .map(|entry| {
                    let objects = backends.objects.clone();
                    async move {
                        let body = objects.get(&entry.object_key).await;
                        body.map(|body| (entry.expiry, body))
                    }
                })
                .buffered(BODY_PREFETCH);
            while let Some(fetched) = bodies.next().await {
                // `None`: collected over PoWeb or acknowledged by a PCA since it was listed.
                let (expiry, Some(body)) = fetched.map_err(failed())? else {
                    continue;
                };
                if self.add(body.to_vec(), expiry).await? == Flow::CourierGone {
                    return Ok(Flow::CourierGone);
                }
            }
        }
    }

    /// A renewed certificate for the same key, from our latest certificate, with that
    /// certificate as the only CA, in the encoding REF emits (notes §1.7).
    async fn add_rotation(&mut self) -> Result<Flow, CollectError> {
        let threshold = chrono::Duration::from_std(CERTIFICATE_ROTATION_THRESHOLD)
            .map_err(|error| CollectError::Build(error.to_string()))?;
        if self.plan.pg_certificate.not_after() >= self.plan.now + threshold {
            return Ok(Flow::Continue);
        }
        let identity = &self.context.identity;
        let renewed = identity.issue_private_gateway_certificate(
            self.plan.pg_certificate.subject_public_key(),
            self.plan.now,
        )?;
        let rotation = CertificateRotation {
            path: CertificationPath {
                leaf_der: renewed.der().to_vec(),
                certificate_authorities_der: vec![identity.latest_certificate().der().to_vec()],
            },
        }
        .serialize(CertificationPathEncoding::Js)
        .map_err(build)?;
        self.add(rotation, renewed.not_after()).await
    }

    async fn add(&mut self, item: Vec<u8>, expiry: DateTime<Utc>) -> Result<Flow, CollectError> {
        if !StreamingBatcher::fits_in_cargo(&item) {
            tracing::warn!(pg_id = %self.plan.pg_id, size = item.len(), "skipping an item too large for cargo");
            return Ok(Flow::Continue);
        }
        for batch in self.batcher.push(item, expiry).map_err(build)? {
            if self.send(batch).await? == Flow::CourierGone {
                return Ok(Flow::CourierGone);
            }
        }
        Ok(Flow::Continue)
    }

    async fn send(&mut self, batch: CargoMessageBatch) -> Result<Flow, CollectError> {
        let cargo = self.seal(batch).await?;
        let delivery = CargoDelivery {
            id: uuid::Uuid::new_v4().to_string(),
            cargo,
        };
        if self.sink.send(Ok(delivery)).await.is_err() {
            tracing::debug!(pg_id = %self.plan.pg_id, "courier stopped reading cargo");
            return Ok(Flow::CourierGone);
        }
        self.sent += 1;
        // After a cargo went out, so that an injected fault lands mid-call.
        self.context.faults.check(FaultPoint::CollectCargo);
        Ok(Flow::Continue)
    }

    /// Encrypts the batch to the gateway's session key, stores the new originator key (bound
    /// to the gateway, before the cargo can reach it), and signs the cargo under the CDA.
    async fn seal(&self, batch: CargoMessageBatch) -> Result<Vec<u8>, CollectError> {
        let peer_key = self.plan.peer_session_key.clone();
        let expiry = batch.expiry;
        let encryption = blocking(move || {
            let plaintext = CargoMessageSet {
                messages: batch.messages,
            }
            .encode()
            .map_err(build)?;
            session_encrypt(&plaintext, &peer_key, EnvelopeOptions::default()).map_err(build)
        })
        .await??;
        self.context
            .identity
            .save_bound_session_key_pair(
                &encryption.originator_key,
                &self.plan.pg_id,
                self.plan.now,
            )
            .await?;
        let creation_date = cargo_creation_date(self.plan.now);
        let draft = MessageDraft::new(
            Recipient {
                id: self.plan.pg_id.clone(),
                internet_address: None,
            },
            encryption.envelope,
            creation_date,
            cargo_ttl(creation_date, expiry),
        );
        let context = self.context.clone();
        let cda = self.plan.cda.clone();
        blocking(move || {
            Cargo::serialize(
                &draft,
                context.identity.private_key(),
                &cda,
                &[],
                HashAlgorithm::Sha256,
            )
            .map_err(build)
        })
        .await?
    }
}

/// Three hours ago, whole seconds: room for the private gateway's clock to lag (REF).
pub fn cargo_creation_date(now: DateTime<Utc>) -> DateTime<Utc> {
    let backdated = now - chrono::Duration::from_std(ISSUANCE_BACKDATE).unwrap_or_default();
    DateTime::from_timestamp(backdated.timestamp(), 0).unwrap_or(backdated)
}

/// Until the batch's latest expiry, at most the RAMF maximum.
pub fn cargo_ttl(creation_date: DateTime<Utc>, batch_expiry: DateTime<Utc>) -> u32 {
    let seconds = (batch_expiry - creation_date).num_seconds().max(0);
    u32::try_from(seconds).map_or(MAX_TTL_SECONDS, |ttl| ttl.min(MAX_TTL_SECONDS))
}

fn collection_id(collection: &ParcelCollection) -> (String, String, String) {
    (
        collection.parcel_id.clone(),
        collection.recipient_id.clone(),
        collection.sender_id.clone(),
    )
}

fn build(error: impl std::fmt::Display) -> CollectError {
    CollectError::Build(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("date")
            + chrono::Duration::seconds(seconds)
    }

    #[test]
    fn creation_is_three_hours_back_in_whole_seconds() {
        let now = at(0) + chrono::Duration::milliseconds(750);
        assert_eq!(cargo_creation_date(now), at(-3 * 3600));
    }

    #[test]
    fn ttl_reaches_the_latest_expiry_within_the_maximum() {
        let creation = at(0);
        assert_eq!(cargo_ttl(creation, at(3600)), 3600);
        assert_eq!(cargo_ttl(creation, at(-5)), 0);
        assert_eq!(
            cargo_ttl(creation, at(i64::from(MAX_TTL_SECONDS) + 100)),
            MAX_TTL_SECONDS
        );
    }
}
