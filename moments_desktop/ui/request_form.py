"""The request form: endpoint + the five body fields, validated as the user types."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from moments_desktop.core.request import BODY_FIELDS, DEVICE_TYPES, FIELD_LABELS, validate_base_url, validate_field

ERROR_STYLE = "color: #b3261e; font-size: 11px;"


class RequestForm(QWidget):
    """Emits ``validity_changed(bool)`` whenever the whole form becomes valid or invalid."""

    validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.allow_insecure = False
        self.editors: dict[str, QLineEdit] = {}
        self.error_labels: dict[str, QLabel] = {}
        self._valid = False
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in ("base_url", *BODY_FIELDS):
            if name == "deviceType":
                combo = QComboBox(self)
                combo.setEditable(True)
                combo.addItems(DEVICE_TYPES)
                editor = combo.lineEdit()
                self.device_combo = combo
                field_widget: QWidget = combo
            else:
                editor = QLineEdit(self)
                field_widget = editor
            editor.setObjectName(f"field_{name}")
            editor.textChanged.connect(self.revalidate)
            error = QLabel(self)
            error.setObjectName(f"error_{name}")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            box = QWidget(self)
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(field_widget)
            column.addWidget(error)
            label = QLabel(FIELD_LABELS[name], self)
            label.setBuddy(editor)
            layout.addRow(label, box)
            self.editors[name] = editor
            self.error_labels[name] = error
        self.revalidate()

    def set_values(self, base_url: str, fields: dict[str, str], *, allow_insecure: bool = False) -> None:
        self.allow_insecure = allow_insecure
        self.editors["base_url"].setText(base_url)
        for name in BODY_FIELDS:
            if name == "deviceType":
                self.device_combo.setCurrentText(fields.get(name, ""))
            else:
                self.editors[name].setText(fields.get(name, ""))
        self.revalidate()

    def base_url(self) -> str:
        return self.editors["base_url"].text()

    def fields(self) -> dict[str, str]:
        return {name: self.editors[name].text() for name in BODY_FIELDS}

    def errors(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        url_problem = validate_base_url(self.base_url(), allow_insecure=self.allow_insecure)
        if url_problem:
            problems["base_url"] = url_problem
        for name, value in self.fields().items():
            problem = validate_field(name, value)
            if problem:
                problems[name] = problem
        return problems

    def is_valid(self) -> bool:
        return self._valid

    def revalidate(self) -> None:
        problems = self.errors()
        for name, label in self.error_labels.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)
        valid = not problems
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)
