//! The registry of live collection sessions: it enforces the global and the per-peer socket
//! limits and reaches every live session at shutdown.
//!
//! A socket takes a [`SocketSlot`] at the upgrade, before its handshake, so sockets that never
//! finish one still count against the global limit. A session registers once its handshake told
//! it which gateways it collects for, and holds the returned [`Registration`] for life: dropping
//! either (however the session ends) frees its slots.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use actix::prelude::*;
use thiserror::Error;

use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::poweb::PowebCloseReason;

/// Asks a session to close its socket with this reason.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct CloseSession(pub PowebCloseReason);

/// Why a session may not open.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("private gateway {pg_id} already has {limit} open collection sockets")]
    TooManySockets { pg_id: String, limit: usize },
    #[error("the gateway already has {limit} open collection sockets")]
    TooManyConnections { limit: usize },
}

impl HasErrorCode for RegistryError {
    fn error_code(&self) -> GatewayErrorCode {
        // The client may come back once one of its sockets closes.
        GatewayErrorCode::Unavailable
    }
}

#[derive(Default)]
struct Sessions {
    next_id: u64,
    /// Live sessions by private gateway id.
    by_gateway: HashMap<String, HashMap<u64, Recipient<CloseSession>>>,
}

/// Live collection sessions of one process, shared by every server worker.
pub struct CollectionRegistry {
    max_sockets_per_gateway: usize,
    max_sockets: usize,
    /// Sockets upgraded and not yet closed, handshake done or not.
    open: AtomicUsize,
    sessions: Mutex<Sessions>,
    /// Sessions registered (past their handshake), for `gateway_collection_sessions`.
    live: Option<prometheus::IntGauge>,
}

impl CollectionRegistry {
    pub fn new(
        max_sockets_per_gateway: usize,
        max_sockets: usize,
        live: Option<prometheus::IntGauge>,
    ) -> Arc<Self> {
        Arc::new(CollectionRegistry {
            max_sockets_per_gateway,
            max_sockets,
            open: AtomicUsize::new(0),
            sessions: Mutex::new(Sessions::default()),
            live,
        })
    }

    /// A slot for one more socket, taken before the upgrade, unless the global limit is
    /// reached.
    pub fn admit(self: &Arc<Self>) -> Result<SocketSlot, RegistryError> {
        let admitted = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max_sockets).then_some(open + 1)
            });
        match admitted {
            Ok(_) => Ok(SocketSlot {
                registry: self.clone(),
            }),
            Err(_) => Err(RegistryError::TooManyConnections {
                limit: self.max_sockets,
            }),
        }
    }

    /// Sockets open now, counted from their upgrade.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Registers a session collecting for `pg_ids`, unless one of them is at its socket limit
    /// (then nothing is registered).
    pub fn register(
        self: &Arc<Self>,
        pg_ids: &[String],
        session: Recipient<CloseSession>,
    ) -> Result<Registration, RegistryError> {
        let mut sessions = self.lock();
        for pg_id in pg_ids {
            let open = sessions.by_gateway.get(pg_id).map_or(0, HashMap::len);
            if open >= self.max_sockets_per_gateway {
                return Err(RegistryError::TooManySockets {
                    pg_id: pg_id.clone(),
                    limit: self.max_sockets_per_gateway,
                });
            }
        }
        sessions.next_id += 1;
        let id = sessions.next_id;
        for pg_id in pg_ids {
            sessions
                .by_gateway
                .entry(pg_id.clone())
                .or_default()
                .insert(id, session.clone());
        }
        if let Some(live) = &self.live {
            live.inc();
        }
        Ok(Registration {
            registry: self.clone(),
            id,
            pg_ids: pg_ids.to_vec(),
        })
    }

    /// Open sockets collecting for `pg_id`.
    pub fn open_sockets(&self, pg_id: &str) -> usize {
        self.lock().by_gateway.get(pg_id).map_or(0, HashMap::len)
    }

    /// Asks every live session collecting for `pg_id` to close with `reason`; returns how many
    /// were asked.
    pub fn close_gateway(&self, pg_id: &str, reason: PowebCloseReason) -> usize {
        let recipients: Vec<Recipient<CloseSession>> = self
            .lock()
            .by_gateway
            .get(pg_id)
            .map(|sessions| sessions.values().cloned().collect())
            .unwrap_or_default();
        recipients
            .iter()
            .filter(|recipient| recipient.try_send(CloseSession(reason)).is_ok())
            .count()
    }

    /// Asks every live session to close with `reason` (1001 at shutdown); returns how many were
    /// asked. A session whose mailbox is full is closing or stuck, and ends with the server.
    pub fn close_all(&self, reason: PowebCloseReason) -> usize {
        let recipients: HashMap<u64, Recipient<CloseSession>> = self
            .lock()
            .by_gateway
            .values()
            .flat_map(|sessions| sessions.iter().map(|(id, r)| (*id, r.clone())))
            .collect();
        recipients
            .values()
            .filter(|recipient| recipient.try_send(CloseSession(reason)).is_ok())
            .count()
    }

    fn lock(&self) -> MutexGuard<'_, Sessions> {
        // The map stays consistent even if a holder panicked: every update is one insert/remove.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn unregister(&self, id: u64, pg_ids: &[String]) {
        if let Some(live) = &self.live {
            live.dec();
        }
        let mut sessions = self.lock();
        for pg_id in pg_ids {
            if let Some(live) = sessions.by_gateway.get_mut(pg_id) {
                live.remove(&id);
                if live.is_empty() {
                    sessions.by_gateway.remove(pg_id);
                }
            }
        }
    }
}

