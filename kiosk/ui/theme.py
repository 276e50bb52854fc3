"""The kiosk's two themes: the everyday one and a high-contrast one."""

from __future__ import annotations

from textual.theme import Theme

KIOSK = Theme(
    name="kiosk",
    primary="#3B82F6",
    secondary="#1E3A5F",
    accent="#FFB020",
    warning="#FFB020",
    error="#F05252",
    success="#31C48D",
    foreground="#F3F4F6",
    background="#0B1320",
    surface="#131D2E",
    panel="#1C2A40",
    dark=True,
)

HIGH_CONTRAST = Theme(
    name="kiosk-high-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#FFFF00",
    warning="#FFFF00",
    error="#FF6E6E",
    success="#00FF5F",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#333333",
    dark=True,
    luminosity_spread=0.0,
    text_alpha=1.0,
)

THEMES = (KIOSK, HIGH_CONTRAST)
