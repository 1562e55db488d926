"""Drive the web chat page in Debian's headless Chromium with Playwright (tests, smoke checks).

Playwright's Python package bundles its driver; the browser is Debian's `chromium` package, never a
Playwright download (the machines reach package registries only). Typical use:

    path = ensure_chromium()               # BrowserUnavailable (with a reason) when none can be had
    with chromium_page(path) as page:
        chat = WebChat(page).open("http://127.0.0.1:9001", phone="919876543210", name="Asha")
        chat.send_text("hi")
        chat.wait_for_bot_text("Hello")
        chat.press_button("Yes")
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, ViewportSize

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PHONE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}
SMALL_PHONE_VIEWPORT: ViewportSize = {"width": 360, "height": 640}
INSTALL_LOCK = Path("/tmp/sandbox-chromium-install.lock")
INSTALL_TIMEOUT_SECONDS = 900


class BrowserUnavailable(RuntimeError):
    """No headless Chromium can be had here; the message says why."""


def find_chromium() -> str | None:
    for path in (os.environ.get("CHROMIUM_PATH", ""), *CHROMIUM_CANDIDATES):
        if path and os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def _apt(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)


def ensure_chromium(install: bool = True) -> str:
    """The Chromium executable; installs Debian's package first when allowed and running as root."""
    found = find_chromium()
    if found:
        return found
    if not install:
        raise BrowserUnavailable("chromium is not installed (apt-get install chromium)")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BrowserUnavailable("chromium is not installed and this user cannot apt-get install it")
    # one installer at a time: parallel test runs would otherwise fight over dpkg's lock
    with open(INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if found := find_chromium():
            return found
        packages = ["install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", "chromium", "chromium-driver"]
        try:
            done = _apt(packages)
            if done.returncode:
                # a fresh machine may have no package lists yet: update once, then try again
                _apt(["update", "-q"])
                done = _apt(packages)
            if done.returncode:
                raise BrowserUnavailable(f"apt-get install chromium failed: {done.stderr.strip()[-300:]}")
        except subprocess.TimeoutExpired as exc:
            raise BrowserUnavailable(f"apt-get install chromium timed out after {exc.timeout:.0f} s") from exc
    found = find_chromium()
    if not found:
        raise BrowserUnavailable("apt-get installed chromium but no executable was found")
    return found


@contextlib.contextmanager
def chromium_page(
    executable: str | None = None, viewport: ViewportSize | None = None, default_timeout_ms: int = 15000
) -> Iterator[Page]:
    """A fresh page (own profile, phone-sized viewport) in headless Chromium, closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailable("the playwright package is not installed (pip install playwright)") from exc
    path = executable or ensure_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=viewport or PHONE_VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            page.set_default_timeout(default_timeout_ms)
            yield page
        finally:
            browser.close()


class WebChat:
    """Page object for the simulator's web chat (the ids and data-testid attributes in static/)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, sim_url: str, phone: str | None = None, name: str | None = None) -> WebChat:
        query = urlencode({k: v for k, v in (("phone", phone), ("name", name)) if v})
        self.page.goto(f"{sim_url.rstrip('/')}/" + (f"?{query}" if query else ""))
        if phone:
            self.page.locator("body[data-ready='true']").wait_for()
        return self

    def reload(self) -> WebChat:
        """Reload the page (same phone) and wait until it has shown the conversation again."""
        self.page.reload()
        self.page.locator("body[data-ready='true']").wait_for()
        return self

    def tid(self, testid: str) -> Locator:
        return self.page.locator(f"[data-testid='{testid}']")

    def send_text(self, text: str) -> None:
        self.tid("composer-input").fill(text)
        self.tid("send-button").click()

    def send_photo(self) -> None:
        self.tid("photo-button").click()

    def bot_messages(self) -> Locator:
        return self.tid("bot-message")

    def user_messages(self) -> Locator:
        return self.tid("user-message")

    def wait_for_bot_text(self, text: str) -> Locator:
        """The last bot bubble containing `text` (waits for it)."""
        bubble = self.bot_messages().filter(has_text=text).last
        bubble.wait_for()
        return bubble

    def press_button(self, title: str) -> None:
        """Press the most recent reply button with this title."""
        self.tid("reply-button").filter(has_text=title).last.click()

    def pick_list_row(self, title: str) -> None:
        """Open the most recent list message and pick a row."""
        self.tid("list-open").last.click()
        self.tid("list-sheet").wait_for()
        self.tid("list-row").filter(has_text=title).first.click()

    def in_view(self, target: Locator) -> bool:
        """Whether the element lies wholly inside the visible part of the message list (bounding boxes)."""
        box, area = target.bounding_box(), self.tid("messages").bounding_box()
        if box is None or area is None:
            return False
        return (
            box["y"] >= area["y"] - 0.5
            and box["y"] + box["height"] <= area["y"] + area["height"] + 0.5
            and box["x"] >= area["x"] - 0.5
            and box["x"] + box["width"] <= area["x"] + area["width"] + 0.5
        )

    def wait_in_view(self, target: Locator, timeout: float = 2.0) -> bool:
        """Waits up to `timeout` s for the element to be scrolled wholly into view; False if it never is."""
        deadline = time.monotonic() + timeout
        while not self.in_view(target):
            if time.monotonic() > deadline:
                return False
            self.page.wait_for_timeout(50)
        return True

    def transcript(self) -> list[dict[str, object]]:
        """What the message list shows, in order: each bubble (side, kind, ticks, wamid, text without the
        time) with its reply buttons and list opener, and each error notice."""
        return self.page.evaluate("""() => [...document.querySelectorAll('#messages > .row, #messages > .notice.error')]
          .map((node) => {
            if (node.classList.contains('notice')) return { notice: node.textContent };
            const b = node.querySelector('.bubble');
            const copy = b.cloneNode(true);
            copy.querySelectorAll('.meta, .list-open').forEach((n) => n.remove());
            return {
              testid: b.dataset.testid, kind: b.dataset.kind, status: b.dataset.status || null,
              wamid: b.dataset.wamid || null, text: copy.textContent,
              buttons: [...node.querySelectorAll('.reply-button')].map((n) => n.textContent),
              list: [...node.querySelectorAll('.list-open')].map((n) => n.textContent),
            };
          })""")

    def screenshot(self, path: str) -> None:
        self.page.screenshot(path=path, full_page=False)
