//! Splitting cargo items into CargoMessageSets that each fit one cargo payload (§8.2).

use chrono::{DateTime, Utc};

use super::error::MessageError;
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::{
    DER_OCTET_STRING_OVERHEAD, MAX_CARGO_MESSAGE_LENGTH, MAX_SDU_PLAINTEXT_LENGTH,
};

/// The items of one future cargo and the latest expiry among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoMessageBatch {
    pub messages: Vec<Vec<u8>>,
    pub expiry: DateTime<Utc>,
}

/// Groups `(item, expiry)` pairs, in order, into batches with the libraries' exact arithmetic:
/// the first batch starts with `SDU limit - 5` free octets (room for the SEQUENCE header), each
/// item costs its length + 5, and a batch started by an overflowing item gets `SDU limit - cost`.
/// No items give no batch. An item over [`MAX_CARGO_MESSAGE_LENGTH`] is an error.
pub fn batch_messages(
    items: impl IntoIterator<Item = (Vec<u8>, DateTime<Utc>)>,
) -> Result<Vec<CargoMessageBatch>, MessageError> {
    let mut batches = Vec::new();
    let mut current: Option<CargoMessageBatch> = None;
    let mut free = MAX_SDU_PLAINTEXT_LENGTH - DER_OCTET_STRING_OVERHEAD;
    for (message, expiry) in items {
        if message.len() > MAX_CARGO_MESSAGE_LENGTH {
            return Err(Asn1Error::TooLarge {
                what: "cargo message",
                actual: message.len(),
                limit: MAX_CARGO_MESSAGE_LENGTH,
            }
            .into());
        }
        let cost = message.len() + DER_OCTET_STRING_OVERHEAD;
        match current.as_mut() {
            Some(batch) if cost <= free => {
                free -= cost;
                batch.expiry = batch.expiry.max(expiry);
                batch.messages.push(message);
            }
            Some(_) => {
                batches.extend(current.take());
                free = MAX_SDU_PLAINTEXT_LENGTH - cost;
                current = Some(CargoMessageBatch {
                    messages: vec![message],
                    expiry,
                });
            }
            None => {
                // The first item always fits: its cost is at most the initial free space.
                free -= cost;
                current = Some(CargoMessageBatch {
                    messages: vec![message],
                    expiry,
                });
            }
        }
    }
    batches.extend(current);
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::awala::error::ProtocolErrorKind;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("date")
    }

    #[test]
    fn no_items_no_batch() {
        assert_eq!(batch_messages(Vec::new()).expect("batch"), Vec::new());
    }

    #[test]
    fn small_items_share_a_batch_with_latest_expiry() {
        let batches = batch_messages(vec![
            (b"a".to_vec(), at(10)),
            (b"b".to_vec(), at(30)),
            (b"c".to_vec(), at(20)),
        ])
        .expect("batch");
        assert_eq!(
            batches,
            vec![CargoMessageBatch {
                messages: vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
                expiry: at(30),
            }]
        );
    }

    #[test]
    fn largest_item_fits_exactly() {
        let batches =
            batch_messages(vec![(vec![0; MAX_CARGO_MESSAGE_LENGTH], at(1))]).expect("batch");
        assert_eq!(batches.len(), 1);
        // Nothing else fits after it, not even an empty item.
        let batches = batch_messages(vec![
            (vec![0; MAX_CARGO_MESSAGE_LENGTH], at(1)),
            (Vec::new(), at(2)),
        ])
        .expect("batch");
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].expiry, at(1));
        assert_eq!(batches[1].expiry, at(2));
    }

    #[test]
    fn exact_fit_then_one_over() {
        let first = 1000;
        let initial_free = MAX_SDU_PLAINTEXT_LENGTH - DER_OCTET_STRING_OVERHEAD;
        let exact = initial_free - (first + 5) - 5;
        let batches =
            batch_messages(vec![(vec![1; first], at(1)), (vec![2; exact], at(2))]).expect("batch");
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].messages.len(), 2);
        let batches = batch_messages(vec![(vec![1; first], at(1)), (vec![2; exact + 1], at(2))])
            .expect("batch");
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].messages, vec![vec![2; exact + 1]]);
    }

    #[test]
    fn second_batch_starts_with_the_documented_free_space() {
        // After a new batch starts with item of cost c, `SDU - c` octets remain (no header
        // reserve), as both libraries compute it.
        let big = MAX_CARGO_MESSAGE_LENGTH - 100;
        let remaining = MAX_SDU_PLAINTEXT_LENGTH - (big + 5);
        let batches = batch_messages(vec![
            (vec![0; big], at(1)),
            (vec![0; big], at(2)),
            (vec![0; remaining - 5], at(3)),
        ])
        .expect("batch");
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].messages.len(), 2);
        assert_eq!(batches[1].expiry, at(3));
    }

    #[test]
    fn oversize_item_is_an_error() {
        let error = batch_messages(vec![(vec![0; MAX_CARGO_MESSAGE_LENGTH + 1], at(1))])
            .expect_err("too large");
        assert_eq!(error.kind(), ProtocolErrorKind::TooLarge);
    }
}
