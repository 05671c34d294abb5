//! Feed events: "tenant T's feed now reaches seq N", published on every instance after any
//! instance commits a sync push. This is how instances learn about each other's writes; it is
//! what live push (`crate::live`) subscribes to.
//!
//! * **PostgreSQL** (several instances): `commit_push` runs
//!   `SELECT pg_notify('fieldsync_feed', '<tenant>:<last seq>')` inside its transaction, so
//!   PostgreSQL delivers the notification at commit and never for a rolled-back push. Each
//!   instance runs [`spawn_pg_listener`]: one dedicated connection that `LISTEN`s on the
//!   channel and publishes every notification (its own instance's included) as a
//!   [`FeedEvent`] on the [`FeedEvents`] broadcast channel. When the connection breaks (the
//!   database restarts, the network drops) it reconnects with exponential backoff, forever;
//!   it never takes the server down.
//! * **SQLite** (one instance): there is no other instance to hear from; the sync handler
//!   publishes after its commit ([`FeedEvents::committed_locally`]).
//!
//! Events are *hints*, not the source of truth: the feed table is. Notifications sent while an
//! instance's listener was disconnected are lost, and a slow subscriber may miss events
//! (`broadcast` lags); either way a subscriber catches up by reading the feed from its own
//! cursor, which it must do anyway. So an event carries only the tenant and the highest seq.
//!
//! **No stale documents.** Instances keep no document cache: every push loads the documents
//! it merges into from the database and commits under an optimistic version check
//! (`UPDATE documents ... WHERE version = expected`; a conflict recomputes the push from fresh
//! loads), and every pull reads the database. A write by another instance is therefore always
//! seen; feed events are never needed for correctness, only for timeliness.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use fieldsync_shared::values::TenantId;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::{broadcast, watch};

use crate::metrics::Metrics;

/// The PostgreSQL notification channel of feed events.
pub const CHANNEL: &str = "fieldsync_feed";

/// Events buffered per subscriber before it lags (then it re-reads the feed).
const CAPACITY: usize = 1024;
/// First and longest wait between reconnection attempts of the listener.
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// A committed write: the feed of `tenant` now holds entries up to `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedEvent {
    pub tenant: TenantId,
    pub seq: i64,
}

impl FeedEvent {
    /// The notification payload: `<tenant>:<seq>`.
    pub fn payload(&self) -> String {
        format!("{}:{}", self.tenant, self.seq)
    }

