// A supervisor's phone sees why a visit is suspicious before approving it: the findings the
// merchandiser's phone showed (kept in the visit) and the server's findings on it. Among them
// photo provenance: a gallery photo from last month (by its EXIF capture time) is flagged, a
// photo taken during the visit is not.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import java.time.Duration
import java.time.Instant
import kotlin.test.*

object ReviewFindingsTest : Suite("ReviewFindings") {
    init {
        test("the review list shows the phone's and the server's findings of an off-site visit") {
            val merch = loggedInDevice("merch1")
            val store = merch.storeByCode("NKA-005")
            // 3 km north of the store: outside its geofence.
            val offSite = GeoFix(lat = store.lat + 3000.0 / 111_320.0, lon = store.lon, accuracyM = 8.0)
            val atStore = GeoFix(lat = store.lat, lon = store.lon, accuracyM = 8.0)

            val visit = merch.startVisit(store.id)
            assertContains(merch.checkIn(visit.id, offSite).map { it.code }, "outside_geofence")
            for (step in VisitStep.entries) {
                if (step == VisitStep.SUGGESTED_ORDER) {
                    merch.recordStep(visit.id, step, "merchandiser: no ordering")
                } else {
                    merch.recordStep(visit.id, step)
                }
            }
            val gallery = tempDir("fieldsync-gallery-")
            val now = Instant.now()
            val fresh = writeCameraJpeg(File(gallery, "shelf.jpg"), 71, now)
            assertEquals(emptyList(), merch.attachPhoto(visit.id, fresh.path, VisitStep.MERCHANDISE).findings)
            val old = writeCameraJpeg(File(gallery, "old.jpg"), 72, now.minus(Duration.ofDays(30)))
            val oldPhoto = merch.attachPhoto(visit.id, old.path, VisitStep.MERCHANDISE)
            assertEquals(listOf("photo_taken_outside_visit"), oldPhoto.findings.map { it.code })
            val capture = assertNotNull(merch.visit(visit.id).photos.single { it.sha256 == oldPhoto.sha256 }.capture)
            assertTrue(capture.zoneKnown)
            assertTrue(capture.atMs!! < now.minus(Duration.ofDays(29)).toEpochMilli())
            merch.checkOut(visit.id, atStore)
            merch.submitVisit(visit.id)
            val recorded = merch.visit(visit.id).findings
            assertEquals(listOf("flag"), recorded.filter { it.code == "outside_geofence" }.map { it.severity })

            val report = merch.syncNow()
            val ours = report.findings.filter { it.docId == visit.id }
            assertContains(ours.map { it.code to it.outcome }, "outside_geofence" to "flagged")
            assertContains(ours.map { it.code to it.outcome }, "photo_taken_outside_visit" to "flagged")

            val sup = loggedInDevice("sup1")
            val item = sup.visitsToReview().single { it.visit.id == visit.id }
            assertContains(item.visit.findings.map { it.code }, "outside_geofence")
            val server = assertNotNull(item.serverFindings, "the server was reachable")
            assertContains(server.map { it.code to it.outcome }, "outside_geofence" to "flagged")
            assertEquals(
                listOf("photos.${oldPhoto.sha256}.capture.at"),
                server.filter { it.code == "photo_taken_outside_visit" }.map { it.field },
            )
            assertContains(item.visit.findings.map { it.code }, "photo_taken_outside_visit")
            sup.rejectVisit(visit.id, "Checked in 3 km away: explain")
            for (order in sup.ordersToApprove()) {
                assertNotNull(order.serverFindings)
            }
        }
    }
}
