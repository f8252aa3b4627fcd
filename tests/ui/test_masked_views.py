"""Every view renders identifiers through the Session's renderer: with ``masked`` on (presenter
mode's switch), no app id, campaign id or reward URL appears in clear anywhere in the window,
while Copy still copies the real reward URL."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit

from moments_desktop.core.render import Renderer

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton
# The demo campaign's identifiers (the form's own editors aside: they hold what the user types).
SECRETS = ("DEMOCAMP1", "GAME_COMPLETE")


def visible_text(widget) -> str:
    """Every label, read-only line and text view under ``widget``, as a person would read them."""
    parts = [label.text() for label in widget.findChildren(QLabel)]
    parts += [edit.text() for edit in widget.findChildren(QLineEdit) if edit.isReadOnly()]
    parts += [view.toPlainText() for view in widget.findChildren(QPlainTextEdit)]
    parts += [widget.profile_combo.itemText(i) for i in range(widget.profile_combo.count())] \
        if hasattr(widget, "profile_combo") else []
    return "\n".join(parts)


def assert_masked(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} in clear in the {where}"


def test_masked_renderer_reaches_every_view(qtbot, make_harness, in_loop, until, sandbox):
    harness = make_harness(renderer=Renderer(masked=True))
    w = harness.window
    panel = w.preview_panel
    copied = {}

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)
        assert_masked(w.raw_view.text.toPlainText(), "Raw tab")

        qtbot.mouseClick(w.claim_button, LEFT)
        dialog = w.claim_flow.dialog
        assert_masked(visible_text(dialog), "claim dialog")
        qtbot.mouseClick(dialog.confirm_button, LEFT)
        # (a masked renderer is presenter mode: the Stage tab is current; the Preview tab has the result too)
        await until(lambda: not harness.bridge.busy and panel.claim_banner.isVisibleTo(panel))
        reward_url = sandbox.admin.ledger()[0]["reward_url"]
        assert reward_url not in visible_text(w)
        panel.claim_banner.copy_button.click()
        copied["url"] = (reward_url, QGuiApplication.clipboard().text())

        w.tabs.setCurrentWidget(w.history_view)
        await until(lambda: w.history_view.model.rowCount() >= 2)
        for row in range(w.history_view.model.rowCount()):
            w.history_view.select_row(row)
            await until(lambda: w.history_view.detail.entry is not None)
            assert_masked(w.history_view.detail.text.toPlainText(), f"history detail of row {row}")
            assert reward_url not in w.history_view.detail.text.toPlainText()
        cells = [str(w.history_view.model.index(r, c).data()) for r in range(w.history_view.model.rowCount())
                 for c in range(w.history_view.model.columnCount())]
        assert_masked("\n".join(cells), "history table")

    in_loop(scenario)
    assert_masked(visible_text(w), "window")
    reward_url, clipboard = copied["url"]
    assert clipboard == reward_url  # masked on screen, the real URL where it is needed


def test_plain_renderer_shows_the_values(qtbot, harness, in_loop, until):
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)

    in_loop(scenario)
    assert "DEMOCAMP1" in w.raw_view.text.toPlainText()
