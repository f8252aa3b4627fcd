"""The close question itself (the window's tests replace it): its words, its default, each answer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from moments_desktop.ui.questions import ask_save_before_closing, quoted_names

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("press, expected", [
    (QMessageBox.StandardButton.SaveAll, "save"),
    (QMessageBox.StandardButton.Discard, "discard"),
    (QMessageBox.StandardButton.Cancel, "cancel"),
    (None, "cancel"),  # Escape
])
def test_each_answer_of_the_close_question(qtbot, press, expected):
    parent = QWidget()
    qtbot.addWidget(parent)
    seen = []

    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, answer)
            return
        seen.append((box.text(), box.informativeText(), box.defaultButton() is box.button(
            QMessageBox.StandardButton.SaveAll)))
        if press is None:
            qtbot.keyClick(box, Qt.Key.Key_Escape)
        else:
            box.button(press).click()

    QTimer.singleShot(10, answer)
    result = ask_save_before_closing(parent, f"Save {quoted_names(['A', 'B'])}?", "Gone for good.")
    assert result == expected
    assert seen == [("Save \u201cA\u201d, \u201cB\u201d?", "Gone for good.", True)]
