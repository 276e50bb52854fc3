"""Notices by e-mail, each sent once: ``kiosk notify`` (issue 18.1).

What is due is worked out from the register at each run (a timer runs it every 15 minutes):

- to the **office**, after the end of a school day: phones still in a store, devices overdue,
  workstation reviews waiting, required policies not acknowledged, and the notices that
  could not go to someone because they have no e-mail address (``office:<day>``);
- to a **member of staff**: a device due back tomorrow (``due:<sign-out event>:<day>``) or
  overdue (``overdue:<sign-out event>:<day>``, each school day), on school days; the phone
  still in a store at the end of the school day (``phone:<deposit event>:<day>``); a
  required policy waiting for them (``policy:<policy>:<staff>``, once);
- to a **line manager**, weekly, after the end of the week's first school day: their team's
  off-site sign-outs over 4 and 12 weeks, regular use marked (``manager:<staff>:<ISO week>``);
- to the **Head Teacher** (``head_email``, else the office): each workstation review request,
  at the first run after it is made (``review:<request event>``);
- to a **named recipient** (``anchor_email``), daily after the end of the day: the register's
  chain head (``anchor:<day>``).

Sent once: each notice has a deterministic key. Before sending, a run records a
``notice_claimed`` event for it in one write transaction that first reads every notice
event; write transactions are serialised (``BEGIN IMMEDIATE`` on SQLite, the chain's
advisory lock on PostgreSQL), so of two runs at once only one claims a key. The outcome is
recorded after the SMTP conversation: ``notice_sent``, or ``notice_failed`` with the
server's error, which the next run claims and sends again. A claim without an outcome (the
sender was killed, or the database went away after sending) is never sent again by itself:
it may have been delivered. ``kiosk notify --status`` lists those and the failures.

Only the kiosk's own records count: a claim or outcome whose hash does not recompute, or whose
MAC is not the school key's (appended by a login or a shell without the key), is left out and
named (a forged ``notice_sent`` had stopped the daily anchor). ``kiosk notify`` therefore needs
the school key, as every write does.

"Overdue" respects the school calendar in force (``kiosk calendar import``; none imported:
weekdays); a caller may pass its own ``is_school_day``. Bodies come from Jinja2 templates
(``<kind>.txt``, whose first line is ``Subject: ...``, and ``<kind>.html``) in
``assets/notices``; a school's own folder (``notice_templates``) overrides any of them.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from kiosk.config import Settings
from kiosk.domain.address import email_problem, not_an_email, sender_parts, sender_problem
from kiosk.domain.chain import UnreadableEvent, details_of
from kiosk.domain.errors import InvalidInput
from kiosk.domain.events import BREAKFAST_DRAWER_STORE, NOTICE_KINDS, EventKind
from kiosk.domain.text import display_text
from kiosk.domain.timeutil import format_local, local_date
from kiosk.services.common import UseCases
from kiosk.services.integrity import (
    CHANGED,
    NO_MAC,
    Anchor,
    head_anchor,
    seal_fault,
    stored_events,
    stored_time,
)
from kiosk.services.uow import ServiceContext, iso
from kiosk.services.views import StaffInfo

SchoolDay = Callable[[date], bool]

# A claim without an outcome older than this is reported as "outcome unknown".
STALE_CLAIM = timedelta(minutes=15)
SMTP_TIMEOUT = 30.0
_log = logging.getLogger("kiosk.notices")


def weekdays(day: date) -> bool:
    """Monday to Friday: the default school calendar until the school's is wired in."""
    return day.weekday() < 5


@dataclass(frozen=True, slots=True)
class Notice:
    key: str  # deterministic: the same notice has the same key at every run
    kind: str  # the template's name: office_digest, device_overdue, ...
    to: str  # the recipient's e-mail address
    subject: str
    text: str
    html: str
    staff_id: int | None = None  # the recipient, when a member of staff


@dataclass(frozen=True, slots=True)
class Outcome:
    notice: Notice
    sent: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NotifyReport:
    due: tuple[Notice, ...]  # what this run found due and not yet sent or claimed
    outcomes: tuple[Outcome, ...]  # what it tried (empty on a dry run)
    problems: tuple[str, ...]  # settings missing: who could not be told

    @property
    def sent(self) -> tuple[Notice, ...]:
        return tuple(o.notice for o in self.outcomes if o.sent)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.sent)


