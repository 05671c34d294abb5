// Competitor activity on the phone (docs/competitors.md): a rep and a merchandiser working one
// visit each record what competitors do in the store with the network cut; after both sync,
// each phone shows both sightings in one order. Only the author edits or removes a sighting.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import kotlin.test.*

object CompetitorsTest : Suite("Competitors") {
    init {
        test("two people record competitor sightings offline and both are kept") {
            val repNet = Relay(Env.serverUrl)
            val merchNet = Relay(Env.serverUrl)
            addCleanup { repNet.cut(); merchNet.cut() }
            val rep = loggedInDevice("rep1", repNet.url)
            val merch = loggedInDevice("merch1", merchNet.url)
            val store = rep.storeByCode("NKA-001")
            val visit = rep.startVisit(store.id)
            rep.syncNow()
            merch.syncNow()

            repNet.cut()
            merchNet.cut()
            val photo = rep.attachPhoto(
                visit.id, writeJpegLike(File(tempDir("fieldsync-gallery-"), "stand.jpg"), seed = 41).path, null,
            )
            val pepsi = rep.addCompetitorSighting(
                visit.id,
                CompetitorSightingInput(
                    competitor = "PepsiCo 百事", seen = "Pepsi 330ml can", shelfPriceMinor = 250,
                    promotion = "second at half price", display = CompetitorDisplay.FLOOR_STAND,
                    photoSha256s = listOf(photo.sha256), note = "by the entrance",
                ),
            )
            Thread.sleep(5)
            val nongfu = merch.addCompetitorSighting(
                visit.id,
                CompetitorSightingInput(
                    competitor = "Nongfu Spring", seen = null, shelfPriceMinor = null, promotion = null,
                    display = null, photoSha256s = emptyList(), note = "",
                ),
            )
            val e = assertFailsWith<FieldsyncException.Invalid> {
                merch.addCompetitorSighting(
                    visit.id,
                    CompetitorSightingInput(
                        competitor = " ", seen = null, shelfPriceMinor = null, promotion = null,
                        display = null, photoSha256s = emptyList(), note = "",
                    ),
                )
            }
            assertEquals("competitor", e.field)

            repNet.restore()
            merchNet.restore()
            rep.syncNow()
            merch.syncNow()
            rep.syncNow()
            for (phone in listOf(rep, merch)) {
                val shown = phone.competitorSightings(visit.id)
                assertEquals(listOf(pepsi, nongfu), shown.map { it.id })
                assertEquals(listOf(photo.sha256), shown[0].photoSha256s)
                assertEquals(CompetitorDisplay.FLOOR_STAND, shown[0].display)
            }

            // Only the author edits or removes a sighting.
            val refused = assertFailsWith<FieldsyncException.Forbidden> {
                merch.removeCompetitorSighting(visit.id, pepsi)
            }
            assertEquals("not_entry_author", refused.code)
            rep.editCompetitorSighting(
                visit.id, pepsi,
                CompetitorSightingInput(
                    competitor = "PepsiCo 百事", seen = "Pepsi 330ml can", shelfPriceMinor = 199,
                    promotion = null, display = CompetitorDisplay.ENDCAP, photoSha256s = emptyList(), note = "",
                ),
            )
            merch.removeCompetitorSighting(visit.id, nongfu)
            assertEquals(199L, rep.competitorSightings(visit.id).single { it.id == pepsi }.shelfPriceMinor)
            assertTrue(merch.competitorSightings(visit.id).none { it.id == nongfu })
        }
    }
}
