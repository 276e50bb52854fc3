"""Errors whose message is fit to show a member of staff on the kiosk."""

from __future__ import annotations


class KioskError(Exception):
    """Base class: ``str(error)`` is a plain-words message for the screen."""

    title = "Not recorded"

    def __init__(self, message: str, *, quoted: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # What was typed or scanned, as the message says it back (the office's CLI shows it
        # as it is; the kiosk's screens mask it when it is shaped like the admin PIN).
        self.quoted = quoted

    def __str__(self) -> str:
        return self.message


class NotFound(KioskError):
    """An unknown staff code, asset tag, store or event."""

    title = "Not recognised"


class NotAKioskCode(NotFound):
    """A scan that is neither a kiosk QR payload nor a plausible typed code."""


class RuleViolation(KioskError):
    """The policy does not allow this action (yet)."""

    title = "Not allowed"


class AmbiguousCode(RuleViolation):
    """A code typed without a badge's or label's prefix that is both a staff code and a
    device's tag (data from before such codes were refused, or written by hand): neither is
    guessed."""

    title = "Not recognised"


class MissingAcknowledgement(RuleViolation):
    """The member of staff must acknowledge one or more policies first."""

    def __init__(self, message: str, policy_ids: tuple[int, ...]) -> None:
        super().__init__(message)
        self.policy_ids = policy_ids


class InvalidInput(KioskError):
    """Malformed input: a CSV row, a date, a PIN that is too short..."""

    title = "Please check"


class DatabaseUnavailable(KioskError):
    """The database could not be reached or refused the write. Nothing was recorded."""

    title = "Not recorded"

    def __init__(
        self,
        message: str = "Not recorded: the database is unavailable. Please try again.",
        *,
        refusal: str | None = None,
    ) -> None:
        super().__init__(message)
        # Opening the register failed for a reason trying again does not put right (its disk
        # is full): what each action says meanwhile, instead of "Please try again shortly".
        self.refusal = refusal


class OutcomeUnknown(DatabaseUnavailable):
    """The database stopped answering while a write was being committed, and could not be
    asked afterwards whether it was stored: it may have been. Never "Not recorded"."""

    title = "Not confirmed"


class ClockWrong(KioskError):
    """The kiosk's clock reads earlier than the last event it recorded itself (a flat clock
    battery: the machine started in 2000), or, on PostgreSQL, far from the database server's
    (one of several kiosks hours fast): what it recorded would carry that time."""


class SchemaTooNew(KioskError):
    """The database was upgraded by a newer version of the kiosk."""

    title = "Kiosk software is out of date"
