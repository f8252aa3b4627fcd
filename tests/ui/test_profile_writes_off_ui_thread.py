"""profiles.json writes never run on the UI thread: with a disk whose every write takes 0.5 s,
creating, renaming, saving, duplicating, deleting, importing and "Save all" on close must not
stall the window, and every write must happen on a worker thread."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from moments_desktop.core import paths
from moments_desktop.core.profiles import DEMO_PROFILE_ID

pytestmark = pytest.mark.gui

DELAY_S = 0.5


def combo_names(window):
    return [window.profile_combo.itemText(i) for i in range(window.profile_combo.count())]


def test_profile_writes_keep_the_window_responsive(harness, in_loop, until, monkeypatch, tmp_path, sandbox,
                                                   keep_loop_after_last_window):
    writers: list[threading.Thread] = []
    real_write = paths.atomic_write

    def slow_write(path, write, **kwargs):
        if Path(path) == harness.profiles.path:
            writers.append(threading.current_thread())
            time.sleep(DELAY_S)
        real_write(path, write, **kwargs)

    monkeypatch.setattr(paths, "atomic_write", slow_write)
    w = harness.window
    names = iter(["Slow disk", "Slow disk EU"])
    monkeypatch.setattr(w, "ask_text", lambda *args, **kwargs: next(names))
    monkeypatch.setattr(w, "ask_confirm", lambda *args, **kwargs: True)
    monkeypatch.setattr(w, "ask_unsaved_edits", lambda _names: "save")
    errors = []
    monkeypatch.setattr(w, "show_error", errors.append)
    import_file = tmp_path / "import.json"
    import_file.write_text(json.dumps([dict(sandbox.demo_body, name="Imported", base_url="https://x.example.com",
                                            live=False)]), encoding="utf-8")
    w.transfer.choose_import_path = lambda: str(import_file)
    closed = []
    w.closed.connect(lambda: closed.append(True))
    tick_times: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: tick_times.append(time.monotonic()))

    def held():
        return not (w.profile_combo.isEnabled() or w.new_button.isEnabled() or w.rename_button.isEnabled()
                    or w.duplicate_button.isEnabled() or w.save_button.isEnabled())

    async def scenario():
        heartbeat.start()
        w.new_button.click()
        assert held() and w.current_profile_id() == DEMO_PROFILE_ID  # shown once written
        await until(lambda: w.current_profile_id() != DEMO_PROFILE_ID)
        profile_id = w.current_profile_id()
        await until(lambda: w.rename_button.isEnabled())

        w.rename_button.click()
        assert held()
        await until(lambda: w.profile_combo.currentText() == "Slow disk EU")
        await until(lambda: w.profile_combo.isEnabled())

        w.form.editors["campaignId"].setText("SLOWCAMP")
        w.save_button.click()
        assert held() and w.is_dirty()  # a draft until written
        await until(lambda: not w.is_dirty())
        assert harness.profiles.get(profile_id).campaignId == "SLOWCAMP"

        await until(lambda: w.duplicate_button.isEnabled())
        w.duplicate_button.click()
        assert held()
        await until(lambda: w.current_profile_id() not in (profile_id, None))
        await until(lambda: w.delete_button.isEnabled())
        w.delete_button.click()
        await until(lambda: w.current_profile_id() == DEMO_PROFILE_ID)

        w.menu_actions.import_profiles.trigger()
        await until(lambda: w.transfer.dialog is not None and w.transfer.dialog.isVisible())
        w.transfer.dialog.import_button.click()
        await until(lambda: "Imported" in combo_names(w))

        # two profiles with unsaved edits; closing saves both, then the window closes itself
        await until(lambda: w.profile_combo.isEnabled())
        w.form.editors["rewardGroupId"].setText("JP")
        w.profile_combo.setCurrentIndex(w.profile_combo.findData(profile_id))
        w.form.editors["appId"].setText("SLOWAPP")
        assert not w.close() and w.isVisible()
        await until(lambda: closed == [True], 15_000)
        heartbeat.stop()
        await harness.bridge.aclose()
        return profile_id

    profile_id = in_loop(scenario)
    assert not errors
    stored = {p.name: p for p in harness.profiles}
    assert set(stored) == {"Sandbox demo", "Slow disk EU", "Imported"}
    assert stored["Slow disk EU"].appId == "SLOWAPP" and stored["Sandbox demo"].rewardGroupId == "JP"
    assert stored["Slow disk EU"].id == profile_id
    # create, rename, save, duplicate, delete, import, two saves on close: each a slow write off the UI thread
    assert len(writers) == 8
    assert all(t is not threading.main_thread() for t in writers)
    # a write on the UI thread would stop the heartbeat for 0.5 s
    gaps = [b - a for a, b in zip(tick_times, tick_times[1:], strict=False)]
    assert len(tick_times) > 150 and max(gaps) < DELAY_S * 0.8, max(gaps)
