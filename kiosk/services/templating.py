"""The sandbox a school's notice templates run in, with a bound on what they can make.

A template is the school's text (``notice_templates``), run by ``kiosk notify`` every 15
minutes on the kiosk's own machine. Jinja2's sandbox keeps it from running code, not from
making text without end: ``{{ 'x' * 3000000000 }}``, ``{{ '%3000000000s' % name }}``,
``{{ name.ljust(3000000000) }}``, ``{{ 10 ** 50000000 }}`` (worked out as the template is
compiled: minutes of CPU) or a loop of loops took the machine's memory or time, for every run.

``BoundedSandbox`` refuses, before working it out, an operation whose answer would be longer
than ``NOTICE_LIMIT`` characters (or a number of more than ``DIGITS_LIMIT`` digits), a string
method or filter given a width or count past ``NOTICE_LIMIT`` (``ljust``, ``center``...), and
a format (``%``, ``str.format``, ``|format``) with such a width or precision; and
``render_bounded`` stops a template's output once it passes ``NOTICE_LIMIT``. Each says
``TooLong``; ``Templates.render`` puts it in words. A set block's, a macro's text and each
``~`` are checked as they are joined.

What grows with its arguments is worked out before it is made (``text_size``): a list's
text (``[name] * 10000`` is ten thousand names once printed, joined or formatted; so is a
list written out in the template), ``replace`` and ``translate`` (a copy of their new text
for each match), ``join``, ``expandtabs``, ``indent`` and ``wordwrap`` (a width or a string
for each tab or line), a format's fields (``'%s' * 1000 % ...``), a ``~``'s pieces and
``batch``'s or ``slice``'s fill value (once for each place). Each ``{{ }}`` value (the
sandbox's ``finalize``) and the value of a filter that makes text of it (``string``,
``tojson``, ``pprint``, ``e``...) is sized before it is made text: a list no operator made
(a loop's batch) is ten thousand names once printed.
A filter is worked out only as the template runs, never as it is compiled (Jinja works out
a filter of constants then, and joins what they make with no bound), and each of a ``~``'s
pieces is counted before the next is worked out.
Each of them made its text (hundreds of megabytes, past the notify unit's memory: the
kernel killed every run, no notice sent, no word why) before the bound looked at it.

What is left (a loop of loops that makes nothing, a set block's pieces before they are
joined) is bounded by the notify unit's memory and time limits (``deploy.py``).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, ItemsView, Iterable, KeysView, Mapping, ValuesView
from contextvars import ContextVar
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

# The most characters a notice's text (or its HTML) may have: a digest of a thousand
# people is a few hundred thousand.
NOTICE_LIMIT = 1_000_000
# The most digits a number a template works out may have.
DIGITS_LIMIT = 1_000
# A number in a format's width or precision ("%50000000s", "{:>50000000}"): seven digits or
# more is past the limit.
_WIDE = re.compile(r"\d{7,}")
# A conversion of a %-format: its width and precision, a number or "*" (the next argument).
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
# The string methods and filters given a width or a count of what they make; any other's
# number (a count of replacements, a number filtered) makes nothing long.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_WIDTH_FILTERS = frozenset({"center", "indent", "truncate", "wordwrap", "batch", "slice"})
# The filters that make text of their value (``str()``, ``repr()``, JSON): a list of ten
# thousand references to a name is ten thousand names once one of them has made it text.
_TEXT_FILTERS = frozenset(
    {
        "string", "pprint", "tojson", "e", "escape", "forceescape", "urlize", "safe",
        "upper", "lower", "capitalize", "title", "trim", "striptags", "wordcount",
        "truncate", "center", "indent", "wordwrap", "urlencode", "replace",
    }
)  # fmt: skip


# True while a template is compiled: Jinja works out a filter of constants then
# (``'a'|center(999999) ~ ...``) and joins what they make with no bound.
_COMPILING: ContextVar[bool] = ContextVar("compiling", default=False)


class TooLong(Exception):
    """A template would make a notice longer than ``NOTICE_LIMIT`` characters."""


class Unchecked(Exception):
    """A value a template makes that the sizes could not read (a Jinja release that keeps a
    namespace's attributes otherwise, say): refused, as a template that could not be
    checked, rather than a traceback out of ``kiosk notify``."""


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


# What a value the sizes cannot see into (a date, a person's record) is counted as.
_OPAQUE = 200


def text_size(value: Any) -> int:
    """The most characters ``value``'s text may have (``str(value)``; a string's quotes and
    escapes counted inside a list), worked out without making it, and no more than one past
    ``NOTICE_LIMIT`` once it is past: ``[name] * 1000`` is a thousand references to one
    string, and a thousand copies of it once printed, joined or formatted."""
    sizes: dict[int, int] = {}

    def size(item: Any, inside: bool) -> int:
        if isinstance(item, str):
            if not inside:
                return len(item)
            known = sizes.get(id(item))
            if known is None:
                known = sizes[id(item)] = (
                    len(repr(item)) if len(item) <= NOTICE_LIMIT else len(item)
                )
            return known
        if isinstance(item, (bytes, bytearray)):
            return 4 * len(item) + 3
        if isinstance(item, (bool, float, range)) or item is None:
            return len(repr(item))
        if isinstance(item, int):
            return max(1, int(math.log10(abs(item) or 1)) + 2)
        if isinstance(item, Namespace):
            # (Jinja's own dict of its attributes, which a namespace's text shows: read as
            # Jinja 3.1 keeps it; a value the sizes cannot see into, should that change)
            try:
                item = object.__getattribute__(item, "_Namespace__attrs")
            except AttributeError:
                return _OPAQUE
        if isinstance(item, Mapping):
            parts: Iterable[Any] = (part for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, set, frozenset, KeysView, ValuesView, ItemsView)):
            parts = item
        else:
            return _OPAQUE
        known = sizes.get(id(item))
        if known is not None:
            return known
        sizes[id(item)] = NOTICE_LIMIT + 1  # (itself, inside itself)
        total = 24
        for part in parts:
            total += size(part, True) + 2
            if total > NOTICE_LIMIT:
                break
        sizes[id(item)] = total
        return total

    try:
        return min(size(value, False), NOTICE_LIMIT + 1)
    except (RecursionError, MemoryError):
        raise  # (a list inside itself a thousand deep: a template that cannot be worked out)
    except Exception as exc:
        raise Unchecked(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc


def _check_size(*values: Any, times: int = 1, more: int = 0) -> None:
    """``TooLong`` when ``times`` the texts of ``values``, and ``more``, are past the limit."""
    total = more
    for value in values:
        if total > NOTICE_LIMIT:
            break
        total += text_size(value) * max(times, 0)
    if total > NOTICE_LIMIT:
        raise TooLong


def _check_fields(template: str, count: int, args: Iterable[Any]) -> None:
    """A format of ``count`` fields (``'%s' * 1000 % (names,)``): each may be the longest of
    ``args``'s texts."""
    longest = max((text_size(arg) for arg in args), default=0)
    _check_size(more=len(template) + count * longest)


