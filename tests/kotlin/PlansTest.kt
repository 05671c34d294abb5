// A rep's week on the phone: the plan generated offline from the territory, a store taken out,
// one moved and one added back, kept through regeneration; submitted, returned by the supervisor
// with a comment, submitted again and approved; and the rep's weekly report from the phone's own
// data.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.time.DayOfWeek
import java.time.temporal.IsoFields
import kotlin.test.*

object PlansTest : Suite("Plans") {
    init {
        test("a week is planned offline, edited, kept through regeneration and approved") {
            val monday = today().plusWeeks(1).with(DayOfWeek.MONDAY)
            val week = "%d-W%02d".format(monday.get(IsoFields.WEEK_BASED_YEAR), monday.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR))
            val rep = loggedInDevice("rep1")
            assertNull(rep.ownPlan(week))

            val generated = rep.generatePlan(week, dailyCapacity = 4u)
            val plan = generated.plan
            assertEquals(PlanStatus.DRAFT to week, plan.status to plan.week)
            assertTrue(plan.entries.size >= 3, "${plan.entries}")
            assertTrue(plan.entries.all { !it.pinned && it.reason != PlanEntryReason.MANUAL })
            assertTrue(plan.entries.groupBy { it.day }.values.all { it.size <= 4 })
            assertTrue(plan.routeKm >= 0.0)

            // Take the first store out, move the second to Friday's first place, then regenerate.
            val (out, moved) = plan.entries[0].storeId to plan.entries[1].storeId
            val friday = monday.plusDays(4).toString()
            rep.removePlanEntry(plan.id, out)
            rep.movePlanEntry(plan.id, moved, friday, 1u)
            rep.generatePlan(week)
            val regenerated = rep.plan(plan.id)
            assertFalse(regenerated.entries.any { it.storeId == out })
            assertEquals(listOf(out), regenerated.removedStoreIds)
            val kept = regenerated.entries.single { it.storeId == moved }
            assertEquals(Triple(friday, 1u, true), Triple(kept.day, kept.seq, kept.pinned))

            // Added back by hand on Monday.
            rep.addPlanEntry(plan.id, out, monday.toString(), 1u)
            val added = rep.plan(plan.id).entries.single { it.storeId == out }
            assertEquals(PlanEntryReason.MANUAL, added.reason)
            val e = assertFailsWith<FieldsyncException.Invalid> {
                rep.addPlanEntry(plan.id, out, monday.plusDays(7).toString(), 1u)
            }
            assertEquals("plan entry", e.field)

            val report = rep.repWeeklyReport(week)
            assertEquals(rep.plan(plan.id).entries.size.toUInt() to 0u, report.planned to report.done)

            rep.submitPlan(plan.id)
            rep.syncNow()
            val sup = loggedInDevice("sup1")
            assertEquals(PlanStatus.SUBMITTED, sup.plans().single { it.id == plan.id }.status)
            val blank = assertFailsWith<FieldsyncException.Invalid> { sup.returnPlan(plan.id, " ") }
            assertEquals("comment" to "required", blank.field to blank.code)
            sup.returnPlan(plan.id, "two KA stores on Tuesday please")
            sup.syncNow()

            rep.syncNow()
            val returned = assertNotNull(rep.ownPlan(week))
            assertEquals(PlanStatus.RETURNED to "two KA stores on Tuesday please", returned.status to returned.reviewComment)
            rep.submitPlan(plan.id)
            rep.syncNow()
            sup.syncNow()
            sup.approvePlan(plan.id)
            sup.syncNow()
            rep.syncNow()
            assertEquals(PlanStatus.APPROVED, rep.plan(plan.id).status)
        }
    }
}
