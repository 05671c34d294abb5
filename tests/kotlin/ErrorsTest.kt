// Errors cross the boundary as typed exceptions an app can act on (FieldsyncException
// subclasses, one per FieldsyncError variant).
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import java.net.ServerSocket
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlin.test.*

object ErrorsTest : Suite("Errors") {
    init {
        test("a wrong password is Unauthorized") {
            val (device, _) = openDevice()
            val e = assertFailsWith<FieldsyncException.Unauthorized> {
                device.login(TENANT, "rep2", "not-the-password")
            }
            assertEquals("invalid_credentials", e.reason)
            assertFalse(device.isLoggedIn())
            // Every variant is a FieldsyncException: one `catch` takes them all.
            assertIs<FieldsyncException>(e)
        }

        test("network calls suspend instead of blocking the caller's thread") {
            // A server that takes the connection and never answers: the login waits.
            val silent = ServerSocket(0)
            addCleanup { silent.close() }
            val (device, _) = openDevice("http://127.0.0.1:${silent.localPort}")
            coroutineScope {
                val login = async { device.login(TENANT, "rep2", PASSWORD) }
                // runBlocking has one thread: these ticks run only if the login does not hold it.
                var ticks = 0
                repeat(5) {
                    delay(20)
                    ticks += 1
                }
                assertEquals(5, ticks)
                assertTrue(login.isActive, "the login is still waiting for the server")
                login.cancel()
            }
        }

        test("no server is Offline") {
            val (device, _) = openDevice(closedPortUrl())
            val e = assertFailsWith<FieldsyncException.Offline> { device.login(TENANT, "rep2", PASSWORD) }
            assertTrue(e.detail.isNotEmpty())
        }

        test("edits need a signed-in user") {
            val (device, _) = openDevice()
            val e = assertFailsWith<FieldsyncException.Unauthorized> {
                device.startVisit("00000000-0000-4000-8000-000000000001")
            }
            assertEquals("not_logged_in", e.reason)
        }

        test("logout keeps the offline work") {
            val device = loggedInDevice("rep2")
            assertTrue(device.isLoggedIn())
            device.logout()
            assertFalse(device.isLoggedIn())
            // Master data and the profile stay for offline work; only the session is gone.
            assertTrue(device.stores().isNotEmpty())
            assertEquals("rep2", device.profile()?.username)
            val e = assertFailsWith<FieldsyncException.Unauthorized> { device.syncNow() }
            assertEquals("not_logged_in", e.reason)
        }

        test("malformed arguments are Invalid with the argument's name") {
            val device = loggedInDevice("rep2")
            val e = assertFailsWith<FieldsyncException.Invalid> { device.visit("not-a-uuid") }
            assertEquals("visit_id" to "input", e.field to e.rule)
            val store = device.stores()[0]
            val date = assertFailsWith<FieldsyncException.Invalid> { device.startVisit(store.id, "2025-02-30") }
            assertEquals("planned_date", date.field)
        }

        test("negative counts are Invalid") {
            // Integers at the boundary are signed (Java has no unsigned types): a negative
            // quantity or facings count is refused by name, nothing committed.
            val device = loggedInDevice("rep2")
            val store = device.stores()[0]
            val order = device.createOrder(store.id, daysFromToday(store.deliveryLeadDays + 1L), PaymentMethod.CASH)
            val quantity = assertFailsWith<FieldsyncException.Invalid> { device.setOrderLine(order.id, "COLA-330", -6) }
            assertEquals(Triple("quantity", "input", "negative"), Triple(quantity.field, quantity.rule, quantity.code))
            assertEquals(emptyList(), device.order(order.id).lines)
            val visit = device.startVisit(store.id)
            val line = AuditInput(sku = "COLA-330", location = "MAIN-SHELF", facings = -1, onShelf = true)
            val facings = assertFailsWith<FieldsyncException.Invalid> { device.recordAuditLine(visit.id, line) }
            assertEquals("facings" to "negative", facings.field to facings.code)
            assertEquals(emptyList(), device.visit(visit.id).audit)
        }

        test("unknown things are NotFound") {
            val device = loggedInDevice("rep2")
            val e = assertFailsWith<FieldsyncException.NotFound> {
                device.visit("00000000-0000-4000-8000-000000000001")
            }
            assertEquals("visit", e.what)
            assertFailsWith<FieldsyncException.NotFound> { device.storeByCode("NKA-999") }
        }

        test("business rules refuse on the device") {
            val device = loggedInDevice("rep2")
            val store = device.stores()[0]
            // Delivery before the store's lead time: refused by the shared delivery-date rule.
            val e = assertFailsWith<FieldsyncException.Invalid> {
                device.createOrder(store.id, today().toString(), PaymentMethod.CASH)
            }
            assertEquals("delivery_date", e.rule)
            assertEquals(Severity.BLOCK, e.findings.first().severity)
        }

        test("a file that is not a photo is Invalid") {
            val device = loggedInDevice("rep2")
            val visit = device.startVisit(device.stores()[0].id)
            val dir = tempDir("fieldsync-files-")
            val notes = File(dir, "notes.txt").apply { writeText("not an image") }
            val e = assertFailsWith<FieldsyncException.Invalid> { device.attachPhoto(visit.id, notes.path) }
            assertEquals("photo", e.field)
            assertFailsWith<FieldsyncException.NotFound> {
                device.attachPhoto(visit.id, File(dir, "missing.jpg").path)
            }
        }

        test("sync states print as sentences") {
            assertEquals("syncing", SyncState.Syncing.toString())
            assertEquals("idle", SyncState.Idle.toString())
        }
    }
}
