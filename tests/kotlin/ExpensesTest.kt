// Expenses on the phone: recorded offline with a receipt, submitted under the rep's tier (the
// demo tenant: a rep's single expense up to 200.00, a supervisor's up to 1,000.00), approved or
// rejected by the supervisor from their own phone, and the decisions back on the rep's phone.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.io.File
import kotlin.test.*

object ExpensesTest : Suite("Expenses") {
    init {
        test("an expense above the rep's limit waits for the supervisor, who decides it") {
            val rep = loggedInDevice("rep1")
            val store = rep.storeByCode("NKA-001")
            val day = today().toString()

            // 35.00 for a taxi, with its receipt: within the rep's limit, submitted at once.
            val taxi = rep.recordExpense(
                ExpenseInput(
                    expenseType = ExpenseType.TRAVEL, amountMinor = 3_500, date = day,
                    storeId = store.id, description = "taxi to the store",
                ),
            )
            assertEquals(ExpenseStatus.DRAFT, taxi.status)
            val receipt = writePng(File(tempDir("fieldsync-gallery-"), "receipt.png"), 24, 40, seed = 21)
            val sha = rep.attachReceipt(taxi.id, receipt.path)
            assertEquals(64, sha.length, sha)
            assertEquals(emptyList(), rep.submitExpense(taxi.id))
            assertEquals(ExpenseStatus.SUBMITTED to sha, rep.expense(taxi.id).let { it.status to it.receiptSha256 })

            // 250.00 and 300.00: above the rep's 200.00, each waits for the supervisor.
            val lunch = rep.recordExpense(
                ExpenseInput(expenseType = ExpenseType.ENTERTAINMENT, amountMinor = 25_000, date = day),
            )
            val display = rep.recordExpense(
                ExpenseInput(expenseType = ExpenseType.DISPLAY_FEE, amountMinor = 30_000, date = day, storeId = store.id),
            )
            for (e in listOf(lunch, display)) {
                assertEquals(listOf("expense_amount_needs_approval"), rep.submitExpense(e.id).map { it.code })
                val waiting = rep.expense(e.id)
                assertEquals(ExpenseStatus.PENDING_APPROVAL to ExpenseApprover.SUPERVISOR, waiting.status to waiting.approver)
            }
            val ours = setOf(taxi.id, lunch.id, display.id)
            assertEquals(ours, rep.expenses().map { it.id }.filter { it in ours }.toSet())
            rep.syncNow()

            val sup = loggedInDevice("sup1")
            assertEquals(ours, sup.expenses().map { it.id }.filter { it in ours }.toSet())
            val e = assertFailsWith<FieldsyncException.Invalid> { sup.rejectExpense(display.id, "  ") }
            assertEquals("comment" to "required", e.field to e.code)
            sup.approveExpense(lunch.id)
            sup.rejectExpense(display.id, "display fees are paid by the key-account team")
            sup.syncNow()

            rep.syncNow()
            assertEquals(ExpenseStatus.APPROVED, rep.expense(lunch.id).status)
            val rejected = rep.expense(display.id)
            assertEquals(ExpenseStatus.REJECTED, rejected.status)
            assertEquals("display fees are paid by the key-account team", rejected.reviewComment)
        }
    }
}
