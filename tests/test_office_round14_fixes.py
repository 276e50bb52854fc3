"""Office round 14, the reviewer's findings on the day's office-side fixes: the served
console's refusals reach the office in words, and a locked console frees its place; a name
cannot show another person's code behind look-alike brackets; the PIN count goes on where a
file cannot be locked; a correction refused for a kind this version does not know says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.test_admin_browser import PIN, RECORD_SCREEN, Page, browser, wait_for  # noqa: F401
from tests.test_office_round14 import served  # noqa: F401

# --- the served console: what it refuses, it says on the page ---------------------------------


def _notice(page: Page) -> str:
    """The page's own notice (over the terminal) as the office sees it, or "" while hidden."""
    notice = page.driver.find_element(By.CSS_SELECTOR, ".notice.closed")
    return notice.text if notice.is_displayed() else ""


@pytest.mark.ui
def test_a_console_refused_for_too_many_says_why_on_the_page(
    served: str,  # noqa: F811
    browser: tuple[Page, Path],  # noqa: F811
) -> None:
    """With --max-consoles consoles open, the next tab's WebSocket handshake was refused with
    503 and a sentence saying why, which only the browser's developer tools showed: the page
    said "The admin console has closed. [Open it again]", and opening it again did the same.
    Now the page shows the sentence; and the advice it gives holds: locking a console in the
    browser closes it (its process ends), and the next tab opens."""
    page, _ = browser
    driver = page.driver
    driver.get(served)
    page.wait_text("Type the admin PIN")
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_SCREEN})
    driver.get(served)
    wait_for("the page's notice", lambda: bool(_notice(page)), 30)
    said = _notice(page)
    assert "already open" in said and "close its browser tab" in said, said
    second = driver.current_window_handle

    # Lock the first console: it closes, and its place is free for the second tab.
    driver.switch_to.window(first)
    driver.execute_cdp_cmd("Page.bringToFront", {})
    page.mark = 0
    page.type(*PIN, Keys.ENTER)
    page.wait_text("staff code")
    page.type(*"DOFFICE", Keys.ENTER)
    page.wait_text("Admin console \u00b7", "Lock")
    page.type(Keys.CONTROL + "l")
    wait_for("the locked console to close", lambda: bool(_notice(page)), 30)
    assert "has closed" in _notice(page)
    driver.switch_to.window(second)
    driver.execute_cdp_cmd("Page.bringToFront", {})  # the tab the office looks at
    page.mark = 0

    def opened() -> bool:  # "reload this page", as the notice says (its process may be ending)
        driver.get(served)
        wait_for("the page", lambda: bool(_notice(page)) or "admin PIN" in page.text(), 30)
        return "admin PIN" in page.text()

    wait_for("the second tab's console", opened, 40)
    page.wait_text("Type the admin PIN")
    assert _notice(page) == ""
