//! Throttles kept in memory: failed sign-ins per account and per client
//! address ([`LoginThrottle`]), and a sliding-window count per key
//! ([`RateWindow`]: registrations, mails). Pure state that knows nothing of
//! the server's state, so `AppState` holds them without a cycle through
//! `auth`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins, per account and per client address.
///
/// An attempt is counted (as a failure) *before* the slow password check
/// ([`LoginThrottle::begin`]) and taken back when it succeeds, so parallel
/// guesses cannot all slip in under the limit. Per account there is no hard
/// lock: after `free_tries` failures each further attempt must wait a delay
/// that doubles per failure (from `base_delay`, at most `max_delay`), so an
/// attacker cannot lock the owner out for long. Per address there is a
/// sliding-window limit.
#[derive(Debug)]
pub struct LoginThrottle {
    window: Duration,
    free_tries: usize,
    base_delay: Duration,
    max_delay: Duration,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// `per_account` failures pass without delay; `per_address` failures
    /// per `window` from one address.
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        Self {
            window,
            free_tries: per_account,
            base_delay: Duration::from_secs(30),
            max_delay: window,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
    }

    /// The wait the account's failures impose after its last one.
    fn account_delay(&self, failures: usize) -> Duration {
        if failures < self.free_tries {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(failures - self.free_tries)
            .unwrap_or(u32::MAX)
            .min(20);
        self.base_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay)
    }

    /// `Some(retry_after)` when an attempt now would be refused (nothing
    /// is counted).
    pub fn check(&self, email: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        self.wait_locked(&mut map, email, address, now)
    }

    fn wait_locked(
        &self,
        map: &mut HashMap<String, VecDeque<Instant>>,
        email: &str,
        address: &str,
        now: Instant,
    ) -> Option<Duration> {
        let mut wait = None::<Duration>;
        if let Some(q) = map.get_mut(&format!("addr:{address}")) {
            Self::prune(q, now, self.window);
            if q.len() >= self.per_address {
                let oldest = q.front().copied().unwrap_or(now);
                wait = Some(self.window.saturating_sub(now.duration_since(oldest)));
            }
        }
        if let Some(q) = map.get_mut(&format!("acct:{email}")) {
            Self::prune(q, now, self.window);
            let delay = self.account_delay(q.len());
            if let Some(last) = q.back() {
                let left = delay.saturating_sub(now.duration_since(*last));
                if !left.is_zero() {
                    wait = Some(wait.map_or(left, |w| w.max(left)));
                }
            }
        }
        wait
    }

    /// Counts an attempt before the password is checked: `Err(retry_after)`
    /// when it must not be tried now. Call [`Self::succeeded`] or
    /// [`Self::abandoned`] if it turns out not to be a failure.
    pub fn begin(&self, email: &str, address: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        if let Some(wait) = self.wait_locked(&mut map, email, address, now) {
            return Err(wait);
        }
        for key in [format!("acct:{email}"), format!("addr:{address}")] {
            map.entry(key).or_default().push_back(now);
        }
        Ok(())
    }

    /// The attempt was right: the account's failures are forgiven and the
    /// address gets its attempt back.
    pub fn succeeded(&self, email: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("acct:{email}"));
        if let Some(q) = map.get_mut(&format!("addr:{address}")) {
            q.pop_back();
        }
    }

    /// The attempt was never judged (e.g. the server was busy): uncount it.
    pub fn abandoned(&self, email: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in [format!("acct:{email}"), format!("addr:{address}")] {
            if let Some(q) = map.get_mut(&key) {
                q.pop_back();
            }
        }
    }
}

/// A sliding-window count of events per key (e.g. registrations per
/// address): `hit` counts one and says how long to wait when over the limit.
#[derive(Debug)]
pub struct RateWindow {
    window: Duration,
    limit: usize,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateWindow {
    pub fn new(window: Duration, limit: usize) -> Self {
        Self {
            window,
            limit,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`; `Err(wait)` (not counted) when the key
    /// already had `limit` events in the window.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let q = map.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.limit {
            let oldest = q.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        q.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_counts_before_checking_and_delays_grow_per_account() {
        let t = LoginThrottle::new(Duration::from_secs(900), 3, 5);
        for _ in 0..3 {
            assert!(t.begin("a@x.io", "1.1.1.1").is_ok());
        }
        // Three attempts in flight or failed: the fourth waits 30 s.
        let wait = t.begin("a@x.io", "2.2.2.2").expect_err("account delay");
        assert!(wait <= Duration::from_secs(30) && wait > Duration::from_secs(25));
        assert_eq!(t.account_delay(4), Duration::from_secs(60));
        assert_eq!(t.account_delay(40), Duration::from_secs(900));
        // A success forgives the account and gives the address its try back.
        t.succeeded("a@x.io", "1.1.1.1");
        assert!(t.check("a@x.io", "1.1.1.1").is_none());
        for e in ["b", "c", "d"] {
            assert!(t.begin(&format!("{e}@x.io"), "1.1.1.1").is_ok());
        }
        assert!(t.begin("e@x.io", "1.1.1.1").is_err(), "address limit");
        t.abandoned("d@x.io", "1.1.1.1");
        assert!(t.begin("e@x.io", "1.1.1.1").is_ok());
    }
}