def _arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[Any]:
    values = [*args, *kwargs.values()]
    for value in list(values):
        if isinstance(value, Mapping):
            values.extend(value.values())
        elif isinstance(value, (list, tuple)):
            values.extend(value)
    return values


def _count(value: Any) -> bool:
    """True for a number a template might use as a count or width past the limit."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > NOTICE_LIMIT


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    if any(_count(value) for value in (*args, *kwargs.values())):
        raise TooLong


def _check_percent(template: str, args: tuple[Any, ...]) -> None:
    """A %-format (``'%50000000s' % name``) whose width or precision is past the limit, written
    in it or given as "*"."""
    fields = 0
    for match in _PERCENT.finditer(template.replace("%%", "")):
        fields += 1
        for number in match.groups():
            if number == "*":
                _check_arguments(args, {})
            elif number and _WIDE.fullmatch(number):
                raise TooLong
    _check_fields(template, fields, _arguments(args, {}))


def _check_format(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """A ``str.format`` template (``'{:>50000000}'``) whose field has a width or precision
    past the limit, written in it or given by another field (``'{:{w}}'``)."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return  # not a format: str.format says so
    for _, _, spec, _ in fields:
        if spec and _WIDE.search(spec):
            raise TooLong
        if spec and "{" in spec:
            _check_arguments(args, kwargs)
            _check_format(spec, args, kwargs)
    named = sum(1 for _, name, _, _ in fields if name is not None)
    _check_fields(template, named, _arguments(args, kwargs))


