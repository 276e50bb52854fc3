"""Tuning piece ``style-memo``: styles worked out once per kind of place in the screen,
not once per widget.

Textual styles each widget as it mounts (``Stylesheet.apply``): it gathers the rules that
could apply, matches each one's selectors against the widget and its ancestors, and keeps the
most specific value of each property. That is 0.3-0.5 ms a widget here, and most of the time
to build a screen: opening the admin console (some 70 widgets) spent about a third of its
time there. Yet the answer depends only on where the widget is: its type, id, classes and
state, and those of each ancestor up to the app. A toolbar's buttons, the same screen built
again, a view shown again: the same places, the same answer.

:func:`install` wraps ``Stylesheet.apply`` with a memo keyed on exactly that path. What
Textual works out (the rules and the flags it sets on the node) is kept the first time; after
that the widget gets the same rules through Textual's own ``replace_rules``, as Textual itself
does for nodes of one update. Nothing is kept for a widget whose rules depend on its position
among its siblings or on its children (``:first-child``, ``:odd``, ``:focus-within``...), nor
for nodes outside an app; the memo starts again when the stylesheet is parsed again (a theme
change). ``tests/ui/test_style_memo.py`` checks that every widget of the kiosk's screens and
the console's views gets the same styles with it and without it.

It works with ``textual==8.2.8`` (what we pin): it relies on ``Stylesheet.apply`` calling
``replace_rules`` with the rules it worked out, and setting the node's ``_has_*`` flags.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from operator import attrgetter, methodcaller
from typing import Any

from textual.app import App
from textual.css.model import RuleSet, SelectorType
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widget import Widget

MAX_PLACES = 4096
_FLAGS = ("_has_hover_style", "_has_focus_within", "_has_order_style", "_has_odd_or_even")
# Flags for rules that depend on a node's siblings or children: such nodes are not memoised.
_POSITIONAL = ("_has_focus_within", "_has_order_style", "_has_odd_or_even")

_original_apply = Stylesheet.apply
_original_replace_rules = Stylesheet.replace_rules


class _Memo:
    def __init__(self) -> None:
        self.rules: object = None  # the stylesheet's rule list the places were worked out for
        self.getters: tuple[tuple[Any, ...], tuple[Any, ...]] = ((), ())
        self.ids: frozenset[str] = frozenset()  # every id any selector names, anywhere in it
        self.places: OrderedDict[tuple[Any, ...], tuple[Any, tuple[bool, ...]]] = OrderedDict()
        self.hits = 0
        self.misses = 0


_capture = threading.local()


# Textual's pseudo-classes (``_PSEUDO_CLASSES``), by what they depend on: the node's own state
# (each ancestor is in the key too: a disabled ancestor shows as its own ``disabled``), or the
# app's (the app is the first node of every path).
def _reactive(name: str) -> Any:
    """A getter of a Widget's reactive ``name`` that reads where the Reactive keeps it (its
    ``__get__`` is 1-2 us; a key reads three of them for each node of the path)."""
    reactive = getattr(Widget, name)
    internal, default = reactive.internal_name, reactive._default

    def get(node: Widget) -> Any:
        return node.__dict__.get(internal, default)

    return get


_HOVER, _FOCUS, _DISABLED = _reactive("mouse_hover"), _reactive("has_focus"), _reactive("disabled")
_WIDGET_STATE: dict[str, Any] = {
    "hover": _HOVER,
    "focus": _FOCUS,
    "blur": _FOCUS,
    "disabled": _DISABLED,
    "enabled": _DISABLED,
    "can-focus": methodcaller("allow_focus"),
}
_APP_FOCUS, _DARK = attrgetter("app_focus"), attrgetter("current_theme.dark")
_APP_STATE: dict[str, Any] = {
    "focus": _APP_FOCUS,
    "blur": _APP_FOCUS,
    "dark": _DARK,
    "light": _DARK,
    "inline": attrgetter("is_inline"),
    "ansi": attrgetter("native_ansi_color"),
    "nocolor": attrgetter("no_color"),
}


def _getters(rules: list[RuleSet]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The state getters the stylesheet's rules need (only pseudo-classes some rule uses)."""
    used = set().union(*(rule.pseudo_classes for rule in rules))
    widget = {id(get): get for name, get in _WIDGET_STATE.items() if name in used}
    app = {id(get): get for name, get in _APP_STATE.items() if name in used}
    return tuple(widget.values()), tuple(app.values())


