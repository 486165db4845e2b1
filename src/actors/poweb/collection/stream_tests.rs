use bytes::Bytes;
use chrono::{TimeZone, Utc};

use super::*;
use crate::backends::metadata::ParcelIndexKey;

fn entry(pg_id: &str, sequence: i64) -> ParcelIndexEntry {
    let key = ParcelIndexKey::new(
        pg_id,
        "0recipient",
        "0sender",
        &format!("parcel-{sequence}"),
    );
    ParcelIndexEntry {
        object_key: key.object_key(Utc.with_ymd_and_hms(2029, 1, 1, 0, 0, 0).unwrap()),
        key,
        expiry: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
        size: 10,
        sequence,
    }
}

fn page(pg_id: &str, sequences: std::ops::RangeInclusive<i64>) -> Vec<ParcelIndexEntry> {
    sequences.map(|sequence| entry(pg_id, sequence)).collect()
}

fn notice(sequence: i64) -> Notification {
    Notification::Message(Bytes::from(sequence.to_string()))
}

/// Limits with `window` unacknowledged deliveries, as much read-ahead and as many deletions.
fn limits(window: usize, page_size: usize) -> StreamLimits {
    StreamLimits {
        window,
        read_ahead: window,
        max_deleting: window,
        page_size,
    }
}

/// A stream for gateway "pg" whose first listing returned `sequences`.
fn listed(
    window: usize,
    page_size: usize,
    sequences: std::ops::RangeInclusive<i64>,
) -> CollectionStream {
    let mut stream = CollectionStream::new(&["pg".into()], limits(window, page_size));
    let request = stream.next_listing().expect("listing");
    stream.on_listed(&request, page("pg", sequences));
    stream
}

/// Reads and sends everything the window allows, returning the delivery ids.
fn send_all(stream: &mut CollectionStream) -> Vec<String> {
    let mut ids = Vec::new();
    while stream.can_send() {
        let Some(entry) = stream.next_to_read() else {
            break;
        };
        let id = format!("d{}", entry.sequence);
        stream.on_sent(id.clone(), entry);
        ids.push(id);
    }
    ids
}

fn ack_and_delete(stream: &mut CollectionStream, ids: &[String]) {
    for id in ids {
        let entry = stream.on_ack(id).expect(id);
        stream.on_deleted(&entry);
    }
}

#[test]
fn empty_store_completes_after_one_listing() {
    let mut stream = CollectionStream::new(&["pg".into()], limits(4, 3));
    assert!(!stream.is_complete());
    let request = stream.next_listing().expect("listing");
    assert_eq!((request.after_sequence, request.limit), (0, 3));
    stream.on_listed(&request, Vec::new());
    assert!(stream.next_listing().is_none());
    assert!(stream.next_to_read().is_none());
    assert!(stream.is_complete());
}

#[test]
fn pages_by_sequence_and_holds_one_page_at_a_time() {
    let mut stream = CollectionStream::new(&["pg".into()], limits(10, 3));
    let first = stream.next_listing().expect("first page");
    stream.on_listed(&first, page("pg", 1..=3));
    // The page is not sent yet: no second listing.
    assert!(stream.next_listing().is_none());
    let ids = send_all(&mut stream);
    assert_eq!(ids, ["d1", "d2", "d3"]);
    let second = stream.next_listing().expect("full page: list again");
    assert_eq!(second.after_sequence, 3);
    stream.on_listed(&second, page("pg", 4..=5));
    assert_eq!(send_all(&mut stream), ["d4", "d5"]);
    assert!(stream.next_listing().is_none(), "short page: at the end");
    assert!(!stream.is_complete(), "deliveries await ACKs");
    ack_and_delete(
        &mut stream,
        &["d1", "d2", "d3", "d4", "d5"].map(String::from),
    );
    assert!(stream.is_complete());
}

#[test]
fn the_default_window_sends_the_next_delivery_only_after_the_previous_ack() {
    let mut stream = CollectionStream::new(&["pg".into()], StreamLimits::default());
    let request = stream.next_listing().expect("listing");
    stream.on_listed(&request, page("pg", 1..=3));
    // Bodies are read ahead of the window...
    let batch = stream.next_batch_to_read(u64::MAX);
    assert_eq!(batch.len(), 3);
    let mut batch = batch.into_iter();
    // ...but only one delivery is out at a time.
    assert!(stream.can_send());
    stream.on_sent("d1".into(), batch.next().expect("1"));
    assert!(!stream.can_send(), "d1 awaits its ACK");
    let acknowledged = stream.on_ack("d1").expect("d1");
    assert!(
        stream.can_send(),
        "an ACK frees the window before the deletion lands"
    );
    stream.on_sent("d2".into(), batch.next().expect("2"));
    assert!(!stream.can_send());
    stream.on_deleted(&acknowledged);
    assert!(!stream.can_send(), "a deletion does not widen the window");
}

