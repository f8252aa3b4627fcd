"""The main window against the real sandbox: preview, errors, image, cancel, responsiveness."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer

from moments_desktop.core.profiles import DEMO_PROFILE_NAME, Profile

pytestmark = pytest.mark.gui

def press_preview(qtbot, window):
    assert window.preview_button.isEnabled()
    qtbot.mouseClick(window.preview_button, Qt.MouseButton.LeftButton)


def test_first_start_demo_preview_shows_text_count_and_image(qtbot, harness, in_loop, until, sandbox):
    w = harness.window
    assert w.profile_combo.currentText() == DEMO_PROFILE_NAME
    assert w.form.base_url() == sandbox.base_url
    assert w.endpoint_label.text() == f"Endpoint: {sandbox.base_url}"
    assert w.keyring_label.text().startswith("Keychain: ")
    panel = w.preview_panel

    async def scenario():
        press_preview(qtbot, w)
        await until(lambda: panel.currentWidget() is panel.card_page)
        await until(lambda: not panel.image_label.pixmap().isNull())

    in_loop(scenario)
    assert "Wireless Headphones" in panel.text_label.text()
    assert panel.count_label.text() == "100 rewards left"
    assert panel.end_label.text() == "Campaign ends 31 Dec 2030"
    assert not panel.redeem_button.isEnabled()
    assert w.preview_button.isEnabled() and not w.cancel_button.isVisible()
    raw = w.raw_view.text.toPlainText()
    assert f"POST {sandbox.base_url}/GetRewardInfo" in raw and "HTTP 200" in raw
    assert sandbox.demo_key not in raw
    assert harness.journal.count() == 1
    # the demo key is held in memory, never written to the keyring
    assert not harness.credentials.has_key("sandbox-demo")


def test_ctrl_return_previews(qtbot, harness, in_loop, until):
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: panel.currentWidget() is panel.card_page)

    in_loop(scenario)


def test_wrong_key_shows_forbidden(qtbot, harness, in_loop, until, sandbox):
    body = sandbox.demo_body
    profile = harness.profiles.add(Profile(name="Local wrong key", base_url=sandbox.base_url, **body))
    harness.credentials.set_key(profile.id, "not-the-right-key")
    w = harness.window
    w.profile_combo.addItem(profile.name, profile.id)
    w.profile_combo.setCurrentIndex(w.profile_combo.count() - 1)
    panel = w.preview_panel

    async def scenario():
        press_preview(qtbot, w)
        await until(lambda: panel.currentWidget() is panel.error_page)

    in_loop(scenario)
    assert "403" in panel.error_title.text()
    assert "API key" in panel.error_advice.text()


def test_unknown_campaign_shows_no_reward(qtbot, harness, in_loop, until):
    w = harness.window
    w.form.editors["campaignId"].setText("NO-SUCH-CAMPAIGN")
    panel = w.preview_panel

    async def scenario():
        press_preview(qtbot, w)
        await until(lambda: panel.currentWidget() is panel.error_page)

    in_loop(scenario)
    assert panel.error_title.text() == "No reward exists for these parameters"
    assert "campaignId" in panel.error_advice.text()


def test_server_error_is_explained(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=500)
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        press_preview(qtbot, w)
        await until(lambda: panel.currentWidget() is panel.error_page)

    in_loop(scenario)
    assert panel.error_title.text() == "The server reported an error"
    assert "HTTP status 500" in panel.error_detail.text()
    assert "Traceback" not in panel.error_detail.text()
    assert "HTTP 500" in w.raw_view.text.toPlainText()


def test_image_failure_shows_placeholder_with_reason(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("images", "status", status=404)
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        press_preview(qtbot, w)
        await until(lambda: "No image" in panel.image_label.text())

    in_loop(scenario)
    assert panel.currentWidget() is panel.card_page
    assert "HTTP 404" in panel.image_label.text()
    assert "Wireless Headphones" in panel.text_label.text()


def test_cancel_during_slow_preview(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=5)
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        press_preview(qtbot, w)
        await until(lambda: w.cancel_button.isVisible())
        assert not w.preview_button.isEnabled()
        qtbot.mouseClick(w.cancel_button, Qt.MouseButton.LeftButton)
        await until(lambda: not harness.bridge.busy and not w.cancel_button.isVisible(), 3000)

    in_loop(scenario)
    assert panel.currentWidget() is panel.error_page
    assert panel.error_title.text() == "Preview cancelled"
    assert w.preview_button.isEnabled()


def test_ui_stays_responsive_during_slow_preview(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=1.5)
    w = harness.window
    ticks = []
    heartbeat = QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: ticks.append(harness.bridge.busy))

    async def scenario():
        heartbeat.start()
        press_preview(qtbot, w)
        await until(lambda: w.preview_panel.currentWidget() is w.preview_panel.card_page)
        heartbeat.stop()

    in_loop(scenario)
    # 1.5 s of waiting at 20 ms: a frozen UI would tick a handful of times at most
    assert sum(ticks) >= 20


def test_empty_app_id_shows_message_and_disables_preview(qtbot, harness):
    w = harness.window
    assert w.preview_button.isEnabled()
    w.form.editors["appId"].clear()
    label = w.form.error_labels["appId"]
    assert label.isVisible() and label.text() == "appId is required."
    assert not w.preview_button.isEnabled()
    w.form.editors["appId"].setText("DEMO1")
    assert not label.isVisible()
    assert w.preview_button.isEnabled()


def test_raw_copy_puts_exchange_on_clipboard(qtbot, harness, in_loop, until):
    w = harness.window

    async def scenario():
        press_preview(qtbot, w)
        await until(lambda: w.raw_view.copy_button.isEnabled())

    in_loop(scenario)
    w.raw_view.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert "GetRewardInfo" in QGuiApplication.clipboard().text()
