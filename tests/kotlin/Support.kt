// Shared helpers of the Kotlin binding tests: the server under test, devices in fresh
// directories, a relay that can cut a phone's network, and image files.
//
// Run by tests/e2e/kotlin_bindings.rs, which starts a real server (demo tenant), generates and
// compiles the bindings with these tests, and sets FIELDSYNC_TEST_SERVER_URL.
package com.fieldsync.device.tests

import com.fieldsync.device.*
import java.awt.image.BufferedImage
import java.io.File
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.nio.file.Files
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.Collections
import javax.imageio.ImageIO
import kotlin.concurrent.thread
import kotlin.test.assertEquals

object Env {
    val serverUrl: String =
        System.getenv("FIELDSYNC_TEST_SERVER_URL")
            ?: error(
                "FIELDSYNC_TEST_SERVER_URL is not set: run these tests through " +
                    "tests/e2e/kotlin_bindings.rs (scripts/test.sh runs it)"
            )
}

const val TENANT = "demo"
const val PASSWORD = "demo1234"

/** How long a test waits for the background sync thread (not a timing assertion). */
const val WAIT_SECS = 60L

/** The device library's "today": the UTC date. */
fun today(): LocalDate = LocalDate.now(ZoneOffset.UTC)

fun daysFromToday(n: Long): String = today().plusDays(n).toString()

/** A fresh temporary directory, removed after the test. */
fun TestScope.tempDir(prefix: String): File {
    val dir = Files.createTempDirectory(prefix).toFile()
    addCleanup { dir.deleteRecursively() }
    return dir
}

/** A device in a fresh directory, closed and removed after the test. */
fun TestScope.openDevice(serverUrl: String = Env.serverUrl): Pair<FieldsyncDevice, File> {
    val dir = tempDir("fieldsync-device-")
    val device = FieldsyncDevice.open(dir.path, serverUrl)
    addCleanup { device.close() }
    return device to dir
}

/** A device signed in as a demo user, with its master data synced. */
suspend fun TestScope.loggedInDevice(
    username: String,
    serverUrl: String = Env.serverUrl,
): FieldsyncDevice {
    val (device, _) = openDevice(serverUrl)
    assertEquals(username, device.login(TENANT, username, PASSWORD).username)
    device.syncNow()
    return device
}

/** A loopback URL nothing listens on. */
fun closedPortUrl(): String {
    val port = ServerSocket(0).use { it.localPort }
    return "http://127.0.0.1:$port"
}

/**
 * A TCP relay to the server on a port of its own: the phone's network. `cut()` closes the
 * listener and every relayed connection (connections are refused); `restore()` listens again
 * on the same port.
 */
class Relay(upstreamUrl: String) {
    private val upstream = URI(upstreamUrl).let { InetSocketAddress(it.host, it.port) }
    private val sockets: MutableSet<Socket> = Collections.synchronizedSet(mutableSetOf())
    @Volatile private var listener: ServerSocket? = null
    var port: Int = 0
        private set

    val url: String get() = "http://127.0.0.1:$port"

    init {
        restore()
    }

    fun restore() {
        val server = ServerSocket()
        server.reuseAddress = true
        server.bind(InetSocketAddress("127.0.0.1", port))
        port = server.localPort
        listener = server
        thread(isDaemon = true, name = "relay-accept") { accept(server) }
    }

    fun cut() {
        listener?.close()
        listener = null
        synchronized(sockets) {
            sockets.forEach { runCatching { it.close() } }
            sockets.clear()
        }
    }

    private fun accept(server: ServerSocket) {
        while (true) {
            val client = runCatching { server.accept() }.getOrNull() ?: return
            val backend = runCatching { Socket(upstream.address, upstream.port) }.getOrNull()
            if (backend == null || listener !== server) {
                client.close()
                backend?.close()
                continue
            }
            sockets += client
            sockets += backend
            pipe(client, backend)
            pipe(backend, client)
        }
    }