#[test]
fn window_bounds_unacknowledged_deliveries_and_deletions_bound_sends() {
    let mut stream = CollectionStream::new(
        &["pg".into()],
        StreamLimits {
            window: 2,
            read_ahead: 8,
            max_deleting: 3,
            page_size: 8,
        },
    );
    let request = stream.next_listing().expect("listing");
    stream.on_listed(&request, page("pg", 1..=6));
    assert_eq!(send_all(&mut stream), ["d1", "d2"]);
    assert_eq!(stream.in_flight(), 2);
    assert!(!stream.can_send());
    let first = stream.on_ack("d1").expect("d1");
    assert_eq!(first.sequence, 1);
    assert_eq!(send_all(&mut stream), ["d3"]);
    stream.on_ack("d2").expect("d2");
    stream.on_ack("d3").expect("d3");
    // Three deletions pending: the store must catch up before anything else goes out.
    assert!(!stream.can_send());
    assert!(!stream.is_complete());
    stream.on_deleted(&first);
    assert_eq!(send_all(&mut stream), ["d4", "d5"]);
    assert!(stream.next_listing().is_none(), "page not yet taken");
}

#[test]
fn read_ahead_bounds_entries_being_read_or_waiting_for_the_window() {
    let mut stream = CollectionStream::new(
        &["pg".into()],
        StreamLimits {
            window: 1,
            read_ahead: 2,
            max_deleting: 8,
            page_size: 8,
        },
    );
    let request = stream.next_listing().expect("listing");
    stream.on_listed(&request, page("pg", 1..=4));
    let batch = stream.next_batch_to_read(u64::MAX);
    assert_eq!(batch.len(), 2);
    assert!(
        stream.next_batch_to_read(u64::MAX).is_empty(),
        "read-ahead full"
    );
    let mut batch = batch.into_iter();
    stream.on_sent("d1".into(), batch.next().expect("1"));
    assert_eq!(
        stream.next_batch_to_read(u64::MAX).len(),
        1,
        "sending frees a slot"
    );
}

#[test]
fn unknown_and_repeated_acks_are_refused() {
    let mut stream = listed(2, 5, 1..=1);
    send_all(&mut stream);
    assert!(stream.on_ack("nope").is_none());
    assert!(stream.on_ack("d1").is_some());
    assert!(stream.on_ack("d1").is_none());
}

#[test]
fn notifications_above_the_cursor_trigger_a_listing() {
    let mut stream = listed(4, 3, 1..=1);
    let ids = send_all(&mut stream);
    ack_and_delete(&mut stream, &ids);
    assert!(stream.is_complete());
    stream.on_notification("pg", &notice(1));
    assert!(stream.next_listing().is_none(), "already listed");
    stream.on_notification("other", &notice(9));
    assert!(stream.next_listing().is_none(), "not ours");
    stream.on_notification("pg", &notice(7));
    let request = stream.next_listing().expect("new parcel");
    assert_eq!(request.after_sequence, 1);
    stream.on_listed(&request, page("pg", 7..=7));
    assert!(stream.next_listing().is_none());
}

#[test]
fn a_notification_during_a_listing_is_not_lost() {
    let mut stream = CollectionStream::new(&["pg".into()], limits(4, 3));
    let request = stream.next_listing().expect("listing");
    // Stored after the listing query ran, announced before its result arrived.
    stream.on_notification("pg", &notice(2));
    stream.on_listed(&request, page("pg", 1..=1));
    send_all(&mut stream);
    let again = stream.next_listing().expect("re-list for sequence 2");
    assert_eq!(again.after_sequence, 1);
}

#[test]
fn lag_and_unreadable_notices_force_a_listing_even_mid_listing() {
    let mut stream = CollectionStream::new(&["pg".into()], limits(4, 3));
    let request = stream.next_listing().expect("listing");
    stream.on_notification("pg", &Notification::Lagged(3));
    stream.on_listed(&request, Vec::new());
    let again = stream.next_listing().expect("lag during listing");
    stream.on_listed(&again, Vec::new());
    assert!(stream.next_listing().is_none());
    stream.on_notification("pg", &Notification::Message(Bytes::from_static(b"junk")));
    assert!(stream.next_listing().is_some());
}

#[test]
fn several_gateways_are_listed_in_turn() {
    let mut stream = CollectionStream::new(&["a".into(), "b".into()], limits(4, 2));
    let first = stream.next_listing().expect("a");
    assert_eq!(first.pg_id, "a");
    stream.on_listed(&first, Vec::new());
    let second = stream.next_listing().expect("b");
    assert_eq!(second.pg_id, "b");
    stream.on_listed(&second, page("b", 5..=5));
    assert_eq!(send_all(&mut stream), ["d5"]);
    assert!(stream.next_listing().is_none());
    ack_and_delete(&mut stream, &["d5".to_string()]);
    assert!(stream.is_complete());
}

