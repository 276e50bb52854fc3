"""kiosk admin --serve in a real headless browser (Debian's Chromium driven by Selenium).

The server runs as `kiosk admin --serve` would from the office machine; the browser signs in
with the PIN and an admin's code, reads today's register, goes to another day and exports it
as a CSV, which arrives in the browser's download folder. The screen is read from what the
console sends the page (the terminal's bytes, recorded by a wrapper around the page's
WebSocket), with the terminal's escape sequences taken out.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from kiosk.config import Settings
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school

pytestmark = pytest.mark.ui

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PIN = "402718"
OTHER_DAY = date(2026, 3, 10)

# Every byte the console sends the page, kept in window.__screen (before the page's script runs).
RECORD_SCREEN = """
window.__screen = "";
const decoder = new TextDecoder();
const PageSocket = window.WebSocket;
window.WebSocket = function (url, protocols) {
  const socket = protocols === undefined ? new PageSocket(url) : new PageSocket(url, protocols);
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") {
      window.__screen += decoder.decode(new Uint8Array(event.data), { stream: true });
    }
  });
  return socket;
};
window.WebSocket.prototype = PageSocket.prototype;
Object.assign(window.WebSocket, PageSocket);
"""

_ESCAPES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Page:
    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver
        self.mark = 0

    def text(self) -> str:
        raw = self.driver.execute_script("return window.__screen || '';")
        assert isinstance(raw, str)
        return _ESCAPES.sub("", raw)

    def since_mark(self) -> str:
        return self.text()[self.mark :]

    def set_mark(self) -> None:
        self.mark = len(self.text())

    def wait_text(self, *needles: str, timeout: float = 60.0) -> None:
        """Wait until every needle was drawn since the last mark."""
        try:
            wait_for(
                f"{needles} on the page",
                lambda: all(n in self.since_mark() for n in needles),
                timeout,
            )
        except AssertionError:
            tail = self.since_mark()[-3000:]
            raise AssertionError(f"{needles} not drawn; the page drew:\n{tail}") from None

    def keyboard(self) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")

    def type(self, *keys: str) -> None:
        self.set_mark()
        box = self.keyboard()
        for key in keys:
            box.send_keys(key)
            time.sleep(0.05)


@pytest.fixture
def school(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    monkeypatch.setenv("KIOSK_DATABASE_URL", url)
    monkeypatch.setenv("KIOSK_SCHOOL_NAME", "Hillside Primary")
    clock = FakeClock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    services = Services.open(Settings(database_url=url, kiosk_name="test-kiosk"))
    services = Services(services.ctx.engine, services.settings, clock)
    make_school(services)
    services.admin.set_pin(PIN)
    services.phones.deposit("BJONES")  # on Tuesday 10 March 2026
    clock.set(datetime.now(UTC))
    services.phones.deposit("ASMITH")  # today
    services.close()
    yield url


@pytest.fixture
def server(school: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    workdir = tmp_path / "office"
    workdir.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "admin", "--serve", "--port", str(port)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )

    def answering() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_for("the server to answer", answering, 30)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Page, Path]]:
    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER), (
        "Chromium and its driver are missing: make test installs them (apt-get)"
    )
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager never downloads a browser
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_SCREEN})
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
        )
        yield Page(driver), downloads
    finally:
        driver.quit()


def test_the_office_signs_in_reads_the_register_and_exports_a_day(
    server: str, browser: tuple[Page, Path], tmp_path: Path
) -> None:
    page, downloads = browser
    page.driver.get(server)
    assert page.driver.title == "Staff Room Kiosk: admin console"
    page.wait_text("Type the admin PIN")
    # A web address drawn on the console (in a name, a reason typed at the kiosk) is not a
    # link: the terminal's link handlers open a blank window and send it there; neither that
    # nor a window to another site opens. (The export below opens this server's download.)
    opened = page.driver.execute_script(
        "return [window.open(), window.open('https://evil.example/x', '_blank')];"
    )
    assert opened == [None, None]
    assert len(page.driver.window_handles) == 1

    page.type(*PIN, Keys.ENTER)
    page.wait_text("staff code")
    page.type(*"DOFFICE", Keys.ENTER)
    # Today's register: Alice's phone went in this morning.
    page.wait_text("Alice Smith", "Phone deposited")
    assert "Ben Jones" not in page.since_mark()

    # Another day: Go to date, then the date.
    page.type("g")
    page.wait_text("Go to")
    page.type(*OTHER_DAY.strftime("%d/%m/%Y"), Keys.ENTER)
    page.wait_text("Ben Jones", "Tuesday 10 March 2026")

    # Export that day: the file is written on the server and downloaded by the browser.
    page.type("e")
    page.wait_text("Ready to export Tuesday 10 March 2026")
    page.type(Keys.ENTER)
    page.wait_text("sent to your browser")
    name = "register-2026-03-10.csv"
    wait_for("the download", lambda: (downloads / name).exists(), 30)
    csv = (downloads / name).read_text(encoding="utf-8")
    # That day's events: Ben's phone, not Alice's (list changes name everyone; leave them out).
    events = [line for line in csv.splitlines() if ",reference_changed," not in line]
    assert any("BJONES" in line for line in events)
    assert not any("ASMITH" in line for line in events)
    assert (tmp_path / "office" / name).read_text(encoding="utf-8") == csv
