// The delivery of an order, recorded on the phone offline: by the rep who took it, once, on a
// submitted order, dated from the order date to today; refused otherwise with the write
// policy's code (as the server would), and on the rep's other phone after a sync.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import kotlin.test.*

object DeliveryTest : Suite("Delivery") {
    init {
        test("a rep records an order's delivery once, not in the future nor before the order") {
            val rep = loggedInDevice("rep1")
            val store = rep.storeByCode("NKA-002")
            val order = rep.createOrder(store.id, daysFromToday(store.deliveryLeadDays + 1L), PaymentMethod.CASH)
            rep.setOrderLine(order.id, "COLA-330", 24)

            // A draft is not delivered.
            val draft = assertFailsWith<FieldsyncException.Forbidden> { rep.recordDelivery(order.id, today().toString()) }
            assertEquals("delivery" to "order_not_sold", draft.field to draft.code)
            assertEquals(OrderStatus.SUBMITTED, rep.submitOrder(order.id).status)

            for ((day, what) in listOf(daysFromToday(1) to "in the future", daysFromToday(-1) to "before the order date")) {
                val e = assertFailsWith<FieldsyncException.Forbidden> { rep.recordDelivery(order.id, day) }
                assertEquals("delivery" to "delivery_date_invalid", e.field to e.code)
                assertContains(e.detail, what)
            }
            assertFailsWith<FieldsyncException.Invalid> { rep.recordDelivery(order.id, "yesterday") }
            assertNull(rep.order(order.id).deliveredOn)

            // Offline is fine: nothing leaves the phone until the sync.
            val delivered = rep.recordDelivery(order.id, today().toString())
            assertEquals(today().toString(), delivered.deliveredOn)
            val again = assertFailsWith<FieldsyncException.Forbidden> { rep.recordDelivery(order.id, today().toString()) }
            assertEquals("delivery" to "delivery_recorded", again.field to again.code)
            rep.syncNow()

            // The rep's second phone receives it from the server.
            val other = loggedInDevice("rep1")
            assertEquals(today().toString(), other.order(order.id).deliveredOn)
        }
    }
}
