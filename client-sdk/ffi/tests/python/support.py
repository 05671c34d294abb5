"""Shared helpers of the Python binding tests: the generated module, the server under test,
devices in fresh directories, a relay that can cut the network, and small image files.

Run by tests/e2e/python_bindings.rs (`cargo nextest run -p fieldsync-e2e -E
'test(python_bindings)'`), which starts a real server and generates the bindings, with:
  FIELDSYNC_TEST_SERVER_URL  the server (demo tenant seeded)
  FIELDSYNC_BINDINGS_DIR     the directory holding fieldsync.py and libfieldsync_ffi
"""

import asyncio
import os
import socket
import struct
import sys
import tempfile
import threading
import urllib.parse
import zlib
from datetime import datetime, timedelta, timezone


def _required_env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: run these tests through tests/e2e/python_bindings.rs "
            "(scripts/test.sh runs it), which starts a server and generates the bindings"
        )
    return value


SERVER_URL = _required_env("FIELDSYNC_TEST_SERVER_URL")
sys.path.insert(0, _required_env("FIELDSYNC_BINDINGS_DIR"))

import fieldsync  # noqa: E402  (the generated bindings, found through the path above)

TENANT = "demo"
PASSWORD = "demo1234"
# How long a test waits for the background sync thread before failing (not a timing assertion:
# a sync on loopback takes well under a second).
WAIT_SECS = 60


def wait(operation):
    """Runs a network operation of the bindings (a coroutine: `async def` in Python, `suspend`
    in Kotlin) to its end, as a script does; an app awaits it on its event loop."""
    return asyncio.run(operation)


def today():
    """The device library's "today": the UTC date."""
    return datetime.now(timezone.utc).date()


def iso(day):
    return day.isoformat()


def days_from_today(n):
    return iso(today() + timedelta(days=n))


def open_device(test, server_url=SERVER_URL):
    """A device in a fresh directory, removed after `test`."""
    data_dir = tempfile.TemporaryDirectory(prefix="fieldsync-device-")
    test.addCleanup(data_dir.cleanup)
    return fieldsync.FieldsyncDevice.open(data_dir.name, server_url)


def logged_in_device(test, username, server_url=SERVER_URL):
    """A device signed in as a demo user, with its master data synced."""
    device = open_device(test, server_url)
    profile = wait(device.login(TENANT, username, PASSWORD))
    test.assertEqual(profile.username, username)
    wait(device.sync_now())
    return device


def closed_port_url():
    """A loopback URL nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Relay:
    """A TCP relay to the server on a port of its own: the phone's network. `cut()` closes the
    listener and every relayed connection (the phone loses signal: connections are refused);
    `restore()` listens again on the same port."""

    def __init__(self, upstream_url):
        parsed = urllib.parse.urlsplit(upstream_url)
        self.upstream = (parsed.hostname, parsed.port)
        self.port = None
        self.listener = None
        self.lock = threading.Lock()
        self.sockets = set()
        self.restore()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        with self.lock:
            listener, self.listener = self.listener, None
            sockets, self.sockets = self.sockets, set()
        if listener is not None:
            _close(listener)
        for s in sockets:
            _close(s)

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _close(client)
                continue
            with self.lock:
                if self.listener is not listener:
                    _close(client)
                    _close(server)
                    return
                self.sockets.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _close(src)
        _close(dst)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def write_png(path, width, height, seed):
    """A real (decodable) RGB PNG: a shelf photo stand-in."""
    rows = b"".join(
        b"\x00" + bytes(((x * 7 + y * 3 + seed) % 256) for x in range(width * 3))
        for y in range(height)
    )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    with open(path, "wb") as f:
        f.write(png)
    return path


def write_jpeg_like(path, seed, size=8192):
    """Bytes that start like a JPEG (SOI + APP0 markers) and are distinct per seed: the device
    recognises the type by its magic bytes; the server stores what it cannot decode as is."""
    body = bytes(((i * 31 + seed * 17) ^ (i >> 3)) % 256 for i in range(size))
    with open(path, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + body)
    return path


def _ifd(entries, start):
    """A little-endian TIFF IFD at offset `start`: (tag, type, count, value bytes) entries,
    values over 4 bytes stored after the directory."""
    data_at = start + 2 + 12 * len(entries) + 4
    head, data = struct.pack("<H", len(entries)), b""
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            head += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            head += struct.pack("<HHII", tag, kind, count, data_at + len(data))
            data += value + (b"\0" if len(value) % 2 else b"")
    return head + struct.pack("<I", 0) + data


def write_camera_jpeg(path, seed, taken_at, utc_offset_hours=8):
    """A JPEG-like photo (see `write_jpeg_like`) whose EXIF APP1 segment says the camera took
    it at `taken_at` (an aware datetime), on a clock set to UTC+`utc_offset_hours`:
    DateTimeOriginal with OffsetTimeOriginal, as phone cameras write them."""
    local = taken_at.astimezone(timezone(timedelta(hours=utc_offset_hours)))
    when = local.strftime("%Y:%m:%d %H:%M:%S").encode() + b"\0"
    sign = "+" if utc_offset_hours >= 0 else "-"
    offset = f"{sign}{abs(utc_offset_hours):02d}:00".encode() + b"\0"
    ascii_type, long_type = 2, 4
    ifd0_size = 2 + 12 + 4
    exif_ifd = _ifd(
        [(0x9003, ascii_type, len(when), when), (0x9011, ascii_type, len(offset), offset)],
        8 + ifd0_size,
    )
    ifd0 = _ifd([(0x8769, long_type, 1, struct.pack("<I", 8 + ifd0_size))], 8)
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd0 + exif_ifd
    app1 = b"Exif\0\0" + tiff
    body = bytes(((i * 31 + seed * 17) ^ (i >> 3)) % 256 for i in range(4096))
    with open(path, "wb") as f:
        f.write(b"\xff\xd8\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + body)
    return path
