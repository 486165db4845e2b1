//! Paging and in-flight bookkeeping of one collection session, as plain code: which gateway to
//! list next and from which sequence, what to read next, what may go out, which deliveries await
//! an ACK.
//!
//! Three bounds, each for its own reason:
//! - the **window**: deliveries sent and not yet acknowledged. The published JS client reads the
//!   socket as a byte stream, so two frames that arrive before it reads the first are merged and
//!   the second is lost (never acknowledged, so a close-upon-completion collection never ends).
//!   By default the next delivery therefore goes out only after the previous ACK; a wider window
//!   is for clients that read message by message, when the operator or the client asks for it.
//! - the **read-ahead**: entries whose bodies are being read, or read and waiting for the window.
//!   Reading the next bodies while a delivery awaits its ACK keeps the window's round trips
//!   apart from storage latency; the session also bounds their bytes (`MAX_BATCH_BYTES`).
//! - the **deletions**: acknowledged entries not yet deleted. They no longer occupy the window
//!   (an ACK is all the client owes us), but a store that falls behind stops further sends.
//!
//! Memory stays bounded whatever the backlog: at most one page of listed entries is pending. A
//! gateway is listed again ("dirty") when a notification names a sequence above what was
//! listed, or when the subscription lagged, so nothing stored after the subscription is missed.
//!
//! Sequences are handed out before their writes commit, so on PostgreSQL and MongoDB a parcel
//! may commit after one with a higher sequence was listed, below the cursor. Its notification
//! then names a sequence this session never listed: that one entry is fetched on its own (a
//! "point listing"), so it is not left waiting for the next connection.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crate::backends::metadata::ParcelIndexEntry;
use crate::backends::pubsub::Notification;

/// Deliveries a client may have unacknowledged unless it, or the operator, asks for more: one,
/// because the published JS client merges frames that arrive together (module docs).
pub const DEFAULT_WINDOW: usize = 1;
/// The widest window a client may ask for. RS-016 asks receivers to cope with at least 5; more
/// keeps a fast link busy while ACKs travel back.
pub const MAX_WINDOW: usize = 128;
/// Entries read ahead of the window (their bodies also bounded by `MAX_BATCH_BYTES`): one
/// batch read while the previous one is sent.
pub const DEFAULT_READ_AHEAD: usize = 128;
/// Acknowledged entries whose deletion may be pending at once. Many deletions in flight share
/// one group commit (with 10 sockets, 128 instead of 32 cut the gateway's CPU per collected
/// parcel by a fifth).
pub const DEFAULT_MAX_DELETING: usize = 128;
/// Entries fetched per listing: one listing fills the read-ahead.
pub const DEFAULT_PAGE_SIZE: usize = 128;
/// Most body bytes read in one batch (one parcel is always allowed, whatever its size).
pub const MAX_BATCH_BYTES: u64 = 1024 * 1024;
/// Sequences remembered as listed: more than a session can hold at once (pending, reading, in
/// flight and deleting), so a notification for any entry it still holds is recognised.
const RECENTLY_LISTED: usize = 4096;
/// Notified sequences below a cursor awaiting a point listing, per gateway; beyond this the
/// oldest are forgotten (they wait for the next connection).
const MAX_MISSED: usize = 1024;

/// The bounds of one session's stream (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub window: usize,
    pub read_ahead: usize,
    pub max_deleting: usize,
    pub page_size: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            window: DEFAULT_WINDOW,
            read_ahead: DEFAULT_READ_AHEAD,
            max_deleting: DEFAULT_MAX_DELETING,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl StreamLimits {
    /// The same limits with `window` deliveries unacknowledged at most.
    pub fn with_window(self, window: usize) -> Self {
        StreamLimits { window, ..self }
    }

    fn at_least_one(self) -> Self {
        StreamLimits {
            window: self.window.max(1),
            read_ahead: self.read_ahead.max(1),
            max_deleting: self.max_deleting.max(1),
            page_size: self.page_size.max(1),
        }
    }
}

/// Where listing stands for one private gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    pg_id: String,
    /// Highest sequence listed so far (0: nothing yet; sequences start at 1).
    after_sequence: i64,
    /// Highest sequence a notification announced.
    notified_max: i64,
    /// Whether a short page showed the store had nothing above `after_sequence`.
    at_end: bool,
    /// Bumped by every event that asks for a re-listing without a sequence (lag, unreadable
    /// notice), so a listing that was already running does not count as having seen it.
    generation: u64,
    /// Notified sequences below `after_sequence` that this session never listed (module docs).
    missed: BTreeSet<i64>,
    /// Notified sequences above `after_sequence` when they came: a listing already running may
    /// pass them without returning them (committed after its read), and then they are missed.
    announced: BTreeSet<i64>,
}

