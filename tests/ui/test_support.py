"""The tests' own helpers say what went wrong when they give up waiting."""

from __future__ import annotations

import pytest
from textual.app import App

from tests.ui.admin_support import wait_until


async def test_wait_until_reports_the_last_exception_and_the_last_value() -> None:
    app = App[None]()
    async with app.run_test() as pilot:

        def missing() -> bool:
            raise KeyError("the register's table")

        with pytest.raises(AssertionError) as failed:
            await wait_until(pilot, missing, timeout=0.2, what="the table")
        assert "the table" in str(failed.value)
        assert "KeyError" in str(failed.value) and "register's table" in str(failed.value)
        assert isinstance(failed.value.__cause__, KeyError)

        rows: list[str] = []
        with pytest.raises(AssertionError) as failed:
            await wait_until(pilot, lambda: len(rows), timeout=0.2, what="rows")
        assert "gave 0" in str(failed.value)
