//! Fault injection: named points in the workers where a test can make the next N passes panic,
//! to show that supervision brings the work to completion anyway.
//!
//! A [`Faults`] lives in the `GatewayContext` (and is handed to workers that do not see the
//! context). Unarmed, a [`Faults::check`] is one relaxed atomic load, so the points stay in
//! production code at no measurable cost. Tests arm points through the context; black-box tests
//! of the binary set the hidden `AWALA_TEST_FAULTS` variable (`point=hits,point=hits`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use thiserror::Error;

/// The environment variable `serve` reads its armed points from (tests only; undocumented).
pub const TEST_FAULTS_ENV: &str = "AWALA_TEST_FAULTS";

/// Every place a fault can be injected. A closed set, so that a typo in a test or in
/// `AWALA_TEST_FAULTS` is an error rather than a point that never fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultPoint {
    /// An outbound destination actor, inside a delivery attempt (before the POST).
    OutboundAttempt,
    /// The outbound dispatcher, right after leasing a batch of parcels (not an empty one).
    OutboundDispatch,
    /// A cargo unwrapper, after leasing a cargo and before unwrapping it.
    CargoUnwrap,
    /// A CogRPC `CollectCargo` call, after the CCA was accepted, while cargo is being built.
    CollectCargo,
    /// A PoWeb collection session, mid-stream (placed by the session itself).
    CollectionSession,
}

impl FaultPoint {
    pub const ALL: [FaultPoint; 5] = [
        FaultPoint::OutboundAttempt,
        FaultPoint::OutboundDispatch,
        FaultPoint::CargoUnwrap,
        FaultPoint::CollectCargo,
        FaultPoint::CollectionSession,
    ];

    /// The name used in `AWALA_TEST_FAULTS` and in the panic message.
    pub const fn as_str(self) -> &'static str {
        match self {
            FaultPoint::OutboundAttempt => "outbound_attempt",
            FaultPoint::OutboundDispatch => "outbound_dispatch",
            FaultPoint::CargoUnwrap => "cargo_unwrap",
            FaultPoint::CollectCargo => "collect_cargo",
            FaultPoint::CollectionSession => "collection_session",
        }
    }

    pub fn from_name(name: &str) -> Option<FaultPoint> {
        FaultPoint::ALL
            .into_iter()
            .find(|point| point.as_str() == name)
    }
}

/// `AWALA_TEST_FAULTS` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FaultSpecError {
    #[error("unknown fault point `{0}`")]
    UnknownPoint(String),
    #[error("`{0}` is not `point=hits` with a whole number of hits")]
    Malformed(String),
}

/// The armed fault points of one process.
#[derive(Debug, Default)]
pub struct Faults {
    /// Hits still to fire, over every point: the fast path reads only this.
    pending: AtomicUsize,
    state: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    armed: HashMap<FaultPoint, usize>,
    fired: HashMap<FaultPoint, usize>,
}

impl Faults {
    /// Nothing armed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `point=hits,point=hits` (whitespace ignored; an empty spec arms nothing).
    pub fn from_spec(spec: &str) -> Result<Self, FaultSpecError> {
        let faults = Faults::new();
        for item in spec
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let (name, hits) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError::Malformed(item.to_owned()))?;
            let point = FaultPoint::from_name(name.trim())
                .ok_or_else(|| FaultSpecError::UnknownPoint(name.trim().to_owned()))?;
            let hits = hits
                .trim()
                .parse()
                .map_err(|_| FaultSpecError::Malformed(item.to_owned()))?;
            faults.arm(point, hits);
        }
        Ok(faults)
    }

    /// Makes the next `hits` passes through `point` fail (added to any hits still armed).
    pub fn arm(&self, point: FaultPoint, hits: usize) {
        let mut state = self.lock();
        *state.armed.entry(point).or_default() += hits;
        self.pending.fetch_add(hits, Ordering::Relaxed);
    }

    /// Whether this pass through `point` must fail; counts it as fired if so.
    pub fn should_fail(&self, point: FaultPoint) -> bool {
        if self.pending.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let mut state = self.lock();
        let Some(left) = state.armed.get_mut(&point).filter(|left| **left > 0) else {
            return false;
        };
        *left -= 1;
        self.pending.fetch_sub(1, Ordering::Relaxed);
        *state.fired.entry(point).or_default() += 1;
        true
    }

    /// Panics if `point` is armed: the injected fault. Call it where real work could panic
    /// (inside the panic boundary the code under test relies on).
    pub fn check(&self, point: FaultPoint) {
        if self.should_fail(point) {
            tracing::warn!(point = point.as_str(), "injecting a fault");
            panic!("injected fault at {}", point.as_str());
        }
    }

    /// How many times `point` has failed so far.
    pub fn fired(&self, point: FaultPoint) -> usize {
        self.lock().fired.get(&point).copied().unwrap_or(0)
    }

    /// Hits of `point` still armed.
    pub fn armed(&self, point: FaultPoint) -> usize {
        self.lock().armed.get(&point).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        // The state is two counters, valid after any panic, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_point_fails_exactly_its_hits() {
        let faults = Faults::new();
        assert!(!faults.should_fail(FaultPoint::CargoUnwrap));
        faults.arm(FaultPoint::CargoUnwrap, 2);
        assert!(
            !faults.should_fail(FaultPoint::OutboundAttempt),
            "other points stay quiet"
        );
        assert!(faults.should_fail(FaultPoint::CargoUnwrap));
        assert!(faults.should_fail(FaultPoint::CargoUnwrap));
        assert!(!faults.should_fail(FaultPoint::CargoUnwrap));
        assert_eq!(faults.fired(FaultPoint::CargoUnwrap), 2);
        assert_eq!(faults.armed(FaultPoint::CargoUnwrap), 0);
        assert_eq!(faults.pending.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn check_panics_with_the_point_name() {
        let faults = Faults::new();
        faults.check(FaultPoint::CollectCargo);
        faults.arm(FaultPoint::CollectCargo, 1);
        let panic = crate::supervision::protect_sync(|| faults.check(FaultPoint::CollectCargo));
        assert_eq!(
            panic.map_err(|error| error.message),
            Err("injected fault at collect_cargo".to_owned())
        );
        faults.check(FaultPoint::CollectCargo);
    }

    #[test]
    fn specs_name_known_points_only() {
        let faults = Faults::from_spec(" outbound_dispatch=1, cargo_unwrap = 3 ,").unwrap();
        assert_eq!(faults.armed(FaultPoint::OutboundDispatch), 1);
        assert_eq!(faults.armed(FaultPoint::CargoUnwrap), 3);
        assert_eq!(
            Faults::from_spec("").map(|f| f.armed(FaultPoint::CargoUnwrap)),
            Ok(0)
        );
        assert_eq!(
            Faults::from_spec("nowhere=1").err(),
            Some(FaultSpecError::UnknownPoint("nowhere".into()))
        );
        assert_eq!(
            Faults::from_spec("cargo_unwrap").err(),
            Some(FaultSpecError::Malformed("cargo_unwrap".into()))
        );
        assert!(Faults::from_spec("cargo_unwrap=many").is_err());
        for point in FaultPoint::ALL {
            assert_eq!(FaultPoint::from_name(point.as_str()), Some(point));
        }
    }
}
