"""Profile management, unsaved edits, the API key field and restored window state.

Dialogs go through MainWindow.ask_text / ask_confirm / show_error, replaced here so no
modal box ever opens (an unexpected one fails the test instead of hanging it). Keychain
work (key check, save, delete, duplicate) and profiles.json writes (create, rename, save) run
off the UI thread: those scenarios run on the loop and wait for the result with ``until``.
"""

from __future__ import annotations

import asyncio
import errno
from decimal import Decimal

import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from moments_desktop.core import paths
from moments_desktop.core.credentials import MEMORY_BACKEND_NAME
from moments_desktop.api_schema import BODY_FIELDS, DEFAULT_BASE_URL
from moments_desktop.core.profiles import (
    DEMO_PROFILE_ID,
    DEMO_PROFILE_NAME,
    EMBEDDED_SANDBOX_URL,
    Profile,
    ProfileStore,
    demo_profile,
)
from moments_desktop.ui.bridge import SessionBridge
from moments_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


class Dialogs:
    """Scripted answers for the window's dialog hooks; records what was asked."""

    def __init__(self):
        self.texts: list[str | None] = []
        self.confirms: list[bool] = []
        self.asked: list[str] = []
        self.errors: list[str] = []

    def ask_text(self, title, label, default=""):
        self.asked.append(title)
        assert self.texts, f"unexpected text dialog: {title}"
        return self.texts.pop(0)

    def ask_confirm(self, text, title=""):
        self.asked.append(text)
        assert self.confirms, f"unexpected confirmation: {text}"
        return self.confirms.pop(0)

    def show_error(self, error):
        self.errors.append(getattr(error, "message", str(error)))


def install(window, dialogs, monkeypatch):
    for name in ("ask_text", "ask_confirm", "show_error"):
        monkeypatch.setattr(window, name, getattr(dialogs, name))


@pytest.fixture
def ui(harness, monkeypatch):
    dialogs = Dialogs()
    install(harness.window, dialogs, monkeypatch)
    return harness, dialogs


def combo_names(window):
    return [window.profile_combo.itemText(i) for i in range(window.profile_combo.count())]


def select_production_template(harness):
    """Select a profile of the user's own on the production endpoint (made once), so New… makes a profile
    for a real endpoint: New… from the demo stays on the embedded sandbox (tests/ui/test_small_fixes.py)."""
    template = harness.profiles.find_by_name("Production template") or harness.profiles.add(
        Profile(name="Production template", base_url=DEFAULT_BASE_URL, live=True, **demo_profile_body()))
    w = harness.window
    w.refresh_profile_list()
    w.profile_combo.setCurrentIndex(w.profile_combo.findData(template.id))
    return template


def demo_profile_body():
    demo = demo_profile()
    return {name: getattr(demo, name) for name in BODY_FIELDS}


@pytest.fixture
def create(ui, in_loop, until):
    """``create(name)``: press New… on a production profile, answer ``name``, wait until the profile is
    written and shown; its id."""
    harness, dialogs = ui
    w = harness.window

    def run(name):
        async def scenario():
            if w.current_profile_id() == DEMO_PROFILE_ID:
                select_production_template(harness)
            before = w.current_profile_id()
            dialogs.texts.append(name)
            w.new_button.click()
            await until(lambda: w.current_profile_id() != before or bool(dialogs.errors))
            assert not dialogs.errors, dialogs.errors
            await until(lambda: not harness.bridge.profile_write_busy)
            return w.current_profile_id()

        return in_loop(scenario)

    return run


def test_new_profile_appears_in_picker_and_store(ui, create):
    harness, dialogs = ui
    w = harness.window
    profile_id = create("Staging")
    assert w.profile_combo.currentText() == "Staging"
    stored = harness.profiles.get(profile_id)
    assert stored.name == "Staging"
    assert stored.base_url == DEFAULT_BASE_URL  # its template's; from the demo it would be the sandbox
    assert w.form.fields()["appId"] == stored.appId
    assert w.key_group.isVisible()
    assert w.rename_button.isEnabled() and w.delete_button.isEnabled()


