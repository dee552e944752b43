//! Live sessions remembered between requests, so a request's bearer token
//! does not cost a database call (on SQLite a call is two thread switches
//! through the connection's worker; at 1,000 messages a second the
//! sender's and the receiver's lookups were two of a message's eleven).
//!
//! Only where this process sees every change to sessions and users: the
//! embedded SQLite database, which one server process serves (its live
//! pokes and socket closes are in-process too). On PostgreSQL, where
//! several instances may share the database, every request reads the
//! session.
//!
//! **Invariant:** an entry is used only while the *generation* it was read
//! in is current. Every write that can end a session or change what an
//! [`Actor`] holds (sign-out, revocation, a password change or reset,
//! disabling staff, deleting an account, a profile edit) calls
//! [`SessionCache::forget_all`] after its commit. A lookup takes the
//! generation *before* its database read, so a read that raced with such a
//! write is stored under the old generation and never used. Entries also
//! end at the session's expiry, and when its `last_seen_at` is due to be
//! refreshed (`auth`), the request goes to the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::actor::Actor;

/// Sessions kept at most; past it the cache starts again empty.
const CAPACITY: usize = 50_000;

pub struct SessionCache {
    enabled: bool,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone)]
struct Entry {
    actor: Actor,
    generation: u64,
    /// Unix ms: the session's expiry, and when the database's
    /// `last_seen_at` is next due.
    until: i64,
}

/// Says how many sessions are remembered, never which (the keys are token
/// hashes).
impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let remembered = self.entries.lock().map_or(0, |e| e.len());
        f.debug_struct("SessionCache")
            .field("enabled", &self.enabled)
            .field("generation", &self.generation())
            .field("remembered", &remembered)
            .finish()
    }
}

impl SessionCache {
    /// A cache that remembers sessions only when `enabled` (see the module
    /// docs for when that is sound).
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The generation to pass to [`SessionCache::remember`]; read it before
    /// the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The actor of `token_hash`, if remembered and still valid at `now`.
    pub fn get(&self, token_hash: &str, now: i64) -> Option<Actor> {
        if !self.enabled {
            return None;
        }
        let current = self.generation();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(token_hash)
            .filter(|e| e.generation == current && now < e.until)
            .map(|e| e.actor.clone())
    }

    /// Remembers `actor` for `token_hash` until `until` (unix ms), as read
    /// from the database in `generation`.
    pub fn remember(&self, token_hash: &str, actor: &Actor, generation: u64, until: i64) {
        if !self.enabled || generation != self.generation() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            token_hash.to_owned(),
            Entry {
                actor: actor.clone(),
                generation,
                until,
            },
        );
    }

    /// Forgets every session (after a committed write that may end one or
    /// change an actor).
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if self.enabled {
            self.entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::auth::Role;
    use uuid::Uuid;

    fn actor(name: &str) -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            role: Role::Customer,
            session_id: Uuid::new_v4(),
            display_name: name.into(),
        }
    }

    #[test]
    fn remembers_until_the_deadline() {
        let c = SessionCache::new(true);
        let g = c.generation();
        c.remember("h", &actor("Ana"), g, 1_000);
        assert_eq!(c.get("h", 999).unwrap().display_name, "Ana");
        assert!(c.get("h", 1_000).is_none());
        assert!(c.get("other", 0).is_none());
    }

    #[test]
    fn a_read_that_raced_with_a_revocation_is_not_kept() {
        let c = SessionCache::new(true);
        // The lookup took its generation, then a revocation committed.
        let g = c.generation();
        c.forget_all();
        c.remember("h", &actor("Ana"), g, i64::MAX);
        assert!(c.get("h", 0).is_none());
    }

    #[test]
    fn forgetting_drops_what_was_remembered() {
        let c = SessionCache::new(true);
        c.remember("h", &actor("Ana"), c.generation(), i64::MAX);
        c.forget_all();
        assert!(c.get("h", 0).is_none());
    }

    #[test]
    fn its_debug_form_names_no_session() {
        let c = SessionCache::new(true);
        c.remember("0123abcd", &actor("Ana"), c.generation(), i64::MAX);
        let shown = format!("{c:?}");
        assert!(shown.contains("remembered: 1"), "{shown}");
        assert!(
            !shown.contains("0123abcd") && !shown.contains("Ana"),
            "{shown}"
        );
    }

    #[test]
    fn a_disabled_cache_remembers_nothing() {
        let c = SessionCache::new(false);
        c.remember("h", &actor("Ana"), c.generation(), i64::MAX);
        assert!(c.get("h", 0).is_none());
    }
}
