//! Login throttling ([`LoginLimiter`]): failed attempts counted in memory, per instance, per
//! (tenant, username) and per client address, with bounded memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::normalize_username;

/// Most keys each [`LoginLimiter`] map tracks; beyond it expired entries are pruned and, if
/// still full, the oldest entry is dropped.
const LIMITER_MAX_ENTRIES: usize = 100_000;

/// A fixed window of attempts for one key.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// Attempt counters per key, with bounded memory.
#[derive(Debug)]
struct Counters<K> {
    max: u32,
    entries: HashMap<K, Window>,
}

impl<K: Eq + Hash + Clone> Counters<K> {
    fn new(max: u32) -> Self {
        Counters {
            max,
            entries: HashMap::new(),
        }
    }

    /// Seconds until `key` may try again, if it is over its limit now.
    fn blocked_for(&self, key: &K, now: Instant, window: Duration) -> Option<u64> {
        if self.max == 0 {
            return None;
        }
        let w = self.entries.get(key)?;
        let elapsed = now.saturating_duration_since(w.started);
        if elapsed >= window || w.count < self.max {
            return None;
        }
        let left = window - elapsed;
        Some((left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1))
    }

    fn add(&mut self, key: &K, now: Instant, window: Duration) {
        if self.max == 0 {
            return;
        }
        if let Some(w) = self.entries.get_mut(key) {
            if now.saturating_duration_since(w.started) >= window {
                *w = Window {
                    started: now,
                    count: 0,
                };
            }
            w.count = w.count.saturating_add(1);
            return;
        }
        if self.entries.len() >= LIMITER_MAX_ENTRIES {
            self.entries
                .retain(|_, w| now.saturating_duration_since(w.started) < window);
        }
        if self.entries.len() >= LIMITER_MAX_ENTRIES {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, w)| w.started)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.entries.insert(
            key.clone(),
            Window {
                started: now,
                count: 1,
            },
        );
    }

    /// Takes back one attempt (a successful one).
    fn sub(&mut self, key: &K) {
        if let Some(w) = self.entries.get_mut(key) {
            w.count = w.count.saturating_sub(1);
            if w.count == 0 {
                self.entries.remove(key);
            }
        }
    }
}

#[derive(Debug)]
struct LimiterState {
    users: Counters<(String, String)>,
    ips: Counters<IpAddr>,
}

/// Throttles `POST /v1/auth/login`, in memory and per server instance: at most
/// `max_failures` failed attempts per (tenant slug, username) and `max_failures_per_ip` per
/// client address within a window that starts at the first failure. Every attempt counts
/// when it starts (so parallel guesses cannot slip through); a successful sign-in takes its
/// attempt back and clears the username's count.
#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    state: Mutex<LimiterState>,
}

/// A login attempt admitted by [`LoginLimiter::begin`]; report how it ended with
/// [`LoginLimiter::succeeded`] (failures need nothing more).
#[derive(Debug)]
pub struct LoginAttempt {
    user: (String, String),
    ip: Option<IpAddr>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, max_failures_per_ip: u32, window: Duration) -> Self {
        LoginLimiter {
            window: window.max(Duration::from_secs(1)),
            state: Mutex::new(LimiterState {
                users: Counters::new(max_failures),
                ips: Counters::new(max_failures_per_ip),
            }),
        }
    }

    /// From the `FIELDSYNC_LOGIN_*` options.
    pub fn from_config(config: &crate::config::Config) -> Self {
        LoginLimiter::new(
            config.login_max_failures,
            config.login_max_failures_per_ip,
            Duration::from_secs(config.login_window_secs),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits and counts an attempt, or refuses it with the seconds until the window frees.
    /// Keys are the tenant slug and username, trimmed and lower-cased.
    pub fn begin(
        &self,
        tenant: &str,
        username: &str,
        ip: Option<IpAddr>,
    ) -> Result<LoginAttempt, u64> {
        let user = (normalize_username(tenant), normalize_username(username));
        let now = Instant::now();
        let mut st = self.lock();
        let blocked = [
            st.users.blocked_for(&user, now, self.window),
            ip.and_then(|ip| st.ips.blocked_for(&ip, now, self.window)),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(secs) = blocked {
            return Err(secs);
        }
        st.users.add(&user, now, self.window);
        if let Some(ip) = ip {
            st.ips.add(&ip, now, self.window);
        }
        Ok(LoginAttempt { user, ip })
    }

    /// The attempt signed in: the username's failures are forgotten and the attempt no
    /// longer counts against the address.
    pub fn succeeded(&self, attempt: LoginAttempt) {
        let mut st = self.lock();
        st.users.entries.remove(&attempt.user);
        if let Some(ip) = attempt.ip {
            st.ips.sub(&ip);
        }
    }
}

/// The client's address, when the server runs with connect info (not in router-only tests).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_limiter_counts_per_user_and_address_and_resets_on_success() {
        let limiter = LoginLimiter::new(2, 3, Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other_ip: IpAddr = "192.0.2.2".parse().unwrap();
        limiter.begin("demo", "rep1", Some(ip)).unwrap();
        let ok = limiter.begin("demo", "Rep1", Some(ip)).unwrap();
        limiter.succeeded(ok);
        limiter.begin("DEMO", "rep1", Some(ip)).unwrap();
        limiter.begin("demo", "rep1", Some(other_ip)).unwrap();
        let secs = limiter.begin("demo", "rep1", Some(other_ip)).unwrap_err();
        assert!((59..=60).contains(&secs), "{secs}");
        // Same tenant, other user; then this address is at its limit of 3 failures.
        limiter.begin("demo", "rep2", Some(ip)).unwrap();
        assert!(limiter.begin("demo", "rep3", Some(ip)).is_err());
        assert!(limiter.begin("demo", "rep3", None).is_ok());
        // Zero disables a limit.
        let off = LoginLimiter::new(0, 0, Duration::from_secs(60));
        for _ in 0..50 {
            off.begin("demo", "rep1", Some(ip)).unwrap();
        }
    }

    #[test]
    fn login_limiter_memory_is_bounded() {
        let mut c = Counters::new(5);
        let now = Instant::now();
        let window = Duration::from_secs(60);
        for i in 0..LIMITER_MAX_ENTRIES + 10 {
            c.add(&i, now, window);
        }
        assert_eq!(c.entries.len(), LIMITER_MAX_ENTRIES);
        // Expired entries are pruned first.
        let later = now + window;
        c.add(&usize::MAX, later, window);
        assert_eq!(c.entries.len(), 1);
    }
}
