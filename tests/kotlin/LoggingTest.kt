// The library's log lines reach the app's log sink (Logcat on Android).
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.util.Collections
import kotlin.test.*

data class LogLine(val level: LogLevel, val target: String, val message: String)

/** A log sink keeping every line. */
class LogLines : LogSink {
    val lines: MutableList<LogLine> = Collections.synchronizedList(mutableListOf())

    override fun log(level: LogLevel, target: String, message: String) {
        lines += LogLine(level, target, message)
    }
}

object LoggingTest : Suite("Logging") {
    init {
        test("the sink receives the library's lines at its level, and nothing once removed") {
            val logs = LogLines()
            setLogSink(logs, LogLevel.DEBUG)
            addCleanup { setLogSink(null, LogLevel.INFO) }
            val device = loggedInDevice("rep1")
            val observer = Recorder()
            device.startBackgroundSync(observer)
            device.requestSync()
            observer.until { it is SyncState.Synced }
            device.stopBackgroundSync()
            val sync = logs.lines.filter { it.target == "fieldsync::sync" }.map { it.level to it.message }
            assertContains(sync, LogLevel.INFO to "syncing")
            assertTrue(logs.lines.any { it.level == LogLevel.DEBUG }, "debug lines: ${logs.lines}")

            setLogSink(null, LogLevel.TRACE)
            val before = logs.lines.size
            device.syncNow()
            assertEquals(before, logs.lines.size)
        }
    }
}
