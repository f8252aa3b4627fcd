""""Copy as" in the window and in History, over the real sandbox: what lands on the clipboard is the
Session's export, the real key only after a warning and only for a while, the Braze GetReward tag
only after the duplicate-call warning, and every refusal a message."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from PySide6.QtGui import QAction, QGuiApplication

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.errors import MissingKeyError, ValidationError
from moments_desktop.core.exports import ExportFormat
from moments_desktop.core.profiles import Profile

pytestmark = pytest.mark.gui


def action(window, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert found is not None, name
    return found


def use_profile(harness, profile: Profile) -> None:
    w = harness.window
    w.profile_combo.addItem(profile.name, profile.id)
    w.profile_combo.setCurrentIndex(w.profile_combo.count() - 1)


@pytest.fixture
def clipboard():
    board = QGuiApplication.clipboard()
    board.setText("before")
    yield board
    board.clear()


@pytest.fixture
def errors(harness, monkeypatch):
    shown = []
    monkeypatch.setattr(harness.window, "show_error", shown.append)
    return shown


def test_copy_as_curl_copies_the_sessions_export(harness, in_loop, until, clipboard, sandbox):
    w = harness.window

    async def scenario():
        action(w, "copyAsGetRewardInfo_curl").trigger()
        await until(lambda: clipboard.text() != "before")
        return await harness.session.export(w.current_profile_id(), Endpoint.GET_REWARD_INFO, ExportFormat.CURL,
                                            base_url=w.form.base_url(), fields=w.form.fields())
    expected = in_loop(scenario)
    assert clipboard.text() == expected.text
    assert sandbox.demo_key not in clipboard.text()
    assert w.statusBar().currentMessage() == "Copied GetRewardInfo as cURL."
    assert not w.copy_as.clipboard.holds_secret


def test_copy_as_uses_the_forms_unsaved_values(harness, in_loop, until, clipboard):
    w = harness.window
    w.form.editors["campaignId"].setText("EDITED it's $x")

    async def scenario():
        action(w, "copyAsGetReward_python").trigger()
        await until(lambda: clipboard.text() != "before")
    in_loop(scenario)
    assert "'campaignId': \"EDITED it's $x\"," in clipboard.text()
    assert w.statusBar().currentMessage() == "Copied GetReward as Python (httpx) (each run claims one billed reward)."


def test_real_key_after_a_warning_then_cleared(harness, in_loop, until, clipboard, sandbox, monkeypatch, caplog,
                                               tmp_path):
    w = harness.window
    key = "sk-live-UI-SECRET-0123456789"
    profile = harness.profiles.add(Profile(name="Keyed", base_url=sandbox.base_url, **sandbox.demo_body))
    harness.credentials.set_key(profile.id, key)
    use_profile(harness, profile)
    asked = []
    monkeypatch.setattr(w.copy_as, "confirm_real_key", lambda endpoint, fmt: asked.append((endpoint, fmt)) or True)
    w.copy_as.clipboard.clear_after_ms = 1_500  # the real 30 s timer, made short (long enough to see the key)

    async def scenario():
        with caplog.at_level(logging.DEBUG):
            action(w, "copyAsGetRewardInfo_httpie_withKey").trigger()
            await until(lambda: key in clipboard.text())
            assert w.copy_as.clipboard.holds_secret
            # Marked as a secret, so clipboard managers keep no copy in their history.
            assert bytes(clipboard.mimeData().data("x-kde-passwordManagerHint")) == b"secret"
            assert w.statusBar().currentMessage().startswith("Copied GetRewardInfo as HTTPie with the real API key")
            await until(lambda: clipboard.text() == "", timeout_ms=5_000)
    in_loop(scenario)
    assert asked == [(Endpoint.GET_REWARD_INFO, ExportFormat.HTTPIE)]
    assert not w.copy_as.clipboard.holds_secret
    assert key not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_the_clipboard_is_left_alone_when_the_user_copied_something_else(harness, in_loop, until, clipboard,
                                                                         monkeypatch):
    w = harness.window
    monkeypatch.setattr(w.copy_as, "confirm_real_key", lambda endpoint, fmt: True)
    cleared = []
    w.copy_as.clipboard.cleared.connect(cleared.append)

    async def scenario():
        action(w, "copyAsGetReward_curl_withKey").trigger()
        await until(lambda: "sandbox-demo-key" in clipboard.text())
        clipboard.setText("the user's own text")
        w.copy_as.clipboard.clear_now()  # what the timer runs at its end (its 30 s are not waited for here)
    in_loop(scenario)
    assert cleared == [False] and clipboard.text() == "the user's own text"


def test_declining_the_real_key_warning_copies_nothing(harness, in_loop, clipboard, monkeypatch):
    w = harness.window
    monkeypatch.setattr(w.copy_as, "confirm_real_key", lambda endpoint, fmt: False)

    async def scenario():
        action(w, "copyAsGetRewardInfo_curl_withKey").trigger()
    in_loop(scenario)
    assert clipboard.text() == "before"
    assert w.statusBar().currentMessage() == "Nothing was copied."


def test_closing_the_window_clears_a_real_key_still_on_the_clipboard(harness, in_loop, until, clipboard,
                                                                    monkeypatch, keep_loop_after_last_window):
    w = harness.window
    monkeypatch.setattr(w.copy_as, "confirm_real_key", lambda endpoint, fmt: True)

    async def scenario():
        action(w, "copyAsGetRewardInfo_python_withKey").trigger()
        await until(lambda: "sandbox-demo-key" in clipboard.text())
        w.discard_all_edits()
        w.close()
        await w.aclose()
    in_loop(scenario)
    assert clipboard.text() == ""


@pytest.mark.parametrize("accept", [True, False])
def test_braze_get_reward_shows_the_duplicate_call_warning_first(harness, in_loop, until, clipboard, sandbox,
                                                                 monkeypatch, accept):
    w = harness.window
    profile = harness.profiles.add(Profile(name="Priced", base_url=sandbox.base_url, **sandbox.demo_body,
                                           cost_per_action=Decimal("4"), currency="EUR"))
    harness.credentials.set_key(profile.id, sandbox.demo_key)
    use_profile(harness, profile)
    warned = []
    monkeypatch.setattr(w.copy_as, "confirm_billed_braze", lambda export: warned.append(export) or accept)

    async def scenario():
        action(w, "copyAsGetReward_braze").trigger()
        await until(lambda: warned)
        if accept:
            await until(lambda: clipboard.text() != "before")
    in_loop(scenario)
    assert "4.00 EUR per claim" in warned[0].warnings[0] and "8.00 EUR" in warned[0].warnings[0]
    if accept:
        assert clipboard.text() == warned[0].text and "abort_message" in clipboard.text()
        assert w.statusBar().currentMessage() == "Copied GetReward as Braze Connected Content."
    else:
        assert clipboard.text() == "before" and w.statusBar().currentMessage() == "Nothing was copied."


def test_braze_get_reward_info_needs_no_warning(harness, in_loop, until, clipboard, monkeypatch):
    w = harness.window
    monkeypatch.setattr(w.copy_as, "confirm_billed_braze", lambda export: pytest.fail("no warning for a preview"))

    async def scenario():
        action(w, "copyAsGetRewardInfo_braze").trigger()
        await until(lambda: clipboard.text() != "before")
    in_loop(scenario)
    assert "connected_content" in clipboard.text() and "abort_message" not in clipboard.text()


def test_real_key_without_a_stored_key_is_a_message(harness, in_loop, until, clipboard, sandbox, monkeypatch,
                                                   errors):
    w = harness.window
    profile = harness.profiles.add(Profile(name="No key", base_url=sandbox.base_url, **sandbox.demo_body))
    use_profile(harness, profile)
    monkeypatch.setattr(w.copy_as, "confirm_real_key", lambda endpoint, fmt: True)

    async def scenario():
        action(w, "copyAsGetReward_powershell_withKey").trigger()
        await until(lambda: errors)
    in_loop(scenario)
    assert isinstance(errors[0], MissingKeyError) and "API key" in errors[0].message
    assert clipboard.text() == "before"


def test_invalid_values_are_a_message_naming_the_field(harness, in_loop, until, clipboard, errors):
    w = harness.window
    w.form.editors["momentId"].setText("bell\x07")

    async def scenario():
        action(w, "copyAsGetRewardInfo_curl").trigger()
        await until(lambda: errors)
    in_loop(scenario)
    assert isinstance(errors[0], ValidationError) and set(errors[0].field_errors) == {"momentId"}
    assert clipboard.text() == "before"


def test_history_copy_as_copies_the_entrys_request(harness, in_loop, until, clipboard, sandbox):
    w = harness.window
    view = w.history_view

    async def scenario():
        w.preview()
        await until(lambda: harness.journal.count() == 1)
        w.tabs.setCurrentWidget(view)
        await until(lambda: view.model.rowCount() == 1 and view.model.entry(0) is not None)
        view.select_row(0)
        await until(lambda: view.detail.entry is not None)
        assert view.detail.copy_as_button.isEnabled()
        action(w, "historyCopyAs_httpie").trigger()
        await until(lambda: clipboard.text() != "before")
    in_loop(scenario)
    expected = harness.session.export_entry(view.detail.entry, ExportFormat.HTTPIE)
    assert clipboard.text() == expected.text and '"x-api-key:$MOMENTS_API_KEY"' in clipboard.text()
    assert sandbox.demo_key not in clipboard.text()
    assert w.statusBar().currentMessage() == "Copied GetRewardInfo as HTTPie."


def test_real_key_with_the_keychain_locked_is_a_message(harness, in_loop, until, clipboard, sandbox, monkeypatch,
                                                       errors):
    from moments_desktop.core.credentials import KeyringLockedError

    w = harness.window
    profile = harness.profiles.add(Profile(name="Locked", base_url=sandbox.base_url, **sandbox.demo_body))
    use_profile(harness, profile)
    monkeypatch.setattr(w.copy_as, "confirm_real_key", lambda endpoint, fmt: True)

    def locked(_profile_id):
        raise KeyringLockedError("the keychain did not unlock")
    monkeypatch.setattr(harness.credentials, "get_key", locked)

    async def scenario():
        action(w, "copyAsGetRewardInfo_curl_withKey").trigger()
        await until(lambda: errors)
    in_loop(scenario)
    assert isinstance(errors[0], KeyringLockedError) and "locked" in errors[0].message
    assert clipboard.text() == "before"


def test_a_placeholder_copy_is_not_marked_secret(harness, in_loop, until, clipboard):
    """Only the real key's text is hidden from clipboard histories: a placeholder snippet is ordinary text a
    user may want to paste again later."""
    w = harness.window

    async def scenario():
        action(w, "copyAsGetRewardInfo_curl").trigger()
        await until(lambda: "MOMENTS_API_KEY" in clipboard.text())

    in_loop(scenario)
    assert not clipboard.mimeData().hasFormat("x-kde-passwordManagerHint")


@pytest.mark.parametrize("seconds", [600, None])
def test_braze_get_reward_info_with_a_cache_time_asks_for_the_seconds(harness, in_loop, until, clipboard,
                                                                       monkeypatch, seconds):
    w = harness.window
    monkeypatch.setattr(w.copy_as, "ask_cache_max_age", lambda: seconds)

    async def scenario():
        action(w, "copyAsGetRewardInfo_braze_cached").trigger()
        if seconds is not None:
            await until(lambda: clipboard.text() != "before")
    in_loop(scenario)
    if seconds is None:
        assert clipboard.text() == "before" and w.statusBar().currentMessage() == "Nothing was copied."
    else:
        assert f":cache_max_age {seconds} " in clipboard.text()


def test_get_reward_offers_no_cached_braze_tag(harness):
    from PySide6.QtGui import QAction as Action

    assert harness.window.findChild(Action, "copyAsGetReward_braze_cached") is None
    assert harness.window.findChild(Action, "copyAsGetRewardInfo_braze_cached") is not None


def test_the_real_duplicate_call_warning_names_the_cost_and_cancel_copies_nothing(harness, in_loop, until,
                                                                                   clipboard, sandbox):
    """The dialog itself, not a stand-in: its text carries the cost, Cancel is the default and copies nothing."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    w = harness.window
    profile = harness.profiles.add(Profile(name="Priced", base_url=sandbox.base_url, **sandbox.demo_body,
                                           cost_per_action=Decimal("2.5"), currency="USD"))
    harness.credentials.set_key(profile.id, sandbox.demo_key)
    use_profile(harness, profile)
    seen = []

    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append((box.text(), box.informativeText(), box.defaultButton() is box.button(
            QMessageBox.StandardButton.Cancel)))
        box.button(QMessageBox.StandardButton.Cancel).click()

    async def scenario():
        QTimer.singleShot(20, answer)
        action(w, "copyAsGetReward_braze").trigger()
        await until(lambda: w.statusBar().currentMessage() == "Nothing was copied.")
    in_loop(scenario)
    [(text, detail, cancel_is_default)] = seen
    assert "GetReward" in text and cancel_is_default
    assert "2.50 USD per claim" in detail and "5.00 USD" in detail and "7.50 USD" in detail
    assert clipboard.text() == "before"
