"""A policy's text as Markdown: what staff are shown of it, the same as what is stored.

A policy is read on the kiosk as Markdown, and its acknowledgement records the fingerprint of
the whole stored text. Markdown has parts it never draws: an HTML comment or block
(``<!-- you also agree to... -->``), an inline HTML tag and its attributes (but ``<br>``, which
the kiosk draws as a line break), a link reference definition's title
(``[terms]: https://... "you waive..."``), a link's or a picture's title
(``[the office](https://... "and pay...")``), a code block's info string. A sentence
in one of them is in the register's text, yet no one who "read and agreed" was shown it.

``unshown_parts`` names them (``publish`` refuses such a text); ``shown_markdown`` is the
parser the kiosk draws a policy with: HTML and reference definitions are drawn as the
characters they are, so a text stored before (or past) that check hides nothing either.
A terminal draws a link as its text and a picture as its description: ``shown_markdown``
draws a link's address and a picture's file name after it too, when they hold other words.

Markdown also makes characters of its own: a character reference (``&#x202E;``, ``&#8203;``)
becomes the character it names as the text is parsed. ``shown_markdown`` therefore puts
every piece of text it will draw through ``terminal_text`` after parsing, not only the
stored text before: a right-to-left override, a zero-width or a private-use character is
drawn as U+FFFD, however it was spelt.
"""

from __future__ import annotations

import re
from collections import Counter

from markdown_it import MarkdownIt
from markdown_it.common.normalize_url import normalizeLinkText
from markdown_it.common.utils import unescapeAll
from markdown_it.rules_block.table import escapedSplit
from markdown_it.rules_core import StateCore
from markdown_it.rules_core.normalize import NEWLINES_RE, NULL_RE
from markdown_it.token import Token

from kiosk.domain.text import terminal_text, text_width

# How much of a hidden part a message quotes.
_QUOTED = 60
# A word, as the check that every word of the text is drawn counts them.
_WORD = re.compile(r"[^\W_]+")
# A line break as GitHub's editor writes one in a table's cell; the only HTML a policy may hold.
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# An HTML element's name, as browsers know them: a "tag" with another (``<your initials>``) is
# still hidden by a browser, but was meant as text.
# fmt: off
_HTML_NAMES = frozenset((
    "a", "abbr", "address", "b", "blockquote", "br", "caption", "code", "col", "dd", "del",
    "details", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul",
))
# fmt: on


def _drawn_safe(state: StateCore) -> None:
    """Each text the parser made (a character reference decoded in it) as a terminal may
    draw it (``terminal_text``): a paragraph's words, inline code, a code block, an image's
    description."""
    for token in _walk(state.tokens):
        if token.content and token.type in ("text", "code_inline", "fence", "code_block"):
            token.content = terminal_text(token.content)
        if token.type == "fence" and token.info:
            # The words after a code block's ``` (its "language": ```python), which the
            # kiosk draws dimmed in brackets as the block's first line (``kiosk.ui.policy``):
            # Textual draws a language nowhere (it only colours the code by it), and
            # "```pay£500" put a word in the text everyone agreed to that no one was shown.
            token.info = terminal_text(token.info.strip())
        alt = token.attrs.get("alt")
        if isinstance(alt, str) and alt:
            token.attrs["alt"] = terminal_text(alt)


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _link_text(children: list[Token]) -> str:
    """What a link's own text draws: its words, between its link_open and link_close."""
    return "".join(child.content for child in children if child.type in ("text", "code_inline"))


def _address_hidden(address: str, text: str) -> bool:
    """Whether ``address`` has words its link's text does not draw (``[the office](https://
    school.example/you-agree-to-pay-500-pounds)``); an autolink's (``<https://...>``,
    ``www.school.example``, ``office@school.example``) is its own text."""
    left = Counter(_WORD.findall(text.casefold()))
    left.update(("http", "https", "mailto", "www"))
    return bool(Counter(_WORD.findall(address.casefold())) - left)


