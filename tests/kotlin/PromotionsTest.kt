// Promotions and display agreements on the phone (docs/promotions.md): an administrator imports
// them, the rep's phone receives them with its master data, and with the network cut the visit
// shows the promotions running at the store; the rep checks one as not in place with a photo
// and one as in place with the shelf price seen, and the visit lists both checks.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlin.test.*

object PromotionsTest : Suite("Promotions") {
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

    private const val HEADER = "code,title,from,to,store_code,chain,channel,skus,mechanic,promotion_price,fee"

    private fun importPromotions(token: String, csv: String) {
        post("/v1/admin/import/promotions", "text/csv", csv, token)
    }

    init {
        test("offline, the visit shows the store's promotions and records their checks") {
            val token = adminToken()
            importPromotions(
                token,
                "$HEADER\n" +
                    "KT-ENDCAP,Endcap,${daysFromToday(-1)},${daysFromToday(7)},RKA-007,,,COLA-330,endcap,,800.00\n" +
                    "KT-CUT,Price cut,${daysFromToday(0)},${daysFromToday(7)},RKA-007,,,COLA-330;COLA-500,price_cut,2.50,\n",
            )
            // The other suites share the demo tenant: leave it without promotions.
            addCleanup { importPromotions(token, "$HEADER\n") }

            val relay = Relay(Env.serverUrl)
            addCleanup { relay.cut() }
            val rep = loggedInDevice("rep1", relay.url)
            relay.cut()

            val store = rep.storeByCode("RKA-007")
            val visit = rep.startVisit(store.id)
            val running = rep.activePromotions(visit.id)
            assertEquals(listOf("KT-CUT", "KT-ENDCAP"), running.map { it.code })
            assertEquals(PromotionMechanic.PRICE_CUT, running[0].mechanic)
            assertEquals(250L, running[0].promotionPriceMinor)
            assertEquals(80000L, running[1].feeMinor)
            assertTrue(running.all { it.check == null })

            val photo = writeJpegLike(File(tempDir("promo-photo-"), "endcap.jpg"), seed = 61)
            val sha = rep.attachPhoto(visit.id, photo.path, VisitStep.STORE_CHECK).sha256
            rep.checkPromotion(visit.id, "KT-ENDCAP", PromotionCheckStatus.NOT_IN_PLACE, listOf(sha), note = "empty endcap")
            rep.checkPromotion(visit.id, "KT-CUT", PromotionCheckStatus.IN_PLACE, emptyList(), seenPriceMinor = 290L)
            assertFailsWith<FieldsyncException.Invalid> {
                rep.checkPromotion(visit.id, "KT-CUT", PromotionCheckStatus.IN_PLACE, emptyList(), seenPriceMinor = -1L)
            }

            val checked = rep.activePromotions(visit.id).associateBy { it.code }
            assertEquals(PromotionCheckStatus.IN_PLACE, checked.getValue("KT-CUT").check?.status)
            assertEquals(290L, checked.getValue("KT-CUT").check?.seenPriceMinor)
            val endcap = checked.getValue("KT-ENDCAP").check!!
            assertEquals(PromotionCheckStatus.NOT_IN_PLACE, endcap.status)
            assertEquals(listOf(sha), endcap.photoSha256s)
            assertEquals("empty endcap", endcap.note)
        }
    }
}
