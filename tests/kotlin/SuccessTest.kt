// The picture of success on the phone (docs/picture-of-success.md): an administrator imports a
// picture for a store, the rep's phone receives it with its master data, and with the network
// cut the visit shows its checklist and reference photos; the rep scores one point not met with
// a photo and one met, and the visit's score follows (weights 3 and 1: 1 of 4 = 2 500 bp).
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlin.test.*

object SuccessTest : Suite("Picture of success") {
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

    private const val HEADER = "code,title,store_code,chain,channel,point,label,kind,weight,sku,reference_photos"
    private val REFERENCE = "ab".repeat(32)

    private fun importPictures(token: String, csv: String) {
        post("/v1/admin/import/success-pictures", "text/csv", csv, token)
    }

    init {
        test("offline, the visit shows the store's picture of success and records its scores") {
            val token = adminToken()
            importPictures(
                token,
                "$HEADER\n" +
                    "KT-POS,Shelf of RKA-007,RKA-007,,,COLA-BLOCK,Cola block,shelf_blocking,3,,$REFERENCE\n" +
                    "KT-POS,Shelf of RKA-007,RKA-007,,,COLA-EYE,Cola at eye level,eye_level,1,COLA-330,\n",
            )
            // The other suites share the demo tenant: leave it without pictures.
            addCleanup { importPictures(token, "$HEADER\n") }

            val relay = Relay(Env.serverUrl)
            addCleanup { relay.cut() }
            val rep = loggedInDevice("rep1", relay.url)
            relay.cut()

            val store = rep.storeByCode("RKA-007")
            val visit = rep.startVisit(store.id)
            val picture = rep.successPicture(visit.id)!!
            assertEquals("KT-POS", picture.code)
            assertEquals("store", picture.scope)
            assertEquals(listOf(REFERENCE), picture.referencePhotoSha256s)
            assertEquals(listOf("COLA-BLOCK", "COLA-EYE"), picture.points.map { it.code })
            assertEquals(SuccessPointKind.EYE_LEVEL, picture.points[1].kind)
            assertEquals("COLA-330", picture.points[1].sku)
            assertEquals(3u, picture.points[0].weight)
            assertTrue(picture.points.all { it.score == null })
            assertEquals(0u, picture.scoreBp)

            val photo = writeJpegLike(File(tempDir("success-photo-"), "shelf.jpg"), seed = 71)
            val sha = rep.attachPhoto(visit.id, photo.path, VisitStep.STORE_CHECK).sha256
            rep.scoreSuccessPoint(visit.id, "COLA-BLOCK", SuccessScoreStatus.NOT_MET, listOf(sha), note = "block broken")
            rep.scoreSuccessPoint(visit.id, "COLA-EYE", SuccessScoreStatus.MET, emptyList())
            assertFailsWith<FieldsyncException.Invalid> {
                rep.scoreSuccessPoint(visit.id, "NO-SUCH-POINT", SuccessScoreStatus.MET, emptyList())
            }

            val scored = rep.successPicture(visit.id)!!
            assertEquals(2500u, scored.scoreBp)
            val block = scored.points.first { it.code == "COLA-BLOCK" }.score!!
            assertEquals(SuccessScoreStatus.NOT_MET, block.status)
            assertEquals(listOf(sha), block.photoSha256s)
            assertEquals("block broken", block.note)
            assertEquals(SuccessScoreStatus.MET, scored.points.first { it.code == "COLA-EYE" }.score?.status)
        }
    }
}