def _titles_drawn(state: StateCore) -> None:
    """A link's address and a picture's file name (which a terminal does not show: a link is
    drawn as its text, a picture as its description) and a link's or a picture's title (a
    browser's tooltip, which a terminal has not) drawn after it, in brackets: a policy
    stored with words in one hides none of them. An address is drawn as written
    (``école.example/Überweisung.pdf``), not as the parser encodes it."""
    for token in state.tokens:
        if not token.children:
            continue
        children: list[Token] = []
        opened: list[tuple[int, Token]] = []
        for child in token.children:
            children.append(child)
            if child.type == "link_open":
                opened.append((len(children), child))
                continue
            if child.type == "link_close" and opened:
                start, link = opened.pop()
                address = normalizeLinkText(str(link.attrs.get("href") or ""))
                text = _link_text(children[start:])
            elif child.type == "image":
                link = child
                address = normalizeLinkText(str(child.attrs.get("src") or ""))
                text = _link_text(child.children or [])
            else:
                continue
            if _address_hidden(address, text):
                children.append(_text(f" ({address})"))
            else:
                link.meta["shown_address"] = address  # its words are its text's
            if title := str(link.attrs.get("title") or ""):
                children.append(_text(f" ({title})"))
        token.children = children


def _breaks_drawn(state: StateCore) -> None:
    """A ``<br>`` in a paragraph or a table's cell (HTML is otherwise drawn as written) drawn
    as the line break it is."""
    for token in state.tokens:
        if not token.children:
            continue
        children: list[Token] = []
        for child in token.children:
            if child.type != "text" or not _BREAK.search(child.content):
                children.append(child)
                continue
            for index, part in enumerate(_BREAK.split(child.content)):
                if index:
                    brk = Token("hardbreak", "br", 0)
                    brk.markup = "<br>"
                    children.append(brk)
                if part:
                    children.append(_text(part))
        token.children = children


def _cell_tokens(row: list[Token]) -> list[list[Token]]:
    """The inline children of each cell (th or td) of one row's tokens."""
    cells: list[list[Token]] = []
    for token in row:
        if token.type == "inline":
            cells.append(list(token.children or []))
    return cells


# A table the kiosk draws as a table: its columns, and the width of its longest words with
# each column's padding and line, fit the narrowest screen the kiosk is drawn on (80
# columns, less the scroll bar and the margins). Textual wraps a cell's words to its
# column, but cuts a word longer than the column with "…".
TABLE_COLUMNS = 6
TABLE_WIDTH = 60


def _source_cells(lines: list[str], row: Token) -> list[str]:
    """The cells of a table's row as its source line writes them (markdown-it drops those
    past the header's), a quote's ">" left out."""
    if not row.map or row.map[0] >= len(lines):
        return []
    line = re.sub(r"^(?:\s*>)*", "", lines[row.map[0]]).strip()
    cells = escapedSplit(line)
    if cells and not cells[0].strip():
        cells.pop(0)
    if cells and not cells[-1].strip():
        cells.pop()
    return [cell.strip() for cell in cells]


def normalize_source(text: str) -> str:
    """``text`` as markdown-it reads it (its lines as a token's ``map`` counts them)."""
    return NULL_RE.sub("\ufffd", NEWLINES_RE.sub("\n", text))


def kiosk_source(text: str) -> str:
    """The Markdown the kiosk draws for a policy stored as ``text``, and the one the checks
    read to say what it draws: its lines as Markdown reads them (CR LF and a CR alone each
    a line's end), then as a terminal may draw them (``terminal_text``: ESC, a bidi
    override, a zero-width character are U+FFFD). ``terminal_text`` alone made a CR alone
    U+FFFD: a policy with an old Mac's line ends was one line at the kiosk (a code block's
    "language" holding every word of it, drawn as an empty box) and its lines to the
    checks."""
    return terminal_text(normalize_source(text))