def _ids(rules: list[RuleSet]) -> frozenset[str]:
    """Every id named in a selector, wherever it is in it (``#a Button``, ``#a.-on``):
    Textual's ``rules_map`` knows only the last part of each."""
    return frozenset(
        selector.name
        for rule in rules
        for selector_set in rule.selector_set
        for selector in selector_set.selectors
        if selector.type == SelectorType.ID
    )


def _place(memo: _Memo, node: DOMNode) -> tuple[Any, ...] | None:
    path = node.css_path_nodes
    app = path[0]
    if not isinstance(app, App):
        return None
    ids = memo.ids
    widget_state, app_state = memo.getters
    key: list[Any] = [
        (app._id, frozenset(app._classes), tuple(get(app) for get in app_state)),
    ]
    for each in path[1:]:
        ident = each._id
        if ident is not None and ident not in ids:
            ident = None  # an id no rule names does not change the answer
        state = tuple(get(each) for get in widget_state) if isinstance(each, Widget) else ()
        key.append((type(each), ident, frozenset(each._classes), state))
    return tuple(key)


@contextlib.contextmanager
def _capturing(node: DOMNode) -> Iterator[list[Any]]:
    captured: list[Any] = []
    previous = getattr(_capture, "slot", None)
    _capture.slot = (node, captured)
    try:
        yield captured
    finally:
        _capture.slot = previous


def _replace_rules(cls: type[Stylesheet], node: DOMNode, rules: Any, animate: bool = False) -> None:
    slot = getattr(_capture, "slot", None)
    if slot is not None and slot[0] is node:
        slot[1].append(rules)
    _original_replace_rules(node, rules, animate=animate)


def _apply(
    self: Stylesheet,
    node: DOMNode,
    *,
    animate: bool = False,
    cache: dict[tuple[Any, ...], Any] | None = None,
) -> None:
    memo: _Memo | None = self.__dict__.get("_kiosk_style_memo")
    if memo is None:
        memo = self.__dict__["_kiosk_style_memo"] = _Memo()
    rules = self.rules
    if memo.rules is not rules:
        memo.rules = rules
        memo.getters = _getters(rules)
        memo.ids = _ids(rules)
        memo.places.clear()
    place = _place(memo, node)
    if place is None:
        _original_apply(self, node, animate=animate, cache=cache)
        return
    found = memo.places.get(place)
    if found is not None:
        memo.hits += 1
        memo.places.move_to_end(place)
        node_rules, flags = found
        for name, value in zip(_FLAGS, flags, strict=True):
            setattr(node, name, value)
        if node_rules is not None:
            _original_replace_rules(node, node_rules, animate=animate)
        self._process_component_classes(node)
        return
    memo.misses += 1
    with _capturing(node) as captured:
        _original_apply(self, node, animate=animate, cache=cache)
    flags = tuple(bool(getattr(node, name, False)) for name in _FLAGS)
    if any(flag for name, flag in zip(_FLAGS, flags, strict=True) if name in _POSITIONAL):
        return
    memo.places[place] = (captured[0] if captured else None, flags)
    if len(memo.places) > MAX_PLACES:
        memo.places.popitem(last=False)


def installed() -> bool:
    return Stylesheet.__dict__.get("apply") is _apply


_original_replace_rules_attr = Stylesheet.__dict__["replace_rules"]


def install() -> None:
    """Memoise ``Stylesheet.apply`` (idempotent)."""
    if installed():
        return
    Stylesheet.apply = _apply  # type: ignore[method-assign]
    Stylesheet.replace_rules = classmethod(_replace_rules)  # type: ignore[method-assign, assignment]


def uninstall() -> None:
    """Textual's own ``Stylesheet.apply`` again (idempotent)."""
    if not installed():
        return
    Stylesheet.apply = _original_apply  # type: ignore[method-assign]
    Stylesheet.replace_rules = _original_replace_rules_attr  # type: ignore[method-assign]