@dataclass(frozen=True, slots=True)
class NoticeState:
    key: str
    state: str  # claimed, sent, failed
    to: str
    subject: str
    at: datetime
    error: str | None = None


# --- the register's anchor ----------------------------------------------------------------


def current_anchor_text(ctx: ServiceContext) -> str | None:
    """The chain head as `kiosk anchor` writes it (a file `kiosk verify --anchor` reads), taken
    now without recording an event: the notice's own ``notice_sent`` says it left."""
    with ctx.read() as session:
        anchor = head_anchor(session, ctx.settings.school_name, taken_at=iso(ctx.clock()) or "")
    return None if anchor is None else anchor.to_text()


# --- templates -----------------------------------------------------------------------------


class Templates:
    """The package's notice templates, overridden file by file by the school's folder."""

    def __init__(self, settings: Settings) -> None:
        import jinja2

        from kiosk.resources import assets_dir
        from kiosk.services.templating import BoundedSandbox

        folders = [str(assets_dir() / "notices")]
        if settings.notice_templates:
            folders.insert(0, settings.notice_templates)
        # Sandboxed: a template is the school's text, not code. Jinja2's plain Environment
        # let "{{ cycler.__init__.__globals__.os.system(...) }}" in a school's template run a
        # command as the kiosk's user (the school key, the database login); here an unsafe
        # attribute is a SecurityError, refused as a template that cannot be used. Bounded
        # too: a template that makes gigabytes of text is refused (``templating``).
        self.env = BoundedSandbox(
            loader=_loader(folders),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Every value a template prints: ESC, a bidi override or a zero-width character
            # stored by an older kiosk or by someone with the database goes out as U+FFFD,
            # and a line break as a space (only a ``Lines`` value, the anchor, keeps its).
            finalize=_shown,
        )
        self.common = {
            "school": settings.school_name,
            "office_phone": settings.office_phone,
        }

    def render(self, kind: str, values: dict[str, Any]) -> tuple[str, str, str]:
        """(subject, text, html) of the ``kind`` notice."""
        import jinja2

        from kiosk.services.templating import NOTICE_LIMIT, TooLong, Unchecked, render_bounded

        context = {**self.common, **values}
        name = f"{kind}.txt"
        try:
            text = render_bounded(self.env.get_template(name), context)
            first, _, body = text.partition("\n")
            if not first.startswith("Subject:"):
                raise InvalidInput(f"The notice template {kind}.txt must start with 'Subject: '.")
            subject = " ".join(first[len("Subject:") :].split())
            name = f"{kind}.html"
            html = render_bounded(self.env.get_template(name), {**context, "subject": subject})
        except TooLong:
            raise InvalidInput(
                f"The notice template {name} makes a notice too long (more than "
                f"{NOTICE_LIMIT:,} characters): nothing was sent. Correct the template in "
                "the school's notice_templates folder."
            ) from None
        except Unchecked as exc:
            raise InvalidInput(
                f"The notice template {name} could not be checked ({exc}): nothing was sent. "
                "Correct the template in the school's notice_templates folder."
            ) from None
        except jinja2.TemplateError as exc:
            raise InvalidInput(f"The notice template for {kind} cannot be used: {exc}") from None
        except NotUtf8 as exc:
            # Edited in Notepad and saved as "ANSI" (Windows-1252): the loader reads UTF-8.
            # Named by the file read: one it includes (footer.txt), not the one asked for.
            raise InvalidInput(
                f"The notice template {exc.name} is not UTF-8 text: nothing was sent. Save it "
                "as UTF-8 (Notepad: Save as, Encoding: UTF-8) in the school's "
                "notice_templates folder."
            ) from None
        except (ArithmeticError, RecursionError, MemoryError) as exc:
            # {{ 1.5 ** 100000 }}, {{ 1 / 0 }}, a macro that calls itself: the school's
            # template, not the kiosk, went wrong.
            what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise InvalidInput(
                f"The notice template for {kind} cannot be used: it cannot work out a value "
                f"({what}: a number too large, a division by zero, a macro that calls itself). "
                "Nothing was sent. Correct the template in the school's notice_templates folder."
            ) from None
        return subject, body.lstrip("\n"), html