def _fits(rows: list[list[list[Token]]]) -> bool:
    """Whether a table of ``rows`` (the header's first) is drawn whole as a table."""
    columns = len(rows[0]) if rows else 0
    if columns > TABLE_COLUMNS:
        return False
    widest = [0] * columns
    for cells in rows:
        for index, cell in enumerate(cells[:columns]):
            words = " ".join(t.content for t in cell if t.type in ("text", "code_inline"))
            longest = max((text_width(word) for word in words.split()), default=0)
            widest[index] = max(widest[index], longest)
    return sum(width + 3 for width in widest) <= TABLE_WIDTH


def _tables_as_rows(state: StateCore) -> None:
    """Each table too wide for the screen (``_fits``), or with cells past its header's,
    drawn as one paragraph per row, each cell after its column's heading ("Item: Phone ·
    Cost: 0 pounds"). A terminal's table narrows its columns to the screen and cuts a
    cell's words with "…" ("Youalsopa…"), the rest never shown, and markdown-it drops a
    row's cells past the header's ("| Phone | 0 pounds | plus 500 pounds if lost |"); a
    paragraph wraps, whatever the screen's width, and holds those cells too, as written."""
    lines = state.src.split("\n")
    tokens: list[Token] = []
    table: list[Token] | None = None
    for token in state.tokens:
        if token.type == "table_open":
            table = [token]
            continue
        if table is None:
            tokens.append(token)
            continue
        table.append(token)
        if token.type != "table_close":
            continue
        rows: list[list[Token]] = []
        extra: list[list[str]] = []
        for item in table:
            if item.type == "tr_open":
                rows.append([])
                extra.append(_source_cells(lines, item))
            elif rows:
                rows[-1].append(item)
        cells_of = [_cell_tokens(row) for row in rows]
        # (a header's cells are the table's columns; its line may start with a list's "-";
        # an empty cell past them, a stray "|" at a row's end, draws nothing)
        extra = [
            [],
            *(
                [cell for cell in cells[len(row) :] if cell]
                for cells, row in zip(extra[1:], cells_of[1:], strict=True)
            ),
        ]
        if _fits(cells_of) and not any(extra):
            tokens.extend(table)
            table = None
            continue
        headers, *body = cells_of or [[]]
        for number, cells in enumerate(body or [[]], start=1):
            children: list[Token] = []
            for index, header in enumerate(headers):
                cell = cells[index] if index < len(cells) else []
                if children:
                    children.append(_text(" · "))
                named = any(t.content.strip() for t in header)
                if named or not body:
                    children.extend(header)
                if body and named:
                    children.append(_text(": "))
                if body:
                    children.extend(cell)
            more = extra[number] if body and number < len(extra) else []
            children.extend(_text(f" · {cell}") for cell in more)
            opening, inline, closing = (
                Token("paragraph_open", "p", 1),
                Token("inline", "", 0),
                Token("paragraph_close", "p", -1),
            )
            opening.block = inline.block = closing.block = True
            inline.children = children
            inline.content = "".join(child.content for child in children)
            tokens.extend((opening, inline, closing))
        table = None
    state.tokens = tokens


def _markdown(*, html: bool) -> MarkdownIt:
    """The one Markdown a policy is read as, by the checks and by the kiosk: GitHub-like
    ("gfm-like": tables, bare addresses as links). The checks read HTML as HTML (what a
    browser or an editor's preview hides); the kiosk draws it as the characters it is."""
    return MarkdownIt("gfm-like", {"html": html})


