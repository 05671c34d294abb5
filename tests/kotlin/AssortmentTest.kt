// The must-carry range on the phone (docs/assortment.md): an administrator imports it, the rep's
// phone receives it with its master data, and with the network cut the audit screen shows the
// store's expected SKUs, which of them are on the shelf and which are missing; the stock the
// rep counts suggests an order.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlin.test.*

object AssortmentTest : Suite("Assortment") {
    private val http = HttpClient.newHttpClient()

    private fun post(path: String, contentType: String, body: String, token: String? = null): String {
        val request = HttpRequest.newBuilder(URI.create("${Env.serverUrl}$path"))
            .header("Content-Type", contentType)
            .apply { if (token != null) header("Authorization", "Bearer $token") }
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        val resp = http.send(request, HttpResponse.BodyHandlers.ofString())
        assertEquals(200, resp.statusCode(), resp.body())
        return resp.body()
    }

    /** An administrator's access token (no device: for administration only). */
    private fun adminToken(): String {
        val body = post(
            "/v1/auth/login", "application/json",
            """{"tenant":"$TENANT","username":"admin","password":"$PASSWORD"}""",
        )
        return Regex("\"access_token\"\\s*:\\s*\"([^\"]+)\"").find(body)!!.groupValues[1]
    }

    private fun importRange(token: String, csv: String) {
        post("/v1/admin/import/assortment", "text/csv", csv, token)
    }

    init {
        test("offline, the audit screen shows what the store must carry and what is missing") {
            val token = adminToken()
            importRange(token, "store_code,sku,safety_stock\nRKA-008,COLA-330,24\nRKA-008,TEA-500,\n")
            // The other suites share the demo tenant: leave it without a range.
            addCleanup { importRange(token, "store_code,sku\n") }

            val relay = Relay(Env.serverUrl)
            addCleanup { relay.cut() }
            val rep = loggedInDevice("rep1", relay.url)
            relay.cut()

            val store = rep.storeByCode("RKA-008")
            // The demo's stores belong to no chain (a stores file's `chain` column sets it).
            assertNull(store.chain)
            val visit = rep.startVisit(store.id)
            assertEquals(
                listOf(Triple("COLA-330", false, 24), Triple("TEA-500", false, null)),
                rep.expectedRange(visit.id).map { Triple(it.sku, it.onShelf, it.safetyStock) },
            )
            rep.recordAuditLine(
                visit.id,
                AuditInput(sku = "COLA-330", location = "MAIN-SHELF", facings = 5, onShelf = true),
            )
            val range = rep.expectedRange(visit.id)
            assertEquals(listOf(true to 5, false to 0), range.map { it.onShelf to it.facings })
            assertEquals("TEA-500", range.single { !it.onShelf }.sku)
        }

        test("offline, counted stock suggests an order the rep edits") {
            val token = adminToken()
            importRange(token, "store_code,sku,safety_stock\nRKA-008,COLA-330,48\nRKA-008,TEA-500,12\n")
            addCleanup { importRange(token, "store_code,sku\n") }

            val relay = Relay(Env.serverUrl)
            addCleanup { relay.cut() }
            val rep = loggedInDevice("rep1", relay.url)
            relay.cut()

            val store = rep.storeByCode("RKA-008")
            val visit = rep.startVisit(store.id)
            rep.recordStockCount(visit.id, "COLA-330", 10, 5)
            rep.recordStockCount(visit.id, "TEA-500", 2, 2)
            assertEquals(listOf("COLA-330", "TEA-500"), rep.stockCounts(visit.id).map { it.sku })
            // COLA-330 is sold by the case of 24: 33 short is two cases; TEA-500 by the unit.
            assertEquals(
                listOf(Triple("COLA-330", 15, 48), Triple("TEA-500", 4, 8)),
                rep.suggestedOrder(visit.id).map { Triple(it.sku, it.onHand, it.quantity) },
            )
            val order = rep.createSuggestedOrder(
                visit.id, daysFromToday(store.deliveryLeadDays + 1L), PaymentMethod.CASH,
            )
            assertEquals(listOf("COLA-330" to 48, "TEA-500" to 8), order.lines.map { it.sku to it.quantity })
            assertFailsWith<FieldsyncException.Invalid> { rep.recordStockCount(visit.id, "COLA-330", -1, 0) }
        }
    }
}