def _check_result(value: Any) -> Any:
    if text_size(value) > NOTICE_LIMIT:
        raise TooLong
    return value


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(times, int) and size * times > NOTICE_LIMIT:
                raise TooLong
            if size is not None and isinstance(times, int) and not isinstance(times, bool):
                _check_size(seq, times=times)  # [name] * 1000: a thousand names once printed
    elif operator == "**":
        # (a float overflows to an error, not to a huge value)
        whole = isinstance(left, int) and isinstance(right, (int, float)) and abs(left) > 1
        if whole and right * math.log10(abs(left)) > DIGITS_LIMIT:
            raise TooLong
    elif operator == "%":
        if isinstance(left, str):
            _check_percent(left, right if isinstance(right, tuple) else (right,))
    elif operator == "+":
        sizes = (_size(left), _size(right))
        if None not in sizes:
            _check_size(left, right)


def _argument(args: tuple[Any, ...], kwargs: Mapping[str, Any], at: int, name: str) -> Any:
    return args[at] if len(args) > at else kwargs.get(name)


def _check_replace(text: Any, old: Any, new: Any, count: Any = None) -> None:
    """``replace`` makes a copy of ``new`` for each ``old`` in the text (each character, for
    an empty ``old``): ``name.replace('a', name)`` is the name's length squared."""
    size = text_size(text)
    old_text, new_text = ("" if v is None else str(v) for v in (old, new))
    found = text.count(old_text) if isinstance(text, str) and old_text else size + 1
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        found = min(found, count)
    _check_size(more=size + found * max(len(new_text) - len(old_text), 0))


def _joined(items: Any, separator: Any, part: Callable[[Any], Any] | None = None) -> list[Any]:
    """The items a join joins, as a list (a generator's once), ``TooLong`` when their texts
    (``part`` of each: the join filter's ``attribute``) and the separators between them are
    past the limit."""
    pieces = list(items)
    total = max(len(pieces) - 1, 0) * text_size(separator)
    for piece in pieces:
        if total > NOTICE_LIMIT:
            break
        total += text_size(piece if part is None else part(piece))
    if total > NOTICE_LIMIT:
        raise TooLong
    return pieces


def _check_string_call(text: str, method: str, args: tuple[Any, ...], kwargs: Any) -> None:
    """A string method whose text grows with its arguments, worked out before it is made."""
    if method == "replace":
        _check_replace(
            text,
            _argument(args, kwargs, 0, "old"),
            _argument(args, kwargs, 1, "new"),
            _argument(args, kwargs, 2, "count"),
        )
    elif method == "translate":
        table = _argument(args, kwargs, 0, "table")
        values = table.values() if isinstance(table, Mapping) else table
        longest = max((text_size(v) for v in values), default=1) if _size(values) != 0 else 1
        _check_size(text, times=max(longest, 1))
    elif method == "expandtabs":
        tabsize = _argument(args, kwargs, 0, "tabsize")
        tabsize = tabsize if isinstance(tabsize, int) else 8
        _check_size(text, more=text.count("\t") * tabsize)