def test_new_profile_with_taken_name_shows_error(ui, in_loop, until):
    harness, dialogs = ui

    async def scenario():
        dialogs.texts.append(DEMO_PROFILE_NAME)
        harness.window.new_button.click()
        await until(lambda: bool(dialogs.errors))

    in_loop(scenario)
    assert "already called" in dialogs.errors[0]
    assert len(harness.profiles) == 1
    assert harness.window.new_button.isEnabled()


def test_rename_and_duplicate(ui, create, in_loop, until):
    harness, dialogs = ui
    w = harness.window
    profile_id = create("Staging")
    harness.credentials.set_key(profile_id, "staging-key")

    async def scenario():
        dialogs.texts.append("Staging EU")
        w.rename_button.click()
        await until(lambda: w.profile_combo.currentText() == "Staging EU")
        assert harness.profiles.get(profile_id).name == "Staging EU"
        assert w.current_profile_id() == profile_id

        dialogs.texts.append(DEMO_PROFILE_NAME)  # taken: refused with a message, the name stays
        w.rename_button.click()
        await until(lambda: bool(dialogs.errors))
        assert "already called" in dialogs.errors.pop()
        assert harness.profiles.get(profile_id).name == "Staging EU"

        await until(lambda: w.duplicate_button.isEnabled())
        w.duplicate_button.click()
        await until(lambda: w.current_profile_id() != profile_id)
        await until(lambda: w.key_status.text() == "A key is stored for this profile.")

    in_loop(scenario)
    copy_id = w.current_profile_id()
    assert not dialogs.errors
    assert harness.profiles.get(copy_id).name == "Staging EU copy"
    assert "Staging EU copy" in combo_names(w)
    assert harness.credentials.get_key(copy_id) == "staging-key"


def test_delete_asks_and_removes_profile_and_key(ui, create, in_loop, until):
    harness, dialogs = ui
    w = harness.window
    profile_id = create("Doomed")
    harness.credentials.set_key(profile_id, "doomed-key")

    dialogs.confirms.append(False)
    w.delete_button.click()
    assert "Doomed" in dialogs.asked[-1]
    assert profile_id in harness.profiles and "Doomed" in combo_names(w)
    assert harness.credentials.has_key(profile_id)

    async def scenario():
        dialogs.confirms.append(True)
        w.delete_button.click()
        await until(lambda: w.current_profile_id() == DEMO_PROFILE_ID)

    in_loop(scenario)
    assert profile_id not in harness.profiles
    assert "Doomed" not in combo_names(w)
    assert not harness.credentials.has_key(profile_id)
    assert w.current_profile_id() == DEMO_PROFILE_ID


def test_demo_profile_cannot_be_deleted_or_renamed(ui):
    harness, dialogs = ui
    w = harness.window
    assert w.current_profile_id() == DEMO_PROFILE_ID
    assert not w.delete_button.isEnabled()
    assert not w.rename_button.isEnabled()
    assert w.duplicate_button.isEnabled() and w.new_button.isEnabled()
    assert not w.key_group.isVisible()  # the demo key lives in memory, not the keychain
    w.delete_profile()  # even when called directly: nothing asked, nothing deleted
    assert not dialogs.asked and DEMO_PROFILE_ID in harness.profiles


def test_unsaved_edits_survive_switch_and_revert_restores(ui, create):
    harness, dialogs = ui
    w = harness.window
    other_id = create("Other")
    w.profile_combo.setCurrentIndex(w.profile_combo.findData(DEMO_PROFILE_ID))
    assert not w.save_button.isEnabled() and not w.revert_button.isEnabled()

    w.form.editors["campaignId"].setText("EDITEDCAMP")
    assert w.dirty_label.text() == "• unsaved changes"
    assert w.profile_combo.currentText() == f"{DEMO_PROFILE_NAME} •"
    assert w.save_button.isEnabled() and w.revert_button.isEnabled()

    w.profile_combo.setCurrentIndex(w.profile_combo.findData(other_id))
    assert w.form.fields()["campaignId"] == harness.profiles.get(other_id).campaignId
    assert w.dirty_label.text() == ""

    w.profile_combo.setCurrentIndex(w.profile_combo.findData(DEMO_PROFILE_ID))
    assert w.form.fields()["campaignId"] == "EDITEDCAMP"
    assert w.dirty_label.text() == "• unsaved changes"
    assert harness.profiles.get(DEMO_PROFILE_ID).campaignId == "DEMOCAMP1"  # nothing written

    w.revert_button.click()
    assert w.form.fields()["campaignId"] == "DEMOCAMP1"
    assert w.dirty_label.text() == "" and w.profile_combo.currentText() == DEMO_PROFILE_NAME
    assert not w.revert_button.isEnabled()


