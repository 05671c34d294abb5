// Background sync: a Kotlin object implementing SyncObserver receives the state changes of
// the device's sync thread (a callback from Rust into the JVM).
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.test.*

/** Queues every state; the test thread reads them. */
class Recorder : SyncObserver {
    val states = LinkedBlockingQueue<SyncState>()

    override fun onState(state: SyncState) {
        states.put(state)
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

object BackgroundSyncTest : Suite("BackgroundSync") {
    init {
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
    }
}
