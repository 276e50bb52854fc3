"""kiosk admin --serve against other web pages: what a page from another site, open in the
office's browser, may do with the console's server (red team, round 9).

Each test here failed on the code before its fix (see the commit that added it).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.test_admin_browser import school, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.ui


async def _handshake(url: str, origin: str | None, host: str | None = None) -> tuple[int, str]:
    """Open the console's WebSocket as a browser would from a page at ``origin``: the HTTP
    status of the handshake, and what the console drew in its first seconds."""
    headers = {}
    if origin is not None:
        headers["Origin"] = origin
    if host is not None:
        headers["Host"] = host
    ws_url = url.replace("http://", "ws://") + "ws?width=80&height=24"
    drawn = ""
    async with aiohttp.ClientSession() as session:
        try:
            socket = await session.ws_connect(ws_url, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, drawn
        async with socket:
            await socket.send_str(json.dumps(["resize", {"width": 80, "height": 24}]))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while "admin PIN" not in drawn and loop.time() < deadline:
                try:
                    message = await socket.receive(timeout=deadline - loop.time())
                except TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.BINARY:
                    drawn += message.data.decode("utf-8", "replace")
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
            return 101, drawn


@pytest.mark.parametrize(
    "origin, host",
    [
        ("https://evil.example", None),  # any site the office has open
        ("null", None),  # a sandboxed frame or a file:// page
        # DNS rebinding: the other site's name made to point at 127.0.0.1, so the page and
        # the WebSocket are "same origin" for the browser; only the name gives it away.
        ("http://rebind.evil.example:{port}", "rebind.evil.example:{port}"),
    ],
)
def test_a_page_from_another_site_cannot_open_a_console(
    server: str,  # noqa: F811
    origin: str,
    host: str | None,
) -> None:
    """Browsers let any page open a WebSocket to any address (the same-origin rule does not
    cover WebSockets): a page on another site, open in the office's browser, opened
    ws://127.0.0.1:8000/ws (or the school's wss:// address through the proxy, which the
    office's network may reach) and got a `kiosk admin` process of its own for each socket.
    It could start them until the server ran out of memory, and type PINs into them: wrong
    PINs lock the pad shared by every browser session, so the office was kept out of its
    console, five wrong PINs every five minutes. The server now opens a console only for a
    page of its own address (the --public-url's, or this machine's)."""
    port = urlsplit(server).port
    status, drawn = asyncio.run(
        _handshake(server, origin.format(port=port), host and host.format(port=port))
    )
    assert status == 403, f"handshake answered {status}; the console drew: {drawn[-300:]!r}"
    assert "admin PIN" not in drawn


def test_the_consoles_own_page_still_opens_it(server: str) -> None:  # noqa: F811
    """The page the server itself serves (its address, or this machine's other names for
    it) still gets its console."""
    port = urlsplit(server).port
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        status, drawn = asyncio.run(_handshake(server, origin))
        assert status == 101
        assert "admin PIN" in drawn, drawn[-300:]


def test_behind_the_schools_proxy_the_public_address_is_the_consoles_own() -> None:
    """Behind the HTTPS proxy (README), the page is at --public-url: that origin opens a
    console; the same name over plain HTTP, another port or another name does not."""
    from kiosk.ui.admin.serve import allowed_origins, origin_allowed

    allowed = allowed_origins("127.0.0.1", 8000, "https://Kiosk.School.example/")
    assert origin_allowed("https://kiosk.school.example", allowed)
    assert origin_allowed("https://kiosk.school.example:443", allowed)
    assert origin_allowed("http://localhost:8000", allowed)  # on the server itself
    for other in (
        "http://kiosk.school.example",
        "https://kiosk.school.example:8443",
        "https://kiosk.school.example.evil.example",
        "https://evil.example",
        "null",
        "",
        None,
    ):
        assert not origin_allowed(other, allowed), other


def test_no_other_site_may_show_the_console_in_a_frame(server: str) -> None:  # noqa: F811
    """A page of another site could show the console in a frame (its WebSocket then comes
    from the console's own page, so the Origin check lets it through) under buttons of its
    own, and have the office type or click into it unseen (clickjacking). The console's page
    says no browser may frame it."""

    async def headers() -> tuple[int, dict[str, str]]:
        async with aiohttp.ClientSession() as session, session.get(server) as response:
            return response.status, dict(response.headers)

    status, got = asyncio.run(headers())
    assert status == 200
    assert got.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in got.get("Content-Security-Policy", "")
