// A small test runner for the Kotlin binding tests: no JUnit or Gradle on this machine, only
// kotlinc, the Kotlin standard library, kotlin-test's assertions and kotlinx-coroutines. Each
// test runs in `runBlocking`, so it may call the bindings' suspend functions directly.
package com.fieldsync.device.tests

import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking

/** What a running test can use: cleanups run after it, last registered first. */
class TestScope {
    private val cleanups = ArrayDeque<() -> Unit>()

    fun addCleanup(cleanup: () -> Unit) = cleanups.addFirst(cleanup)

    internal fun cleanUp() {
        while (cleanups.isNotEmpty()) {
            runCatching(cleanups.removeFirst()).onFailure { println("  cleanup failed: $it") }
        }
    }
}

class Test(val name: String, val body: suspend TestScope.() -> Unit)

/** A group of tests; each test file declares one. */
open class Suite(val name: String) {
    val tests = mutableListOf<Test>()

    fun test(name: String, body: suspend TestScope.() -> Unit) {
        tests += Test(name, body)
    }
}

/**
 * Runs every test of `suites` whose `suite.test` name contains one of `filters` (all when
 * none), prints one line per test and a summary, and exits with 1 when a test failed.
 */
fun runSuites(suites: List<Suite>, filters: List<String>) {
    var passed = 0
    val failed = mutableListOf<String>()
    for (suite in suites) {
        for (test in suite.tests) {
            val id = "${suite.name}.${test.name}"
            if (filters.isNotEmpty() && filters.none { id.contains(it) }) continue
            val scope = TestScope()
            val started = System.nanoTime()
            val error = try {
                runBlocking { test.body(scope) }
                null
            } catch (e: Throwable) {
                e
            } finally {
                scope.cleanUp()
            }
            val ms = (System.nanoTime() - started) / 1_000_000
            if (error == null) {
                passed += 1
                println("PASS $id ($ms ms)")
            } else {
                failed += id
                println("FAIL $id ($ms ms)")
                error.printStackTrace(System.out)
            }
        }
    }
    println("Kotlin tests: $passed passed, ${failed.size} failed")
    failed.forEach { println("  failed: $it") }
    exitProcess(if (failed.isEmpty() && passed > 0) 0 else 1)
}
