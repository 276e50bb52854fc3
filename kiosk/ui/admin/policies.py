"""Policies and acknowledgements; VDU training and workstation reviews; SLT exemptions."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label, Static

from kiosk.domain.dates import parse_date
from kiosk.domain.errors import InvalidInput
from kiosk.domain.events import ReviewStatus, Role
from kiosk.domain.text import names_told_apart
from kiosk.services.views import AckGap, Exemption, ReviewRequest, StaffInfo
from kiosk.ui.admin.dialogs import Field, FormDialog
from kiosk.ui.admin.files import read_text
from kiosk.ui.admin.tables import fill_table, highlighted_key, new_table, selected_key
from kiosk.ui.admin.widgets import FeedbackLine, Pane
from kiosk.ui.text import plain


def _person(staff: StaffInfo) -> list[Any]:
    return [staff.name, staff.code]


class PoliciesPane(Pane):
    DEFAULT_CSS = """
    PoliciesPane #policies-table { height: auto; max-height: 8; }
    PoliciesPane .lists { height: 1fr; }
    PoliciesPane .lists > Vertical { width: 1fr; }
    PoliciesPane .lists DataTable { height: 1fr; }
    PoliciesPane .list-title { width: 1fr; height: auto; padding: 0 1; text-style: bold; }
    PoliciesPane .toolbar { height: auto; }
    """
    BINDINGS = [Binding("u", "publish", "Publish new version")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gaps: tuple[AckGap, ...] = ()

    def compose(self) -> ComposeResult:
        table = new_table(id="policies-table", cursor_type="row")
        for key, label in (
            ("title", "Policy"),
            ("version", "Version"),
            ("published", "Published"),
            ("required", "Required"),
            ("acked", "Acknowledged"),
            ("missing", "Not yet"),
        ):
            table.add_column(label, key=key)
        yield table
        with Horizontal(classes="lists"):
            with Vertical():
                yield Label("Not yet acknowledged", id="missing-title", classes="list-title")
                missing = new_table(id="missing-table", cursor_type="row")
                missing.add_columns("Name", "Code")
                yield missing
            with Vertical():
                yield Label("Acknowledged", id="acked-title", classes="list-title")
                acked = new_table(id="acked-table", cursor_type="row")
                acked.add_columns("Name", "Code")
                yield acked
        with Horizontal(classes="toolbar"):
            yield Button("Publish a new version…", id="policy-publish", compact=True)
        yield FeedbackLine()

    def load(self) -> None:
        self.db(self.services.policies.gaps, self._show)

    def _show(self, gaps: tuple[AckGap, ...]) -> None:
        self.gaps = gaps
        rows = [
            (
                str(gap.policy.id),
                [
                    gap.policy.title,
                    gap.policy.version,
                    self.local(gap.policy.published_at, "%d %b %Y"),
                    "yes" if gap.policy.required else "no",
                    str(len(gap.acknowledged)),
                    Text(str(len(gap.missing)), style="bold red" if gap.missing else ""),
                ],
            )
            for gap in gaps
        ]
        table = self.query_one("#policies-table", DataTable)
        fill_table(table, rows)
        self._show_people()

    @on(DataTable.RowHighlighted, "#policies-table")
    def _show_people(self) -> None:
        key = highlighted_key(self.query_one("#policies-table", DataTable))
        gap = next((g for g in self.gaps if str(g.policy.id) == key), None)
        missing = self.query_one("#missing-table", DataTable)
        acked = self.query_one("#acked-table", DataTable)
        if gap is None:
            fill_table(missing, [])
            fill_table(acked, [])
            return
        name = f"{gap.policy.title} ({gap.policy.version})"
        self.query_one("#missing-title", Label).update(
            plain(
                f"Not yet acknowledged {name}: {len(gap.missing)}"
                if gap.missing
                else f"Everyone has acknowledged {name}."
            )
        )
        self.query_one("#acked-title", Label).update(f"Acknowledged: {len(gap.acknowledged)}")
        fill_table(missing, [(s.code, _person(s)) for s in gap.missing])
        fill_table(acked, [(s.code, _person(s)) for s in gap.acknowledged])

    def action_publish(self) -> None:
        key = selected_key(self.query_one("#policies-table", DataTable))
        gap = next((g for g in self.gaps if str(g.policy.id) == key), None)
        title = gap.policy.title if gap else ""

        def publish(values: dict[str, str]) -> Any:
            _path, text = read_text(values["path"])
            return self.services.policies.publish(
                values["title"],
                values["version"],
                text,
                required=values["required"] != "no",
                published_by=self.admin_code,
            )

        self.app.push_screen(
            FormDialog(
                "Publish a new policy version",
                [
                    Field("title", "Title", value=title),
                    Field("version", "Version", placeholder="e.g. Autumn 2026"),
                    Field("path", "The policy text: path of a text or Markdown file"),
                    Field(
                        "required",
                        "Must staff acknowledge it?",
                        value="yes",
                        options=[("Yes: everyone is asked", "yes"), ("No: for reference", "no")],
                    ),
                ],
                publish,
                submit="Publish",
                intro=(
                    "Everyone will be asked to read and acknowledge the new version "
                    "the next time they tap in."
                ),
                activity=self.activity,
            ),
            self._published,
        )

    def _published(self, policy: Any) -> None:
        if policy:
            self.say(
                f"{policy.title} ({policy.version}) published: everyone is asked again.", ok=True
            )
            self.load()

    @on(Button.Pressed, "#policy-publish")
    def _publish(self) -> None:
        self.action_publish()


class ReviewsPane(Pane):
    DEFAULT_CSS = """
    ReviewsPane .columns { height: 1fr; }
    ReviewsPane #vdu-column { width: 2fr; }
    ReviewsPane #reviews-column { width: 5fr; }
    ReviewsPane DataTable { height: 1fr; }
    ReviewsPane .list-title { width: 1fr; height: auto; padding: 0 1; text-style: bold; }
    ReviewsPane .toolbar { height: auto; }
    ReviewsPane .toolbar Button { margin-right: 1; }
    """
    BINDINGS = [
        Binding("u", "mark('taken_up')", "Taken up"),
        Binding("d", "mark('done')", "Done"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reviews: tuple[ReviewRequest, ...] = ()

    def compose(self) -> ComposeResult:
        with Horizontal(classes="columns"):
            with Vertical(id="vdu-column"):
                yield Label("No VDU training recorded", id="vdu-title", classes="list-title")
                vdu = new_table(id="vdu-table", cursor_type="row")
                vdu.add_columns("Name", "Code")
                yield vdu
            with Vertical(id="reviews-column"):
                yield Label("Workstation review requests", id="reviews-title", classes="list-title")
                reviews = new_table(id="reviews-table", cursor_type="row")
                for key, label in (
                    ("status", "Status"),
                    ("when", "Requested"),
                    ("who", "Staff"),
                    ("needs", "Needs"),
                    ("note", "Note"),
                ):
                    reviews.add_column(label, key=key)
                yield reviews
        with Horizontal(classes="toolbar"):
            yield Button("Mark taken up…", id="review-taken", compact=True)
            yield Button("Mark done…", id="review-done", compact=True)
        yield FeedbackLine()

    def load(self) -> None:
        def fetch() -> tuple[tuple[StaffInfo, ...], tuple[ReviewRequest, ...]]:
            return (
                self.services.policies.staff_without_vdu(),
                self.services.policies.reviews(open_only=True),
            )

        self.db(fetch, self._show)

    def _show(self, data: tuple[tuple[StaffInfo, ...], tuple[ReviewRequest, ...]]) -> None:
        untrained, self.reviews = data
        self.query_one("#vdu-title", Label).update(f"No VDU training recorded: {len(untrained)}")
        fill_table(
            self.query_one("#vdu-table", DataTable), [(s.code, _person(s)) for s in untrained]
        )
        opened = sum(1 for r in self.reviews if r.status == ReviewStatus.OPEN.value)
        self.query_one("#reviews-title", Label).update(
            f"Workstation review requests not done: {len(self.reviews)} ({opened} not taken up)"
        )
        rows = []
        for review in self.reviews:
            status = (
                Text("● OPEN", style="bold yellow")
                if review.status == ReviewStatus.OPEN.value
                else Text("◐ TAKEN UP")
            )
            rows.append(
                (
                    str(review.event_id),
                    [
                        status,
                        self.local(review.requested_at, "%d %b %Y"),
                        f"{review.staff.name} ({review.staff.code})",
                        review.needs,
                        review.note or "",
                    ],
                )
            )
        fill_table(self.query_one("#reviews-table", DataTable), rows)

    def action_mark(self, status: str) -> None:
        key = selected_key(self.query_one("#reviews-table", DataTable))
        review = next((r for r in self.reviews if str(r.event_id) == key), None)
        if review is None:
            self.no_row(
                self.query_one("#reviews-table", DataTable),
                "Choose a review request in the table first.",
            )
            return
        new = ReviewStatus(status)
        label = new.value.replace("_", " ")

        def mark(values: dict[str, str]) -> Any:
            return self.services.policies.update_review(
                review.event_id,
                new,
                admin_code=self.admin_code,
                note=values["note"],
                seen=review.status,
            )

        self.app.push_screen(
            FormDialog(
                f"Mark the review {label}",
                [Field("note", "Note (optional)", placeholder="e.g. laptop stand ordered")],
                mark,
                submit=f"Mark {label}",
                intro=f"{review.staff.name}: {review.needs}",
                activity=self.activity,
            ),
            self._marked,
        )

    def _marked(self, receipt: Any) -> None:
        if receipt:
            self.say(receipt.summary + ".", ok=True)
            self.load()

    @on(Button.Pressed, "#review-taken")
    def _taken(self) -> None:
        self.action_mark(ReviewStatus.TAKEN_UP.value)

    @on(Button.Pressed, "#review-done")
    def _done(self) -> None:
        self.action_mark(ReviewStatus.DONE.value)


class ExemptionsPane(Pane):
    DEFAULT_CSS = """
    ExemptionsPane #exemptions-intro { padding: 0 1; height: auto; }
    ExemptionsPane #exemptions-table { height: 1fr; }
    ExemptionsPane .toolbar { height: auto; }
    ExemptionsPane .toolbar Button { margin-right: 1; }
    """
    BINDINGS = [
        Binding("a", "grant", "Grant"),
        Binding("r", "revoke", "Revoke"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exemptions: tuple[Exemption, ...] = ()
        self.slt: tuple[StaffInfo, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(
            "SLT members may carry a phone at the Head Teacher's discretion, until an end date.",
            id="exemptions-intro",
        )
        table = new_table(id="exemptions-table", cursor_type="row")
        for key, label in (
            ("who", "Staff"),
            ("by", "Granted by"),
            ("until", "Until"),
        ):
            table.add_column(label, key=key)
        yield table
        with Horizontal(classes="toolbar"):
            yield Button("Grant…", id="exemption-grant", compact=True)
            yield Button("Revoke…", id="exemption-revoke", compact=True)
        yield FeedbackLine()

    def load(self) -> None:
        def fetch() -> tuple[tuple[Exemption, ...], tuple[StaffInfo, ...]]:
            people = self.services.people.list_staff()
            return self.services.policies.exemptions(), tuple(
                s for s in people if s.has_role(Role.SLT.value)
            )

        self.db(fetch, self._show)

    def _show(self, data: tuple[tuple[Exemption, ...], tuple[StaffInfo, ...]]) -> None:
        self.exemptions, self.slt = data
        rows = [
            (
                e.staff.code,
                [f"{e.staff.name} ({e.staff.code})", e.granted_by, f"{e.until:%a %d %b %Y}"],
            )
            for e in self.exemptions
        ]
        fill_table(self.query_one("#exemptions-table", DataTable), rows)
        if not self.exemptions:
            self.query_one("#exemptions-intro", Static).update(
                "No current SLT phone exemptions. SLT members may carry a phone at the "
                "Head Teacher's discretion, until an end date."
            )
        else:
            self.query_one("#exemptions-intro", Static).update(
                f"{len(self.exemptions)} current SLT phone exemption(s), granted at the Head "
                "Teacher's discretion."
            )

    def action_grant(self) -> None:
        if not self.slt:
            self.fail("Nobody on the staff list has the SLT role.")
            return
        today = self.today()

        def grant(values: dict[str, str]) -> Any:
            if not values["staff"]:
                raise InvalidInput("Choose the member of SLT.")
            try:
                until = parse_date(values["until"], today=today)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
            return self.services.policies.grant_exemption(
                values["staff"],
                granted_by=values["head"],
                until=until,
                admin_code=self.admin_code,
            )

        self.app.push_screen(
            FormDialog(
                "Grant an SLT phone exemption",
                [
                    Field(
                        "staff",
                        "Member of SLT",
                        options=[(f"{s.name} ({s.code})", s.code) for s in self.slt],
                    ),
                    Field(
                        "head",
                        "Granted by (the Head Teacher, from the SLT list)",
                        options=self._granters(),
                        placeholder="Choose who granted it",
                    ),
                    Field("until", "Until (end date)", placeholder="dd/mm/yyyy"),
                ],
                grant,
                submit="Grant",
                activity=self.activity,
            ),
            self._changed,
        )

    def _granters(self) -> list[tuple[str, str]]:
        """Who can grant or revoke an exemption: chosen from the staff list (the SLT), not
        typed, so the register names a real person the same way each time. A name two of
        them share is offered and recorded with the code: "Carol Head" alone would not say
        which of the two the office chose. So is one that reads the same as another's
        ("CAROL head"), as on the kiosk's line-manager list."""
        shown = names_told_apart((s.code, s.name) for s in self.slt)
        return [(shown[s.code], shown[s.code]) for s in self.slt]

    def action_revoke(self) -> None:
        key = selected_key(self.query_one("#exemptions-table", DataTable))
        exemption = next((e for e in self.exemptions if e.staff.code == key), None)
        if exemption is None:
            self.no_row(
                self.query_one("#exemptions-table", DataTable),
                "Choose an exemption in the table first.",
            )
            return

        def revoke(values: dict[str, str]) -> Any:
            return self.services.policies.revoke_exemption(
                exemption.staff.code, revoked_by=values["head"], admin_code=self.admin_code
            )

        self.app.push_screen(
            FormDialog(
                "Revoke an SLT phone exemption",
                [
                    Field(
                        "head",
                        "Revoked by (the Head Teacher, from the SLT list)",
                        options=self._granters(),
                        placeholder="Choose who revoked it",
                    )
                ],
                revoke,
                submit="Revoke",
                intro=(
                    f"{exemption.staff.name}: granted by {exemption.granted_by} "
                    f"until {exemption.until:%d %b %Y}."
                ),
                activity=self.activity,
            ),
            self._changed,
        )

    def _changed(self, receipt: Any) -> None:
        if receipt:
            self.say(f"{receipt.staff.name}: {receipt.summary}.", ok=True)
            self.load()

    @on(Button.Pressed, "#exemption-grant")
    def _grant(self) -> None:
        self.action_grant()

    @on(Button.Pressed, "#exemption-revoke")
    def _revoke(self) -> None:
        self.action_revoke()
