//! Batching cargo items as they are read, so that at most one cargo's worth of items is in
//! memory (a private gateway may have thousands of parcels queued).
//!
//! The arithmetic is `messages::batch_messages`'s, which matches the libraries: items are held
//! until the next one would not fit, and the held ones go through `batch_messages`, which then
//! yields exactly one batch. The only difference with batching everything at once is that every
//! batch keeps the 5 octets of room for the CargoMessageSet header that the libraries reserve
//! for the first batch only, so each batch is sure to fit a cargo payload.

use chrono::{DateTime, Utc};

use crate::protocols::awala::limits::{
    DER_OCTET_STRING_OVERHEAD, MAX_CARGO_MESSAGE_LENGTH, MAX_SDU_PLAINTEXT_LENGTH,
};
use crate::protocols::awala::messages::{batch_messages, CargoMessageBatch, MessageError};

/// Room for items in one batch: the SDU limit minus the SEQUENCE header.
const BATCH_CAPACITY: usize = MAX_SDU_PLAINTEXT_LENGTH - DER_OCTET_STRING_OVERHEAD;

/// Items of the batch being filled.
#[derive(Debug, Default)]
pub struct StreamingBatcher {
    pending: Vec<(Vec<u8>, DateTime<Utc>)>,
    pending_cost: usize,
}

impl StreamingBatcher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `item` can ever go in cargo (callers skip those that cannot).
    pub fn fits_in_cargo(item: &[u8]) -> bool {
        item.len() <= MAX_CARGO_MESSAGE_LENGTH
    }

    /// Adds `item`; returns the batch it closed, if it did not fit in the current one.
    pub fn push(
        &mut self,
        item: Vec<u8>,
        expiry: DateTime<Utc>,
    ) -> Result<Vec<CargoMessageBatch>, MessageError> {
        // batch_messages refuses oversized items; checking first keeps the held ones intact.
        if !Self::fits_in_cargo(&item) {
            return batch_messages([(item, expiry)]);
        }
        let cost = item.len() + DER_OCTET_STRING_OVERHEAD;
        let closed = if !self.pending.is_empty() && self.pending_cost + cost > BATCH_CAPACITY {
            self.flush()?
        } else {
            Vec::new()
        };
        self.pending_cost += cost;
        self.pending.push((item, expiry));
        Ok(closed)
    }

    /// The last, partly filled batch (nothing if no item is held).
    pub fn finish(mut self) -> Result<Vec<CargoMessageBatch>, MessageError> {
        self.flush()
    }

    fn flush(&mut self) -> Result<Vec<CargoMessageBatch>, MessageError> {
        self.pending_cost = 0;
        batch_messages(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::awala::messages::CargoMessageSet;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("date")
    }

    fn run(items: Vec<(Vec<u8>, DateTime<Utc>)>) -> Vec<CargoMessageBatch> {
        let mut batcher = StreamingBatcher::new();
        let mut batches = Vec::new();
        for (item, expiry) in items {
            batches.extend(batcher.push(item, expiry).expect("push"));
        }
        batches.extend(batcher.finish().expect("finish"));
        batches
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(run(Vec::new()).is_empty());
    }

    #[test]
    fn first_batch_matches_batch_messages() {
        let items: Vec<_> = (0..40)
            .map(|i| (vec![i as u8; 300_000 + i * 1000], at(i as i64)))
            .collect();
        let streamed = run(items.clone());
        let all_at_once = batch_messages(items).expect("batch");
        assert_eq!(streamed[0], all_at_once[0]);
        let flattened: Vec<_> = streamed.iter().flat_map(|b| b.messages.clone()).collect();
        let expected: Vec<_> = all_at_once
            .iter()
            .flat_map(|b| b.messages.clone())
            .collect();
        assert_eq!(flattened, expected, "order and content are kept");
    }

    #[test]
    fn every_batch_fits_a_cargo_payload() {
        // Items sized so that, without the header reserve, later batches would overflow.
        let big = MAX_CARGO_MESSAGE_LENGTH - 100;
        let remaining = MAX_SDU_PLAINTEXT_LENGTH - (big + DER_OCTET_STRING_OVERHEAD);
        let items = vec![
            (vec![0; big], at(1)),
            (vec![0; big], at(2)),
            (vec![0; remaining - DER_OCTET_STRING_OVERHEAD], at(3)),
        ];
        let batches = run(items);
        assert_eq!(batches.len(), 3);
        for batch in &batches {
            let encoded = CargoMessageSet {
                messages: batch.messages.clone(),
            }
            .encode()
            .expect("encode");
            assert!(encoded.len() <= MAX_SDU_PLAINTEXT_LENGTH);
        }
        assert_eq!(batches[2].expiry, at(3));
    }

    #[test]
    fn expiry_is_the_latest_of_the_batch() {
        let batches = run(vec![
            (b"a".to_vec(), at(10)),
            (b"b".to_vec(), at(30)),
            (b"c".to_vec(), at(20)),
        ]);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].expiry, at(30));
    }

    #[test]
    fn oversized_item_is_refused_and_held_items_survive() {
        let mut batcher = StreamingBatcher::new();
        assert!(batcher
            .push(b"kept".to_vec(), at(1))
            .expect("push")
            .is_empty());
        assert!(batcher
            .push(vec![0; MAX_CARGO_MESSAGE_LENGTH + 1], at(2))
            .is_err());
        let batches = batcher.finish().expect("finish");
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].messages, vec![b"kept".to_vec()]);
    }
}
