"""Kinds of device a school signs out (laptops, work phones, tablets, cameras...), each with
its own rules. Plain data: the services read the newest ``device_kinds_set`` event.

Every kind needs the required policies acknowledged and VDU training declared before it
goes off site (as laptops always have). On top of that, per kind:

- ``needs_charged``: "charged and ready" must be confirmed (work phones, by the policy);
- ``regular_use``: signed out more than the school's threshold in 28 days, a line manager
  must have agreed (laptops, by the policy: "not taken home on a regular or daily basis").

``laptop`` and ``work_phone`` are built in and cannot be removed; a school adds its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.domain.errors import InvalidInput

KIND_CODE = re.compile(r"[a-z][a-z0-9_]{0,15}")


@dataclass(frozen=True, slots=True)
class DeviceKindDef:
    code: str
    label: str
    needs_charged: bool = False
    regular_use: bool = False
    built_in: bool = False

    def to_details(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "needs_charged": self.needs_charged,
            "regular_use": self.regular_use,
        }


BUILT_IN: tuple[DeviceKindDef, ...] = (
    DeviceKindDef("laptop", "Laptop", needs_charged=False, regular_use=True, built_in=True),
    DeviceKindDef("work_phone", "Work phone", needs_charged=True, regular_use=False, built_in=True),
)


def normalise_kind_code(text: str) -> str:
    code = re.sub(r"[\s-]+", "_", text.strip().lower())
    if not KIND_CODE.fullmatch(code):
        raise InvalidInput(
            f"kind {text.strip()!r} must be 1-16 lower-case letters, digits or '_', "
            "starting with a letter (e.g. tablet, camera)"
        )
    return code


def fallback_label(code: str) -> str:
    return code.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class DeviceKinds:
    """The kinds in force: the built-in ones, then the school's, in the order added."""

    kinds: tuple[DeviceKindDef, ...] = BUILT_IN

    def get(self, code: str) -> DeviceKindDef | None:
        return next((k for k in self.kinds if k.code == code), None)

    def require(self, text: str) -> DeviceKindDef:
        """The kind named ``text`` (kind code or label); InvalidInput listing them if none."""
        try:
            code = normalise_kind_code(text)
        except InvalidInput:
            code = ""
        found = self.get(code) or next(
            (k for k in self.kinds if k.label.lower() == text.strip().lower()), None
        )
        if found is None:
            raise InvalidInput(f"kind {text.strip()!r} must be one of {', '.join(self.codes)}")
        return found

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(k.code for k in self.kinds)

    def label(self, code: str) -> str:
        kind = self.get(code)
        return kind.label if kind else fallback_label(code)

    def needs_charged(self, codes: Iterable[str]) -> bool:
        return any((k := self.get(c)) is not None and k.needs_charged for c in codes)

    def regular_use_codes(self) -> tuple[str, ...]:
        return tuple(k.code for k in self.kinds if k.regular_use)

    def with_kind(self, kind: DeviceKindDef) -> DeviceKinds:
        """These kinds with ``kind`` added, or changed if its code exists (a built-in kind
        keeps its code; its label and rules may change)."""
        new = DeviceKindDef(
            kind.code,
            kind.label,
            kind.needs_charged,
            kind.regular_use,
            built_in=any(b.code == kind.code for b in BUILT_IN),
        )
        if self.get(kind.code) is None:
            return DeviceKinds((*self.kinds, new))
        return DeviceKinds(tuple(new if k.code == kind.code else k for k in self.kinds))

    def to_details(self) -> dict[str, Any]:
        return {"kinds": [k.to_details() for k in self.kinds]}

    @classmethod
    def from_details(cls, details: Mapping[str, Any] | None) -> DeviceKinds:
        if not details:
            return DEFAULT_KINDS
        kinds = DEFAULT_KINDS
        for raw in details.get("kinds") or ():
            try:
                code = normalise_kind_code(str(raw["code"]))
                kinds = kinds.with_kind(
                    DeviceKindDef(
                        code,
                        str(raw.get("label") or fallback_label(code))[:40],
                        bool(raw.get("needs_charged")),
                        bool(raw.get("regular_use")),
                    )
                )
            except (KeyError, TypeError, InvalidInput):
                continue  # a damaged entry is left out, never a traceback
        return kinds


DEFAULT_KINDS = DeviceKinds()
