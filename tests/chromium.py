"""A small driver for headless Chromium over the DevTools protocol, for the HTML report's browser tests
and benchmark. Standard library only.

Chromium is started with ``--remote-debugging-pipe``: commands and events travel as NUL-terminated
JSON on two pipes (the child's fds 3 and 4), so no port is opened and no websocket client is needed.
Every run gets a fresh profile in a temporary directory, removed on close.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Debian's package name first; the others are what other systems call it.
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--mute-audio", "--hide-scrollbars"]


def find() -> str | None:
    """The Chromium executable: $EVCKIT_CHROMIUM, else the first of `NAMES` on PATH."""
    env = os.environ.get("EVCKIT_CHROMIUM")
    if env:
        return env
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _high(*fds: int) -> tuple[int, ...]:
    """The same pipe ends moved to fd 10 or above, so that placing them at 3 and 4 in the child
    cannot overwrite one with the other."""
    import fcntl  # noqa: PLC0415 - POSIX only, like the browser tests

    out = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return out


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, died, or took too long."""


class Browser:
    """One headless Chromium process and one page in it."""

    def __init__(self, executable: str, width: int = 1400, height: int = 1000, timeout: float = 120.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="evckit-chromium-")
        to_child_r, self._to_child = _high(*os.pipe())
        self._from_child, from_child_w = _high(*os.pipe())

        def child_fds() -> None:  # runs in the child before exec: the pipes become fds 3 and 4
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [executable, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=child_fds,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log"):
                self.call(f"{domain}.enable")
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
        except BaseException:
            self.close()
            raise

    # --- protocol ---------------------------------------------------------------------------------

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise BrowserError("no answer from Chromium in time")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed the pipe (exit status {self.proc.poll()})")
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        doc: dict[str, Any] = json.loads(msg)
        return doc

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command (to the page's session once attached) and return its result."""
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session is not None and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            doc = self._read(deadline)
            if doc.get("id") == self._next:
                if "error" in doc:
                    raise BrowserError(f"{method}: {doc['error']}")
                result: dict[str, Any] = doc.get("result", {})
                return result
            if "method" in doc:
                self.events.append(doc)

    def wait_event(self, method: str) -> dict[str, Any]:
        """The first (not yet consumed) event of that name, waiting for it."""
        deadline = time.monotonic() + self.timeout
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == method:
                    return self.events.pop(i)
            doc = self._read(deadline)
            if "method" in doc:
                self.events.append(doc)

    # --- page -------------------------------------------------------------------------------------

    def load(self, path: Path) -> float:
        """Open a file, wait until it is loaded and painted; return the seconds that took."""
        self.events = [e for e in self.events if e["method"] != "Page.loadEventFired"]
        start = time.perf_counter()
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.wait_event("Page.loadEventFired")
        # Layout, then two animation frames: the page has been laid out and painted.
        self.evaluate("document.body.getBoundingClientRect().height")
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
        return time.perf_counter() - start

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise BrowserError(f"{expression[:60]}…: {res['exceptionDetails'].get('text')}")
        return res["result"].get("value")

    def screenshot(self, scale: float = 1.0) -> bytes:
        """A PNG of the viewport, optionally scaled down (small ones are quick to inspect)."""
        x, y, w, h = self.evaluate("[window.scrollX, window.scrollY, window.innerWidth, window.innerHeight]")
        clip = {"x": x, "y": y, "width": w, "height": h, "scale": scale}  # page coordinates
        return base64.b64decode(self.call("Page.captureScreenshot", format="png", clip=clip)["data"])

    def pdf(self) -> bytes:
        """The page printed to PDF, as a browser prints it."""
        return base64.b64decode(self.call("Page.printToPDF", landscape=True, printBackground=True)["data"])

    def requests(self) -> list[str]:
        """Every URL the page asked for so far (main document included), blocked or not."""
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def blocked(self) -> dict[str, str]:
        """URL -> why the browser refused to send it (``csp``, …), for requests it stopped itself."""
        urls = {e["params"]["requestId"]: e["params"]["request"]["url"]
                for e in self.events if e["method"] == "Network.requestWillBeSent"}
        return {urls.get(e["params"]["requestId"], "?"): e["params"]["blockedReason"]
                for e in self.events if e["method"] == "Network.loadingFailed" and e["params"].get("blockedReason")}

    def console_errors(self) -> list[str]:
        """Errors the page reported: console errors, uncaught exceptions, CSP violations."""
        out = []
        for e in self.events:
            if e["method"] == "Runtime.exceptionThrown":
                out.append(str(e["params"]["exceptionDetails"].get("text")))
            elif e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error":
                out.append(str(e["params"]["entry"].get("text")))
            elif e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] == "error":
                out.append(str(e["params"]["args"]))
        return out

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        try:
            if self.proc.poll() is None:
                try:
                    self.call("Browser.close")
                except (BrowserError, OSError):
                    pass
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            os.close(self._to_child)
            os.close(self._from_child)
            shutil.rmtree(self.profile, ignore_errors=True)


@contextmanager
def browser(executable: str, **kwargs: Any) -> Iterator[Browser]:
    """A `Browser`, closed (process stopped, profile removed) at the end of the block."""
    b = Browser(executable, **kwargs)
    try:
        yield b
    finally:
        b.close()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the pixels (RGB or RGBA bytes each) of an 8-bit, non-interlaced PNG, as
    Chromium writes them: enough to tell a rendered page from a blank one."""

    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", 0
    height = depth = colour = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if depth != 8 or colour not in (2, 6):
        raise ValueError(f"unsupported PNG (bit depth {depth}, colour type {colour})")
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    pixels: list[bytes] = []
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        pixels.extend(bytes(line[x:x + bpp]) for x in range(0, stride, bpp))
        prev = line
    return width, height, pixels
