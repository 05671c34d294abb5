"""Background sync: a Python object implementing SyncObserver receives the state changes of
the device's sync thread (a callback from Rust into Python)."""

import queue
import unittest

import support
from support import fieldsync

SyncState = fieldsync.SyncState


class Recorder(fieldsync.SyncObserver):
    """Queues every state (and every exception on_state raised); the test thread reads them."""

    def __init__(self):
        self.states = queue.Queue()
        self.statuses = queue.Queue()
        self.errors = queue.Queue()

    def on_state(self, state):
        self.states.put(state)

    def on_status(self, status):
        self.statuses.put(status)

    def on_error(self, error):
        self.errors.put(error)

    def until(self, predicate):
        """States received until one matches `predicate` (included)."""
        seen = []
        while True:
            try:
                state = self.states.get(timeout=support.WAIT_SECS)
            except queue.Empty:
                raise AssertionError(f"no matching sync state; received {seen}") from None
            seen.append(state)
            if predicate(state):
                return seen


class BackgroundSync(unittest.TestCase):
    def test_observer_sees_syncing_then_synced(self):
        device = support.logged_in_device(self, "rep2")
        store = device.stores()[0]
        visit = device.start_visit(store.id)
        observer = Recorder()
        device.start_background_sync(observer)
        self.addCleanup(device.stop_background_sync)
        device.request_sync()
        seen = observer.until(lambda s: s.is_SYNCED())
        self.assertTrue(any(s.is_SYNCING() for s in seen), seen)
        first_syncing = next(i for i, s in enumerate(seen) if s.is_SYNCING())
        self.assertLess(first_syncing, len(seen) - 1)
        report = seen[-1].report
        self.assertGreaterEqual(report.docs_pushed, 1)
        self.assertEqual(device.pending().documents, 0, f"visit {visit.id} not pushed")

        device.stop_background_sync()
        observer.until(lambda s: s.is_STOPPED())
        with self.assertRaises(fieldsync.FieldsyncError.WrongState):
            device.request_sync()

    def test_observer_sees_offline_with_a_retry(self):
        relay = support.Relay(support.SERVER_URL)
        device = support.logged_in_device(self, "rep2", relay.url)
        relay.cut()
        observer = Recorder()
        device.start_background_sync(observer, 3600)
        self.addCleanup(device.stop_background_sync)
        seen = observer.until(lambda s: s.is_OFFLINE())
        self.assertTrue(any(s.is_SYNCING() for s in seen), seen)
        self.assertGreater(seen[-1].retry_in_ms, 0)

        # Signal is back: the app asks for a sync at once instead of waiting for the retry.
        relay.restore()
        self.addCleanup(relay.cut)
        device.request_sync()
        observer.until(lambda s: s.is_SYNCED())


if __name__ == "__main__":
    unittest.main()
