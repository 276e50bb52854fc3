"""Staff Room Kiosk: the school's Acceptable Use Policy register, kept by a kiosk."""

__version__ = "0.1.0"