impl Cursor {
    fn relist(&mut self) {
        self.at_end = false;
        self.generation += 1;
    }

    /// Whether the store may hold entries above `after_sequence`.
    fn dirty(&self) -> bool {
        !self.at_end || self.notified_max > self.after_sequence
    }
}

/// A listing to run: entries of `pg_id` above `after_sequence`, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingRequest {
    pub pg_id: String,
    pub after_sequence: i64,
    pub limit: usize,
    generation: u64,
    /// A point listing: only the entry of this sequence is wanted.
    point: Option<i64>,
}

/// The bookkeeping of one session, covering every gateway it authenticated for.
#[derive(Debug)]
pub struct CollectionStream {
    cursors: Vec<Cursor>,
    /// Listed, not yet taken for reading.
    pending: VecDeque<ParcelIndexEntry>,
    /// Taken for reading (bodies being read, or read and waiting for the window), not yet sent
    /// or skipped.
    reading: usize,
    /// Sent, awaiting an ACK, by delivery id.
    in_flight: HashMap<String, ParcelIndexEntry>,
    /// Acknowledged, awaiting deletion.
    acknowledged: VecDeque<ParcelIndexEntry>,
    /// The last [`RECENTLY_LISTED`] sequences listed, oldest first, and the same as a set.
    listed_order: VecDeque<i64>,
    listed: HashSet<i64>,
    limits: StreamLimits,
}

impl CollectionStream {
    /// A stream for `pg_ids`, each to be listed from the start.
    pub fn new(pg_ids: &[String], limits: StreamLimits) -> Self {
        CollectionStream {
            cursors: pg_ids
                .iter()
                .map(|pg_id| Cursor {
                    pg_id: pg_id.clone(),
                    after_sequence: 0,
                    notified_max: 0,
                    at_end: false,
                    generation: 0,
                    missed: BTreeSet::new(),
                    announced: BTreeSet::new(),
                })
                .collect(),
            pending: VecDeque::new(),
            reading: 0,
            in_flight: HashMap::new(),
            acknowledged: VecDeque::new(),
            listed_order: VecDeque::new(),
            listed: HashSet::new(),
            limits: limits.at_least_one(),
        }
    }

    /// The next listing to run, if one is useful now: only once the previous page was taken, so
    /// at most one page is held.
    pub fn next_listing(&self) -> Option<ListingRequest> {
        if !self.pending.is_empty() {
            return None;
        }
        let missed = self.cursors.iter().find_map(|cursor| {
            let sequence = *cursor.missed.first()?;
            Some(ListingRequest {
                pg_id: cursor.pg_id.clone(),
                after_sequence: sequence.saturating_sub(1),
                limit: 1,
                generation: cursor.generation,
                point: Some(sequence),
            })
        });
        missed.or_else(|| {
            self.cursors
                .iter()
                .find(|cursor| cursor.dirty())
                .map(|cursor| ListingRequest {
                    pg_id: cursor.pg_id.clone(),
                    after_sequence: cursor.after_sequence,
                    limit: self.limits.page_size,
                    generation: cursor.generation,
                    point: None,
                })
        })
    }

    /// Records the result of `request`. A short page means that gateway is listed to the end.
    pub fn on_listed(&mut self, request: &ListingRequest, mut entries: Vec<ParcelIndexEntry>) {
        let Some(cursor) = self.cursor_mut(&request.pg_id) else {
            return;
        };
        if let Some(sequence) = request.point {
            cursor.missed.remove(&sequence);
            // The store answers with the lowest entry from `sequence` on: any other is above or
            // at the cursor, listed in the ordinary way.
            entries.retain(|entry| entry.sequence == sequence);
            entries.retain(|entry| !self.listed.contains(&entry.sequence));
            self.remember_listed(&entries);
            self.pending.extend(entries);
            return;
        }
        let full_page = entries.len() >= request.limit;
        for entry in &entries {
            cursor.after_sequence = cursor.after_sequence.max(entry.sequence);
        }
        // A lag noticed while the listing ran may hide entries the listing missed.
        cursor.at_end = !full_page && cursor.generation == request.generation;
        let after = cursor.after_sequence;
        let mut passed = cursor.announced.split_off(&(after + 1));
        std::mem::swap(&mut passed, &mut cursor.announced);
        self.remember_listed(&entries);
        self.pending.extend(entries);
        // Announced, now at or below the cursor, and not listed: committed after the listing
        // read past them, so each is fetched on its own.
        let owed: Vec<i64> = passed
            .into_iter()
            .filter(|sequence| !self.listed.contains(sequence))
            .collect();
        if let Some(cursor) = self.cursor_mut(&request.pg_id) {
            for sequence in owed {
                cursor.missed.insert(sequence);
                if cursor.missed.len() > MAX_MISSED {
                    cursor.missed.pop_first();
                }
            }
        }
    }