def _check_filter(name: str, value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """A filter whose text grows with its arguments, worked out before it is made."""
    if name == "replace":
        _check_replace(
            value,
            _argument(args, kwargs, 0, "old"),
            _argument(args, kwargs, 1, "new"),
            _argument(args, kwargs, 2, "count"),
        )
    elif name == "indent":
        # (each line indented: the number of its lines times the width, or the string)
        width = _argument(args, kwargs, 0, "width")
        width = 4 if width is None else width
        lines = str(value).count("\n") + 1 if isinstance(value, str) else text_size(value)
        each = width if isinstance(width, int) else text_size(width)
        _check_size(value, more=lines * max(each, 0))
    elif name == "wordwrap":
        width = _argument(args, kwargs, 0, "width")
        wrapstring = _argument(args, kwargs, 2, "wrapstring")
        if wrapstring is not None:
            size = text_size(value)
            breaks = size // max(width if isinstance(width, int) else 79, 1) + 1
            if isinstance(value, str):
                breaks += value.count("\n")
            _check_size(value, more=breaks * text_size(wrapstring))
    elif name in ("batch", "slice"):
        # (the fill value, once for each place in a batch or each slice: a list of
        # references, ten thousand names once printed, and nothing sized it)
        count = _argument(args, kwargs, 0, "linecount" if name == "batch" else "slices")
        fill = _argument(args, kwargs, 1, "fill_with")
        if isinstance(count, int) and fill is not None:
            _check_size(fill, times=count)


def _attribute(environment: Any, attribute: Any) -> Callable[[Any], Any]:
    """The join filter's ``attribute`` of an item ("name", "name.0", 2), as Jinja's join
    reads it, through the sandbox's ``getitem``."""
    parts = attribute.split(".") if isinstance(attribute, str) else [attribute]
    keys = [int(p) if isinstance(p, str) and p.isdigit() else p for p in parts]

    def get(item: Any) -> Any:
        for key in keys:
            item = environment.getitem(item, key)
        return item

    return get


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    # The value filtered comes first (after the context or environment, for a filter marked
    # to take it): a large number may be filtered; it may not be a filter's count or width.
    skip = 2 if getattr(function, "jinja_pass_arg", None) is not None else 1
    widths = name in _WIDTH_FILTERS
    formats = name == "format"

    def bounded(*args: Any, **kwargs: Any) -> Any:
        if _COMPILING.get():
            # Not worked out as the template is compiled (Jinja joins such constants with no
            # bound: 300 of a million characters were 300 MB), only as it runs, bounded.
            raise nodes.Impossible
        if widths:
            _check_arguments(args[skip:], kwargs)
        value = args[skip - 1] if len(args) >= skip else None
        if name in _TEXT_FILTERS:
            _check_result(value)
        if formats and isinstance(value, str):
            _check_percent(value, (*args[skip:], *kwargs.values()))
        if name == "join" and len(args) >= skip:
            # (the join filter's attribute: "people|join(', ', attribute='name')" joins names)
            attribute = _argument(args[skip:], kwargs, 1, "attribute")
            environment = getattr(args[0], "environment", None) if skip == 2 else None
            part = (
                _attribute(environment, attribute)
                if attribute is not None and environment is not None
                else None
            )
            pieces = _joined(value, _argument(args[skip:], kwargs, 0, "d") or "", part)
            args = (*args[: skip - 1], pieces, *args[skip:])
        _check_filter(name, value, args[skip:], kwargs)
        return _check_result(function(*args, **kwargs))

    # Jinja2 passes the context or environment to a filter marked to take it.
    bounded.__dict__.update(getattr(function, "__dict__", {}))
    bounded.__name__ = getattr(function, "__name__", "filter")
    return bounded


def _bounded_concat(pieces: Any) -> str:
    """The text of a set block's, a macro's or a template's pieces, stopped with ``TooLong``
    once past ``NOTICE_LIMIT`` characters: ``{% set s %}`` made its text out of sight of
    ``render_bounded``."""
    kept: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > NOTICE_LIMIT:
            raise TooLong
        kept.append(piece)
    return "".join(kept)


class _Pieces:
    """A ``~``'s pieces, each counted as it is added: ``TooLong`` once their texts together
    are past ``NOTICE_LIMIT``, before the next piece is worked out."""

    __slots__ = ("size", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.size = 0

    def add(self, value: Any) -> _Pieces:
        self.size += text_size(value)
        if self.size > NOTICE_LIMIT:
            raise TooLong
        self.values.append(value)
        return self


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja2's code, each ``~`` checked as it is worked out (``BoundedSandbox.bounded``): a
    string doubled with it in a loop made millions of characters in a few steps."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # Jinja2's own, its pieces' texts counted before they are made and joined
        # (``name ~ name ~ ...``: the template's length times a name of a million).
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        # Each piece is counted as it is worked out, before the next: all of them worked
        # out first were 300 names of a million characters, 300 MB, before any was counted.
        # (Not folded as Jinja's is, ``@optimizeconst``: a piece of constants is worked out
        # as the template runs, bounded, not as it is compiled.)
        self.write(f"environment.bounded({join}(environment.pieces()")
        for arg in node.nodes:
            self.write(".add(")
            self.visit(arg, frame)
            self.write(")")
        self.write(".values))")

    # A list, a tuple or a dict written in the template (``[name, name, ...]``) is checked as
    # it is made, as one made by an operator or a filter is: its text, once printed or
    # joined, is bounded too.
    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_Dict(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":  # a name to assign to (``{% for a, b in ... %}``)
            super().visit_Tuple(node, frame)
            return
        self.write("environment.bounded(")
        super().visit_Tuple(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, refusing to make anything past ``NOTICE_LIMIT``."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _BoundedCodeGenerator
    concat = staticmethod(_bounded_concat)

    @staticmethod
    def bounded(value: Any) -> Any:
        """``value`` (a ``~``'s, a list's...), or ``TooLong`` when its text is past
        ``NOTICE_LIMIT``."""
        return _check_result(value)

    @staticmethod
    def pieces() -> _Pieces:
        """A ``~``'s pieces, ``TooLong`` once their texts together are past the limit."""
        return _Pieces()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Each value a ``{{ }}`` prints is sized before it is made text (a loop's batch, a
        # list no operator made), then given to the school's own finalize, if any.
        finalize = kwargs.pop("finalize", None)
        if finalize is None:
            kwargs["finalize"] = _check_result
        else:
            kwargs["finalize"] = lambda value: finalize(_check_result(value))
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        # Words of Lorem Ipsum by the million: nothing a notice needs.
        self.globals.pop("lipsum", None)

    def compile(self, *args: Any, **kwargs: Any) -> Any:
        token = _COMPILING.set(True)
        try:
            return super().compile(*args, **kwargs)
        finally:
            _COMPILING.reset(token)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return _check_result(super().call_binop(context, operator, left, right))

    # Jinja2's own spelling: a keyword argument of the call may be called "self" or "obj".
    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        wrapped = getattr(__obj, "__wrapped__", __obj)  # str.format, as the sandbox wraps it
        receiver = getattr(wrapped, "__self__", None)
        method = getattr(wrapped, "__name__", "")
        if not isinstance(receiver, str):
            _check_arguments(args, kwargs)  # (1).to_bytes(3000000000): no string's method
        elif method == "format":
            _check_format(receiver, args, kwargs)
        elif method == "format_map":
            _check_format(receiver, (), args[0] if args and isinstance(args[0], Mapping) else {})
        elif method in _WIDTH_METHODS:
            _check_arguments(args, kwargs)
        if isinstance(receiver, str) and method == "join" and args:
            pieces = _joined(args[0], receiver)
            args = (pieces, *args[1:])
        elif isinstance(receiver, str):
            _check_string_call(receiver, method, args, kwargs)
        return _check_result(super().call(__context, __obj, *args, **kwargs))


def render_bounded(template: Template, context: Mapping[str, Any]) -> str:
    """``template`` rendered, stopped with ``TooLong`` once past ``NOTICE_LIMIT``
    characters (a loop of loops makes its text piece by piece)."""
    pieces: list[str] = []
    size = 0
    for piece in template.generate(context):
        size += len(piece)
        if size > NOTICE_LIMIT:
            raise TooLong
        pieces.append(piece)
    return "".join(pieces)
