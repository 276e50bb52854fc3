"""Reading and acknowledging a policy: the full text (Markdown) with its version; "I have read
and agree" is enabled once the text has been scrolled to the end, and the acknowledgement
records the fingerprint of the exact text that was shown."""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Markdown, Static
from textual.widgets.markdown import MarkdownFence

from kiosk.domain.chain import text_fingerprint
from kiosk.domain.errors import KioskError
from kiosk.domain.policytext import kiosk_source, shown_markdown
from kiosk.ui import base
from kiosk.ui.base import StaffScreen
from kiosk.ui.widgets import CodeField, Notice, TouchButton, assemble, plain

if TYPE_CHECKING:
    from kiosk.services.app import Services
    from kiosk.services.views import EventReceipt, PolicyText, StaffInfo


EARLY_ENTER = (
    "Enter came as this policy appeared: nothing is agreed yet. Read it, then press Enter to agree."
)


class _Fence(MarkdownFence):
    """A code block, its language (the words after its ```: ```text, ```bash) drawn dimmed
    in brackets as its first line: drawn alone above the block, "text" read as a typo."""

    DEFAULT_CSS = """
    _Fence > .code-language {
        padding: 1 2 0 2;
        text-style: dim;
    }
    _Fence.-with-language > #code-content {
        padding-top: 0;
    }
    """

    def compose(self) -> ComposeResult:
        language = self.lexer  # (the token's info, made safe: ``shown_markdown``)
        if language:
            self.add_class("-with-language")
            yield Static(plain(f"({language})"), classes="code-language", markup=False)
        yield from super().compose()


class PolicyMarkdown(Markdown):
    """The policy's Markdown, each code block drawn with its language (``_Fence``)."""

    BLOCKS = {**Markdown.BLOCKS, "fence": _Fence}


