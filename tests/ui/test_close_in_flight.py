"""Closing the window while work is in flight leaves nothing pending: a preview, an image, a catalog
fetch and a keychain call are cancelled and awaited (worker threads to their end) before the
Session closes its HTTP client and journal."""

from __future__ import annotations

import asyncio

import pytest
from test_keychain_off_ui_thread import SlowKeyring  # tests/ui/test_keychain_off_ui_thread.py

from moments_desktop.core.profiles import Profile

pytestmark = pytest.mark.gui


def owned_work(harness) -> int:
    return len(harness.bridge.tasks) + len(harness.window.history_service._tasks)  # noqa: SLF001


@pytest.mark.parametrize("what", ["preview", "image", "keychain"])
def test_closing_with_work_in_flight_leaves_nothing_pending(harness, in_loop, until, sandbox, monkeypatch,
                                                           keep_loop_after_last_window, what):
    w = harness.window
    slow = SlowKeyring()
    slow.delays = {}
    if what == "preview":
        sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=5, times=1)
    elif what == "image":
        sandbox.admin.add_fault("images", "latency", seconds=5, times=1)
    else:
        profile = harness.profiles.add(Profile(name="Slow keychain", base_url=sandbox.base_url, **sandbox.demo_body))
        harness.credentials.set_key(profile.id, sandbox.demo_key)
        w.refresh_profile_list()
        monkeypatch.setattr(harness.credentials, "_backend", slow)
        slow.delays[profile.id] = 0.5

    async def scenario():
        if what == "keychain":
            w.profile_combo.setCurrentIndex(w.profile_combo.findData(profile.id))
            w.preview()  # reads the key: a keychain call that takes half a second, in a worker thread
            await until(lambda: bool(slow.threads))
        else:
            w.preview()
            if what == "image":
                await until(lambda: w.preview_panel.currentWidget() is w.preview_panel.card_page)
            else:
                # Not a wait for a result: it puts the close inside the answer's 5 s latency (the
                # assertions hold wherever the close lands).
                await asyncio.sleep(0.3)
        # the catalog fetch of the endpoint is asked for too, whenever the form's endpoint settles
        w.form_catalog.refresh()
        assert owned_work(harness) > 0
        loop = asyncio.get_running_loop()
        started = loop.time()
        w.discard_all_edits()
        w.close()
        await w.aclose()
        assert loop.time() - started < 3, "closing waited for the slow answer instead of cancelling it"
        assert owned_work(harness) == 0
        assert harness.session.closed and harness.session.http.is_closed
        # (what else is left on the loop - nothing, or the leak guard fails this test - is checked
        # once the scenario ends: in_loop waits until the loop is idle)

    in_loop(scenario)
    if what == "keychain":
        assert slow.finished == len(slow.threads)  # the keychain thread ran to its end before the close returned