class NotUtf8(Exception):
    """A notice template file that is not UTF-8 text, by its name (``name``)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _loader(folders: list[str]) -> Any:
    """Jinja2's file loader, saying which file is not UTF-8 (the one it read: a footer
    included by the notice, not the notice asked for)."""
    import jinja2

    class Loader(jinja2.FileSystemLoader):
        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str, Callable[[], bool]]:
            try:
                return super().get_source(environment, template)
            except UnicodeDecodeError:
                raise NotUtf8(template) from None

    return Loader(folders)


class Lines(str):
    """A value a notice prints on several lines (the register's anchor); any other string
    is one line in every notice."""

    __slots__ = ()


def _shown(value: Any) -> Any:
    """A value as a notice prints it. A name, a description or a store name is one line: a
    name stored as "Hal New" LF "URGENT: reply with your PIN" wrote its own line in the
    e-mail to Hal and a forged entry in the office's list."""
    if isinstance(value, str):
        return display_text(value, multiline=isinstance(value, Lines))
    return value


# --- what is due ---------------------------------------------------------------------------


@dataclass
class _Due:
    notices: list[Notice] = field(default_factory=list)
    unreachable: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def not_sent(kind: str, to: str, problem: str) -> str:
    """What a run says of a notice it does not send to an address that is not one."""
    return (
        f"{kind.replace('_', ' ')} notice not sent: "
        f"{not_an_email('the address', to, problem)}. Correct it on the staff list or in the "
        "settings."
    )


def _when(at: datetime, settings: Settings) -> str:
    return format_local(at, settings.zone, "%a %d %b %Y %H:%M")


def _device_name(item: Any) -> str:
    return f"{item.device.kind_label} {item.device.tag}"


class NoticeBuilder:
    """Works out the notices due at ``now`` from the services' read models."""

    def __init__(
        self,
        services: Any,  # kiosk.services.app.Services (not imported: it imports this module)
        now: datetime,
        is_school_day: SchoolDay = weekdays,
        anchor: Callable[[ServiceContext], str | None] = current_anchor_text,
    ) -> None:
        self.services = services
        self.settings: Settings = services.settings
        self.now = now
        self.today = local_date(now, self.settings.zone)
        self.is_school_day = is_school_day
        self.anchor = anchor
        self.templates = Templates(self.settings)
        self.school_day = is_school_day(self.today)
        end = datetime.combine(self.today, self.settings.end_of_day_time, self.settings.zone)
        self.after_end_of_day = now >= end.astimezone(UTC)

    @cached_property
    def offsite(self) -> tuple[Any, ...]:
        return tuple(self.services.devices.offsite_now())

    @cached_property
    def phones(self) -> tuple[Any, ...]:
        return tuple(self.services.phones.phones_now())

    @cached_property
    def gaps(self) -> tuple[Any, ...]:
        return tuple(self.services.policies.gaps())

    @cached_property
    def reviews(self) -> tuple[Any, ...]:
        return tuple(self.services.policies.reviews())

    def build(self) -> _Due:
        """Each read model is asked once (a run is a few queries, whatever it sends)."""
        due = _Due()
        staff = self.services.people.list_staff()
        # A line manager is kept as their staff code; one recorded before then is a name.
        self.by_name = {s.name.casefold(): s for s in staff}
        self.by_name.update({s.code.casefold(): s for s in staff})
        if self.school_day:
            self._devices(due)
        if self.school_day and self.after_end_of_day:
            self._phones(due)
            self._managers(due, staff)
        self._policies(due)
        self._reviews(due)
        if self.school_day and self.after_end_of_day:
            self._office_digest(due)
        if self.after_end_of_day:
            self._anchor(due)
        return due

    def _notice(
        self, due: _Due, key: str, kind: str, to: str, values: dict[str, Any], staff_id: int | None
    ) -> bool:
        """Add the notice; False (and a problem said) when ``to`` is not exactly one bare
        e-mail address (written by hand past the checks at input): it is not sent."""
        problem = email_problem(to)
        if problem:
            due.problems.append(not_sent(kind, to, problem))
            _log.warning("%s", not_sent(kind, to, problem))
            return False
        subject, text, html = self.templates.render(kind, values)
        due.notices.append(Notice(key, kind, to, subject, text, html, staff_id))
        return True

    def _to_staff(
        self, due: _Due, person: StaffInfo, key: str, kind: str, values: dict[str, Any], what: str
    ) -> None:
        name = f"{person.name} ({person.code})"
        if not person.email:
            due.unreachable.append({"name": name, "what": what})
        elif not self._notice(
            due, key, kind, person.email, {"name": person.name, **values}, person.id
        ):
            due.unreachable.append({"name": name, "what": f"{what}; their e-mail is not valid"})

    def _devices(self, due: _Due) -> None:
        tomorrow = self.today + timedelta(days=1)
        for item in self.offsite:
            if item.staff.retired:
                # A leaver's badge is refused: neither "Keep it longer" (F4) nor a return at
                # the kiosk is theirs to do. The office's digest lists it once overdue.
                continue
            due_day = local_date(item.expected_return, self.settings.zone)
            values = {
                "device": _device_name(item),
                "description": item.device.description or item.device.kind_label,
                "since": _when(item.since, self.settings),
                "due": _when(item.expected_return, self.settings),
            }
            if item.overdue:
                self._to_staff(
                    due,
                    item.staff,
                    f"overdue:{item.event_id}:{self.today}",
                    "device_overdue",
                    values,
                    f"{values['device']} overdue since {values['due']}",
                )
            elif due_day == tomorrow:
                self._to_staff(
                    due,
                    item.staff,
                    f"due:{item.event_id}:{self.today}",
                    "device_due",
                    values,
                    f"{values['device']} due back {values['due']}",
                )

    def _phones(self, due: _Due) -> None:
        for held in self.phones:
            if held.staff.retired:
                continue  # a leaver's badge cannot collect it: the office's digest lists it
            self._to_staff(
                due,
                held.staff,
                f"phone:{held.event_id}:{self.today}",
                "phone_left",
                {
                    "store": display_text(held.store.name),
                    "since": _when(held.since, self.settings),
                    # The breakfast-club drawer is locked: the lead (or the office) hands
                    # a phone back from it, recorded at the kiosk (Breakfast club, F3).
                    "drawer": held.store.code == BREAKFAST_DRAWER_STORE,
                },
                f"phone still in the {held.store.name} since {_when(held.since, self.settings)}",
            )

    def _policies(self, due: _Due) -> None:
        for gap in self.gaps:
            if not gap.policy.required:
                continue
            for person in gap.missing:
                if not person.email:
                    continue  # the office's digest lists everyone who has not acknowledged
                self._notice(
                    due,
                    f"policy:{gap.policy.id}:{person.id}",
                    "policy_waiting",
                    person.email,
                    {
                        "name": person.name,
                        "title": display_text(gap.policy.title),
                        "version": display_text(gap.policy.version),
                        "published": format_local(
                            gap.policy.published_at, self.settings.zone, "%d %B %Y"
                        ),
                    },
                    person.id,
                )

    def _managers(self, due: _Due, staff: Sequence[StaffInfo]) -> None:
        year, week, _ = self.today.isocalendar()
        first_school_day = next(
            (
                d
                for d in (
                    self.today - timedelta(days=n) for n in range(self.today.weekday(), -1, -1)
                )
                if self.is_school_day(d)
            ),
            self.today,
        )
        if first_school_day != self.today:
            return  # sent on the week's first school day; a later run that day sends it too
        rows = self.services.devices.workload()
        teams: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            if row.staff.line_manager and row.last_12_weeks:
                teams[row.staff.line_manager.casefold()].append(row)
        monday = self.today - timedelta(days=self.today.weekday())
        for manager_name, team in sorted(teams.items()):
            manager = self.by_name.get(manager_name)
            shown = manager.name if manager else team[0].staff.line_manager or manager_name
            values = {
                "week": f"{monday:%d %B %Y}",
                "threshold": self.settings.regular_use_threshold,
                "rows": [
                    {
                        "name": r.staff.name,
                        "last_4_weeks": r.last_4_weeks,
                        "last_12_weeks": r.last_12_weeks,
                        "regular": r.above_threshold,
                    }
                    for r in team
                ],
            }
            if manager is None:
                due.unreachable.append(
                    {
                        "name": shown,
                        "what": "weekly team sign-outs (not a member of staff on the list)",
                    }
                )
                continue
            self._to_staff(
                due,
                manager,
                f"manager:{manager.id}:{year}-W{week:02d}",
                "manager_weekly",
                values,
                f"weekly sign-outs of their team ({len(team)} "
                f"{'person' if len(team) == 1 else 'people'})",
            )

    def _reviews(self, due: _Due) -> None:
        to = self.settings.head_email or self.settings.office_email
        for review in self.reviews:
            if review.status != "open":
                continue
            if to is None:
                due.problems.append(
                    "Workstation review requests cannot be sent: set head_email "
                    "(KIOSK_HEAD_EMAIL) or office_email (KIOSK_OFFICE_EMAIL)."
                )
                return
            self._notice(
                due,
                f"review:{review.event_id}",
                "review_request",
                to,
                {
                    "name": review.staff.name,
                    "code": review.staff.code,
                    "requested": _when(review.requested_at, self.settings),
                    "needs": display_text(review.needs),
                },
                None,
            )

    def _office_digest(self, due: _Due) -> None:
        settings = self.settings
        stores: dict[str, list[dict[str, str]]] = defaultdict(list)
        for held in self.phones:
            stores[display_text(held.store.name)].append(
                {
                    "name": held.staff.name,
                    "code": held.staff.code,
                    "since": _when(held.since, settings),
                }
            )
        overdue = [
            {
                "device": _device_name(item),
                "name": item.staff.name,
                "code": item.staff.code,
                "due": _when(item.expected_return, settings),
            }
            for item in self.offsite
            if item.overdue
        ]
        reviews = [
            {
                "name": r.staff.name,
                "code": r.staff.code,
                "requested": _when(r.requested_at, settings),
                "status": r.status.replace("_", " "),
                "needs": display_text(r.needs),
            }
            for r in self.reviews
        ]
        policies = [
            {
                "title": display_text(g.policy.title),
                "version": display_text(g.policy.version),
                # Name and code, one to a line: "Smith, Alice" is one person, and two
                # colleagues of one name are two.
                "missing": [f"{s.name} ({s.code})" for s in g.missing],
            }
            for g in self.gaps
            if g.policy.required and g.missing
        ]
        parts = []
        phone_count = sum(len(p) for p in stores.values())
        for count, what in (
            (phone_count, "phone"),
            (len(overdue), "overdue device"),
            (len(reviews), "review"),
        ):
            if count:
                parts.append(f"{count} {what}{'s' if count != 1 else ''}")
        if policies:
            parts.append("policies not acknowledged")
        if not (parts or due.unreachable):
            return  # nothing to report
        if not settings.office_email:
            due.problems.append(
                "The office's end-of-day notice cannot be sent: set office_email "
                "(KIOSK_OFFICE_EMAIL)."
            )
            return
        self._notice(
            due,
            f"office:{self.today}",
            "office_digest",
            settings.office_email,
            {
                "day": f"{self.today:%A %d %B %Y}",
                "summary": ", ".join(parts) or "people to tell",
                "phones": [{"name": n, "people": p} for n, p in stores.items()],
                "overdue": overdue,
                "reviews": reviews,
                "policies": policies,
                "unreachable": due.unreachable,
            },
            None,
        )

    def _anchor(self, due: _Due) -> None:
        if self.settings.anchor_email is None:
            return
        text = self.anchor(self.services.ctx)
        if text is None:
            return
        event_id = str(Anchor.parse(text).event_id)
        self._notice(
            due,
            f"anchor:{self.today}",
            "anchor",
            self.settings.anchor_email,
            {"day": f"{self.today:%A %d %B %Y}", "anchor": Lines(text), "event_id": event_id},
            None,
        )


# --- sent once: claims and outcomes in the register --------------------------------------------

_STATE = {
    EventKind.NOTICE_CLAIMED.value: "claimed",
    EventKind.NOTICE_SENT.value: "sent",
    EventKind.NOTICE_FAILED.value: "failed",
}


@dataclass(frozen=True, slots=True)
class Untrusted:
    """A notice event the kiosk did not record (its hash or MAC is wrong): it counts for
    nothing, and is named."""

    event_id: int
    kind: str
    key: str | None  # the notice it names (None: its details cannot be read)
    fault: str  # integrity.UNREADABLE, CHANGED or NO_MAC

    @property
    def said(self) -> str:
        what = f"{self.kind} event {self.event_id}" + (f" for {self.key}" if self.key else "")
        why = {
            CHANGED: "was changed after it was recorded (its hash does not match)",
            NO_MAC: "has no valid MAC",
        }.get(self.fault, "cannot be read as an event")
        return f"{what} {why}: not taken as {_STATE.get(self.kind, 'a notice record')}"


@dataclass(frozen=True, slots=True)
class NoticeLedger:
    states: dict[str, NoticeState]  # the last state of each notice key
    untrusted: tuple[Untrusted, ...]  # notice events not taken into account


def notice_states(
    session: Session,
    key: bytes,
    since: datetime | None = None,
    keys: Collection[str] | None = None,
) -> NoticeLedger:
    """The last state of each notice key (claimed, sent or failed), from the notice events the
    kiosk recorded: each one's hash recomputed and its MAC checked with ``key``, the school's
    (as verify and the stored last check are). One appended by a login without the key (a
    forged ``notice_sent``: the daily anchor never sent again) is left out, and listed.
    ``keys``: only the events of these notices are checked and kept (a run asks about the
    notices due now: a hash and an HMAC for each of their events, not for a year's)."""
    states: dict[str, NoticeState] = {}
    untrusted: list[Untrusted] = []
    kinds = [k.value for k in NOTICE_KINDS]
    for row in stored_events(session, kinds, since=since):
        try:
            details: Mapping[str, Any] | None = details_of(row["details"])
        except UnreadableEvent:
            details = None
        named = str(details.get("key", "")) if details is not None else None
        if keys is not None and named not in keys:
            continue
        fault = seal_fault(row, key)
        if fault is not None:
            untrusted.append(Untrusted(row["id"], str(row["kind"]), named or None, fault))
            continue
        if details is None or named is None or row["kind"] not in _STATE:
            continue  # the kiosk records neither: verify names it
        states[named] = NoticeState(
            named,
            _STATE[row["kind"]],
            str(details.get("to", "")),
            str(details.get("subject", "")),
            stored_time(row["occurred_at"]),
            details.get("error"),
        )
    return NoticeLedger(states, tuple(untrusted))


def _sendable(state: NoticeState | None) -> bool:
    return state is None or state.state == "failed"


def _details(notice: Notice, **extra: Any) -> dict[str, Any]:
    return {
        "key": notice.key,
        "notice": notice.kind,
        "to": notice.to,
        "subject": notice.subject,
        **extra,
    }


# --- SMTP ------------------------------------------------------------------------------------


# The sender when the school names none (neither smtp_from nor the office's address).
DEFAULT_SENDER = "kiosk@localhost"


def sender_address(settings: Settings) -> str:
    return settings.smtp_from or settings.office_email or DEFAULT_SENDER


def header_text(value: str) -> str:
    """``value`` as a header's text that says just that: one line (``display_text``), and no
    "=?" that starts an RFC 2047 encoded word ("= ?"). Python's e-mail package decodes an
    encoded word in a header as it is set and writes what it decoded, line breaks and all: a
    roster name spelt "=?utf-8?b?...?=" (all printable ASCII) in a subject wrote a Bcc header
    and a body of its own."""
    return display_text(value).replace("=?", "= ?")


def sender_refusal(settings: Settings) -> str | None:
    """Why no notice can be sent from the configured sender (written by hand past the checks
    at input), in words; None when it can."""
    sender = sender_address(settings)
    problem = None if sender == DEFAULT_SENDER else sender_problem(sender)
    if problem is None:
        return None
    return (
        f"not sent: the sender {sender!r} (smtp_from, or the office's address) is not an "
        f"address to send from: {problem}. Correct it with `kiosk config set smtp_from ...`"
    )


def build_message(notice: Notice, settings: Settings) -> EmailMessage:
    """The e-mail of ``notice``. The sender is built from its parts (its name as header text,
    its address as one address), never parsed from the setting's text by the mail package."""
    message = EmailMessage()
    name, address = sender_parts(sender_address(settings))
    local, _, domain = address.rpartition("@")
    message["From"] = Address(display_name=header_text(name), username=local, domain=domain)
    message["To"] = notice.to
    message["Subject"] = header_text(notice.subject)
    message["Date"] = formatdate(localtime=True)
    domain = domain or "localhost"
    digest = hashlib.sha256(notice.key.encode()).hexdigest()[:32]
    # The same notice always has the same Message-ID: a mail system that sees it twice can
    # tell it is one message.
    message["Message-ID"] = f"<kiosk-notice-{digest}@{domain}>"
    message["X-Kiosk-Notice"] = notice.key
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notice.text)
    message.add_alternative(notice.html, subtype="html")
    return message


