"""Questions the window asks before it closes, worded and answered one way wherever they are asked."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from moments_desktop import APP_NAME


def quoted_names(names: list[str]) -> str:
    return ", ".join(f"\u201c{name}\u201d" for name in names)


def ask_save_before_closing(parent: QWidget, question: str, detail: str) -> str:
    """"save", "discard" or "cancel": Save all is the default, Escape cancels."""
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, question,
                      QMessageBox.StandardButton.SaveAll | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText(detail)
    box.setDefaultButton(QMessageBox.StandardButton.SaveAll)
    answer = box.exec()
    return {QMessageBox.StandardButton.SaveAll: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")
