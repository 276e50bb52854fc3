"""Staff and devices: the lists, adding, retiring, CSV import with a per-row report, labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Label, Static

from kiosk.domain.devicekinds import DEFAULT_KINDS, DeviceKinds
from kiosk.domain.errors import InvalidInput
from kiosk.domain.events import DeviceKind, Role
from kiosk.services.views import DeviceInfo, Holding, ImportReport, StaffInfo
from kiosk.ui.admin.dialogs import ConfirmDialog, Field, FormDialog
from kiosk.ui.admin.files import CSV_FILES, read_bytes, resolve
from kiosk.ui.admin.tables import fill_table, new_table, selected_key
from kiosk.ui.admin.widgets import FeedbackLine, Pane
from kiosk.ui.text import plain
from kiosk.ui.widgets import Tick

ROLE_LABELS = {
    Role.ADMIN.value: "admin",
    Role.SLT.value: "SLT",
    Role.BREAKFAST_CLUB_LEAD.value: "breakfast club",
    Role.LAPTOP_USER.value: "laptop user",
}


LABEL_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".svg": "image/svg+xml"}


class PeoplePane(Pane):
    DEFAULT_CSS = """
    PeoplePane .lists { height: 1fr; }
    PeoplePane #staff-column { width: 3fr; }
    PeoplePane #devices-column { width: 2fr; }
    PeoplePane DataTable { height: 1fr; }
    PeoplePane .list-title { width: 1fr; height: auto; padding: 0 1; text-style: bold; }
    PeoplePane .toolbar { height: auto; }
    PeoplePane .toolbar Button { margin-right: 1; }
    PeoplePane #import-report { height: auto; max-height: 8; padding: 0 1; }
    """
    BINDINGS = [
        Binding("a", "add_staff", "Add staff"),
        Binding("d", "add_device", "Add device"),
        Binding("r", "retire", "Retire"),
        Binding("i", "import_csv", "Import CSV"),
        Binding("l", "labels", "Labels"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff: tuple[StaffInfo, ...] = ()
        self.devices: tuple[DeviceInfo, ...] = ()
        self.kinds: DeviceKinds = DEFAULT_KINDS  # the school's kinds of device, as last read
        self.last_table = "staff-table"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="lists"):
            with Vertical(id="staff-column"):
                yield Label("Staff", id="staff-title", classes="list-title")
                staff = new_table(id="staff-table", cursor_type="row")
                for key, label in (
                    ("code", "Code"),
                    ("name", "Name"),
                    ("roles", "Roles"),
                    ("manager", "Line manager"),
                    ("status", "Status"),
                ):
                    staff.add_column(label, key=key)
                yield staff
            with Vertical(id="devices-column"):
                yield Label("Laptops and work phones", id="devices-title", classes="list-title")
                devices = new_table(id="devices-table", cursor_type="row")
                for key, label in (
                    ("tag", "Tag"),
                    ("kind", "Kind"),
                    ("description", "Description"),
                    ("status", "Status"),
                ):
                    devices.add_column(label, key=key)
                yield devices
        with Horizontal(classes="toolbar"):
            yield Button("Add staff…", id="add-staff", compact=True)
            yield Button("Add device…", id="add-device", compact=True)
            yield Button("Retire…", id="retire", compact=True, variant="warning")
            yield Button("Import CSV…", id="import", compact=True)
            yield Button("Labels to a file…", id="labels", compact=True)
            yield Tick("Show retired", id="show-retired", compact=True)
        yield Static("", id="import-report")
        yield FeedbackLine()

    # --- data --------------------------------------------------------------------------------

    def load(self) -> None:
        retired = self.query_one("#show-retired", Checkbox).value

        def fetch() -> tuple[tuple[StaffInfo, ...], tuple[DeviceInfo, ...], DeviceKinds]:
            return (
                self.services.people.list_staff(include_retired=retired),
                self.services.people.list_devices(include_retired=retired),
                self.services.school.device_kinds(),
            )

        self.db(fetch, self._show)

    def _show(
        self, data: tuple[tuple[StaffInfo, ...], tuple[DeviceInfo, ...], DeviceKinds]
    ) -> None:
        self.staff, self.devices, self.kinds = data
        retired = Text("retired", style="dim")
        # A line manager is kept as a staff code: shown by name.
        names = {s.code: s.name for s in self.staff}
        fill_table(
            self.query_one("#staff-table", DataTable),
            [
                (
                    s.code,
                    [
                        s.code,
                        s.name,
                        ", ".join(ROLE_LABELS.get(r, r) for r in sorted(s.roles)),
                        names.get(s.line_manager or "", s.line_manager or ""),
                        retired if s.retired else "active",
                    ],
                )
                for s in self.staff
            ],
        )
        fill_table(
            self.query_one("#devices-table", DataTable),
            [
                (
                    d.tag,
                    [d.tag, d.kind_label, d.description, retired if d.retired else "active"],
                )
                for d in self.devices
            ],
        )
        active_staff = sum(1 for s in self.staff if not s.retired)
        active_devices = sum(1 for d in self.devices if not d.retired)
        self.query_one("#staff-title", Label).update(f"Staff: {active_staff} active")
        self.query_one("#devices-title", Label).update(
            f"Laptops and work phones: {active_devices} active"
        )

    @on(Checkbox.Changed, "#show-retired")
    def _retired_toggled(self) -> None:
        self.load()

    @on(DataTable.RowHighlighted)
    def _remember_table(self, event: DataTable.RowHighlighted) -> None:
        # Only a highlight the admin moved: filling a table highlights its first row too.
        if event.data_table.has_focus:
            self.last_table = event.data_table.id or self.last_table

    def on_descendant_focus(self, event: Any) -> None:
        widget = getattr(event, "widget", None)
        if isinstance(widget, DataTable) and widget.id:
            self.last_table = widget.id

    # --- adding and retiring ------------------------------------------------------------------

    def action_add_staff(self) -> None:
        def add(values: dict[str, str]) -> Any:
            roles = [r.strip() for r in values["roles"].replace(",", ";").split(";") if r.strip()]
            return self.services.people.add_staff(
                values["code"],
                values["name"],
                email=values["email"] or None,
                line_manager=values["manager"] or None,
                roles=[r.lower().replace(" ", "_").replace("-", "_") for r in roles],
                admin_code=self.admin_code,
            )

        self.app.push_screen(
            FormDialog(
                "Add a member of staff",
                [
                    Field("code", "Staff code (on the badge)", placeholder="e.g. JBLOGGS"),
                    Field("name", "Name"),
                    Field("email", "Email (optional)"),
                    Field(
                        "manager",
                        "Line manager (optional, from the staff list)",
                        # Chosen by name, kept as the code (two people may share a name).
                        options=[
                            (f"{s.name} ({s.code})", s.code) for s in self.staff if not s.retired
                        ],
                        placeholder="None",
                    ),
                    Field(
                        "roles",
                        "Roles (optional, separated by ;)",
                        placeholder="laptop_user; slt; breakfast_club_lead; admin",
                    ),
                ],
                add,
                submit="Add",
                activity=self.activity,
            ),
            self._added,
        )

    def action_add_device(self) -> None:
        def add(values: dict[str, str]) -> Any:
            if not values["kind"]:
                raise InvalidInput("Choose the kind of device.")
            return self.services.people.add_device(
                values["tag"], values["kind"], values["description"], admin_code=self.admin_code
            )

        self.app.push_screen(
            FormDialog(
                "Add a device",
                [
                    Field("tag", "Asset tag (on the label)", placeholder="e.g. LAP-014"),
                    Field(
                        "kind",
                        "Kind",
                        value=DeviceKind.LAPTOP.value,
                        options=[(k.label, k.code) for k in self.kinds.kinds],
                    ),
                    Field("description", "Description (optional)"),
                ],
                add,
                submit="Add",
                activity=self.activity,
            ),
            self._added,
        )

    def _added(self, info: Any) -> None:
        if not info:
            return
        if isinstance(info, StaffInfo):
            self.say(f"{info.name} ({info.code}) added to the staff list.", ok=True)
        elif isinstance(info, DeviceInfo):
            self.say(f"{info.kind_label} {info.tag} added to the device list.", ok=True)
        self.load()

    def action_retire(self) -> None:
        if self.last_table == "devices-table":
            key = selected_key(self.query_one("#devices-table", DataTable))
            device = next((d for d in self.devices if d.tag == key), None)
            if device is None:
                self.no_row(
                    self.query_one("#devices-table", DataTable),
                    "Choose a device in the list first.",
                )
                return
            if device.retired:
                self.fail(f"{device.tag} is already retired.")
                return
            question = (
                f"Retire {device.kind_label.lower()} {device.tag} ({device.description})? "
                "It can no longer be signed out; its history stays in the register."
            )
            tag = device.tag

            def retire() -> Any:
                return self.services.people.retire_device(tag, admin_code=self.admin_code)

        else:
            key = selected_key(self.query_one("#staff-table", DataTable))
            person = next((s for s in self.staff if s.code == key), None)
            if person is None:
                self.no_row(
                    self.query_one("#staff-table", DataTable),
                    "Choose a member of staff in the list first.",
                )
                return
            if person.retired:
                self.fail(f"{person.name} is already retired.")
                return
            code, name = person.code, person.name
            warned = False

            def retire() -> Any:
                # Once the warning has named what they hold, "Retire anyway" retires them
                # (the service's force: it stays listed with them).
                return self.services.people.retire_staff(
                    code, admin_code=self.admin_code, force=warned
                )

            def ask_about(holding: Holding | None) -> None:
                nonlocal warned
                # What they still hold is said before they are retired (the service's own
                # words: retiring does not record it as returned or collected).
                question = (
                    f"Retire {name} ({code})? Their badge stops working; "
                    "their history stays in the register."
                )
                yes = "Retire"
                if holding is not None:
                    warned = True
                    yes = "Retire anyway"
                    question += (
                        f"\n\n⚠ {holding.said}. Retiring them does not record it as "
                        f"returned or collected: {holding.first} first. Retired anyway, "
                        f"{holding.kept}."
                    )
                self.app.push_screen(
                    ConfirmDialog(question, yes=yes, activity=self.activity), confirmed
                )

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.db(
                        retire,
                        self._retired,
                        group="change",
                        kept=_retired_text,
                        kept_as=f"Retiring {name}",
                    )

            self.db(lambda: self.services.people.holding(code), ask_about, group="change")
            return

        def confirmed_device(yes: bool | None) -> None:
            if yes:
                self.db(
                    retire,
                    self._retired,
                    group="change",
                    kept=_retired_text,
                    kept_as=f"Retiring {tag}",
                )

        self.app.push_screen(
            ConfirmDialog(question, yes="Retire", activity=self.activity), confirmed_device
        )

    def _retired(self, info: Any) -> None:
        name = info.name if isinstance(info, StaffInfo) else f"{info.kind_label} {info.tag}"
        self.say(f"{name} retired.", ok=True)
        self.load()

    # --- import --------------------------------------------------------------------------------

    def action_import_csv(self) -> None:
        def run_import(values: dict[str, str]) -> tuple[str, Path, ImportReport]:
            if values["what"] not in ("staff", "devices"):
                raise InvalidInput("Choose what the file holds: staff or devices.")
            path, data = read_bytes(values["path"], CSV_FILES)
            skip = values["problems"] == "skip"
            if values["what"] == "staff":
                report = self.services.people.import_staff_csv(
                    data, skip_invalid=skip, admin_code=self.admin_code
                )
            else:
                report = self.services.people.import_devices_csv(
                    data, skip_invalid=skip, admin_code=self.admin_code
                )
            return values["what"], path, report

        self.app.push_screen(
            FormDialog(
                "Import a CSV file",
                [
                    Field(
                        "what",
                        "The file holds",
                        value="staff",
                        options=[
                            ("Staff: code,name[,email,line_manager,roles]", "staff"),
                            ("Devices: tag,kind[,description]", "devices"),
                        ],
                    ),
                    Field("path", "Path of the CSV file", placeholder="/home/office/roster.csv"),
                    Field(
                        "problems",
                        "If some rows have problems",
                        value="stop",
                        options=[
                            ("Import nothing: show the problems", "stop"),
                            ("Import the good rows, list the others", "skip"),
                        ],
                    ),
                ],
                run_import,
                submit="Import",
                activity=self.activity,
            ),
            self._imported,
        )

    def _imported(self, result: Any) -> None:
        if not result:
            return
        what, path, report = result
        lines = [f"Line {p.line}: {p.reason}" for p in report.problems]
        self.query_one("#import-report", Static).update(plain("\n".join(lines), multiline=True))
        if report.imported:
            summary = (
                f"Imported {path.name} ({what}): {report.added} added, {report.updated} updated, "
                f"{report.unchanged} unchanged"
            )
            if report.problems:
                summary += f"; {len(report.problems)} row(s) skipped, listed above"
            self.say(summary + ".", ok=True)
            self.load()
        else:
            self.fail(
                f"Nothing was imported from {path.name}: {len(report.problems)} row(s) have "
                "problems (listed above). Correct the file, or choose to import the good rows."
            )

    # --- labels --------------------------------------------------------------------------------

    def action_labels(self) -> None:
        staff_key = selected_key(self.query_one("#staff-table", DataTable))
        device_key = selected_key(self.query_one("#devices-table", DataTable))
        options = [("Badges for all active staff", "staff"), ("Labels for all devices", "devices")]
        if staff_key:
            options.append((f"One badge: {staff_key}", f"staff:{staff_key}"))
        if device_key:
            options.append((f"One label: {device_key}", f"device:{device_key}"))
        default = str(Path.cwd() / "labels.pdf")

        def write(values: dict[str, str]) -> list[Path]:
            from kiosk.services import labels

            choice = values["which"]
            if choice.startswith(("staff", "devices")) and ":" not in choice:
                chosen = (
                    labels.staff_labels(self.services.people)
                    if choice == "staff"
                    else labels.device_labels(self.services.people)
                )
            elif choice.startswith("staff:"):
                code = choice.split(":", 1)[1]
                chosen = tuple(
                    x for x in labels.staff_labels(self.services.people) if x.code == code
                )
            elif choice.startswith("device:"):
                tag = choice.split(":", 1)[1]
                chosen = tuple(
                    x for x in labels.device_labels(self.services.people) if x.code == tag
                )
            else:
                raise InvalidInput("Choose which labels to print.")
            target = resolve(values["path"])
            if not target.parent.is_dir():
                raise InvalidInput(f"The folder {target.parent} does not exist.")
            try:
                return labels.write_sheet(chosen, target, replace=values["replace"] == "yes")
            except OSError as exc:
                raise InvalidInput(f"Cannot write {target}: {exc.strerror}.") from None

        self.app.push_screen(
            FormDialog(
                "Print labels to a file",
                [
                    Field("which", "Which labels", value="devices", options=options),
                    Field("path", "Save as (.pdf, .png or .svg)", value=default),
                    Field(
                        "replace",
                        "If the file exists",
                        value="no",
                        options=[("Keep it: stop", "no"), ("Replace it", "yes")],
                    ),
                ],
                write,
                submit="Write labels",
                activity=self.activity,
            ),
            self._labels_written,
        )

    def _labels_written(self, paths: Any) -> None:
        if not paths:
            return
        names = ", ".join(str(p) for p in paths)
        if self.app.is_web:
            # In the office's browser the server's folders are out of sight: each page is
            # downloaded there too, to print from the office's own computer.
            for path in paths:
                self.app.deliver_binary(
                    path, save_filename=path.name, mime_type=LABEL_TYPES.get(path.suffix.lower())
                )
            self.say(f"Labels sent to your browser, and written to {names}.", ok=True)
            return
        self.say(f"Labels written to {names}: print them on A4 label sheets.", ok=True)

    # --- buttons ---------------------------------------------------------------------------------

    @on(Button.Pressed, "#add-staff")
    def _add_staff(self) -> None:
        self.action_add_staff()

    @on(Button.Pressed, "#add-device")
    def _add_device(self) -> None:
        self.action_add_device()

    @on(Button.Pressed, "#retire")
    def _retire(self) -> None:
        self.action_retire()

    @on(Button.Pressed, "#import")
    def _import(self) -> None:
        self.action_import_csv()

    @on(Button.Pressed, "#labels")
    def _labels(self) -> None:
        self.action_labels()


def _retired_text(info: Any) -> str:
    """Said by the console opened next when the console locked itself as it retired."""
    name = info.name if isinstance(info, StaffInfo) else f"{info.kind_label} {info.tag}"
    return f"{name} retired."
