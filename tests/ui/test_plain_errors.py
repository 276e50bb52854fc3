"""An error in the app's own loop stops the app with words, never a traceback
(kiosk/ui/tuning/errors.py: the one override of App._handle_exception, always on)."""

from __future__ import annotations

import pytest

from kiosk.services.app import Services
from kiosk.ui.tuning.errors import Stopped
from tests.ui.kiosk_support import make_app

pytestmark = pytest.mark.ui


@pytest.mark.parametrize("tuning", ["all", "0"])
async def test_a_bug_in_the_apps_own_loop_stops_it_in_words(
    school: Services, monkeypatch: pytest.MonkeyPatch, tuning: str
) -> None:
    monkeypatch.setenv("KIOSK_TUNING", tuning)
    app = make_app(school)

    def broken() -> None:
        raise RuntimeError("a bug in the app itself")

    printed: list[str] = []
    with pytest.raises(Stopped) as stopped:  # Pilot re-raises what stopped the app
        async with app.run_test() as pilot:
            await pilot.pause()
            app.call_later(broken)  # runs in the app's own message loop
            await pilot.pause(0.5)
            printed = [
                "".join(segment.text for segment in renderable.segments)
                for renderable in app._exit_renderables
            ]
    assert app.return_code == 1
    assert [type(e) for e in app.unexpected_errors] == [RuntimeError]
    assert isinstance(stopped.value.__cause__, RuntimeError)
    assert len(printed) == 1 and "Traceback" not in printed[0]
    assert printed[0].startswith("The kiosk stopped after an unexpected problem.")
