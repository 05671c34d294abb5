// The field day through the generated Kotlin bindings and JNA, against a real server: a
// merchandiser audits a store and takes shelf photos with no signal, a rep files an order
// with no signal, both sync when the network is back, a supervisor on a third device approves
// the visit and the order, the authors' devices show the decisions, and an edit of the
// approved visit is refused with a typed exception.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import kotlin.test.*

object FieldDayTest : Suite("FieldDay") {
    /** A phone signed in through its own network (a relay), master data synced. */
    private suspend fun TestScope.phone(username: String): Pair<FieldsyncDevice, Relay> {
        val relay = Relay(Env.serverUrl)
        addCleanup { relay.cut() }
        return loggedInDevice(username, relay.url) to relay
    }

    init {
        test("offline visit and order, then remote approval") {
            val gallery = tempDir("fieldsync-gallery-")

            // --- merch1 loses signal inside the hypermarket ---------------------------------
            val (merch, merchNet) = phone("merch1")
            merchNet.cut()
            assertFailsWith<FieldsyncException.Offline> { merch.syncNow() }

            val store = merch.storeByCode("NKA-001")
            assertEquals("NKA-001", store.code)
            assertContains(merch.products().map { it.sku }, "COLA-330")
            val atStore = GeoFix(lat = store.lat, lon = store.lon, accuracyM = 8.0, mocked = false)

            val visit = merch.startVisit(store.id)
            assertEquals(VisitStatus.PLANNED, visit.status)
            assertEquals(emptyList(), merch.checkIn(visit.id, atStore))

            // The shared visit rules run on the phone: no check-out before the routine is done.
            val refused = assertFailsWith<FieldsyncException.Invalid> { merch.checkOut(visit.id, atStore) }
            assertEquals("visit_timing", refused.rule)
            val codes = refused.findings.map { it.code }
            assertContains(codes, "step_missing")
            assertContains(codes, "photos_missing")

            for (step in VisitStep.entries) {
                if (step == VisitStep.SUGGESTED_ORDER) {
                    merch.recordStep(visit.id, step, "merchandiser: no ordering")
                } else {
                    merch.recordStep(visit.id, step)
                }
            }
            merch.recordAuditLine(
                visit.id,
                AuditInput(
                    sku = "COLA-330", location = "MAIN-SHELF", facings = 6, onShelf = true,
                    shelfPriceMinor = 350, oldestProductionDate = daysFromToday(-20),
                ),
            )
            merch.recordAuditLine(
                visit.id,
                AuditInput(sku = "TEA-500", location = "ENDCAP-1", facings = 0, onShelf = false),
            )
            val shelf = writePng(File(gallery, "shelf.png"), 48, 32, seed = 5)
            val endcap = writeJpegLike(File(gallery, "endcap.jpg"), seed = 9)
            val first = merch.attachPhoto(visit.id, shelf.path, VisitStep.MERCHANDISE)
            val second = merch.attachPhoto(visit.id, endcap.path, VisitStep.STORE_CHECK)
            assertEquals(64, first.sha256.length)
            assertNotEquals(first.sha256, second.sha256)
            merch.appendNote(visit.id, "TEA-500 out of stock on the endcap; backroom empty")
            merch.checkOut(visit.id, atStore)
            merch.submitVisit(visit.id)

            val local = merch.visit(visit.id)
            assertEquals(VisitStatus.SUBMITTED, local.status)
            assertEquals(VisitStep.entries, local.steps.map { it.step })
            assertEquals(2, local.audit.size)
            assertEquals(setOf(first.sha256, second.sha256), local.photos.map { it.sha256 }.toSet())
            // Notes are entries (author, time, text), in order.
            assertEquals(listOf("TEA-500 out of stock on the endcap; backroom empty"), local.notes.map { it.text })
            assertTrue(local.notes[0].atMs > 0 && local.notes[0].byName.isNotEmpty())
            val waiting = merch.pending()
            assertEquals(2, waiting.photos)
            assertContains(waiting.docs.map { it.docId }, visit.id)

            // --- rep1 files an order with no signal -----------------------------------------
            val (rep, repNet) = phone("rep1")
            repNet.cut()
            val shop = rep.storeByCode("NKA-001")
            val products = rep.products().associateBy { it.sku }
            val cola = products.getValue("COLA-330")
            val tea = products.getValue("TEA-500")
            val order = rep.createOrder(shop.id, daysFromToday(shop.deliveryLeadDays + 1L), PaymentMethod.CASH)
            assertEquals(OrderStatus.DRAFT, order.status)
            assertTrue(order.number.startsWith("R001-"), order.number)
            // 12 % off list: beyond a rep's 10 % authority, above the floor: needs approval.
            val discounted = cola.listPriceMinor * 88 / 100
            val findings = rep.setOrderLine(order.id, "COLA-330", cola.casePack * 2, discounted)
            assertContains(findings.map { it.code }, "discount_beyond_authority")
            assertEquals(Severity.NEEDS_APPROVAL, findings[0].severity)
            assertEquals(emptyList(), rep.setOrderLine(order.id, "TEA-500", tea.casePack))
            val submitted = rep.submitOrder(order.id)
            assertEquals(OrderStatus.PENDING_APPROVAL, submitted.status)
            assertEquals(2, submitted.lines.size)
            assertFailsWith<FieldsyncException.Offline> { rep.syncNow() }
            assertEquals(1, rep.pending().documents)

            // --- the network is back: both phones sync ---------------------------------------
            merchNet.restore()
            repNet.restore()
            val pushed = merch.syncNow()
            assertEquals(2, pushed.photosUploaded)
            assertTrue(pushed.docsPushed >= 1)
            assertEquals(emptyList(), pushed.refused)
            assertEquals(0, merch.pending().documents)
            assertEquals(0, merch.pending().photos)
            assertTrue(rep.syncNow().docsPushed >= 1)
            assertEquals(0, rep.pending().documents)

            // --- sup1 reviews remotely on a third device ------------------------------------
            val sup = loggedInDevice("sup1")
            val mine = sup.visitsAwaitingReview().filter { it.id == visit.id }
            assertEquals(1, mine.size)
            assertEquals(2, mine[0].photos.size)
            assertEquals(2, mine[0].audit.size)
            // The review screen shows the shelf: the thumbnail of the photo (a JPEG).
            val thumbnail = sup.photoThumbnail(first.sha256)
            assertEquals(listOf(0xFF.toByte(), 0xD8.toByte()), thumbnail.take(2))
            // A rejection must say what to rework: the write policy refuses it on the device.
            val noComment = assertFailsWith<FieldsyncException.Forbidden> { sup.rejectVisit(visit.id, "") }
            assertEquals("comment_required", noComment.code)
            sup.approveVisit(visit.id, "Good shelf, fix the TEA-500 gap")
            assertContains(sup.ordersAwaitingApproval().map { it.id }, order.id)
            sup.approveOrder(order.id)
            sup.syncNow()
            assertFalse(sup.visitsAwaitingReview().any { it.id == visit.id })

            // --- the authors' phones show the decisions -------------------------------------
            merch.syncNow()
            val approved = merch.visit(visit.id)
            assertEquals(VisitStatus.APPROVED, approved.status)
            assertEquals(ReviewDecision.APPROVED, approved.review?.decision)
            assertEquals("Good shelf, fix the TEA-500 gap", approved.review?.comment)
            rep.syncNow()
            assertEquals(OrderStatus.APPROVED, rep.order(order.id).status)

            // --- an edit of the approved visit is refused on the phone, typed ----------------
            val frozen = assertFailsWith<FieldsyncException.Forbidden> {
                merch.appendNote(visit.id, "one more thing")
            }
            assertEquals("notes" to "visit_frozen", frozen.field to frozen.code)
            val frozenAudit = assertFailsWith<FieldsyncException.Forbidden> {
                merch.recordAuditLine(
                    visit.id,
                    AuditInput(sku = "COLA-330", location = "MAIN-SHELF", facings = 1, onShelf = true),
                )
            }
            assertEquals("audit" to "visit_frozen", frozenAudit.field to frozenAudit.code)
            assertFalse(merch.visit(visit.id).notes.any { it.text == "one more thing" })
            assertEquals(0, merch.pending().documents)
        }
    }
}
