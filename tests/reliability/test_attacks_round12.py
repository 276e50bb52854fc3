"""Round 12 of the red team on the record.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors

from kiosk.services.app import Services
from tests.reliability.helpers import Raw, libpq_url
from tests.reliability.test_attacks import _append
from tests.reliability.test_least_privilege import _is_admin, _latest_row, _snapshot, _staff_id

# --- PostgreSQL: an admin's row recorded without its roles -----------------------------------


def _without(db: Raw, code: str, *fields: str) -> dict[str, Any]:
    """An admin's row as last recorded, with ``fields`` left out (or, for "null", roles null)."""
    key = _staff_id(db, code)
    row = _latest_row(db, "staff", key)
    for field in fields:
        row.pop(field, None)
    return {"table": "staff", "key": key, "row": row}


@pytest.mark.postgresql
@pytest.mark.parametrize("admin", ["DOFFICE", "CHEAD"])
def test_the_kiosk_login_cannot_remove_admin_by_leaving_the_roles_out(
    set_up_school: Services, kiosk_url: str, admin: str
) -> None:
    """Revision 0006's guard computed "will be an admin" as ``jsonb_typeof(roles) = 'array'
    AND roles @> '["admin"]' AND retired_at IS NULL``: with no ``roles`` in the row that is
    NULL, and ``was_admin <> NULL`` is not true, so the guard let it through; the apply
    function then deleted every role of the person (``jsonb_array_elements_text(NULL)`` gives
    no row). The kiosk's login (the key only to MAC it, named as recorded by an admin) took
    admin from every admin: the school then counted as "not set up", and the login could
    record admins and a PIN of its own."""
    before = _snapshot(kiosk_url)
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        chead = _staff_id(db, "CHEAD")
        details = _without(db, admin, "roles")
        with pytest.raises(errors.InsufficientPrivilege, match="grant or remove admin"):
            _append(
                db,
                {
                    "kind": "reference_changed",
                    "category": "reference",
                    "staff_id": chead,
                    "recorded_by_id": chead,
                    "details": details,
                },
            )
        kiosk.rollback()
        assert _is_admin(db, admin) == [(1,)]
    assert _snapshot(kiosk_url) == before
    assert set_up_school.integrity.verify(save=False).ok
