// Entry point of the Kotlin binding tests: `java ... com.fieldsync.device.tests.MainKt [filter...]`.
package com.fieldsync.device.tests

fun main(args: Array<String>) =
    runSuites(
        listOf(FieldDayTest, ErrorsTest, BackgroundSyncTest, LoggingTest, OperationsTest, SyncStatusTest, ExampleTest),
        args.toList(),
    )
