// Entry point of the Kotlin binding tests: `java ... com.fieldsync.device.tests.MainKt [filter...]`.
package com.fieldsync.device.tests

val suites =
    listOf(
        FieldDayTest,
        ErrorsTest,
        BackgroundSyncTest,
        LoggingTest,
        NetworkPolicyTest,
        OperationsTest,
        SyncStatusTest,
        ReviewFindingsTest,
        ExpensesTest,
        PlansTest,
        AssortmentTest,
        CompetitorsTest,
        PromotionsTest,
        SuccessTest,
        DeliveryTest,
        ExampleTest,
    )

fun main(args: Array<String>) = runSuites(suites, args.toList())
