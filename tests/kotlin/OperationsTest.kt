// The operations the field day does not reach: lists of visits and orders, removing an order
// line, rejecting an order, reopening an approved visit, retrying failed photos, and the
// edits the server refused after the fact.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import kotlin.test.*

object OperationsTest : Suite("Operations") {
    /** A submitted order of rep1 at NKA-001 that needs approval (12 % off list), synced. */
    private suspend fun orderNeedingApproval(rep: FieldsyncDevice): Order {
        val store = rep.storeByCode("NKA-001")
        val cola = rep.products().single { it.sku == "COLA-330" }
        val order = rep.createOrder(store.id, daysFromToday(store.deliveryLeadDays + 1L), PaymentMethod.CREDIT)
        rep.setOrderLine(order.id, "COLA-330", cola.casePack, cola.listPriceMinor * 88 / 100)
        assertEquals(OrderStatus.PENDING_APPROVAL, rep.submitOrder(order.id).status)
        rep.syncNow()
        return order
    }

    /** A visit of merch1 at NKA-002 with its routine done and one photo, submitted. */
    private fun submittedVisit(merch: FieldsyncDevice, photo: File): Visit {
        val store = merch.storeByCode("NKA-002")
        val here = GeoFix(lat = store.lat, lon = store.lon, accuracyM = 5.0, mocked = false)
        val visit = merch.startVisit(store.id)
        merch.checkIn(visit.id, here)
        VisitStep.entries.forEach { merch.recordStep(visit.id, it) }
        merch.attachPhoto(visit.id, photo.path, VisitStep.MERCHANDISE)
        merch.checkOut(visit.id, here)
        merch.submitVisit(visit.id)
        return merch.visit(visit.id)
    }

    init {
        test("the device id stays with the data directory") {
            val (device, dir) = openDevice()
            val id = device.deviceId()
            assertEquals(36, id.length, id)
            device.close()
            FieldsyncDevice.open(dir.path, Env.serverUrl).use { assertEquals(id, it.deviceId()) }
        }

        test("lists of visits and orders, and removing an order line") {
            val rep = loggedInDevice("rep1")
            val store = rep.storeByCode("RKA-001")
            val visit = rep.startVisit(store.id, daysFromToday(1))
            val order = rep.createOrder(
                store.id, daysFromToday(store.deliveryLeadDays + 1L), PaymentMethod.BANK_TRANSFER, visit.id,
            )
            assertEquals(visit.id, order.visitId)
            assertEquals(daysFromToday(1), rep.visits().single { it.id == visit.id }.plannedDate)
            assertContains(rep.orders().map { it.id }, order.id)

            rep.setOrderLine(order.id, "COLA-330", 24)
            rep.setOrderLine(order.id, "TEA-500", 12)
            rep.removeOrderLine(order.id, "COLA-330")
            assertEquals(listOf("TEA-500"), rep.order(order.id).lines.map { it.sku })
            assertEquals(listOf("TEA-500"), rep.orders().single { it.id == order.id }.lines.map { it.sku })
        }

        test("a supervisor rejects an order, and must say why") {
            val rep = loggedInDevice("rep1")
            val order = orderNeedingApproval(rep)
            val sup = loggedInDevice("sup1")
            assertContains(sup.ordersAwaitingApproval().map { it.id }, order.id)
            for (blank in listOf("", "   ")) {
                val e = assertFailsWith<FieldsyncException.Invalid> { sup.rejectOrder(order.id, blank) }
                assertEquals("comment" to "required", e.field to e.code)
            }
            sup.rejectOrder(order.id, "Discount too deep for a credit order")
            assertFalse(sup.ordersAwaitingApproval().any { it.id == order.id })
            sup.syncNow()
            rep.syncNow()
            assertEquals(OrderStatus.REJECTED, rep.order(order.id).status)
        }

        test("a manager reopens an approved visit") {
            val photo = writePng(File(tempDir("fieldsync-gallery-"), "shelf.png"), 32, 24, seed = 3)
            val merch = loggedInDevice("merch1")
            val visit = submittedVisit(merch, photo)
            merch.syncNow()
            val sup = loggedInDevice("sup1")
            sup.approveVisit(visit.id)
            sup.syncNow()

            val mgr = loggedInDevice("mgr1")
            assertEquals(VisitStatus.APPROVED, mgr.visit(visit.id).status)
            mgr.reopenVisit(visit.id, "Store audit found the endcap empty: redo the check")
            mgr.syncNow()
            merch.syncNow()
            // Back to its author for rework: rejected, with the manager's comment, editable.
            val reopened = merch.visit(visit.id)
            assertEquals(VisitStatus.REJECTED, reopened.status)
            assertEquals(ReviewDecision.REJECTED, reopened.review?.decision)
            merch.appendNote(visit.id, "endcap refilled")
            assertTrue(merch.visit(visit.id).notes.any { it.text == "endcap refilled" })
        }

        test("a failed photo is sent again when the app retries it") {
            val (merch, dataDir) = openDevice()
            merch.login(TENANT, "merch1", PASSWORD)
            merch.syncNow()
            val visit = merch.startVisit(merch.storeByCode("NKA-003").id)
            val photo = writePng(File(tempDir("fieldsync-gallery-"), "shelf.png"), 40, 30, seed = 11)
            val sha = merch.attachPhoto(visit.id, photo.path).sha256
            // The device's copy is damaged on its disk: never sent, failed once.
            val stored = storedPhoto(dataDir, sha)
            val original = stored.readBytes()
            stored.writeBytes(original.copyOf().also { it[100] = (it[100].toInt() xor 0xFF).toByte() })
            val report = merch.syncNow()
            assertEquals(0, report.photosUploaded)
            assertTrue(report.warnings.any { it.contains("corrupt") }, "${report.warnings}")
            assertEquals(0 to 1, merch.pending().let { it.photos to it.photosFailed })
            assertEquals(PhotoState.FAILED, merch.photoUploads().single().state)
            assertEquals(0, merch.syncNow().photosUploaded, "not retried by itself")

            stored.writeBytes(original)
            assertEquals(1, merch.retryFailedPhotos())
            assertEquals(1, merch.syncNow().photosUploaded)
            assertEquals(PhotoState.UPLOADED, merch.photoUploads().single().state)
            assertEquals(0, merch.retryFailedPhotos())
        }

        test("an edit the server refused after the fact is listed") {
            val photo = writePng(File(tempDir("fieldsync-gallery-"), "shelf.png"), 32, 24, seed = 8)
            val relay = Relay(Env.serverUrl)
            addCleanup { relay.cut() }
            val merch = loggedInDevice("merch1", relay.url)
            val visit = submittedVisit(merch, photo)
            merch.syncNow()
            assertEquals(emptyList(), merch.refusedEdits())
            // merch1 adds a note while offline; meanwhile the supervisor approves the visit.
            relay.cut()
            merch.appendNote(visit.id, "forgot: the backroom is locked")
            val sup = loggedInDevice("sup1")
            sup.approveVisit(visit.id, "ok")
            sup.syncNow()

            relay.restore()
            val report = merch.syncNow()
            val refused = report.refusedEdits.single()
            assertEquals(Triple(visit.id, "notes", "visit_frozen"), Triple(refused.docId, refused.field, refused.code))
            assertEquals(listOf(refused), merch.refusedEdits())
            assertEquals(1, merch.syncStatus().unreadRefusedEdits)
            merch.markRefusedEditsRead()
            assertEquals(0, merch.syncStatus().unreadRefusedEdits)
            assertFalse(merch.visit(visit.id).notes.any { "backroom is locked" in it.text })
        }
    }
}