def test_editing_back_to_stored_value_is_not_dirty(ui):
    harness, _ = ui
    w = harness.window
    w.form.editors["appId"].setText("OTHER")
    assert w.is_dirty()
    w.form.editors["appId"].setText("DEMO1")
    assert not w.is_dirty() and w.dirty_label.text() == ""


def test_save_writes_edits_and_keeps_the_embedded_sandbox(ui, in_loop, until):
    harness, _ = ui
    w = harness.window

    async def scenario():
        w.form.editors["rewardGroupId"].setText("EU")
        w.save_button.click()
        # held while written: the edit is still a draft, and it cannot be saved twice or reverted
        assert w.is_dirty() and not w.save_button.isEnabled() and not w.revert_button.isEnabled()
        assert not w.profile_combo.isEnabled()
        await until(lambda: not w.is_dirty())

    in_loop(scenario)
    stored = harness.profiles.get(DEMO_PROFILE_ID)
    assert stored.rewardGroupId == "EU"
    assert stored.base_url == EMBEDDED_SANDBOX_URL  # not this run's sandbox port
    assert not w.is_dirty() and not w.save_button.isEnabled()
    # written to disk: a fresh store reads it back
    from moments_desktop.core.profiles import ProfileStore

    assert ProfileStore(harness.profiles.path).get(DEMO_PROFILE_ID).rewardGroupId == "EU"


def test_save_that_the_disk_refuses_explains_and_keeps_the_edits(ui, in_loop, until, monkeypatch):
    harness, dialogs = ui
    w = harness.window
    before = harness.profiles.path.read_bytes() if harness.profiles.path.exists() else None

    def disk_full(path, text, encoding="utf-8"):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(paths, "atomic_write_text", disk_full)

    async def scenario():
        w.form.editors["rewardGroupId"].setText("EU")
        w.save_button.click()
        await until(lambda: bool(dialogs.errors))
        await until(lambda: w.save_button.isEnabled())

    in_loop(scenario)
    assert dialogs.errors == [
        "The profile could not be changed: profiles.json could not be written (No space left on device). "
        f"Nothing was changed. Check that there is free disk space and that {harness.profiles.path.parent} "
        "is writable, then try again."]
    # the edit is still there, still unsaved, and can be saved again
    assert w.form.fields()["rewardGroupId"] == "EU" and w.is_dirty() and w.revert_button.isEnabled()
    assert harness.profiles.get(DEMO_PROFILE_ID).rewardGroupId == "US"
    assert (harness.profiles.path.read_bytes() if harness.profiles.path.exists() else None) == before


def test_key_field_is_masked_and_revealed_only_while_pressed(qtbot, ui, create):
    harness, dialogs = ui
    w = harness.window
    create("Keyed")
    assert w.key_edit.echoMode() == QLineEdit.EchoMode.Password
    assert w.key_edit.text() == ""
    w.key_edit.setText("secret-123")
    qtbot.mousePress(w.show_key_button, Qt.MouseButton.LeftButton)
    assert w.key_edit.echoMode() == QLineEdit.EchoMode.Normal
    qtbot.mouseRelease(w.show_key_button, Qt.MouseButton.LeftButton)
    assert w.key_edit.echoMode() == QLineEdit.EchoMode.Password


