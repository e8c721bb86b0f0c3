//! Conditions that take a process out of rotation without restarting it.
//!
//! The probes split three ways: `/live` says only that the process answers
//! (no dependency is checked, so a database blip never restarts every pod at
//! once); `/ready` says whether it should get work — its dependencies answer
//! and no condition in its [`Readiness`] holds; `/health` is the rich status
//! for people. Any part of a process may hold a named condition (the worker's
//! stuck-partition check, a drained channel) and release it later: `/ready`
//! answers 503 naming each one while it holds.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One condition keeping the process out of rotation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotReady {
    /// A stable name (`partition_stuck`, ...).
    pub name: String,
    /// Why, for the operator (ids and counts, never personal data).
    pub reason: String,
    /// Since when it holds.
    pub since: DateTime<Utc>,
}

/// The named conditions a process holds; shared by whoever sets them and
/// the `/ready` route.
#[derive(Debug, Default)]
pub struct Readiness {
    held: Mutex<BTreeMap<String, NotReady>>,
}

impl Readiness {
    /// No condition holds.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `name` with `reason` (keeps the first `since` when it already
    /// holds, so a repeated check does not reset it).
    pub fn hold(&self, name: &str, reason: impl Into<String>) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let reason = reason.into();
        held.entry(name.to_owned())
            .and_modify(|c| c.reason.clone_from(&reason))
            .or_insert_with(|| NotReady {
                name: name.to_owned(),
                reason,
                since: Utc::now(),
            });
    }

    /// Releases `name` (nothing happens if it does not hold).
    pub fn release(&self, name: &str) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.remove(name);
    }

    /// Every condition that holds, by name.
    pub fn held(&self) -> Vec<NotReady> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.values().cloned().collect()
    }

    /// Whether no condition holds.
    pub fn is_clear(&self) -> bool {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_holds_until_released_and_keeps_its_start() {
        let readiness = Readiness::new();
        assert!(readiness.is_clear());
        readiness.hold(
            "partition_stuck",
            "fte.tickets.incoming/3 has not moved for 300 s",
        );
        let since = readiness.held()[0].since;
        readiness.hold(
            "partition_stuck",
            "fte.tickets.incoming/3 has not moved for 330 s",
        );
        let held = readiness.held();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].since, since, "a repeated hold keeps its start");
        assert!(held[0].reason.contains("330"));
        readiness.release("partition_stuck");
        assert!(readiness.is_clear());
    }
}
