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

from kiosk.resources import assets_dir

TITLE = "Staff Room Kiosk: admin console"


def console_command(*, demo: bool = False) -> str:
    """The shell command textual-serve runs for each browser session."""
    argv = [sys.executable, "-m", "kiosk", *(["--demo"] if demo else []), "admin"]
    return " ".join(shlex.quote(arg) for arg in argv)


def serve_admin(
    *, host: str = "127.0.0.1", port: int = 8000, public_url: str | None = None, demo: bool = False
) -> None:
    """Serve the admin console until interrupted (Ctrl+C or SIGTERM)."""
    from textual_serve.server import Server

    server = Server(
        console_command(demo=demo),
        host=host,
        port=port,
        title=TITLE,
        public_url=public_url.rstrip("/") if public_url else None,
        templates_path=assets_dir() / "serve",
    )
    server.serve()
