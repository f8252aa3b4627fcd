"""A free-text field that can also offer known values (e.g. ids from a sandbox catalog).

The field stays a QLineEdit: anything may be typed, so wrong values can be tested. When it
has choices, a ▾ button at its right end (or Alt+Down / F4) lists them with their
descriptions, and typing filters them; choosing one puts only its value in the field.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPointF, QRect, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeyEvent, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from moments_desktop.core.catalog_choices import Choice

VALUE_ROLE = Qt.ItemDataRole.UserRole + 1


class ChoiceModel(QAbstractListModel):
    """Rows of (value, label): the list shows the label, the field receives the value."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._choices: list[Choice] = []

    def set_choices(self, choices: list[Choice]) -> None:
        if choices == self._choices:
            return
        self.beginResetModel()
        self._choices = list(choices)
        self.endResetModel()

    def choices(self) -> list[Choice]:
        return list(self._choices)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._choices)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._choices):
            return None
        choice = self._choices[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return choice.label
        if role in (VALUE_ROLE, Qt.ItemDataRole.EditRole):
            return choice.value
        return None


def _chevron_icon(color: QColor) -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath(QPointF(4, 6))
    path.lineTo(12, 6)
    path.lineTo(8, 11)
    path.closeSubpath()
    painter.fillPath(path, color)
    painter.end()
    return QIcon(pixmap)


class ChoiceLineEdit(QLineEdit):
    """QLineEdit + optional list of choices. ``choice_picked(value)`` when one is chosen from the list."""

    choice_picked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice_model = ChoiceModel(self)
        completer = QCompleter(self.choice_model, self)
        completer.setCompletionRole(VALUE_ROLE)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setMaxVisibleItems(12)
        # Connected here, not only by QLineEdit (which does it on focus-in): a pick must always land.
        completer.activated[str].connect(self._picked)
        self.setCompleter(completer)
        self._completer = completer
        icon = _chevron_icon(self.palette().color(QPalette.ColorRole.Text))
        self.dropdown_action = QAction(icon, "Show choices", self)
        self.dropdown_action.setToolTip("Choose a known value (Alt+Down); any other value can be typed")
        self.dropdown_action.triggered.connect(self.show_choices)
        self.addAction(self.dropdown_action, QLineEdit.ActionPosition.TrailingPosition)
        self.dropdown_action.setVisible(False)

    def set_choices(self, choices: list[Choice]) -> None:
        """Replace the choices (never the text being edited)."""
        self.choice_model.set_choices(choices)
        self.dropdown_action.setVisible(bool(choices))
        if not choices:
            self._completer.popup().hide()

    def choices(self) -> list[Choice]:
        return self.choice_model.choices()

    def choice_values(self) -> list[str]:
        return [c.value for c in self.choice_model.choices()]

    def popup(self):
        return self._completer.popup()

    def show_choices(self) -> None:
        """Open the full list (not filtered by the current text), the current value highlighted."""
        if not self.choice_model.rowCount():
            return
        self.setFocus(Qt.FocusReason.PopupFocusReason)
        self._completer.setCompletionPrefix("")
        popup = self._completer.popup()
        width = max(self.width(), popup.sizeHintForColumn(0) + 2 * popup.frameWidth() + 24)
        self._completer.complete(QRect(0, 0, width, self.height()))
        current = self.text().strip()
        model = self._completer.completionModel()
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            if index.data(VALUE_ROLE) == current:
                popup.setCurrentIndex(index)
                popup.scrollTo(index)
                break

    def _picked(self, value: str) -> None:
        if self.text() != value:
            self.setText(value)
        self.choice_picked.emit(value)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        opens = (event.key() == Qt.Key.Key_Down and event.modifiers() & Qt.KeyboardModifier.AltModifier) \
            or event.key() == Qt.Key.Key_F4
        if opens and self.choice_model.rowCount() and not self._completer.popup().isVisible():
            self.show_choices()
            return
        super().keyPressEvent(event)
