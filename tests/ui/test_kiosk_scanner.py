"""The scanner wedge: payloads are recognised whatever has the focus; typing is untouched."""

from __future__ import annotations

from kiosk.ui.scanner import ScanWedge


def feed_all(wedge: ScanWedge[str], keys: list[tuple[str, str | None]], start: float = 0.0):
    released: list[str] = []
    scans: list[str] = []
    now = start
    for key, char in keys:
        out = wedge.feed(key, key, char, now)
        released += out.release
        if out.scan is not None:
            scans.append(out.scan)
        now += 0.005
    return released, scans, now


def chars(text: str) -> list[tuple[str, str | None]]:
    return [(c, c) for c in text]


def test_payload_and_enter_is_one_scan_and_reaches_no_widget() -> None:
    wedge: ScanWedge[str] = ScanWedge()
    released, scans, _ = feed_all(wedge, [*chars("SRK1:S:ASMITH"), ("enter", "\r")])
    assert released == [] and scans == ["SRK1:S:ASMITH"]
    assert not wedge.pending


def test_typing_a_code_that_starts_with_s_goes_through_in_order() -> None:
    wedge: ScanWedge[str] = ScanWedge()
    released, scans, _ = feed_all(wedge, [*chars("SMITH"), ("enter", "\r")])
    assert released == ["S", "M", "I", "T", "H", "enter"] and scans == []
    released, scans, _ = feed_all(wedge, [*chars("SRx")])
    assert released == ["S", "R", "x"]


def test_a_held_key_is_let_go_after_a_moment() -> None:
    wedge: ScanWedge[str] = ScanWedge(hold_seconds=0.5)
    out = wedge.feed("s", "s", "s", 10.0)
    assert out.release == [] and wedge.pending
    assert wedge.expire(10.2).release == []
    assert wedge.expire(10.6).release == ["s"]
    assert not wedge.pending


def test_a_scanner_without_enter_suffix_and_one_with_cr_lf() -> None:
    wedge: ScanWedge[str] = ScanWedge(hold_seconds=0.5)
    _, scans, now = feed_all(wedge, chars("srk1:d:lap-001"))
    assert scans == []
    assert wedge.expire(now + 1).scan == "srk1:d:lap-001"
    _, scans, now = feed_all(wedge, [*chars("SRK1:S:BJONES"), ("enter", "\r")], start=20.0)
    out = wedge.feed("ctrl+j", "ctrl+j", "\n", now)  # the LF straight after the CR
    assert scans == ["SRK1:S:BJONES"] and out.release == [] and out.scan is None
    # A person's Enter a moment later is theirs again.
    assert wedge.feed("enter", "enter", "\r", now + 1).release == ["enter"]


def test_only_keys_straight_after_a_scan_are_its_trailer() -> None:
    """A Tab or LF straight after a scan's Enter is the scanner's suffix (swallowed); once
    the person has pressed another key, their Tab is theirs, however soon it comes."""
    wedge: ScanWedge[str] = ScanWedge(trailer_seconds=0.15)
    _, scans, now = feed_all(wedge, [*chars("SRK1:D:LAP-001"), ("enter", "\r")])
    assert scans == ["SRK1:D:LAP-001"]
    assert wedge.feed("ctrl+j", "ctrl+j", "\n", now).release == []  # CR LF
    assert wedge.feed("tab", "tab", "\t", now + 0.01).release == []  # CR LF Tab
    # The sign-out form: the reason's digit, then Tab to the return time, 30 ms later.
    assert wedge.feed("4", "4", "4", now + 0.02).release == ["4"]
    assert wedge.feed("tab", "tab", "\t", now + 0.05).release == ["tab"]
    # The same when the key went to a screen that reads no scans (the app tells the wedge).
    _, _, now = feed_all(wedge, [*chars("SRK1:S:ASMITH"), ("enter", "\r")], start=10.0)
    wedge.passed_by()
    assert wedge.feed("tab", "tab", "\t", now + 0.03).release == ["tab"]


def test_an_interrupted_payload_is_given_back() -> None:
    wedge: ScanWedge[str] = ScanWedge()
    released, scans, _ = feed_all(wedge, [*chars("SRK1:S"), ("escape", None)])
    assert scans == [] and "".join(k for k in released if len(k) == 1) == "SRK1:S"
    assert released[-1] == "escape"


def test_a_pasted_payload_is_a_scan() -> None:
    wedge: ScanWedge[str] = ScanWedge()
    assert wedge.paste("SRK1:D:WP-01\r\n") == "SRK1:D:WP-01"
    assert wedge.paste("some text\nSRK1:D:WP-01") is None