    /// Parses a notification payload; `None` if it is not `<tenant>:<seq>`.
    pub fn parse(payload: &str) -> Option<FeedEvent> {
        let (tenant, seq) = payload.rsplit_once(':')?;
        Some(FeedEvent {
            tenant: TenantId::parse(tenant).ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

/// Where this instance's feed events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedSource {
    /// PostgreSQL notifications (every instance's commits, this one's included).
    Database,
    /// The sync handler of this instance (SQLite: the only instance).
    Local,
}

/// The broadcast channel of feed events, in the application state.
#[derive(Clone)]
pub struct FeedEvents {
    tx: broadcast::Sender<FeedEvent>,
    source: FeedSource,
    /// `true` once the server shuts down: long-lived subscribers (live streams) end, so that
    /// the graceful shutdown, which waits for open requests, is not held up by them.
    closed: Arc<watch::Sender<bool>>,
}

impl FeedEvents {
    pub fn new(source: FeedSource) -> FeedEvents {
        let (tx, _) = broadcast::channel(CAPACITY);
        FeedEvents {
            tx,
            source,
            closed: Arc::new(watch::Sender::new(false)),
        }
    }

    /// The server is shutting down: [`FeedEvents::closed`] completes for every subscriber.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Completes once [`FeedEvents::close`] was called (at once if it was already).
    pub async fn closed(&self) {
        let mut rx = self.closed.subscribe();
        let _ = rx.wait_for(|closed| *closed).await;
    }

    pub fn source(&self) -> FeedSource {
        self.source
    }

    /// Receives every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FeedEvent> {
        self.tx.subscribe()
    }

    /// Publishes an event to the current subscribers (none is fine).
    pub fn publish(&self, event: FeedEvent) {
        let _ = self.tx.send(event);
    }

    /// Called by the sync handler after a commit: publishes when there is no database channel
    /// that will (SQLite). On PostgreSQL the listener publishes the notification instead, so
    /// subscribers see each write once.
    pub fn committed_locally(&self, tenant: TenantId, last_seq: Option<i64>) {
        if let (FeedSource::Local, Some(seq)) = (self.source, last_seq) {
            self.publish(FeedEvent { tenant, seq });
        }
    }
}

/// Starts the PostgreSQL listener task for the database at `url`. Returns at once; the task
/// connects (and reconnects) in the background and lives as long as the runtime.
pub fn spawn_pg_listener(
    url: &str,
    events: FeedEvents,
    metrics: Arc<Metrics>,
) -> Result<tokio::task::JoinHandle<()>, sqlx::Error> {
    let opts = PgConnectOptions::from_str(url)?.application_name("fieldsync-feed-listener");
    Ok(tokio::spawn(listen_forever(opts, events, metrics)))
}

async fn listen_forever(opts: PgConnectOptions, events: FeedEvents, metrics: Arc<Metrics>) {
    let mut backoff = BACKOFF_MIN;
    loop {
        match listen(&opts, &events, &metrics).await {
            // `listen` only returns after it had a working connection: start backing off anew.
            Ok(()) => backoff = BACKOFF_MIN,
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    retry_in_ms = backoff.as_millis() as u64,
                    "feed listener: cannot listen to PostgreSQL; retrying"
                );
            }
        }
        metrics.record_feed_listener_retry();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One connection's life: connect, `LISTEN`, publish notifications until the connection is
/// lost (`Ok`) or an error occurs (`Err`).
async fn listen(
    opts: &PgConnectOptions,
    events: &FeedEvents,
    metrics: &Metrics,
) -> Result<(), sqlx::Error> {
    // A pool of one for the listener alone, so that it never takes a connection the requests
    // need; connection attempts are bounded so that an unreachable database is retried.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(opts.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    // Reconnecting is this task's job (with backoff), not a hidden loop inside the listener.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    tracing::info!(channel = CHANNEL, "feed listener: listening");
    loop {
        match listener.try_recv().await? {
            Some(notification) => match FeedEvent::parse(notification.payload()) {
                Some(event) => {
                    metrics.record_feed_event();
                    events.publish(event);
                }
                None => tracing::warn!(
                    payload = notification.payload(),
                    "feed listener: ignoring a malformed notification"
                ),
            },
            None => {
                tracing::warn!("feed listener: connection to PostgreSQL lost; reconnecting");
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips() {
        let event = FeedEvent {
            tenant: TenantId::new_random(),
            seq: 42,
        };
        assert_eq!(FeedEvent::parse(&event.payload()), Some(event));
        assert_eq!(FeedEvent::parse("nonsense"), None);
        assert_eq!(FeedEvent::parse("not-a-tenant:1"), None);
        assert_eq!(
            FeedEvent::parse(&format!("{}:x", TenantId::new_random())),
            None
        );
    }

    #[tokio::test]
    async fn local_source_publishes_committed_writes_and_database_source_does_not() {
        let tenant = TenantId::new_random();
        let local = FeedEvents::new(FeedSource::Local);
        let mut rx = local.subscribe();
        local.committed_locally(tenant, Some(7));
        local.committed_locally(tenant, None);
        assert_eq!(rx.recv().await.unwrap(), FeedEvent { tenant, seq: 7 });
        assert!(
            rx.try_recv().is_err(),
            "no event for a push that wrote nothing"
        );

        let db = FeedEvents::new(FeedSource::Database);
        let mut rx = db.subscribe();
        db.committed_locally(tenant, Some(7));
        assert!(rx.try_recv().is_err(), "the listener publishes instead");
    }

    #[tokio::test]
    async fn closing_ends_the_wait_of_every_subscriber() {
        let events = FeedEvents::new(FeedSource::Local);
        let waiting = tokio::spawn({
            let events = events.clone();
            async move { events.closed().await }
        });
        events.close();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("closed() completes")
            .unwrap();
        // Also for a subscriber that comes after the close.
        tokio::time::timeout(Duration::from_secs(5), events.closed())
            .await
            .expect("closed() completes at once");
    }
}
