"""The request form: endpoint + the five body fields, validated as the user types.

When the endpoint is a sandbox, ``set_catalog`` makes the body fields offer the catalog's
ids (campaigns for the chosen app, reward groups of the chosen campaign, ...); they stay
free text either way.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from moments_desktop.core.catalog_choices import SandboxCatalog, default_choices
from moments_desktop.core.render import PLAIN, Renderer
from moments_desktop.core.request import (
    BODY_FIELDS,
    FIELD_LABELS,
    UNENCODABLE_MESSAGE,
    validate_base_url,
    validate_field,
)

from .choice_field import ChoiceLineEdit
from .theme import error_style, styled

# Fields whose value narrows the choices of others (appId -> moments, campaigns; campaign -> groups).
_CHOICE_INPUTS = ("appId", "momentId", "campaignId")
# What each field is, for a screen reader (the accessible description).
FIELD_DESCRIPTIONS = {
    "base_url": "The Moments API endpoint the request is sent to (https, or http on this computer)",
    "appId": "The app's ID in Moments; choices come from the endpoint's catalog when it has one",
    "momentId": "The moment the customer reached, e.g. a level completed",
    "deviceType": "The customer's device type, e.g. Android or iOS",
    "campaignId": "The campaign whose reward is asked for",
    "rewardGroupId": "The reward group (e.g. a country) within the campaign",
}
PRESENTER_TIP = ("Masked in presenter mode. To edit the request, turn presenter mode off "
                 "(View \u25b8 Presenter mode, Ctrl+Shift+P).")


def holds_hidden_broken_character(editor: QLineEdit) -> bool:
    """True when the field holds a character Python never sees: a pasted lone surrogate stays in the
    QString (and shows as a box) but is dropped from ``text()``, so the field shows one value and would
    send another. The field's own length, in UTF-16 units as Qt counts, gives it away."""
    text = editor.text()
    with QSignalBlocker(editor):
        position, start, length = editor.cursorPosition(), editor.selectionStart(), editor.selectionLength()
        editor.end(False)
        held = editor.cursorPosition()
        if length > 0:
            editor.setSelection(start, length)
        else:
            editor.setCursorPosition(position)
    return held != len(text.encode("utf-16-le")) // 2


class RequestForm(QWidget):
    """Emits ``validity_changed(bool)`` whenever the whole form becomes valid or invalid."""

    validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, renderer: Renderer = PLAIN):
        super().__init__(parent)
        self.renderer = renderer
        self.allow_insecure = False
        self.editors: dict[str, QLineEdit] = {}  # body fields are ChoiceLineEdits
        # Presenter mode: each editor is hidden behind a read-only field showing its value masked; the
        # editors keep the real values (what a preview or a claim sends), shown again when it ends.
        self.masked_views: dict[str, QLineEdit] = {}
        self._presenting = False
        self.error_labels: dict[str, QLabel] = {}
        self._valid = False
        self.catalog: SandboxCatalog | None = None
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.presenter_note = QLabel("Presenter mode: the request is shown masked and cannot be edited. Turn "
                                     "presenter mode off (Ctrl+Shift+P) to edit it.", self)
        self.presenter_note.setObjectName("formPresenterNote")
        self.presenter_note.setWordWrap(True)
        self.presenter_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.presenter_note.hide()
        layout.addRow(self.presenter_note)
        for name in ("base_url", *BODY_FIELDS):
            editor = QLineEdit(self) if name == "base_url" else ChoiceLineEdit(self)
            editor.setObjectName(f"field_{name}")
            editor.setAccessibleName(FIELD_LABELS[name])  # the label sits outside the editor's box: say it
            editor.setAccessibleDescription(FIELD_DESCRIPTIONS.get(name, ""))
            editor.textChanged.connect(self.revalidate)
            error = QLabel(self)
            error.setObjectName(f"error_{name}")
            styled(error, error_style)
            error.setWordWrap(True)
            error.hide()
            box = QWidget(self)
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(editor)
            masked = QLineEdit(box)
            masked.setObjectName(f"masked_{name}")
            masked.setReadOnly(True)
            masked.setToolTip(PRESENTER_TIP)
            masked.setAccessibleName(f"{FIELD_LABELS[name]} (masked in presenter mode)")
            masked.setAccessibleDescription(PRESENTER_TIP)
            masked.hide()
            column.addWidget(masked)
            column.addWidget(error)
            label = QLabel(FIELD_LABELS[name], self)
            label.setBuddy(editor)
            layout.addRow(label, box)
            self.editors[name] = editor
            self.masked_views[name] = masked
            editor.textChanged.connect(lambda _text, n=name: self._update_masked(n))
            self.error_labels[name] = error
        for name in _CHOICE_INPUTS:
            self.editors[name].textChanged.connect(self._update_choices)
        self._update_choices()
        self.revalidate()

    # --- presenter mode ------------------------------------------------------------------

    @property
    def presenting(self) -> bool:
        return self._presenting

    def set_presenter(self, on: bool) -> None:
        """Presenter mode: the fields show their values masked (through the renderer) and cannot be edited;
        off: the editors, with the real values, come back."""
        self._presenting = bool(on)
        self.presenter_note.setVisible(self._presenting)
        for name, editor in self.editors.items():
            self._update_masked(name)
            masked = self.masked_views[name]
            had_focus = editor.hasFocus()
            if self._presenting and isinstance(editor, ChoiceLineEdit):
                editor.popup().hide()  # its list names the catalog's ids in clear
            masked.setVisible(self._presenting)
            editor.setVisible(not self._presenting)
            if had_focus and self._presenting:
                masked.setFocus()

    def _update_masked(self, name: str) -> None:
        if not self._presenting:
            self.masked_views[name].clear()  # holds no copy of a value while it is not shown
            return
        value = self.editors[name].text()
        shown = self.renderer.url(value.strip()) if name == "base_url" else self.renderer.field_value(name, value)
        self.masked_views[name].setText(shown)
        self.masked_views[name].setCursorPosition(0)

    def set_values(self, base_url: str, fields: dict[str, str], *, allow_insecure: bool = False) -> None:
        self.allow_insecure = allow_insecure
        self.editors["base_url"].setText(base_url)
        for name in BODY_FIELDS:
            self.editors[name].setText(fields.get(name, ""))
        self.revalidate()

    def set_catalog(self, catalog: SandboxCatalog | None) -> None:
        """Offer the catalog's values as choices (None: free text, deviceType's known values only)."""
        if catalog is self.catalog:
            return
        self.catalog = catalog
        self._update_choices()

    def choices(self, name: str) -> list[str]:
        """The values ``name``'s field currently offers."""
        return self.editors[name].choice_values()

    def _update_choices(self, *_args) -> None:
        choices = self.catalog.choices(self.fields()) if self.catalog is not None else default_choices()
        for name in BODY_FIELDS:
            self.editors[name].set_choices(choices.get(name, []))

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
        for name, editor in self.editors.items():
            if name not in problems and holds_hidden_broken_character(editor):
                problems[name] = UNENCODABLE_MESSAGE
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
