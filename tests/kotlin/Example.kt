// The Kotlin example of docs/mobile-bindings.md (the docs hold this file verbatim; the
// Kotlin binding tests compile and run it).
package com.fieldsync.example

import com.fieldsync.device.*
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/** What the app's screen does with the library's answers. */
interface VisitScreen {
    fun showFlag(message: String)
    fun markField(field: String?, message: String)
    fun toast(message: String)
    fun render(state: SyncState)
    fun render(status: SyncStatus)
    fun crashReport(error: CallbackException)
}

/** The library's log lines in the app's log (Android: `Log.println(priority, "fieldsync", line)`). */
class AppLog(private val write: (LogLevel, String) -> Unit) : LogSink {
    override fun log(level: LogLevel, target: String, message: String) = write(level, "$target: $message")
}

/**
 * Opens this installation's device and signs the user in. Callable from the main thread: the
 * network calls suspend while the library's own thread does the I/O.
 */
suspend fun signIn(dataDir: String, serverUrl: String, username: String, password: String, log: AppLog): FieldsyncDevice {
    setLogSink(log, LogLevel.INFO)
    val device = withContext(Dispatchers.IO) { FieldsyncDevice.open(dataDir, serverUrl) } // disk
    device.login("demo", username, password)
    device.syncNow() // the territory's stores and products
    return device
}

/** Records a visit of store NKA-001 (works offline), then syncs in the background. */
suspend fun recordVisit(device: FieldsyncDevice, here: GeoFix, photoPath: String, screen: VisitScreen): Visit =
    withContext(Dispatchers.IO) { // local calls block for milliseconds: not on the main thread
        val store = device.storeByCode("NKA-001")
        val visit = device.startVisit(store.id)
        device.checkIn(visit.id, here).forEach { screen.showFlag(it.message) }
        VisitStep.entries.forEach { device.recordStep(visit.id, it) }
        device.recordAuditLine(
            visit.id,
            AuditInput(sku = "COLA-330", location = "MAIN-SHELF", facings = 6, onShelf = true),
        )
        device.attachPhoto(visit.id, photoPath, VisitStep.MERCHANDISE)
        try {
            device.checkOut(visit.id, here)
            device.submitVisit(visit.id)
        } catch (e: FieldsyncException.Invalid) {
            e.findings.forEach { screen.markField(it.field, it.message) } // e.g. steps.greet
        } catch (e: FieldsyncException.Forbidden) {
            screen.toast("${e.field}: ${e.detail}") // e.g. notes: visit_frozen
        }

        val observer = object : SyncObserver {
            override fun onState(state: SyncState) = screen.render(state) // on the sync thread

            override fun onStatus(status: SyncStatus) = screen.render(status) // waiting work, last sync

            override fun onError(error: CallbackException) = screen.crashReport(error) // a callback threw
        }
        device.startBackgroundSync(observer, intervalSecs = 300)
        device.visit(visit.id)
    }