class PolicyScreen(StaffScreen):
    # Reading takes longer than a tap: four times the usual idle timeout (scrolling counts).
    IDLE_FACTOR = 4.0
    # An Enter this soon after the text appeared was not meant for it: the second press of a
    # double Enter on the policy before (or on the label that opened this one). Nobody reads
    # and agrees in less.
    READ_SECONDS = base.READ_SECONDS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False),
        Binding("enter", "agree", "I have read and agree", show=False),
    ]

    def __init__(self, staff: StaffInfo, policy_id: int, *, chained: bool = False) -> None:
        super().__init__(classes="policy-screen")
        self.staff = staff
        self.policy_id = policy_id
        self.chained = chained
        self.shown: PolicyText | None = None
        self.reached_end = False
        # When the text was first laid out on the screen (time.monotonic(), the clock of a
        # key's own time on Linux), and whether an Enter that came with it was refused.
        self.shown_at: float | None = None
        self.early_enter = False

    def compose(self) -> ComposeResult:
        yield Static("Opening the policy…", id="policy-title", markup=False)
        with VerticalScroll(id="policy-scroll"):
            # HTML and link reference definitions drawn as written, a link's address and a
            # picture's file name and title after it: every word the register fingerprints
            # is on the screen (``kiosk.domain.policytext``).
            yield PolicyMarkdown(
                "", id="policy-text", open_links=False, parser_factory=shown_markdown
            )
        with Horizontal(id="policy-foot"):
            yield Static("", id="policy-hint", markup=False)
            # Typed keys land here (the text keeps the focus, for ↓ and Page Down): a code
            # typed and Enter is read as a code, never as "I agree".
            yield CodeField(placeholder="Scan or type a code")
        yield Notice(id="notice")
        with Horizontal(id="policy-buttons"):
            yield TouchButton("I have read and agree", key="Enter", id="agree", variant="success")
            yield TouchButton("Back", key="Esc", id="back")

    def on_mount(self) -> None:
        agree = self.query_one("#agree", Button)
        agree.disabled = True
        agree.label = Content.assemble((" Enter ", "bold reverse"), " Read to the end to agree")
        self.query_one("#policy-scroll").focus()
        scroll = self.query_one("#policy-scroll", VerticalScroll)
        self.watch(scroll, "scroll_y", self._check_end, init=False)
        self.watch(scroll, "virtual_size", self._check_end, init=False)
        self.call(lambda s: s.policies.text(self.policy_id), self._loaded)

    async def _show_text(self, shown: PolicyText) -> None:
        # Drawn as terminal_text writes it (line breaks and tabs kept, for Markdown): a policy
        # is any text but NUL, and Markdown drew ESC (OSC 52, the clipboard) and a bidi
        # override (the sentence one agrees to read in another order than stored and
        # fingerprinted) as they were; each is U+FFFD now. Its lines are the lines publish's
        # checks read (``kiosk_source``: a CR alone ends one).
        text = kiosk_source(shown.text)
        await self.query_one("#policy-text", Markdown).update(text)
        self.call_after_refresh(self._check_end)

    def _loaded(self, shown: PolicyText) -> None:
        self.shown = shown
        policy = shown.policy
        self.query_one("#policy-title", Static).update(
            assemble(
                (policy.title, "bold"),
                f"  ·  version {policy.version}",
            )
        )
        self.query_one("#policy-hint", Static).update(
            plain(f"{self.staff.name}: read to the end (↓ or Page Down), then agree.")
        )
        self.run_worker(self._show_text(shown), exclusive=True, group="markdown")

    def on_resize(self) -> None:
        self.call_after_refresh(self._check_end)

    def _check_end(self, *_: object) -> None:
        if self.shown is None or self.reached_end:
            return
        scroll = self.query_one("#policy-scroll", VerticalScroll)
        text = self.query_one("#policy-text", Markdown)
        if not text.children or text.region.height < len(text.children):
            return  # not laid out yet
        if self.shown_at is None:
            self.shown_at = monotonic()
        if scroll.scroll_y >= scroll.max_scroll_y:
            self.reached_end = True
            agree = self.query_one("#agree", Button)
            agree.disabled = False
            agree.label = Content.assemble((" Enter ", "bold reverse"), " I have read and agree")
            if self.early_enter:
                self.show_info(EARLY_ENTER)
            else:
                self.clear_notice()
            self.query_one("#policy-hint", Static).update(
                "You have reached the end. Press Enter (or tap the button) to agree."
            )

    def take_key(self, event: events.Key) -> bool:
        field = self.code_field
        typed = field is not None and bool(field.value.strip())
        enter = event.key in ("enter", "ctrl+m", "ctrl+j") and not typed
        appeared = self.shown_at
        if enter and appeared is None:
            # Before the text was on the screen (the second of a double Enter on the policy
            # before it): nothing to agree to yet; said once it is.
            self.early_enter = True
            return True
        if enter and self.reached_end and appeared and event.time < appeared + self.READ_SECONDS:
            self.early_enter = True
            self.show_info(EARLY_ENTER)
            return True
        return super().take_key(event)

    def enter_pressed(self) -> None:
        self.action_agree()

    def action_back(self) -> None:
        if self.kiosk.busy:
            return
        if self.chained:
            self.dismiss(False)
        else:
            self.app.pop_screen()

    def action_agree(self) -> None:
        if self.kiosk.busy or self.shown is None:
            return
        if not self.reached_end:
            self.show_error("Please read to the end of the policy first.", title="Not yet")
            return
        shown, code, chained = self.shown, self.staff.code, self.chained
        fingerprint = text_fingerprint(shown.text)

        def agree(s: Services) -> tuple[EventReceipt, tuple[str, ...]]:
            receipt = s.policies.acknowledge(code, shown.policy.id, fingerprint)
            if chained:
                return receipt, ()  # (the sign-out form asks for the next one itself)
            try:
                left = tuple(f"{p.title} ({p.version})" for p in s.policies.outstanding(code))
            except KioskError:  # recorded already: what is left is said only when it is read
                left = ()
            return receipt, left

        self.call(agree, self._agreed)

    def _agreed(self, result: tuple[EventReceipt, tuple[str, ...]]) -> None:
        receipt, left = result
        if self.chained:
            self.dismiss(receipt)
        elif left:
            # One of several agreed from F7: the confirmation went back to the start, and
            # nothing said another was still to agree (she left thinking she was done).
            self.confirm_receipt(
                receipt,
                f"Still to read and agree: {'; '.join(left)}. Scan your badge again, then F7.",
            )
        else:
            self.confirm_receipt(receipt)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "agree":
            if not self.code_typed_first(anyone=True):  # (another person's code: not hers)
                self.action_agree()
        elif event.button.id == "back":
            self.action_back()
