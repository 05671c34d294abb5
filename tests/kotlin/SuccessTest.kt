// The picture of success on the phone (docs/picture-of-success.md): an administrator imports a
// picture for a store and uploads its reference photo, the rep's phone receives both when it
// syncs, and with the network cut the visit shows its checklist and the reference photo's
// bytes; the rep scores one point not met with a photo and one met, and the visit's score
// follows (weights 3 and 1: 1 of 4 = 2 500 bp).
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import java.security.MessageDigest
import javax.imageio.ImageIO
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

    /** A real JPEG (the server checks its header) and its SHA-256 in hex. */
    private fun referenceJpeg(): Pair<ByteArray, String> {
        val image = BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB)
        for (y in 0 until 30) for (x in 0 until 40) image.setRGB(x, y, (x * 5 + y * 3) * 0x010101)
        val out = ByteArrayOutputStream()
        check(ImageIO.write(image, "jpg", out)) { "no JPEG writer" }
        val bytes = out.toByteArray()
        val sha = MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }
        return bytes to sha
    }

    private fun uploadReference(token: String, bytes: ByteArray, sha: String) {
        val request = HttpRequest.newBuilder(URI.create("${Env.serverUrl}/v1/admin/reference-photos/$sha"))
            .header("Content-Type", "image/jpeg")
            .header("Authorization", "Bearer $token")
            .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
            .build()
        val resp = http.send(request, HttpResponse.BodyHandlers.ofString())
        assertTrue(resp.statusCode() in listOf(200, 201), resp.body())
    }

    private fun importPictures(token: String, csv: String) {
        post("/v1/admin/import/success-pictures", "text/csv", csv, token)
    }

    init {
        test("offline, the visit shows the store's picture of success and records its scores") {
            val token = adminToken()
            val (jpeg, reference) = referenceJpeg()
            uploadReference(token, jpeg, reference)
            importPictures(
                token,
                "$HEADER\n" +
                    "KT-POS,Shelf of RKA-007,RKA-007,,,COLA-BLOCK,Cola block,shelf_blocking,3,,$reference\n" +
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
            assertEquals(listOf(reference), picture.referencePhotoSha256s)
            // Downloaded when the phone synced; read offline.
            assertContentEquals(jpeg, rep.referencePhoto(reference))
            assertNull(rep.referencePhoto("cd".repeat(32)))
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
