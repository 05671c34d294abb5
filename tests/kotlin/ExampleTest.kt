// Runs the docs' Kotlin example (Example.kt) against the server.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import com.fieldsync.example.AppLog
import com.fieldsync.example.VisitScreen
import com.fieldsync.example.recordVisit
import com.fieldsync.example.signIn
import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.test.*

object ExampleTest : Suite("Example") {
    init {
        test("the docs' example records and syncs a visit") {
            val dir = tempDir("fieldsync-example-")
            val photo = writePng(File(dir, "shelf.png"), 40, 30, seed = 21)
            val problems = mutableListOf<String>()
            val states = LinkedBlockingQueue<SyncState>()
            val statuses = LinkedBlockingQueue<SyncStatus>()
            val screen = object : VisitScreen {
                override fun showFlag(message: String) { problems += "flag: $message" }
                override fun markField(field: String?, message: String) { problems += "$field: $message" }
                override fun toast(message: String) { problems += message }
                override fun render(state: SyncState) = states.put(state)
                override fun render(status: SyncStatus) = statuses.put(status)
                override fun crashReport(error: CallbackException) { problems += "$error" }
            }
            val lines = mutableListOf<String>()
            val log = AppLog { level: LogLevel, line: String -> synchronized(lines) { lines += "$level $line" } }
            val device = signIn(File(dir, "device").path, Env.serverUrl, "merch1", PASSWORD, log)
            addCleanup { setLogSink(null, LogLevel.INFO) }
            addCleanup { device.close() }
            addCleanup { device.stopBackgroundSync() }
            // The phone stands at the store.
            val nka001 = device.storeByCode("NKA-001")
            val here = GeoFix(lat = nka001.lat, lon = nka001.lon, accuracyM = 6.0, mocked = false)
            val visit = recordVisit(device, here, photo.path, screen)
            assertEquals(emptyList(), problems)
            assertEquals(VisitStatus.SUBMITTED, visit.status)
            assertEquals(1, visit.photos.size)
            while (true) {
                val state = states.poll(WAIT_SECS, TimeUnit.SECONDS) ?: fail("no Synced state")
                if (state is SyncState.Synced) break
            }
            assertEquals(0, device.pending().documents)
            // The status the screen shows followed the sync: nothing waits any more.
            val shown = generateSequence { statuses.poll(WAIT_SECS, TimeUnit.SECONDS) }
                .first { it.documents == 0 }
            assertNotNull(shown.lastSyncedAtMs)
            synchronized(lines) { assertContains(lines, "INFO fieldsync::sync: syncing") }
        }
    }
}
