"""Headless Chromium driven over the DevTools protocol, to screenshot a page after a click (the
UI hides plots behind a "Show Markdown" button). Loopback only; the browser is stopped by PID."""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

from websockets.sync.client import connect

from tests.dagster_graphql_client import free_port


class ChromiumPage:
    """One browser tab: navigate, wait for text, click an element by its text, screenshot."""

    def __init__(self, socket, size: tuple[int, int]):
        self._socket = socket
        self._ids = itertools.count(1)
        self._size = size

    def call(self, method: str, **params) -> dict:
        """Send one DevTools command and return its result (events in between are skipped)."""
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=60))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page."""
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 90) -> None:
        """Wait until a JavaScript expression is true in the page."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression} never became true")
            time.sleep(1)

    def wait_for_text(self, text: str, timeout: float = 90) -> None:
        """Wait until the page's visible text contains `text`."""
        self.wait_until(f"document.body && document.body.innerText.includes({json.dumps(text)})", timeout)

    def click_text(self, text: str) -> None:
        """Click the first button or link whose text is `text`."""
        found = self.evaluate(
            f"(() => {{ const el = [...document.querySelectorAll('button, a')]"
            f".find(e => e.innerText && e.innerText.trim() === {json.dumps(text)}); "
            "if (el) el.click(); return !!el; })()"
        )
        if not found:
            raise LookupError(f"nothing to click reads {text!r}")

    def screenshot(self, path: Path) -> None:
        """Save what the tab shows as a PNG, at the page's size."""
        # Setting the viewport right before capturing also makes headless Chromium repaint dialogs.
        width, height = self._size
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(1)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))


@contextmanager
def chromium_page(chromium: str, flags: list[str], profile: Path, url: str, size: tuple[int, int] = (1600, 1000)):
    """A headless Chromium showing `url` at `size`, with its DevTools socket on a free loopback port."""
    port = free_port()
    browser = subprocess.Popen(
        [
            chromium,
            *flags,
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-allow-origins=*",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                    pages = [target for target in json.loads(response.read()) if target["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or browser.poll() is not None:
                raise RuntimeError("Chromium's DevTools socket did not come up")
            time.sleep(0.5)
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None) as socket:
            yield ChromiumPage(socket, size)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGKILL)
        browser.wait(timeout=30)