def test_save_key_stores_in_keyring_and_clears_field(ui, create, in_loop, until):
    harness, dialogs = ui
    w = harness.window
    profile_id = create("Keyed")

    async def scenario():
        await until(lambda: w.key_status.text() == "No key stored yet.")
        assert not w.save_key_button.isEnabled()
        w.key_edit.setText("  secret-123 ")
        w.save_key_button.click()
        assert w.key_status.text() == "Saving the key…"
        await until(lambda: w.key_status.text().startswith("Key stored in "))
        assert harness.credentials.get_key(profile_id) == "secret-123"
        assert w.key_edit.text() == ""
        # switching away and back: the field is never pre-filled, the status says a key exists
        w.profile_combo.setCurrentIndex(w.profile_combo.findData(DEMO_PROFILE_ID))
        w.profile_combo.setCurrentIndex(w.profile_combo.findData(profile_id))
        assert w.key_edit.text() == ""
        await until(lambda: w.key_status.text() == "A key is stored for this profile.")

    in_loop(scenario)


def test_save_key_without_keyring_offers_memory(ui, create, monkeypatch, in_loop, until):
    harness, dialogs = ui
    w = harness.window
    monkeypatch.setattr(harness.credentials, "_backend", keyring.backends.fail.Keyring())
    profile_id = create("No keychain")

    async def scenario():
        await until(lambda: w.key_status.text() == "The system keychain is not available.")
        dialogs.confirms.append(False)
        w.key_edit.setText("secret-123")
        w.save_key_button.click()
        await until(lambda: w.key_status.text().startswith("Not saved: "))
        assert "keychain" in dialogs.asked[-1].lower()
        assert w.key_edit.text() == "secret-123"  # kept so the user can retry

        dialogs.confirms.append(True)
        w.save_key_button.click()
        await until(lambda: w.key_status.text() == f"Key stored in {MEMORY_BACKEND_NAME}.")
        await until(lambda: w.keyring_label.text() == f"Keychain: {MEMORY_BACKEND_NAME}")

    in_loop(scenario)
    assert harness.credentials.is_memory_only
    assert harness.credentials.get_key(profile_id) == "secret-123"
    assert w.key_edit.text() == ""


async def open_second_window(harness, until):
    """A new window over the same Session (as at the next start), built inside the running loop."""
    again = MainWindow(SessionBridge(harness.session))
    again.show()
    await until(lambda: again.windowHandle() is not None and again.windowHandle().isExposed())
    return again


async def close_second_window(again):
    """Close it and await its tasks, leaving the Session open for the harness to close."""
    again.history_service.shutdown()
    again.bridge.shutdown()
    await again.history_service.aclose()
    await again.bridge.tasks.aclose()
    again.hide()
    again.deleteLater()


def test_last_profile_and_splitter_restored_by_new_window(qtbot, ui, create, in_loop, until,
                                                           keep_loop_after_last_window):
    harness, dialogs = ui
    w = harness.window
    profile_id = create("Remembered")
    w.splitter.setSizes([300, 800])
    sizes = w.splitter.sizes()
    size = w.size()

    async def scenario():
        w.close()
        again = await open_second_window(harness, until)
        try:
            assert again.current_profile_id() == profile_id
            assert again.profile_combo.currentText() == "Remembered"
            again.resize(size)
            await until(lambda: again.splitter.sizes() == sizes)
        finally:
            await close_second_window(again)

    in_loop(scenario)


def test_missing_last_profile_falls_back_to_demo(qtbot, ui, create, in_loop, until, keep_loop_after_last_window):
    harness, dialogs = ui
    w = harness.window
    profile_id = create("Gone soon")

    async def scenario():
        w.close()
        harness.profiles.delete(profile_id)
        again = await open_second_window(harness, until)
        try:
            assert again.current_profile_id() == DEMO_PROFILE_ID
        finally:
            await close_second_window(again)

    in_loop(scenario)


