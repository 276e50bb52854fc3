"""``kiosk admin --serve``: the admin console in the office's browser, through textual-serve.

Each browser tab that opens the page gets its own ``kiosk admin`` process (textual-serve
starts one per connection and drives it over a WebSocket), so the office signs in with the
PIN and an admin's badge or code exactly as at the kiosk. The server listens on 127.0.0.1
unless told otherwise: put it behind the school's HTTPS reverse proxy (README) and give the
proxy's address as ``public_url``, which the page uses for its WebSocket. The page is the
kiosk's own (assets/serve/app_index.html): it loads nothing from outside the school.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shlex
import sys
from typing import Any
from urllib.parse import urlsplit

from kiosk.domain.text import terminal_text
from kiosk.resources import assets_dir

TITLE = "Staff Room Kiosk: admin console"
log = logging.getLogger("kiosk.ui.admin.serve")
# Consoles open at once: each is a `kiosk admin` process (about 80 MB). An office needs one
# or two; without a limit, anything that reached the server could start them until the
# machine (often the kiosk itself) ran out of memory.
MAX_CONSOLES = 4
# The console's terminal, in cells: a browser asks for its window's size (in the address and
# in each "resize"). More than any screen shows (100000 x 100000: ten thousand million cells
# drawn and sent) took the process's memory and a core while the socket stayed open.
MAX_WIDTH = 1000
MAX_HEIGHT = 500
TOO_BIG = (
    "The admin console draws at most {w} x {h} characters: make the browser window smaller "
    "(or zoom in), then reload this page.\n"
)
TOO_MANY = (
    "{n} admin console{s} already open on this server, the most it opens at once. Close one "
    "(close its browser tab, or lock it: a locked console closes) and reload this page.\n"
)
# The page's own message (assets/serve/app_index.html): a console refused, and why.
REFUSED = "refused"


class TerminalSafeRecords(logging.Filter):
    """Each log record's text as ``terminal_text`` makes it (C0 and C1 controls, bidi
    overrides and invisible characters as U+FFFD; line breaks kept), before a handler writes
    it to the terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = terminal_text(record.getMessage())
        record.args = None
        return True


def console_command(*, demo: bool = False) -> str:
    """The shell command textual-serve runs for each browser session."""
    argv = [sys.executable, "-m", "kiosk", *(["--demo"] if demo else []), "admin"]
    return " ".join(shlex.quote(arg) for arg in argv)


def _cells(value: object, default: int) -> int | None:
    """A size as the page sends it (a number, or a number's text): None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if value == value and abs(value) < 1e9 else None
    if isinstance(value, str):
        try:
            return int(float(value)) if value.strip() else default
        except (ValueError, OverflowError):
            return None
    return None


def screen_size(width: object, height: object) -> tuple[int, int]:
    """The size a "resize" asks for, within 1 to MAX_WIDTH x MAX_HEIGHT cells (what is not a
    number: 80 x 24)."""
    w = _cells(width, 80)
    h = _cells(height, 24)
    return (
        80 if w is None else min(max(w, 1), MAX_WIDTH),
        24 if h is None else min(max(h, 1), MAX_HEIGHT),
    )


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` as a browser sends it in ``Origin`` (lower case, no
    default port), or None when it has none."""
    try:
        parts = urlsplit(url.strip())
        scheme, name, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not name:
        return None
    netloc = f"[{name}]" if ":" in name else name
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


# A name a browser opens: labels of letters, digits and hyphens, or an IPv6 address.
_HOST_NAME = re.compile(
    r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|[0-9a-f:.]+"
)


def is_loopback(host: str) -> bool:
    """``host`` is this machine only (127.0.0.1, ::1, localhost): nothing on the network
    reaches a server listening there."""
    import ipaddress

    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def network_refusal(host: str, public_url: str | None) -> str | None:
    """Why the console may not be served so, in words (None when it may): served to the
    network only with TLS in front of it (a ``public_url`` that is ``https://``), and only
    at an address a browser opens. Over plain HTTP the PIN and all the console shows cross
    the school's network in clear."""
    example = "https://kiosk.school.example"
    if public_url is not None:
        origin = _origin(public_url)
        name = urlsplit(origin).hostname if origin else None
        if origin is None or not _HOST_NAME.fullmatch((name or "").strip("[]")):
            return (
                f"--public-url {public_url!r} is not an address a browser opens the console "
                f"at: give the school's HTTPS address whole, e.g. {example}"
            )
        if origin.startswith("http://") and not is_loopback(urlsplit(origin).hostname or ""):
            return (
                f"--public-url {public_url!r} is plain HTTP: the PIN would cross the network "
                f"in clear. Put the school's HTTPS reverse proxy in front (README), e.g. {example}"
            )
    if not is_loopback(host) and (
        public_url is None or not (_origin(public_url) or "").startswith("https://")
    ):
        return (
            f"--host {host} serves the console to the network without TLS: the PIN would "
            "cross it in clear. Leave --host out (127.0.0.1) and put the school's HTTPS "
            f"reverse proxy in front (README); a proxy on another machine: give its address "
            f"as --public-url, e.g. {example}"
        )
    return None


