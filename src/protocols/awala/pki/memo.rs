//! The bounded, thread-safe memo behind both PKI caches.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A map that forgets its oldest entry when full, and counts lookups that hit and missed.
#[derive(Debug)]
pub(super) struct BoundedMemo<K, V> {
    capacity: usize,
    state: Mutex<MemoState<K, V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct MemoState<K, V> {
    entries: HashMap<K, V>,
    insertion_order: VecDeque<K>,
}

impl<K: Copy + Eq + Hash, V: Clone> BoundedMemo<K, V> {
    /// A memo holding up to `capacity` entries (at least one).
    pub(super) fn with_capacity(capacity: usize) -> Self {
        BoundedMemo {
            capacity: capacity.max(1),
            state: Mutex::new(MemoState {
                entries: HashMap::new(),
                insertion_order: VecDeque::new(),
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The remembered value, counted as a hit, or `None`, counted as a miss.
    pub(super) fn get(&self, key: &K) -> Option<V> {
        let found = self.lock().entries.get(key).cloned();
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Remembers `value` unless `key` already is, evicting the oldest entries past capacity.
    pub(super) fn insert(&self, key: K, value: V) {
        let mut state = self.lock();
        if let Entry::Vacant(vacant) = state.entries.entry(key) {
            vacant.insert(value);
            state.insertion_order.push_back(key);
            while state.insertion_order.len() > self.capacity {
                if let Some(oldest) = state.insertion_order.pop_front() {
                    state.entries.remove(&oldest);
                }
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub(super) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub(super) fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoState<K, V>> {
        // Every mutation leaves the map and queue consistent, so a panic elsewhere while the
        // lock was held cannot have corrupted them.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