/// One socket's place under the global limit, freed on drop.
pub struct SocketSlot {
    registry: Arc<CollectionRegistry>,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.registry.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A session's slots in the registry, freed on drop.
pub struct Registration {
    registry: Arc<CollectionRegistry>,
    id: u64,
    pg_ids: Vec<String>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.unregister(self.id, &self.pg_ids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Probe(Vec<PowebCloseReason>);

    impl Actor for Probe {
        type Context = Context<Self>;
    }

    impl Handler<CloseSession> for Probe {
        type Result = ();
        fn handle(&mut self, msg: CloseSession, _: &mut Context<Self>) {
            self.0.push(msg.0);
        }
    }

    #[derive(Message)]
    #[rtype(result = "Vec<PowebCloseReason>")]
    struct Seen;

    impl Handler<Seen> for Probe {
        type Result = Vec<PowebCloseReason>;
        fn handle(&mut self, _: Seen, _: &mut Context<Self>) -> Vec<PowebCloseReason> {
            self.0.clone()
        }
    }

    #[actix_rt::test]
    async fn limits_sockets_per_gateway_and_frees_them_on_drop() {
        let registry = CollectionRegistry::new(2, 100, None);
        let probe = Probe(Vec::new()).start().recipient();
        let ids = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let first = registry.register(&ids(&["a"]), probe.clone()).expect("1st");
        let second = registry
            .register(&ids(&["a", "b"]), probe.clone())
            .expect("2nd");
        assert_eq!(registry.open_sockets("a"), 2);
        assert_eq!(registry.open_sockets("b"), 1);
        let refused = registry.register(&ids(&["b", "a"]), probe.clone());
        assert_eq!(
            refused.err(),
            Some(RegistryError::TooManySockets {
                pg_id: "a".into(),
                limit: 2
            })
        );
        // Nothing of the refused session was registered.
        assert_eq!(registry.open_sockets("b"), 1);
        drop(first);
        assert_eq!(registry.open_sockets("a"), 1);
        let _third = registry.register(&ids(&["a"]), probe).expect("slot freed");
        drop(second);
        assert_eq!(registry.open_sockets("b"), 0);
    }

    #[test]
    fn limits_sockets_in_all_from_the_upgrade_and_frees_them_on_drop() {
        let registry = CollectionRegistry::new(8, 2, None);
        let first = registry.admit().expect("1st");
        let _second = registry.admit().expect("2nd");
        assert_eq!(registry.open_connections(), 2);
        assert_eq!(
            registry.admit().err(),
            Some(RegistryError::TooManyConnections { limit: 2 })
        );
        drop(first);
        assert_eq!(registry.open_connections(), 1);
        let _third = registry.admit().expect("slot freed");
    }

    #[actix_rt::test]
    async fn close_all_reaches_each_session_once() {
        let registry = CollectionRegistry::new(4, 100, None);
        let addr = Probe(Vec::new()).start();
        let other = Probe(Vec::new()).start();
        let ids = vec!["a".to_string(), "b".to_string()];
        let _one = registry
            .register(&ids, addr.clone().recipient())
            .expect("one");
        let _two = registry
            .register(&ids[..1], other.clone().recipient())
            .expect("two");
        assert_eq!(registry.close_all(PowebCloseReason::GoingAway), 2);
        assert_eq!(
            addr.send(Seen).await.expect("probe"),
            [PowebCloseReason::GoingAway]
        );
        assert_eq!(
            other.send(Seen).await.expect("probe"),
            [PowebCloseReason::GoingAway]
        );
    }
}
