"""The admin console (issue 5).

``AdminConsoleScreen(services, admin_code)`` is what the kiosk app pushes after the PIN;
``kiosk.ui.admin.app.AdminApp`` runs it on its own on the office machine. The console's
modules import the services (SQLAlchemy), so they load only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.ui.admin.console import AdminConsoleScreen

__all__ = ["AdminConsoleScreen"]


def __getattr__(name: str) -> Any:
    if name == "AdminConsoleScreen":
        from kiosk.ui.admin.console import AdminConsoleScreen

        return AdminConsoleScreen
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