def test_delete_without_keyring_asks_again_and_warns(ui, create, monkeypatch, in_loop, until):
    harness, dialogs = ui
    w = harness.window
    profile_id = create("Stranded")
    monkeypatch.setattr(harness.credentials, "_backend", keyring.backends.fail.Keyring())

    async def scenario():
        dialogs.confirms += [True, False]  # yes delete; no, not without the keychain
        w.delete_button.click()
        await until(lambda: not dialogs.confirms and not harness.bridge.profile_write_busy)
        await until(lambda: w.delete_button.isEnabled())
        assert profile_id in harness.profiles and not dialogs.errors
        assert w.current_profile_id() == profile_id

        dialogs.confirms += [True, True]
        w.delete_button.click()
        await until(lambda: w.current_profile_id() == DEMO_PROFILE_ID)

    in_loop(scenario)
    assert profile_id not in harness.profiles
    assert dialogs.errors and "could not be removed from the keychain" in dialogs.errors[0]
    assert w.current_profile_id() == DEMO_PROFILE_ID


# --- profile settings: live or test mode, cost per claim, notes ---------------------------------


def open_settings(window):
    made = []
    original = window.make_settings_dialog

    def make(profile):
        dialog = original(profile)
        made.append(dialog)
        return dialog

    window.make_settings_dialog = make
    assert window.settings_button.isEnabled()
    window.settings_button.click()
    assert len(made) == 1 and made[0].isVisible()
    return made[0]


def test_new_profile_for_a_real_endpoint_is_declared_live(ui, create):
    harness, _dialogs = ui
    w = harness.window
    profile_id = create("Production")
    assert not harness.profiles.get(profile_id).uses_embedded_sandbox
    assert harness.profiles.get(profile_id).live is True
    assert w.mode_badge.text() == "LIVE"


def test_demo_profile_shows_test_mode_and_has_no_settings(ui):
    harness, _dialogs = ui
    w = harness.window
    assert w.current_profile_id() == DEMO_PROFILE_ID
    assert w.mode_badge.text() == "Test mode"
    assert not w.settings_button.isEnabled()


def test_settings_dialog_saves_mode_cost_and_notes_off_the_ui_thread(ui, create, in_loop, until):
    harness, dialogs = ui
    w = harness.window
    profile_id = create("Partner")
    dialog = open_settings(w)
    assert dialog.live_radio.isChecked()
    dialog.test_radio.setChecked(True)
    dialog.cost_edit.setText("0.25")
    dialog.currency_edit.setText("eur")
    dialog.notes_edit.setPlainText("Approved until launch day")

    async def scenario():
        dialog.save_button.click()
        await until(lambda: harness.profiles.get(profile_id).live is False)
        await until(lambda: not harness.bridge.profile_write_busy)

    in_loop(scenario)
    stored = harness.profiles.get(profile_id)
    assert (stored.cost_per_action, stored.currency, stored.notes) == (Decimal("0.25"), "EUR",
                                                                       "Approved until launch day")
    assert w.mode_badge.text() == "Test mode"
    assert ProfileStore(harness.profiles.path).get(profile_id).live is False  # on disk, not only in memory
    assert not dialogs.errors


@pytest.mark.parametrize(("cost", "currency"), [("-1", "USD"), ("abc", "USD"), ("0.10", "E1"), ("1", "")])
def test_settings_dialog_refuses_invalid_cost_or_currency(ui, create, cost, currency):
    harness, _dialogs = ui
    w = harness.window
    profile_id = create("Partner")
    dialog = open_settings(w)
    dialog.cost_edit.setText(cost)
    dialog.currency_edit.setText(currency)
    assert not dialog.save_button.isEnabled()
    assert dialog.cost_error.isVisible() and dialog.cost_error.text()
    dialog.reject()
    assert harness.profiles.get(profile_id).cost_per_action is None


def test_settings_dialog_cancel_changes_nothing(ui, create, in_loop, until):
    harness, _dialogs = ui
    w = harness.window
    profile_id = create("Partner")
    before = harness.profiles.get(profile_id)
    dialog = open_settings(w)
    dialog.test_radio.setChecked(True)
    dialog.cost_edit.setText("3")

    async def scenario():
        dialog.buttons.rejected.emit()
        await asyncio.sleep(0.2)

    in_loop(scenario)
    assert harness.profiles.get(profile_id) == before
    assert w.mode_badge.text() == "LIVE"