def shown_markdown() -> MarkdownIt:
    """The kiosk's Markdown: GitHub-like, with HTML, link reference definitions and struck
    words read as text (drawn as written), not as markup that draws nothing (or that a
    terminal may not draw), and each text it made safe
    for the terminal once parsed (``_drawn_safe``)."""
    # Struck words keep their tildes: the Linux console the kiosk runs on (TERM=linux) draws
    # no strikethrough, and "You ~~do not~~ have to pay" read as its opposite there.
    parser = _markdown(html=False).disable(["reference", "strikethrough"])
    # A link's address and title, and a <br>, are added to the text before a table is
    # measured (``_fits``): measured without them, "[0](https://...long address)" fit a
    # column, and its cells were drawn cut with "…" once they were added.
    parser.core.ruler.push("breaks_drawn", _breaks_drawn)
    parser.core.ruler.push("titles_drawn", _titles_drawn)
    parser.core.ruler.push("tables_as_rows", _tables_as_rows)
    parser.core.ruler.push("drawn_safe", _drawn_safe)
    return parser


# The most a policy may hold to be read at the kiosk (a list entry counted as two: ``too_long``).
# Textual lays out a widget for each paragraph, heading and list entry, in time that grows
# faster than their number (4,000 took 14 s, 16,000 over three minutes, the kiosk frozen
# meanwhile, for each person asked to read it); the school's own policy has 67 of them in
# 6,500 characters.
MAX_BLOCKS = 2_000
MAX_CHARACTERS = 300_000


# The blocks the kiosk lays out one by one (a table's cell is one when drawn as a table);
# a list entry (its bullet, its box and its paragraph) counts as two: 2,000 entries took
# 24 s where 2,000 paragraphs took 4 s.
_ONE_BLOCK = frozenset(
    {"paragraph_open", "heading_open", "th_open", "td_open", "fence", "code_block", "html_block"}
    | {"hr"}
)


def too_long(text: str) -> str | None:
    """Why ``text`` is too long to be read at the kiosk, in words; None when it is not."""
    if len(text) > MAX_CHARACTERS:
        return f"{len(text):,} characters; {MAX_CHARACTERS:,} at most"
    blocks = entries = inside = 0  # inside: the list entries a token is in
    # Counted as the kiosk lays it out (``shown_markdown``), not as a browser would: a link
    # reference definition or an HTML block was no block to a browser's count and is a
    # paragraph at the kiosk (6,000 of them were let through), and a code block's language
    # and a wide table's rows are paragraphs of their own there.
    for token in shown_markdown().parse(kiosk_source(text)):
        if token.type == "list_item_open":
            entries += 1
            inside += 1
        elif token.type == "list_item_close":
            inside -= 1
        elif token.type in _ONE_BLOCK and not (token.hidden or inside):
            # (a code block's language is a line of its own, laid out as one more)
            blocks += 2 if token.type == "fence" and token.info else 1
    if blocks + 2 * entries <= MAX_BLOCKS:
        return None
    counted = [f"{blocks:,} paragraphs, headings and table cells"] if blocks else []
    if entries:
        counted.append(f"{entries:,} list entries (each counts as two)")
    return f"{' and '.join(counted)}; {MAX_BLOCKS:,} at most"


def _quote(text: str) -> str:
    line = " ".join(text.split())
    return f'"{line[:_QUOTED]}…"' if len(line) > _QUOTED else f'"{line}"'


def _walk(tokens: list[Token]) -> list[Token]:
    found: list[Token] = []
    for token in tokens:
        found.append(token)
        if token.children:
            found.extend(_walk(token.children))
    return found