def allowed_origins(host: str, port: int, public_url: str | None) -> frozenset[str]:
    """The pages that may open a console: the address browsers are told to use
    (``public_url``), and this server's own address and this machine's names for it (its
    own address only when that is this machine's: on the network, a page over plain HTTP
    opens none)."""
    names = {"127.0.0.1", "localhost", "::1"} | ({host} if is_loopback(host) else set())
    found = {_origin(f"http://{f'[{n}]' if ':' in n else n}:{port}") for n in names}
    if public_url:
        found.add(_origin(public_url))
    return frozenset(o for o in found if o)


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    """A browser sends the page's origin with every WebSocket handshake, and the same-origin
    rule does not stop a page from opening a WebSocket anywhere: the console is opened only
    for a page of its own (any other site open in the office's browser, a page whose name was
    pointed at this server, a sandboxed frame with origin ``null`` are refused)."""
    return origin is not None and _origin(origin) in allowed


async def _relay(websocket: Any, app_service: Any) -> None:
    """What the page sends, to the console's process, as textual-serve relays it: keys,
    resizes (kept within bounds), pings, focus. Anything else is ignored."""
    from aiohttp import WSMsgType

    async for message in websocket:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            envelope = json.loads(message.data)
        except ValueError:
            continue
        if not isinstance(envelope, list) or not envelope:
            continue
        kind = envelope[0]
        data = envelope[1] if len(envelope) > 1 else None
        if kind == "stdin" and isinstance(data, str):
            await app_service.send_bytes(data.encode("utf-8"))
        elif kind == "resize" and isinstance(data, dict):
            await app_service.set_terminal_size(*screen_size(data.get("width"), data.get("height")))
        elif kind == "ping":
            await websocket.send_json(["pong", data])
        elif kind == "blur":
            await app_service.blur()
        elif kind == "focus":
            await app_service.focus()


# Sent with the console's page: no frame of another site (nor of its own) may show it.
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def serve_admin(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    public_url: str | None = None,
    demo: bool = False,
    max_consoles: int = MAX_CONSOLES,
) -> None:
    """Serve the admin console until interrupted (Ctrl+C or SIGTERM)."""
    from aiohttp import web
    from textual_serve.server import Server

    allowed = allowed_origins(host, port, public_url)
    open_consoles = 0

    async def refuse(request: web.Request, status: int, sentence: str) -> web.WebSocketResponse:
        """No console, in words the page shows: a refused handshake (a 503) only fired the
        page's "close" (devtools alone showed why), so the socket is opened, told why and
        closed, before any process starts. The close code is 4000 + the HTTP status."""
        websocket = web.WebSocketResponse(timeout=5)
        await websocket.prepare(request)
        await websocket.send_json([REFUSED, sentence.strip()])
        await websocket.close(code=4000 + status, message=b"no console")
        return websocket

    class OfficeServer(Server):  # type: ignore[misc, unused-ignore]
        def initialize_logging(self) -> None:
            # textual-serve's log, on the terminal the server runs in, quotes what a request
            # chose (the access line's User-Agent and Referer): every record goes through
            # terminal_text, so no C1 control or bidi override in one reaches that terminal.
            super().initialize_logging()
            for handler in logging.getLogger().handlers:
                handler.addFilter(TerminalSafeRecords())

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            nonlocal open_consoles
            if not origin_allowed(request.headers.get("Origin"), allowed):
                # Before any process is started: nothing is drawn, nothing can be typed.
                raise web.HTTPForbidden(text="The admin console opens only from its own page.\n")
            if open_consoles >= max_consoles:
                n = open_consoles
                return await refuse(request, 503, TOO_MANY.format(n=n, s="" if n == 1 else "s"))
            width = _cells(request.query.get("width", "80"), 80)
            height = _cells(request.query.get("height", "24"), 24)
            if width is None or height is None or screen_size(width, height) != (width, height):
                return await refuse(request, 400, TOO_BIG.format(w=MAX_WIDTH, h=MAX_HEIGHT))
            open_consoles += 1  # until its socket closes and its process has stopped
            try:
                return await self.open_console(request, width, height)
            finally:
                open_consoles -= 1

        async def open_console(
            self, request: web.Request, width: int, height: int
        ) -> web.WebSocketResponse:
            """textual-serve's own console socket, with each resize kept within bounds: its
            handler passed the page's sizes on as they came."""
            from textual_serve.app_service import AppService

            websocket = web.WebSocketResponse(heartbeat=15)
            app_service: AppService | None = None
            try:
                await websocket.prepare(request)
                app_service = AppService(
                    self.command,
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=websocket.close,  # type: ignore[arg-type]
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                await app_service.start(width, height)
                await _relay(websocket, app_service)
            except asyncio.CancelledError:
                await websocket.close()
            except Exception:
                log.exception("admin console socket")
            finally:
                if app_service is not None:
                    await app_service.stop()
            return websocket

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            # The page is never shown inside another site's frame: its WebSocket would come
            # from this page (the Origin check lets it through) under the other site's own
            # buttons, and the office could be led to type or click into it unseen.
            page: web.StreamResponse = await super().handle_index(request)
            page.headers.update(PAGE_HEADERS)
            return page

    server = OfficeServer(
        console_command(demo=demo),
        host=host,
        port=port,
        title=TITLE,
        public_url=public_url.rstrip("/") if public_url else None,
        templates_path=assets_dir() / "serve",
    )
    server.serve()
