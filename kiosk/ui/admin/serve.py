"""``kiosk admin --serve``: the admin console in the office's browser, through textual-serve.

Each browser tab that opens the page gets its own ``kiosk admin`` process (textual-serve
starts one per connection and drives it over a WebSocket), so the office signs in with the
PIN and an admin's badge or code exactly as at the kiosk. The server listens on 127.0.0.1
unless told otherwise: put it behind the school's HTTPS reverse proxy (README) and give the
proxy's address as ``public_url``, which the page uses for its WebSocket. The page is the
kiosk's own (assets/serve/app_index.html): it loads nothing from outside the school.
"""

from __future__ import annotations

import shlex
import sys
from urllib.parse import urlsplit

from kiosk.resources import assets_dir

TITLE = "Staff Room Kiosk: admin console"
# Consoles open at once: each is a `kiosk admin` process (about 80 MB). An office needs one
# or two; without a limit, anything that reached the server could start them until the
# machine (often the kiosk itself) ran out of memory.
MAX_CONSOLES = 4
TOO_MANY = (
    "{n} admin console{s} already open on this server, the most it opens at once. Close one "
    "(lock it, or close its browser tab) and reload this page.\n"
)


def console_command(*, demo: bool = False) -> str:
    """The shell command textual-serve runs for each browser session."""
    argv = [sys.executable, "-m", "kiosk", *(["--demo"] if demo else []), "admin"]
    return " ".join(shlex.quote(arg) for arg in argv)


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


def allowed_origins(host: str, port: int, public_url: str | None) -> frozenset[str]:
    """The pages that may open a console: the address browsers are told to use
    (``public_url``), and this server's own address and this machine's names for it."""
    names = {host, "127.0.0.1", "localhost", "::1"}
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

    class OfficeServer(Server):  # type: ignore[misc, unused-ignore]
        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            nonlocal open_consoles
            if not origin_allowed(request.headers.get("Origin"), allowed):
                # Before any process is started: nothing is drawn, nothing can be typed.
                raise web.HTTPForbidden(text="The admin console opens only from its own page.\n")
            if open_consoles >= max_consoles:
                n = open_consoles
                raise web.HTTPServiceUnavailable(text=TOO_MANY.format(n=n, s="" if n == 1 else "s"))
            open_consoles += 1  # until its socket closes and its process has stopped
            try:
                response: web.WebSocketResponse = await super().handle_websocket(request)
            finally:
                open_consoles -= 1
            return response

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
