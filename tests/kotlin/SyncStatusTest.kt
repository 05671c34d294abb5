// The sync status an app shows, read offline: the work waiting, the last success, the last
// failure with its reason, the refused edits not yet seen.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import kotlin.test.*

object SyncStatusTest : Suite("SyncStatus") {
    init {
        test("waiting work, last success and last failure, kept across a cut network") {
            val relay = Relay(Env.serverUrl)
            addCleanup { relay.cut() }
            val merch = loggedInDevice("merch1", relay.url)
            val synced = merch.syncStatus()
            val syncedAt = assertNotNull(synced.lastSyncedAtMs)
            assertNull(synced.lastFailure)
            assertEquals(0 to 0, synced.documents to synced.photos)

            relay.cut()
            val visit = merch.startVisit(merch.storeByCode("NKA-004").id)
            val photo = writePng(File(tempDir("fieldsync-gallery-"), "shelf.png"), 40, 30, seed = 31)
            merch.attachPhoto(visit.id, photo.path)
            assertFailsWith<FieldsyncException.Offline> { merch.syncNow() }
            val offline = merch.syncStatus()
            assertEquals(1, offline.documents)
            assertTrue(offline.changes >= 1)
            assertEquals(1, offline.photos)
            assertEquals(photo.length(), offline.photoBytes)
            assertEquals("offline", offline.lastFailure?.reason)
            assertEquals(syncedAt, offline.lastSyncedAtMs, "the last success is kept")

            relay.restore()
            merch.syncNow()
            val after = merch.syncStatus()
            assertNull(after.lastFailure)
            assertEquals(Triple(0, 0, 0L), Triple(after.documents, after.photos, after.photoBytes))
            assertTrue(after.lastSyncedAtMs!! >= syncedAt)
        }
    }
}
