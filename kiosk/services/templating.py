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
``~`` are checked as they are joined. What is left (a loop of loops that makes nothing, a
set block's pieces before they are joined) is bounded by the notify unit's memory and time
limits (``deploy.py``).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

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


class TooLong(Exception):
    """A template would make a notice longer than ``NOTICE_LIMIT`` characters."""


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _count(value: Any) -> bool:
    """True for a number a template might use as a count or width past the limit."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > NOTICE_LIMIT


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    if any(_count(value) for value in (*args, *kwargs.values())):
        raise TooLong


def _check_percent(template: str, args: tuple[Any, ...]) -> None:
    """A %-format (``'%50000000s' % name``) whose width or precision is past the limit, written
    in it or given as "*"."""
    for match in _PERCENT.finditer(template.replace("%%", "")):
        for number in match.groups():
            if number == "*":
                _check_arguments(args, {})
            elif number and _WIDE.fullmatch(number):
                raise TooLong


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


def _check_result(value: Any) -> Any:
    size = _size(value)
    if size is not None and size > NOTICE_LIMIT:
        raise TooLong
    return value


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(times, int) and size * times > NOTICE_LIMIT:
                raise TooLong
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
        if None not in sizes and sum(s for s in sizes if s is not None) > NOTICE_LIMIT:
            raise TooLong


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    # The value filtered comes first (after the context or environment, for a filter marked
    # to take it): a large number may be filtered; it may not be a filter's count or width.
    skip = 2 if getattr(function, "jinja_pass_arg", None) is not None else 1
    widths = name in _WIDTH_FILTERS
    formats = name == "format"

    def bounded(*args: Any, **kwargs: Any) -> Any:
        if widths:
            _check_arguments(args[skip:], kwargs)
        value = args[skip - 1] if len(args) >= skip else None
        if formats and isinstance(value, str):
            _check_percent(value, args[skip:])
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


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja2's code, each ``~`` checked as it is worked out (``BoundedSandbox.bounded``): a
    string doubled with it in a loop made millions of characters in a few steps."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, refusing to make anything past ``NOTICE_LIMIT``."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _BoundedCodeGenerator
    concat = staticmethod(_bounded_concat)

    @staticmethod
    def bounded(value: Any) -> Any:
        """``value`` (a ``~``'s), or ``TooLong`` when it is past ``NOTICE_LIMIT``."""
        return _check_result(value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        # Words of Lorem Ipsum by the million: nothing a notice needs.
        self.globals.pop("lipsum", None)

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