    fn remember_listed(&mut self, entries: &[ParcelIndexEntry]) {
        for entry in entries {
            if self.listed.insert(entry.sequence) {
                self.listed_order.push_back(entry.sequence);
            }
        }
        while self.listed_order.len() > RECENTLY_LISTED {
            if let Some(oldest) = self.listed_order.pop_front() {
                self.listed.remove(&oldest);
            }
        }
    }

    /// Marks a gateway for re-listing after a notification on its channel.
    pub fn on_notification(&mut self, pg_id: &str, notification: &Notification) {
        let listed = &self.listed;
        let Some(cursor) = self.cursors.iter_mut().find(|cursor| cursor.pg_id == pg_id) else {
            return;
        };
        match notification {
            Notification::Message(payload) => {
                let sequence_opt = std::str::from_utf8(payload)
                    .ok()
                    .and_then(|text| text.trim().parse::<i64>().ok());
                match sequence_opt {
                    // Committed after a higher sequence was listed (module docs).
                    Some(sequence)
                        if sequence <= cursor.after_sequence && !listed.contains(&sequence) =>
                    {
                        cursor.missed.insert(sequence);
                        if cursor.missed.len() > MAX_MISSED {
                            cursor.missed.pop_first();
                        }
                    }
                    Some(sequence) => {
                        cursor.notified_max = cursor.notified_max.max(sequence);
                        cursor.announced.insert(sequence);
                        if cursor.announced.len() > MAX_MISSED {
                            cursor.announced.pop_first();
                        }
                    }
                    // A notice we cannot read: list to be sure.
                    None => cursor.relist(),
                }
            }
            Notification::Lagged(_) => cursor.relist(),
        }
    }

    /// The next entry to read, if the read-ahead has room; see [`Self::next_batch_to_read`].
    pub fn next_to_read(&mut self) -> Option<ParcelIndexEntry> {
        self.next_batch_to_read(0).pop()
    }

    /// The next entries to read, in order: as many as the read-ahead has room for, and no more
    /// than `max_bytes` of bodies unless the batch holds one entry. Each counts against the
    /// read-ahead until [`Self::on_sent`] or [`Self::on_skipped`].
    pub fn next_batch_to_read(&mut self, max_bytes: u64) -> Vec<ParcelIndexEntry> {
        let room = self.limits.read_ahead.saturating_sub(self.reading);
        let mut batch = Vec::new();
        let mut bytes = 0u64;
        while batch.len() < room {
            let Some(entry) = self.pending.front() else {
                break;
            };
            if !batch.is_empty() && bytes.saturating_add(entry.size) > max_bytes {
                break;
            }
            bytes = bytes.saturating_add(entry.size);
            batch.extend(self.pending.pop_front());
        }
        self.reading += batch.len();
        batch
    }

    /// Whether one more delivery may go out now: the window has room and deletions keep up.
    pub fn can_send(&self) -> bool {
        self.in_flight.len() < self.limits.window
            && self.acknowledged.len() < self.limits.max_deleting
    }

    /// Records that a read `entry` was sent as `delivery_id` (see [`Self::can_send`]).
    pub fn on_sent(&mut self, delivery_id: String, entry: ParcelIndexEntry) {
        self.reading = self.reading.saturating_sub(1);
        self.in_flight.insert(delivery_id, entry);
    }

    /// Records that a taken entry was not sent (expired, or its body is gone).
    pub fn on_skipped(&mut self) {
        self.reading = self.reading.saturating_sub(1);
    }

    /// Records an ACK and returns the entry to delete. `None` means the id names no delivery
    /// awaiting one (close 1003).
    pub fn on_ack(&mut self, delivery_id: &str) -> Option<ParcelIndexEntry> {
        let entry = self.in_flight.remove(delivery_id)?;
        self.acknowledged.push_back(entry.clone());
        Some(entry)
    }

    /// Records that an acknowledged entry was deleted.
    pub fn on_deleted(&mut self, entry: &ParcelIndexEntry) {
        if let Some(index) = self.acknowledged.iter().position(|e| e == entry) {
            self.acknowledged.remove(index);
        }
    }

    /// Whether everything listed was sent, acknowledged and deleted, and nothing is left to list.
    pub fn is_complete(&self) -> bool {
        self.pending.is_empty()
            && self.reading == 0
            && self.in_flight.is_empty()
            && self.acknowledged.is_empty()
            && self
                .cursors
                .iter()
                .all(|cursor| !cursor.dirty() && cursor.missed.is_empty())
    }

    /// Deliveries sent and not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn cursor_mut(&mut self, pg_id: &str) -> Option<&mut Cursor> {
        self.cursors.iter_mut().find(|cursor| cursor.pg_id == pg_id)
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
