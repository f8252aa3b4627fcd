"""Keychain calls never run on the UI thread: a keyring whose every call takes 0.5 s must not
stall the window, and every call must happen on a worker thread."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from memory_keyring import MemoryKeyring  # tests/memory_keyring.py
from PySide6.QtCore import QTimer

from moments_desktop.api_schema import DEFAULT_BASE_URL
from moments_desktop.core.profiles import DEMO_PROFILE_ID, Profile

pytestmark = pytest.mark.gui

DELAY_S = 0.5


class SlowKeyring(MemoryKeyring):
    """Like a keychain answering over a slow D-Bus: each call sleeps and records its thread."""

    def __init__(self):
        super().__init__()
        self.threads: list[threading.Thread] = []
        self.finished = 0
        self.delays: dict[str, float] = {}  # per profile id

    def _slow(self, username=None):
        self.threads.append(threading.current_thread())
        time.sleep(self.delays.get(username, DELAY_S))
        self.finished += 1

    def get_password(self, service, username):
        self._slow(username)
        return super().get_password(service, username)

    def set_password(self, service, username, password):
        self._slow()
        super().set_password(service, username, password)

    def delete_password(self, service, username):
        self._slow()
        super().delete_password(service, username)


def test_key_check_save_duplicate_delete_keep_the_window_responsive(harness, in_loop, until, monkeypatch):
    slow = SlowKeyring()
    monkeypatch.setattr(harness.credentials, "_backend", slow)
    w = harness.window
    monkeypatch.setattr(w, "ask_text", lambda *args, **kwargs: "Slow keychain")
    monkeypatch.setattr(w, "ask_confirm", lambda *args, **kwargs: True)
    errors = []
    monkeypatch.setattr(w, "show_error", errors.append)
    tick_times: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: tick_times.append(time.monotonic()))

    # New… from the demo would stay on the embedded sandbox (no key to store): start from a production profile
    template = harness.profiles.add(Profile(name="Production template", base_url=DEFAULT_BASE_URL, live=True,
                                            appId="DEMO1", momentId="GAME_COMPLETE", campaignId="DEMOCAMP1",
                                            rewardGroupId="US"))
    w.refresh_profile_list()
    w.profile_combo.setCurrentIndex(w.profile_combo.findData(template.id))

    async def scenario():
        heartbeat.start()
        w.new_button.click()
        await until(lambda: w.current_profile_id() not in (DEMO_PROFILE_ID, template.id))  # written off the UI thread too
        profile_id = w.current_profile_id()
        assert w.key_status.text() == "Checking the keychain…"
        await until(lambda: w.key_status.text() == "No key stored yet.")

        w.key_edit.setText("slow-secret")
        w.save_key_button.click()
        # held while the key is written: no profile switch, no second keychain action
        assert w.key_status.text() == "Saving the key…"
        assert not w.save_key_button.isEnabled() and not w.profile_combo.isEnabled()
        assert not w.delete_button.isEnabled() and not w.duplicate_button.isEnabled()
        await until(lambda: w.key_status.text().startswith("Key stored in "))
        assert w.profile_combo.isEnabled() and w.delete_button.isEnabled()

        w.duplicate_button.click()
        assert not w.new_button.isEnabled()
        await until(lambda: w.current_profile_id() not in (profile_id, None))
        copy_id = w.current_profile_id()
        await until(lambda: w.key_status.text() == "A key is stored for this profile.")

        w.delete_button.click()
        await until(lambda: w.current_profile_id() == DEMO_PROFILE_ID)
        heartbeat.stop()
        return profile_id, copy_id

    profile_id, copy_id = in_loop(scenario)
    assert not errors
    assert ("moments-desktop", copy_id) not in slow.store and copy_id not in harness.profiles
    assert slow.store[("moments-desktop", profile_id)] == "slow-secret"
    # check, save, duplicate (read + write), check of the copy, delete: ≥ 6 slow calls, none on the UI thread
    assert len(slow.threads) >= 6
    assert all(t is not threading.main_thread() for t in slow.threads)
    # a call on the UI thread would stop the heartbeat for 0.5 s
    gaps = [b - a for a, b in zip(tick_times, tick_times[1:], strict=False)]
    assert len(tick_times) > 100 and max(gaps) < DELAY_S * 0.8, max(gaps)


def test_a_key_check_for_a_profile_left_behind_does_not_overwrite_the_status(harness, in_loop, until,
                                                                              monkeypatch, sandbox):
    slow = SlowKeyring()
    monkeypatch.setattr(harness.credentials, "_backend", slow)
    from moments_desktop.core.profiles import Profile

    first = harness.profiles.add(Profile(name="First", base_url="https://a.example.com", **sandbox.demo_body))
    second = harness.profiles.add(Profile(name="Second", base_url="https://b.example.com", **sandbox.demo_body))
    slow.store[("moments-desktop", first.id)] = "first-key"
    slow.delays[first.id] = 2 * DELAY_S  # First's answer arrives after Second's
    w = harness.window
    w.refresh_profile_list()
    combo = w.profile_combo

    async def scenario():
        combo.setCurrentIndex(combo.findData(first.id))
        combo.setCurrentIndex(combo.findData(second.id))
        await until(lambda: w.key_status.text() == "No key stored yet.", 5000)
        await until(lambda: slow.finished == 2)  # First's check has answered too, late
        await asyncio.sleep(0.05)

    in_loop(scenario)
    assert w.key_status.text() == "No key stored yet."  # never "A key is stored" (that was First's)
