"""The preview path in the window: the Raw tab renders only when shown (and again after presenter mode
changes), and the preview's journal row is written, shown in History."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from moments_desktop.api_schema import Endpoint

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


def test_the_raw_tab_renders_only_when_shown_with_the_right_text(qtbot, harness, in_loop, until, sandbox):
    w = harness.window
    panel, raw = w.preview_panel, w.raw_view

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: not panel.image_label.pixmap().isNull() and not harness.bridge.busy)
        # answered and shown on the card, the Raw tab not looked at: nothing rendered there yet
        assert raw.renders == 0 and raw.render_pending
        assert raw.summary.text() == "GetRewardInfo: HTTP 200" and raw.copy_button.isEnabled()
        w.tabs.setCurrentWidget(raw)
        await until(lambda: raw.isVisible())
        assert raw.renders == 1 and not raw.render_pending
        shown = raw._text.toPlainText()  # the widget itself, as a person sees it
        assert f"POST {sandbox.base_url}/GetRewardInfo" in shown and "HTTP 200" in shown
        assert sandbox.demo_key not in shown
        # a second preview while the tab is shown renders at once
        w.tabs.setCurrentWidget(panel)
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: not panel.image_label.pixmap().isNull() and not harness.bridge.busy)
        assert raw.renders == 1 and raw.render_pending
        w.tabs.setCurrentWidget(raw)
        await until(lambda: not raw.render_pending)
        assert raw.renders == 2

    in_loop(scenario)


def test_presenter_mode_renders_the_raw_text_again_when_it_is_next_shown(qtbot, harness, in_loop, until):
    w = harness.window
    raw = w.raw_view

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: w.preview_panel.currentWidget() is w.preview_panel.card_page
                    and not harness.bridge.busy)
        w.tabs.setCurrentWidget(raw)
        await until(lambda: not raw.render_pending)
        assert "DEMOCAMP1" in raw._text.toPlainText()  # in clear
        w.menu_actions.presenter.trigger()  # on: the Raw tab is hidden, its text due again (masked)
        assert harness.bridge.presenter and raw.render_pending
        w.menu_actions.presenter.trigger()  # off again
        assert not harness.bridge.presenter
        w.tabs.setCurrentWidget(raw)
        await until(lambda: not raw.render_pending)
        assert "DEMOCAMP1" in raw._text.toPlainText()  # rendered with the renderer as it is now: in clear

    in_loop(scenario)


def test_masked_text_reaches_the_raw_tab_once_shown(qtbot, harness, in_loop, until):
    w = harness.window
    raw = w.raw_view

    async def scenario():
        w.menu_actions.presenter.trigger()
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: w.preview_panel.card_page is w.preview_panel.currentWidget()
                    and not harness.bridge.busy)
        assert raw.render_pending
        text = raw.text.toPlainText()  # read through the view: rendered now, through the masked renderer
        assert "GetRewardInfo" in text and "DEMOCAMP1" not in text
        w.menu_actions.presenter.trigger()

    in_loop(scenario)


def test_a_preview_is_journaled_and_shown_in_history(qtbot, harness, in_loop, until):
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)
        assert harness.journal.count() == 1
        [row] = harness.journal.query()
        assert row.endpoint == Endpoint.GET_REWARD_INFO and row.status == 200
        w.tabs.setCurrentWidget(w.history_view)
        await until(lambda: w.history_view.model.rowCount() == 1)

    in_loop(scenario)
