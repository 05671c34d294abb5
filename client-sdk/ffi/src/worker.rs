//! Network-bound operations as futures for uniffi's async support (Kotlin `suspend`, Swift
//! `async`, Python `async def`) without an async runtime in the library: the blocking work
//! (SQLite and HTTP in `fieldsync_client`) runs on a thread of its own, which completes the
//! future; polling only looks for the result. The caller's thread never waits.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;

/// Runs `work` on a new thread named `fieldsync-<name>`; the returned future completes with
/// its result. A panic of `work` resumes in the poll, where uniffi turns it into an exception.
/// Dropping the future (a cancelled coroutine) does not stop the work: it finishes, unobserved.
pub(crate) fn off_thread<T, F>(name: &str, work: F) -> OffThread<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        outcome: None,
        waker: None,
    }));
    let done = slot.clone();
    thread::Builder::new()
        .name(format!("fieldsync-{name}"))
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(work));
            let waker = {
                let mut slot = lock(&done);
                slot.outcome = Some(outcome);
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        })
        .expect("start a worker thread");
    OffThread { slot }
}

struct Slot<T> {
    outcome: Option<thread::Result<T>>,
    waker: Option<Waker>,
}

/// The future of [`off_thread`].
pub(crate) struct OffThread<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

fn lock<T>(slot: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    // Only plain values are stored behind the lock: a panic cannot leave them half-written.
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T> Future for OffThread<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = lock(&self.slot);
        match slot.outcome.take() {
            Some(Ok(value)) => Poll::Ready(value),
            Some(Err(panic)) => {
                drop(slot);
                std::panic::resume_unwind(panic)
            }
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::task::Wake;

    /// A waker that counts its wakes and lets the test wait for one.
    struct Signal(AtomicUsize, Mutex<mpsc::Sender<()>>);

    impl Wake for Signal {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
            let _ = self.1.lock().unwrap().send(());
        }
    }

    #[test]
    fn the_work_runs_on_its_own_thread_and_wakes_the_poller() {
        let (wakes, woken) = mpsc::channel();
        let signal = Arc::new(Signal(AtomicUsize::new(0), Mutex::new(wakes)));
        let waker = Waker::from(signal.clone());
        let mut cx = Context::from_waker(&waker);
        let (release, gate) = mpsc::channel::<()>();
        let caller = thread::current().id();
        let mut future = Box::pin(off_thread("test", move || {
            gate.recv().unwrap();
            (
                thread::current().id() != caller,
                thread::current().name().map(String::from),
            )
        }));
        assert!(
            future.as_mut().poll(&mut cx).is_pending(),
            "the poll does not wait"
        );
        release.send(()).unwrap();
        woken.recv().unwrap();
        let Poll::Ready((elsewhere, name)) = future.as_mut().poll(&mut cx) else {
            panic!("woken but not ready");
        };
        assert!(elsewhere);
        assert_eq!(name.as_deref(), Some("fieldsync-test"));
        assert_eq!(signal.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panic_of_the_work_resumes_in_the_poll() {
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut future = Box::pin(off_thread("panics", || -> u8 { panic!("boom") }));
        let caught = loop {
            match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx))) {
                Ok(Poll::Pending) => thread::yield_now(),
                Ok(Poll::Ready(_)) => panic!("a value from a panicking work"),
                Err(panic) => break panic,
            }
        };
        assert_eq!(caught.downcast_ref::<&str>(), Some(&"boom"));
    }
}