    private fun pipe(from: Socket, to: Socket) = thread(isDaemon = true, name = "relay-pipe") {
        runCatching { from.getInputStream().copyTo(to.getOutputStream()) }
        runCatching { from.close() }
        runCatching { to.close() }
    }
}

/** A real (decodable) PNG: a shelf photo stand-in. */
fun writePng(file: File, width: Int, height: Int, seed: Int): File {
    val image = BufferedImage(width, height, BufferedImage.TYPE_INT_RGB)
    for (y in 0 until height) for (x in 0 until width) {
        image.setRGB(x, y, ((x * 7 + y * 3 + seed) % 256) * 0x010101)
    }
    check(ImageIO.write(image, "png", file)) { "no PNG writer" }
    return file
}

/**
 * Bytes that start like a JPEG (SOI + APP0) and differ per seed: the device recognises the
 * type by its magic bytes; the server stores what it cannot decode as is.
 */
fun writeJpegLike(file: File, seed: Int, size: Int = 8192): File {
    val body = ByteArray(size) { i -> (((i * 31 + seed * 17) xor (i shr 3)) % 256).toByte() }
    file.writeBytes(byteArrayOf(0xFF.toByte(), 0xD8.toByte(), 0xFF.toByte(), 0xE0.toByte()) + body)
    return file
}

/** The copy of a photo the device keeps in its data directory (`photos/ab/<sha>.<ext>`). */
fun storedPhoto(dataDir: File, sha256: String): File =
    dataDir.walkTopDown().single { it.isFile && it.name.startsWith(sha256) }

/** A little-endian TIFF IFD at offset `start`: entries (tag, type, count, value bytes). */
private fun ifd(entries: List<Triple<Int, Int, ByteArray>>, start: Int): ByteArray {
    val dataAt = start + 2 + 12 * entries.size + 4
    val head = java.nio.ByteBuffer.allocate(2 + 12 * entries.size + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
    val data = java.io.ByteArrayOutputStream()
    head.putShort(entries.size.toShort())
    for ((tag, type, value) in entries.sortedBy { it.first }) {
        head.putShort(tag.toShort()).putShort(type.toShort())
        head.putInt(if (type == 2) value.size else value.size / 4)
        if (value.size <= 4) {
            head.put(value.copyOf(4))
        } else {
            head.putInt(dataAt + data.size())
            data.write(value)
            if (value.size % 2 == 1) data.write(0)
        }
    }
    head.putInt(0)
    return head.array() + data.toByteArray()
}

/**
 * A JPEG-like photo (see [writeJpegLike]) whose EXIF says the camera took it at `takenAt`, on
 * a clock set to UTC+08:00 (DateTimeOriginal with OffsetTimeOriginal, as phone cameras write).
 */
fun writeCameraJpeg(file: File, seed: Int, takenAt: java.time.Instant): File {
    val local = takenAt.atOffset(ZoneOffset.ofHours(8))
    val stamp = java.time.format.DateTimeFormatter.ofPattern("yyyy:MM:dd HH:mm:ss").format(local)
    val ascii = { s: String -> s.toByteArray(Charsets.US_ASCII) + byteArrayOf(0) }
    val ifd0Size = 2 + 12 + 4
    val exif = ifd(listOf(Triple(0x9003, 2, ascii(stamp)), Triple(0x9011, 2, ascii("+08:00"))), 8 + ifd0Size)
    val pointer = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(8 + ifd0Size).array()
    val ifd0 = ifd(listOf(Triple(0x8769, 4, pointer)), 8)
    val header = byteArrayOf(0x49, 0x49, 0x2A, 0, 8, 0, 0, 0)
    val app1 = "Exif".toByteArray() + byteArrayOf(0, 0) + header + ifd0 + exif
    val length = app1.size + 2
    val body = ByteArray(4096) { i -> (((i * 31 + seed * 17) xor (i shr 3)) % 256).toByte() }
    file.writeBytes(
        byteArrayOf(0xFF.toByte(), 0xD8.toByte(), 0xFF.toByte(), 0xE1.toByte(), (length shr 8).toByte(), length.toByte()) +
            app1 + body,
    )
    return file
}
