//! The purge of ended sessions, every hour (first run a minute after start): deletes the
//! sessions that ended more than `FIELDSYNC_SESSION_PURGE_AFTER_SECS` ago (revoked, past
//! `FIELDSYNC_SESSION_MAX_AGE_SECS`, or whose last refresh token expired) with their refresh
//! tokens, and every refresh token that expired that long ago (docs/auth.md, "Sessions").
//!
//! Rows are kept for a while first so that a token of an ended session is still refused for
//! what it is (revoked, reused) and the log says so, rather than as an unknown token.
//!
//! Nothing here can stop the server: a failed run is logged and the next one runs on schedule.
//! With several server instances each runs the purge; every statement is idempotent.

use std::time::Duration;

use fieldsync_shared::Timestamp;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::state::AppState;
use crate::store::devices::PurgeCounts;
use crate::store::StoreResult;

/// Time between two purges.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(3600);
/// Delay of the first purge after start: soon, so that servers restarted more often than
/// hourly still purge, but not while the server is starting up.
const FIRST_PURGE_AFTER: Duration = Duration::from_secs(60);

/// One purge as if the time were `now`: what ended before `now` minus the purge delay goes.
pub async fn purge_sessions_at(state: &AppState, now: Timestamp) -> StoreResult<PurgeCounts> {
    let cutoff = Timestamp(
        now.millis()
            .saturating_sub(state.config.session_purge_after_ms()),
    );
    let counts = state
        .store
        .purge_ended_sessions(cutoff, state.config.session_max_age_ms())
        .await?;
    state.metrics.record_sessions_purged(counts.sessions);
    if counts != PurgeCounts::default() {
        tracing::info!(
            sessions = counts.sessions,
            refresh_tokens = counts.refresh_tokens,
            "ended sessions purged"
        );
    }
    Ok(counts)
}

/// The running purge task; stops when dropped.
#[derive(Debug)]
pub struct PurgeTask(JoinHandle<()>);

impl Drop for PurgeTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the periodic purge.
pub fn spawn(state: AppState) -> PurgeTask {
    PurgeTask(tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(
            tokio::time::Instant::now() + FIRST_PURGE_AFTER,
            PURGE_INTERVAL,
        );
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let run_state = state.clone();
            // Its own task: a panic ends that run only.
            let run =
                tokio::spawn(async move { purge_sessions_at(&run_state, Timestamp::now()).await });
            match run.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "session purge failed; the next one runs on schedule")
                }
                Err(e) => {
                    tracing::error!(error = %e, "session purge panicked; the next one runs on schedule")
                }
            }
        }
    }))
}
