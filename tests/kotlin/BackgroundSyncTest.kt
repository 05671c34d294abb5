// Background sync: a Kotlin object implementing SyncObserver receives the state changes of
// the device's sync thread (a callback from Rust into the JVM).
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.test.*

/** Queues every state, status (and exception a callback threw); the test thread reads them. */
open class Recorder : SyncObserver {
    val states = LinkedBlockingQueue<SyncState>()
    val statuses = LinkedBlockingQueue<SyncStatus>()
    val errors = LinkedBlockingQueue<CallbackException>()

    override fun onState(state: SyncState) {
        states.put(state)
    }

    override fun onStatus(status: SyncStatus) {
        statuses.put(status)
    }

    override fun onError(error: CallbackException) {
        errors.put(error)
    }

    /** States received until one matches `done` (included). */
    fun until(done: (SyncState) -> Boolean): List<SyncState> {
        val seen = mutableListOf<SyncState>()
        while (true) {
            val state = states.poll(WAIT_SECS, TimeUnit.SECONDS)
                ?: fail("no matching sync state; received $seen")
            seen += state
            if (done(state)) return seen
        }
    }
}

/** Queues every event of the live stream; the test thread reads them. */
class LiveRecorder : LiveObserver {
    val events = LinkedBlockingQueue<LiveEvent>()

    override fun onLive(event: LiveEvent) {
        events.put(event)
    }

    /** Events received until one matches `done`; returns that one. */
    fun until(done: (LiveEvent) -> Boolean): LiveEvent {
        val seen = mutableListOf<LiveEvent>()
        while (true) {
            val event = events.poll(WAIT_SECS, TimeUnit.SECONDS)
                ?: fail("no matching live event; received $seen")
            seen += event
            if (done(event)) return event
        }
    }
}

object BackgroundSyncTest : Suite("BackgroundSync") {
    init {
        test("with a LiveObserver, a change made on another device arrives without requestSync") {
            val device = loggedInDevice("rep2")
            val other = loggedInDevice("rep2")
            val observer = Recorder()
            val live = LiveRecorder()
            device.startBackgroundSync(observer, liveObserver = live)
            addCleanup { device.stopBackgroundSync() }
            live.until { it is LiveEvent.Ready }
            val visit = other.startVisit(other.stores()[0].id)
            other.syncNow()
            live.until { e -> e is LiveEvent.Changes && e.changed.any { it.docId == visit.id } }
            observer.until { it is SyncState.Synced }
            assertEquals(visit.id, device.visit(visit.id).id)
        }

        test("the observer sees syncing, then synced, then stopped") {
            val device = loggedInDevice("rep2")
            val visit = device.startVisit(device.stores()[0].id)
            val observer = Recorder()
            device.startBackgroundSync(observer)
            addCleanup { device.stopBackgroundSync() }
            device.requestSync()
            val seen = observer.until { it is SyncState.Synced }
            val firstSyncing = seen.indexOfFirst { it is SyncState.Syncing }
            assertTrue(firstSyncing in 0 until seen.size - 1, "$seen")
            val report = (seen.last() as SyncState.Synced).report
            assertTrue(report.docsPushed >= 1)
            assertEquals(0, device.pending().documents, "visit ${visit.id} not pushed")
            assertTrue(seen.last().toString().startsWith("synced: "), seen.last().toString())

            device.stopBackgroundSync()
            observer.until { it is SyncState.Stopped }
            assertFailsWith<FieldsyncException.WrongState> { device.requestSync() }
        }

        test("the observer receives the sync status at start and when a sync changed it") {
            val device = loggedInDevice("rep2")
            device.startVisit(device.stores()[0].id)
            val observer = Recorder()
            device.startBackgroundSync(observer)
            addCleanup { device.stopBackgroundSync() }
            val first = observer.statuses.poll(WAIT_SECS, TimeUnit.SECONDS) ?: fail("no status at start")
            assertTrue(first.documents >= 1, "$first")
            assertEquals(device.syncStatus(), first)

            device.requestSync()
            observer.until { it is SyncState.Synced }
            val after = observer.statuses.poll(WAIT_SECS, TimeUnit.SECONDS) ?: fail("no status after the sync")
            assertEquals(0, after.documents, "$after")
            assertNotNull(after.lastSyncedAtMs, "$after")
            assertNull(after.lastFailure, "$after")
        }

        test("the observer sees offline with a retry") {
            val relay = Relay(Env.serverUrl)
            val device = loggedInDevice("rep2", relay.url)
            relay.cut()
            val observer = Recorder()
            device.startBackgroundSync(observer, 3600)
            addCleanup { device.stopBackgroundSync() }
            val seen = observer.until { it is SyncState.Offline }
            assertTrue(seen.any { it is SyncState.Syncing }, "$seen")
            assertTrue((seen.last() as SyncState.Offline).retryInMs > 0)

            // Signal is back: the app asks for a sync at once instead of waiting for the retry.
            relay.restore()
            addCleanup { relay.cut() }
            device.requestSync()
            observer.until { it is SyncState.Synced }
        }

        test("an exception of the observer reaches onError and the log, and sync goes on") {
            val device = loggedInDevice("rep2")
            val logs = LogLines()
            setLogSink(logs, LogLevel.INFO)
            addCleanup { setLogSink(null, LogLevel.INFO) }
            val observer = object : Recorder() {
                override fun onState(state: SyncState) {
                    super.onState(state)
                    if (state is SyncState.Syncing) throw IllegalStateException("the banner is gone")
                }
            }
            device.startBackgroundSync(observer)
            addCleanup { device.stopBackgroundSync() }
            device.requestSync()
            observer.until { it is SyncState.Synced }
            val error = observer.errors.poll(WAIT_SECS, TimeUnit.SECONDS) ?: fail("no onError")
            val detail = (error as CallbackException.Failed).detail
            assertContains(detail, "IllegalStateException: the banner is gone")
            assertContains(detail, "BackgroundSyncTest", message = "the stack trace")
            val logged = logs.lines.filter { it.target == "fieldsync::observer" }
            assertEquals(LogLevel.ERROR, logged.first().level, "$logged")
            assertContains(logged.first().message, "the banner is gone")
            assertTrue(logs.lines.any { it.target == "fieldsync::sync" && it.message.startsWith("synced") }, "${logs.lines}")
        }
    }
}
