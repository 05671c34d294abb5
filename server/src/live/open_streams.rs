//! The live streams open on this instance and their limits: in total, per user, per device.
//! A stream holds a [`Ticket`] for its whole life; dropping it frees the place.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use fieldsync_shared::values::{DeviceId, TenantId, UserId};
use tokio::sync::Notify;

use crate::config::LiveSettings;
use crate::metrics::Metrics;

/// Why a stream was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The instance serves its most streams.
    Total,
    /// The user holds its most streams.
    User,
}

impl Refusal {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Total => "total",
            Refusal::User => "user",
        }
    }
}

/// The open streams.
pub struct OpenStreams {
    max_total: usize,
    max_per_user: usize,
    max_per_device: usize,
    metrics: Arc<Metrics>,
    inner: Mutex<Inner>,
}

/// One stream of a device: its id and the signal that replaces it.
type DeviceStream = (u64, Arc<Notify>);

#[derive(Default)]
struct Inner {
    total: usize,
    per_user: HashMap<(TenantId, UserId), usize>,
    /// A device's streams, oldest first.
    per_device: HashMap<(TenantId, DeviceId), VecDeque<DeviceStream>>,
    next_id: u64,
}

/// One admitted stream's place.
pub struct Ticket {
    streams: Arc<OpenStreams>,
    id: u64,
    user: (TenantId, UserId),
    device: Option<(TenantId, DeviceId)>,
    replaced: Arc<Notify>,
}

impl OpenStreams {
    pub fn new(settings: &LiveSettings, metrics: Arc<Metrics>) -> Arc<OpenStreams> {
        Arc::new(OpenStreams {
            max_total: settings.max_streams as usize,
            max_per_user: settings.max_streams_per_user as usize,
            max_per_device: settings.max_streams_per_device as usize,
            metrics,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// Admits a stream of `user` on `device` (none for tokens without a device). A device at
    /// its limit gets the place of its oldest stream, which is told to end
    /// ([`Ticket::replaced`]); otherwise the instance's and the user's limits apply.
    pub fn admit(
        self: &Arc<Self>,
        tenant: TenantId,
        user: UserId,
        device: Option<DeviceId>,
    ) -> Result<Ticket, Refusal> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let device = device.map(|d| (tenant, d));
        let replaces = device
            .and_then(|key| inner.per_device.get_mut(&key))
            .filter(|queue| queue.len() >= self.max_per_device)
            .and_then(|queue| queue.pop_front());
        match replaces {
            // The replaced stream still counts until it has ended; the device's count does not
            // grow for long.
            Some((_, signal)) => signal.notify_one(),
            None if inner.total >= self.max_total => return Err(Refusal::Total),
            None if inner.per_user.get(&(tenant, user)).copied().unwrap_or(0)
                >= self.max_per_user =>
            {
                return Err(Refusal::User)
            }
            None => {}
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let replaced = Arc::new(Notify::new());
        inner.total += 1;
        *inner.per_user.entry((tenant, user)).or_default() += 1;
        if let Some(key) = device {
            inner
                .per_device
                .entry(key)
                .or_default()
                .push_back((id, replaced.clone()));
        }
        self.metrics.record_live_stream_opened();
        Ok(Ticket {
            streams: self.clone(),
            id,
            user: (tenant, user),
            device,
            replaced,
        })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

impl Ticket {
    /// Completes when a newer stream of the same device took this one's place.
    pub async fn replaced(&self) {
        self.replaced.notified().await;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut inner = self.streams.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.total -= 1;
        if let Some(count) = inner.per_user.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                inner.per_user.remove(&self.user);
            }
        }
        if let Some(key) = self.device {
            if let Some(queue) = inner.per_device.get_mut(&key) {
                queue.retain(|(id, _)| *id != self.id);
                if queue.is_empty() {
                    inner.per_device.remove(&key);
                }
            }
        }
        self.streams.metrics.record_live_stream_closed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn streams(total: u32, per_user: u32, per_device: u32) -> Arc<OpenStreams> {
        let settings = LiveSettings {
            max_streams: total,
            max_streams_per_user: per_user,
            max_streams_per_device: per_device,
            ..LiveSettings::default()
        };
        OpenStreams::new(&settings, Arc::new(Metrics::new()))
    }

    #[test]
    fn the_instance_and_the_user_limits_refuse_and_free_on_drop() {
        let s = streams(2, 1, 1);
        let t = TenantId::new_random();
        let (u1, u2, u3) = (
            UserId::new_random(),
            UserId::new_random(),
            UserId::new_random(),
        );
        let a = s.admit(t, u1, None).unwrap();
        assert_eq!(s.admit(t, u1, None).err(), Some(Refusal::User));
        let _b = s.admit(t, u2, None).unwrap();
        assert_eq!(s.admit(t, u3, None).err(), Some(Refusal::Total));
        drop(a);
        assert_eq!(s.open(), 1);
        assert!(s.admit(t, u3, None).is_ok());
    }

    #[tokio::test]
    async fn a_device_at_its_limit_replaces_its_oldest_stream() {
        let s = streams(10, 10, 1);
        let (t, u, d) = (
            TenantId::new_random(),
            UserId::new_random(),
            DeviceId::new_random(),
        );
        let old = s.admit(t, u, Some(d)).unwrap();
        let new = s.admit(t, u, Some(d)).unwrap();
        tokio::time::timeout(Duration::from_secs(5), old.replaced())
            .await
            .expect("the old stream is told to end");
        drop(old);
        assert_eq!(s.open(), 1);
        // The new one is the device's only stream now, and it is not told to end.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), new.replaced())
                .await
                .is_err()
        );
    }
}
