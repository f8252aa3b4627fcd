"""Each failure kind, driven through the real window against the real sandbox, shows its own
message in the preview error panel (never a traceback)."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import Qt

from moments_desktop.core import errorlog
from moments_desktop.core.client import default_timeout
from moments_desktop.core.profiles import Profile

pytestmark = pytest.mark.gui


def preview_and_wait_for_error(qtbot, harness, in_loop, until, timeout_ms=10_000):
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        assert w.preview_button.isEnabled()
        qtbot.mouseClick(w.preview_button, Qt.MouseButton.LeftButton)
        await until(lambda: panel.currentWidget() is panel.error_page and not harness.bridge.busy,
                    timeout_ms)

    in_loop(scenario)
    return panel


def assert_no_traceback(w):
    panel = w.preview_panel
    shown = " ".join((panel.error_title.text(), panel.error_advice.text(), panel.error_detail.text()))
    assert "Traceback" not in shown
    assert "Traceback" not in w.raw_view.text.toPlainText()


def select_new_profile(harness, profile):
    w = harness.window
    w.profile_combo.addItem(profile.name, profile.id)
    w.profile_combo.setCurrentIndex(w.profile_combo.count() - 1)


def test_throttled_shows_too_many_requests(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, body={"message": "Too Many Requests"},
                            headers={"Retry-After": "1"})
    panel = preview_and_wait_for_error(qtbot, harness, in_loop, until)
    assert panel.error_title.text() == "Too many requests (429)"
    assert "HTTP status 429" in panel.error_detail.text()
    assert_no_traceback(harness.window)


@pytest.fixture
def no_retries(make_harness):
    return make_harness(info_retries=0)


@pytest.fixture
def short_read_timeout(make_harness):
    return make_harness(timeout=default_timeout(read=0.5), info_retries=0)


def test_throttled_without_retries_is_quick(no_retries, qtbot, in_loop, until, sandbox):
    harness = no_retries
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, body={"message": "Too Many Requests"},
                            headers={"Retry-After": "1"})
    panel = preview_and_wait_for_error(qtbot, harness, in_loop, until, timeout_ms=900)
    assert panel.error_title.text() == "Too many requests (429)"
    assert_no_traceback(harness.window)


def test_timeout_shows_did_not_answer(short_read_timeout, qtbot, in_loop, until, sandbox):
    harness = short_read_timeout
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=3)
    panel = preview_and_wait_for_error(qtbot, harness, in_loop, until, timeout_ms=2500)
    assert panel.error_title.text() == "The server did not answer in time"
    assert_no_traceback(harness.window)


def test_malformed_response_shows_invalid_answer(no_retries, qtbot, in_loop, until, sandbox):
    harness = no_retries
    sandbox.admin.add_fault("GetRewardInfo", "malformed")
    panel = preview_and_wait_for_error(qtbot, harness, in_loop, until)
    assert panel.error_title.text() == "The server's answer could not be understood"
    assert_no_traceback(harness.window)


def _unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_network_down_shows_could_not_reach(no_retries, qtbot, in_loop, until, sandbox):
    harness = no_retries
    dead_url = f"http://127.0.0.1:{_unused_port()}"
    profile = harness.profiles.add(Profile(name="Nobody listens", base_url=dead_url, **sandbox.demo_body))
    harness.credentials.set_key(profile.id, sandbox.demo_key)
    select_new_profile(harness, profile)
    assert harness.window.form.base_url() == dead_url
    panel = preview_and_wait_for_error(qtbot, harness, in_loop, until)
    assert panel.error_title.text() == "Could not reach the endpoint"
    assert_no_traceback(harness.window)
    assert "Nothing was sent" in panel.error_advice.text()


def run_key_test(qtbot, harness, in_loop, until):
    w = harness.window
    assert w.test_key_button.isVisible() and w.test_key_button.isEnabled()

    async def scenario():
        qtbot.mouseClick(w.test_key_button, Qt.MouseButton.LeftButton)
        await until(lambda: harness.bridge.busy)
        await until(lambda: not harness.bridge.busy)

    in_loop(scenario)
    return w.key_status.text()


def test_test_key_hidden_for_demo_profile(harness):
    assert not harness.window.test_key_button.isVisible()


def test_test_key_reports_working_key(qtbot, harness, in_loop, until, sandbox):
    profile = harness.profiles.add(Profile(name="Local good key", base_url=sandbox.base_url, **sandbox.demo_body))
    harness.credentials.set_key(profile.id, sandbox.demo_key)
    select_new_profile(harness, profile)
    assert run_key_test(qtbot, harness, in_loop, until) == "The key works."
    assert harness.window.preview_button.isEnabled()


def test_test_key_reports_refused_key(qtbot, harness, in_loop, until, sandbox):
    profile = harness.profiles.add(Profile(name="Local wrong key", base_url=sandbox.base_url, **sandbox.demo_body))
    harness.credentials.set_key(profile.id, "not-the-right-key")
    select_new_profile(harness, profile)
    assert run_key_test(qtbot, harness, in_loop, until) == "The API key was refused (403 Forbidden)."


def test_test_key_works_even_when_there_is_no_reward(qtbot, harness, in_loop, until, sandbox):
    # `[]` for an unknown campaign still means the gateway accepted the key.
    body = dict(sandbox.demo_body, campaignId="NO-SUCH-CAMPAIGN")
    profile = harness.profiles.add(Profile(name="Local unknown campaign", base_url=sandbox.base_url, **body))
    harness.credentials.set_key(profile.id, sandbox.demo_key)
    select_new_profile(harness, profile)
    assert run_key_test(qtbot, harness, in_loop, until) == "The key works."


def test_unexpected_exception_is_logged_and_shown_briefly(qtbot, harness, in_loop, until, monkeypatch):
    async def broken_preview(*_args, **_kwargs):
        raise RuntimeError("kaboom-internal-detail")

    monkeypatch.setattr(harness.session._ops, "preview", broken_preview)
    panel = preview_and_wait_for_error(qtbot, harness, in_loop, until)
    assert panel.error_title.text() == "Something unexpected went wrong"
    assert str(errorlog.log_path()) in panel.error_advice.text()
    assert "kaboom-internal-detail" not in panel.error_advice.text() + panel.error_title.text()
    logged = errorlog.log_path().read_text(encoding="utf-8")
    assert "Traceback" in logged and "RuntimeError: kaboom-internal-detail" in logged
    assert_no_traceback(harness.window)