#[test]
fn batches_fill_the_read_ahead_in_order_and_count_until_sent_or_skipped() {
    let mut stream = listed(3, 6, 1..=5);
    let batch = stream.next_batch_to_read(u64::MAX);
    let sequences: Vec<i64> = batch.iter().map(|entry| entry.sequence).collect();
    assert_eq!(
        sequences,
        [1, 2, 3],
        "the read-ahead's room, in sequence order"
    );
    assert!(
        stream.next_batch_to_read(u64::MAX).is_empty(),
        "taken entries occupy the read-ahead"
    );
    let mut batch = batch.into_iter();
    stream.on_skipped();
    assert!(!stream.is_complete());
    let next = stream.next_batch_to_read(u64::MAX);
    assert_eq!(next.len(), 1, "a skipped entry frees its slot");
    assert_eq!(next[0].sequence, 4);
    stream.on_sent("d1".into(), batch.next().expect("1"));
    stream.on_sent("d3".into(), batch.next().expect("3"));
    stream.on_sent("d4".into(), next[0].clone());
    ack_and_delete(&mut stream, &["d1", "d3", "d4"].map(String::from));
    assert_eq!(send_all(&mut stream), ["d5"]);
    ack_and_delete(&mut stream, &["d5".to_string()]);
    assert!(stream.is_complete());
}

#[test]
fn batches_are_bounded_by_body_bytes_but_hold_at_least_one() {
    // Entries of 10 bytes each.
    let mut stream = listed(10, 10, 1..=5);
    assert_eq!(stream.next_batch_to_read(25).len(), 2);
    assert_eq!(
        stream.next_batch_to_read(5).len(),
        1,
        "one even over the limit"
    );
    assert_eq!(stream.next_batch_to_read(30).len(), 2, "what is left");
}

#[test]
fn an_entry_committed_below_the_cursor_is_fetched_on_its_own_once() {
    // 5 and 6 were numbered at once; 6 committed first and was listed, 5 came after.
    let mut stream = listed(4, 3, 6..=6);
    let ids = send_all(&mut stream);
    ack_and_delete(&mut stream, &ids);
    assert!(stream.is_complete());
    stream.on_notification("pg", &notice(6));
    assert!(stream.next_listing().is_none(), "6 was listed");
    stream.on_notification("pg", &notice(5));
    assert!(!stream.is_complete(), "5 is owed");
    let point = stream.next_listing().expect("point listing for 5");
    assert_eq!((point.after_sequence, point.limit), (4, 1));
    // The store answers with the lowest entry above 4; a higher one is not taken here.
    stream.on_listed(&point, page("pg", 5..=5));
    assert_eq!(send_all(&mut stream), ["d5"]);
    ack_and_delete(&mut stream, &["d5".to_string()]);
    assert!(stream.is_complete());
    stream.on_notification("pg", &notice(5));
    assert!(stream.next_listing().is_none(), "5 was listed: not again");
}

#[test]
fn a_point_listing_takes_only_the_entry_it_asked_for() {
    let mut stream = listed(4, 3, 6..=7);
    stream.on_notification("pg", &notice(5));
    send_all(&mut stream);
    let point = stream.next_listing().expect("point listing for 5");
    // 5 was collected elsewhere meanwhile: the store's lowest above 4 is 6, held already.
    stream.on_listed(&point, page("pg", 6..=6));
    assert!(stream.next_to_read().is_none(), "6 is not taken twice");
    ack_and_delete(&mut stream, &["d6".to_string(), "d7".to_string()]);
    assert!(stream.is_complete());
}

#[test]
fn an_entry_announced_during_a_listing_that_passed_it_is_fetched_on_its_own() {
    // 5 and 6 were numbered at once; the listing read 6 before 5 committed, and 5's notice
    // arrived while that listing ran, when the cursor was still below it.
    let mut stream = CollectionStream::new(&["pg".into()], limits(4, 8));
    let request = stream.next_listing().expect("first listing");
    stream.on_notification("pg", &notice(5));
    stream.on_notification("pg", &notice(6));
    stream.on_listed(&request, page("pg", 6..=6));
    let first = send_all(&mut stream);
    assert_eq!(first, ["d6"]);
    let point = stream.next_listing().expect("5 is owed");
    assert_eq!((point.after_sequence, point.limit), (4, 1));
    stream.on_listed(&point, page("pg", 5..=5));
    let second = send_all(&mut stream);
    assert_eq!(second, ["d5"]);
    ack_and_delete(&mut stream, &first);
    ack_and_delete(&mut stream, &second);
    assert!(stream.next_listing().is_none());
    assert!(stream.is_complete());
}
