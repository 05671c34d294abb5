// The device library's figures as a Kotlin app sees them (scripts/bench-bindings.sh builds the
// release library, a 200-store / 500-SKU territory on a release server, and runs this on the JVM).
//
// Prints: cold open + login + first sync (each step and the sum), the territory it received, and
// the time of a durable offline edit (an audit line committed to the device database) through
// the bindings: median, p90, p99, max over FIELDSYNC_BENCH_EDITS edits after a warm-up.
package com.fieldsync.bench

import com.fieldsync.device.*
import kotlinx.coroutines.runBlocking

private fun env(name: String): String = System.getenv(name) ?: error("$name is not set")

private fun ms(nanos: Long): String = "%.2f ms".format(nanos / 1_000_000.0)

private fun percentile(sorted: LongArray, p: Double): Long =
    sorted[((sorted.size - 1) * p).toInt().coerceIn(0, sorted.size - 1)]

fun main() = runBlocking {
    val url = env("FIELDSYNC_BENCH_SERVER_URL")
    val dataDir = env("FIELDSYNC_BENCH_DATA_DIR")
    val username = env("FIELDSYNC_BENCH_USER")
    val password = env("FIELDSYNC_BENCH_PASSWORD")
    val edits = env("FIELDSYNC_BENCH_EDITS").toInt()
    val expectedStores = env("FIELDSYNC_BENCH_STORES").toInt()
    val expectedProducts = env("FIELDSYNC_BENCH_PRODUCTS").toInt()

    // Cold: a fresh data directory; the first call also loads the native library through JNA.
    val t0 = System.nanoTime()
    val device = FieldsyncDevice.open(dataDir, url)
    val t1 = System.nanoTime()
    device.login("demo", username, password)
    val t2 = System.nanoTime()
    device.syncNow()
    val t3 = System.nanoTime()
    val stores = device.stores()
    val products = device.products()
    check(stores.size == expectedStores) { "expected $expectedStores stores, got ${stores.size}" }
    check(products.size >= expectedProducts) { "expected ≥ $expectedProducts products, got ${products.size}" }
    println("territory:            ${stores.size} stores, ${products.size} products")
    println("open (cold):          ${ms(t1 - t0)}   (includes loading the native library)")
    println("login:                ${ms(t2 - t1)}")
    println("first sync:           ${ms(t3 - t2)}")
    println("open + login + sync:  ${ms(t3 - t0)}")

    // Durable offline edits: each call returns after the device database committed it. A shelf
    // audit has about 30 lines, so a new visit (of the next store) starts every 30 edits.
    val skus = products.map { it.sku }
    val linesPerVisit = 30
    val warmUp = 50
    val samples = LongArray(edits)
    var visitId = ""
    for (i in 0 until warmUp + edits) {
        if (i % linesPerVisit == 0) {
            val store = stores[(i / linesPerVisit) % stores.size]
            val here = GeoFix(lat = store.lat, lon = store.lon, accuracyM = 5.0, mocked = false)
            visitId = device.startVisit(store.id, null).id
            device.checkIn(visitId, here)
        }
        val line = AuditInput(
            sku = skus[i % skus.size],
            location = "MAIN-SHELF",
            facings = 1 + i % 12,
            onShelf = true,
        )
        val start = System.nanoTime()
        device.recordAuditLine(visitId, line)
        val took = System.nanoTime() - start
        if (i >= warmUp) samples[i - warmUp] = took
    }
    samples.sort()
    println("durable edit (audit line; $edits edits after $warmUp warm-up; $linesPerVisit lines per visit):")
    println("  median ${ms(percentile(samples, 0.5))}   p90 ${ms(percentile(samples, 0.9))}   " +
        "p99 ${ms(percentile(samples, 0.99))}   max ${ms(samples.last())}")
}
