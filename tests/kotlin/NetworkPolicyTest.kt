// What the photo queue sends on which network: the app's policy, a pause of uploads, and the
// connectivity the app reports (which also starts a background sync at once).
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import kotlin.test.*

object NetworkPolicyTest : Suite("NetworkPolicy") {
    /** merch1 with a visit holding one decodable photo (it has a thumbnail), not yet synced. */
    private suspend fun TestScope.deviceWithPhoto(seed: Int): FieldsyncDevice {
        val merch = loggedInDevice("merch1")
        val visit = merch.startVisit(merch.storeByCode("NKA-005").id)
        val photo = writePng(File(tempDir("fieldsync-gallery-"), "shelf.png"), 40, 30, seed)
        merch.attachPhoto(visit.id, photo.path)
        return merch
    }

    init {
        test("full photos wait for an unmetered network; documents and thumbnails do not") {
            val merch = deviceWithPhoto(seed = 41)
            assertEquals(PhotoNetworks.ANY, merch.photoNetworks())
            merch.setPhotoNetworks(PhotoNetworks.UNMETERED_ONLY)
            assertEquals(PhotoNetworks.UNMETERED_ONLY, merch.photoNetworks())
            // No network reported yet: it may be cellular, so full photos wait.
            val unknown = merch.syncNow()
            assertEquals(0, unknown.photosUploaded)
            assertTrue(unknown.warnings.any { it.contains("unmetered") }, "${unknown.warnings}")
            merch.reportConnectivity(Connectivity.METERED)
            val onCellular = merch.syncNow()
            assertEquals(0, onCellular.photosUploaded)
            assertTrue(onCellular.warnings.any { it.contains("unmetered") }, "${onCellular.warnings}")
            assertEquals(0, merch.pending().documents)
            val photo = merch.photoUploads().single()
            assertEquals(ThumbnailState.SENT to PhotoState.PENDING, photo.thumbnail to photo.state)

            merch.reportConnectivity(Connectivity.UNMETERED)
            assertEquals(1, merch.syncNow().photosUploaded)
        }

        test("paused photo uploads wait for resume") {
            val merch = deviceWithPhoto(seed = 43)
            merch.pausePhotoUploads(true)
            val paused = merch.syncNow()
            assertEquals(0, paused.photosUploaded)
            assertTrue(paused.warnings.any { it.contains("paused") }, "${paused.warnings}")
            assertEquals(1, merch.syncStatus().photos)
            merch.pausePhotoUploads(false)
            assertEquals(1, merch.syncNow().photosUploaded)
        }

        test("a network coming back starts the background sync at once") {
            val relay = Relay(Env.serverUrl)
            addCleanup { relay.cut() }
            val device = loggedInDevice("rep2", relay.url)
            relay.cut()
            device.reportConnectivity(Connectivity.OFFLINE)
            val observer = Recorder()
            device.startBackgroundSync(observer, 3600)
            addCleanup { device.stopBackgroundSync() }
            observer.until { it is SyncState.Offline }

            relay.restore()
            device.reportConnectivity(Connectivity.UNMETERED)
            observer.until { it is SyncState.Synced }
        }
    }
}