def unshown_parts(text: str) -> list[str]:
    """Each part of ``text`` that Markdown as commonly drawn (the kiosk's before, a browser,
    an editor's preview) does not show, in words, quoting it: empty for a text that is all
    shown."""
    env: dict[str, object] = {}
    tokens = _markdown(html=True).parse(text, env)
    found: list[str] = []
    for token in _walk(tokens):
        if token.type == "html_block":
            found.append(f"an HTML comment or block {_quote(token.content)}")
        elif token.type == "html_inline" and _BREAK.fullmatch(token.content.strip()):
            continue  # drawn as the line break it is
        elif token.type == "html_inline":
            name = re.match(r"</?([A-Za-z][A-Za-z0-9-]*)", token.content)
            if name and name.group(1).lower() not in _HTML_NAMES:
                found.append(
                    f"an HTML tag {_quote(token.content)} (a browser shows nothing of it: "
                    'write "\\<" for a "<" that starts no tag)'
                )
            else:
                found.append(f"an HTML tag {_quote(token.content)}")
        elif token.type in ("link_open", "image") and str(token.attrs.get("title") or ""):
            found.append(f"the title of a link or picture {_quote(str(token.attrs['title']))}")
        elif token.type == "fence" and token.info.strip():
            info = token.info.strip()
            # One word names the block's language (```python); more is words no one sees.
            if len(info.split()) > 1 or len(info) > 20:
                found.append(f"words after a code block's ``` {_quote(info)}")
    lines = normalize_source(text).split("\n")
    columns = 0
    for token in tokens:
        if token.type == "thead_open":
            columns = 0
        elif token.type == "th_open":
            columns += 1
        elif (
            token.type == "tr_open"
            and columns
            # (an empty one, a stray "|" at the row's end, holds nothing to hide)
            and (extra := [cell for cell in _source_cells(lines, token)[columns:] if cell])
        ):
            # drawn by the kiosk, after the row; dropped by GitHub and other previews
            extra_cells = _quote(" | ".join(extra))
            found.append(f"cells past the table's header's, which other viewers drop {extra_cells}")
    missing = _undrawn_words(text)
    if missing and not found:
        found.append(f"words the kiosk would not draw {_quote(' '.join(missing))}")
    references = env.get("references")
    if isinstance(references, dict):
        for label, target in references.items():
            title = target.get("title") if isinstance(target, dict) else ""
            href = target.get("href") if isinstance(target, dict) else ""
            if not title:
                continue  # the kiosk draws it as written; nothing in it is hidden there
            shown = f"[{label}]: {href}" + (f' "{title}"' if title else "")
            found.append(f"a link reference definition {_quote(shown)}")
    return list(dict.fromkeys(found))


def _undrawn_words(text: str) -> list[str]:
    """The words of ``text`` (character references read) that the kiosk's parser draws
    nowhere, in the text's order: a catch-all for whatever else Markdown drops.
    Drawn is what ``shown_markdown`` makes text of (a paragraph's words, code, a picture's
    description, the addresses and titles it adds, an address's words as its source spells
    them with a %-escape), a list's numbers; never an attribute
    the kiosk does not draw."""
    drawn: list[str] = []
    for token in _walk(shown_markdown().parse(kiosk_source(text))):
        if token.type in ("text", "code_inline", "fence", "code_block"):
            drawn.append(token.content)
        if token.type == "fence":
            drawn.append(token.info)  # (its language, drawn above its code)
        elif token.type == "image":
            drawn.append(str(token.attrs.get("alt") or ""))
        if token.type in ("link_open", "image"):
            drawn.append(str(token.meta.get("shown_address") or ""))
            # An address is drawn decoded ("Staff Guide.pdf"), its text's words or after it;
            # the words its source spells with a %-escape ("Staff%20Guide.pdf") are drawn so.
            address = str(token.attrs.get("href") or token.attrs.get("src") or "")
            escaped = Counter(_WORD.findall(address))
            escaped.subtract(_WORD.findall(normalizeLinkText(address)))
            drawn.extend(escaped.elements())
        elif token.type == "list_item_open":
            drawn.append(token.info)
        elif token.type == "ordered_list_open":
            drawn.append(str(token.attrs.get("start") or ""))
        elif token.type == "hardbreak":
            drawn.append(token.markup)
    left = Counter(_WORD.findall(" ".join(drawn)))
    missing: list[str] = []
    for word in _WORD.findall(unescapeAll(text)):
        if left[word] > 0:
            left[word] -= 1
        else:
            missing.append(word)
    return missing