@contextmanager
def smtp_connection(settings: Settings) -> Iterator[smtplib.SMTP]:
    """A logged-in SMTP connection as the settings say (raises OSError / SMTPException)."""
    if not settings.smtp_host:
        raise InvalidInput("No mail server: set smtp_host (KIOSK_SMTP_HOST).")
    security = settings.smtp_security.lower()
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if security == "tls":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    try:
        smtp.ehlo()
        if security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        yield smtp
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _error(exc: BaseException) -> str:
    """Why a notice was not sent, on one line (``display_text``): it is printed by `kiosk
    notify` (a line of the journal each) and kept in the register. A server's refusal runs
    over several lines of its own words ("550-..."), each printed as a line of its own."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        return display_text(f"SMTP {exc.smtp_code}: {text}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return display_text(
            "; ".join(f"{to}: {code} {msg!r}" for to, (code, msg) in exc.recipients.items())
        )
    return display_text(f"{type(exc).__name__}: {exc}")


# --- the use case ------------------------------------------------------------------------------


class NotifyService(UseCases):
    def __init__(self, ctx: ServiceContext, services: Any) -> None:
        super().__init__(ctx)
        self.services = services  # the facade: the notices are built from its read models

    def due(
        self, *, is_school_day: SchoolDay | None = None
    ) -> tuple[tuple[Notice, ...], tuple[str, ...]]:
        """The notices due now and not yet sent or claimed; the settings problems.

        ``is_school_day``: the school calendar in force unless given (no calendar imported:
        weekdays)."""
        if is_school_day is None:
            is_school_day = self.services.school.calendar().is_school_day
        key = self.ctx.key  # refused in words on a machine without the school's key
        built = NoticeBuilder(self.services, self.ctx.clock(), is_school_day).build()
        due_now = {n.key for n in built.notices}
        with self.ctx.read() as session:
            ledger = notice_states(session, key, keys=due_now)
        fresh = tuple(n for n in _unique(built.notices) if _sendable(ledger.states.get(n.key)))
        # A forged record that would have stopped a notice due now is named (it is sent).
        forged = [u.said for u in ledger.untrusted]
        return fresh, tuple(dict.fromkeys([*built.problems, *forged]))

    def run(
        self,
        *,
        is_school_day: SchoolDay | None = None,
        dry_run: bool = False,
    ) -> NotifyReport:
        """Claim what is due, send it, record each outcome. Dry run: only say what is due."""
        if not dry_run and not self.ctx.settings.smtp_host:
            raise InvalidInput("No mail server: set smtp_host (KIOSK_SMTP_HOST), or use --dry-run.")
        fresh, problems = self.due(is_school_day=is_school_day)
        if dry_run and not self.ctx.settings.smtp_host:
            # The dry run needs no server, but a real run would refuse: say so now.
            problems = (
                "No mail server is set: set smtp_host (KIOSK_SMTP_HOST); a real run would "
                "send nothing.",
                *problems,
            )
        if dry_run or not fresh:
            return NotifyReport(fresh, (), problems)
        claimed = self._claim(fresh)
        outcomes = self._send(claimed)
        return NotifyReport(fresh, tuple(outcomes), problems)

    def _claim(self, notices: Sequence[Notice]) -> list[tuple[Notice, int]]:
        """Record a claim for each notice nobody has claimed (or that failed), atomically."""
        key = self.ctx.key
        with self.ctx.write() as uow:
            states = notice_states(uow.session, key, keys={n.key for n in notices}).states
            claimed = []
            for notice in notices:
                if _sendable(states.get(notice.key)):
                    event = uow.record(
                        EventKind.NOTICE_CLAIMED, staff_id=notice.staff_id, details=_details(notice)
                    )
                    claimed.append((notice, event.id))
            return claimed

    def _send(self, claimed: Sequence[tuple[Notice, int]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        if not claimed:
            return outcomes
        refusal = sender_refusal(self.ctx.settings)
        if refusal is not None:  # every notice failed, and named; the next run tries again
            return [self._outcome(notice, claim_id, refusal) for notice, claim_id in claimed]
        try:
            with smtp_connection(self.ctx.settings) as smtp:
                for notice, claim_id in claimed:
                    problem = email_problem(notice.to)
                    if problem:  # (the builder leaves such a notice out: never sent)
                        outcomes.append(
                            self._outcome(
                                notice, claim_id, not_sent(notice.kind, notice.to, problem)
                            )
                        )
                        continue
                    try:
                        # One envelope recipient, the address itself: never the addresses a
                        # mail library would read out of the To header.
                        smtp.send_message(
                            build_message(notice, self.ctx.settings), to_addrs=[notice.to]
                        )
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                        outcomes.append(self._outcome(notice, claim_id, _error(exc)))
                    except ValueError as exc:
                        # The mail package refused to build this one (a header it will not
                        # write): this notice failed, named; the others still go.
                        outcomes.append(self._outcome(notice, claim_id, f"not sent: {exc}"))
                    else:
                        outcomes.append(self._outcome(notice, claim_id, None))
        except (OSError, smtplib.SMTPException) as exc:
            # The server could not be reached or dropped the connection: every notice not
            # yet through is recorded as failed, and the next run tries it again.
            done = {o.notice.key for o in outcomes}
            for notice, claim_id in claimed:
                if notice.key not in done:
                    outcomes.append(self._outcome(notice, claim_id, _error(exc)))
        return outcomes

    def _outcome(self, notice: Notice, claim_id: int, error: str | None) -> Outcome:
        kind = EventKind.NOTICE_SENT if error is None else EventKind.NOTICE_FAILED
        extra: dict[str, Any] = {"claim": claim_id}
        if error is not None:
            extra["error"] = error[:500]
        with self.ctx.write() as uow:
            uow.record(kind, staff_id=notice.staff_id, details=_details(notice, **extra))
        return Outcome(notice, error is None, error)

    def status(self, days: int = 14) -> tuple[NoticeState, ...]:
        """Notices of the last ``days`` days that failed, or whose outcome is unknown."""
        return self.status_report(days)[0]

    def status_report(self, days: int = 14) -> tuple[tuple[NoticeState, ...], tuple[str, ...]]:
        """:meth:`status`, and a sentence for each notice event of those days that the kiosk
        did not record (its hash or MAC is wrong), which counts for nothing."""
        now = self.ctx.clock()
        key = self.ctx.key
        with self.ctx.read() as session:
            ledger = notice_states(session, key, since=now - timedelta(days=days))
        states = tuple(
            s
            for s in ledger.states.values()
            if s.state == "failed" or (s.state == "claimed" and now - s.at > STALE_CLAIM)
        )
        return states, tuple(u.said for u in ledger.untrusted)


def _unique(notices: Iterable[Notice]) -> list[Notice]:
    seen: dict[str, Notice] = {}
    for notice in notices:
        seen.setdefault(notice.key, notice)
    return list(seen.values())
