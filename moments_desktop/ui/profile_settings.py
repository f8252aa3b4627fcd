"""Profile settings: whether the campaign is live, the cost per claim, notes and the time limits.

These decide how strong the claim confirmation is and what it shows, so they get a dialog of
their own instead of sitting among the request fields: changing them is rare and deliberate.
The dialog only collects values; the Session writes them (off the UI thread, through the bridge).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from moments_desktop.core.deadlines import MAX_DEADLINE_S, MIN_DEADLINE_S, Deadlines
from moments_desktop.core.profiles import MAX_NOTES_LENGTH, Profile, parse_cost, validate_currency
from moments_desktop.core.render import PLAIN, Renderer
from moments_desktop.core.request import UNENCODABLE_MESSAGE, is_encodable

from .theme import styled

NOTES_HIDDEN = "The notes are hidden in presenter mode; turn it off (Ctrl+Shift+P) to read or edit them."


@dataclass(frozen=True)
class ProfileSettings:
    live: bool
    cost_per_action: Decimal | None
    currency: str
    notes: str
    # Profile.*_deadline_s by name: seconds, or None for the app's default.
    deadlines: dict[str, float | None] = field(default_factory=dict)
    is_sandbox: bool = False


# (Profile field, label, the app's default in seconds)
DEADLINE_ROWS = (
    ("preview_deadline_s", "Preview", Deadlines().preview),
    ("image_deadline_s", "Reward image", Deadlines().image),
    ("claim_deadline_s", "Claim", Deadlines().claim),
)


class ProfileSettingsDialog(QDialog):
    """Window-modal; emits ``saved(ProfileSettings)`` when the user saves valid values."""

    saved = Signal(object)

    def __init__(self, profile: Profile, parent: QWidget | None = None, renderer: Renderer = PLAIN):
        super().__init__(parent)
        self.profile = profile
        self.renderer = renderer
        self.setObjectName("profileSettingsDialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = QVBoxLayout(self)

        intro = QLabel("How careful a claim must be with this profile, and what it costs. "
                       "The API key and the request fields are edited in the main window.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        mode_box = QWidget(self)
        mode_layout = QVBoxLayout(mode_box)
        mode_layout.setContentsMargins(0, 0, 0, 0)
        self.test_radio = QRadioButton("Test mode: the campaign is Approved, claims consume nothing", mode_box)
        self.test_radio.setObjectName("testModeRadio")
        self.test_radio.setAccessibleDescription("A claim needs one confirmation click")
        self.live_radio = QRadioButton("Live: every claim consumes a real reward and is billed", mode_box)
        self.live_radio.setObjectName("liveRadio")
        self.live_radio.setAccessibleDescription("A claim needs the campaign ID typed before it is sent")
        styled(self.live_radio, lambda p: f"color: {p.danger}; font-weight: 600;")
        self.mode_group = QButtonGroup(self)
        for radio in (self.test_radio, self.live_radio):
            self.mode_group.addButton(radio)
            mode_layout.addWidget(radio)
        (self.live_radio if profile.live else self.test_radio).setChecked(True)
        live_note = QLabel("Live profiles make you type the campaign ID before a claim is sent.", mode_box)
        live_note.setWordWrap(True)
        styled(live_note, lambda p: f"color: {p.muted_text};")
        mode_layout.addWidget(live_note)
        form.addRow("Campaign", mode_box)

        cost_row = QHBoxLayout()
        self.cost_edit = QLineEdit("" if profile.cost_per_action is None else str(profile.cost_per_action), self)
        self.cost_edit.setObjectName("costEdit")
        self.cost_edit.setPlaceholderText("unknown")
        self.cost_edit.setAccessibleName("Cost per claim")
        self.cost_edit.setAccessibleDescription("What one claim costs, shown in the claim confirmation; empty if unknown")
        self.currency_edit = QLineEdit(profile.currency, self)
        self.currency_edit.setObjectName("currencyEdit")
        self.currency_edit.setMaxLength(3)
        self.currency_edit.setFixedWidth(64)
        self.currency_edit.setAccessibleName("Currency")
        self.currency_edit.setAccessibleDescription("Three-letter currency code, e.g. USD or EUR")
        cost_row.addWidget(self.cost_edit, 1)
        cost_row.addWidget(self.currency_edit)
        form.addRow("Cost per claim", cost_row)
        self.cost_error = QLabel("", self)
        self.cost_error.setObjectName("costError")
        styled(self.cost_error, lambda p: f"color: {p.danger};")
        self.cost_error.setWordWrap(True)
        form.addRow("", self.cost_error)

        self.notes_edit = QPlainTextEdit(profile.notes, self)
        self.notes_edit.setObjectName("notesEdit")
        self.notes_edit.setPlaceholderText("Anything the team should know about this profile")
        self.notes_edit.setMaximumHeight(96)
        self.notes_edit.setAccessibleName("Notes")
        self.notes_edit.setAccessibleDescription("Anything the team should know about this profile")
        # Presenter mode: the notes (the team's own words, often a customer's name) are not drawn; this
        # stands in their place and the notes are saved as they were.
        self.notes_hidden = QLineEdit(self)
        self.notes_hidden.setObjectName("notesHidden")
        self.notes_hidden.setReadOnly(True)
        self.notes_hidden.setPlaceholderText("Hidden in presenter mode")
        self.notes_hidden.setToolTip(NOTES_HIDDEN)
        self.notes_hidden.setAccessibleName("Notes (hidden in presenter mode)")
        self.notes_hidden.setAccessibleDescription(NOTES_HIDDEN)
        self.notes_hidden.hide()
        notes_box = QWidget(self)
        notes_layout = QVBoxLayout(notes_box)
        notes_layout.setContentsMargins(0, 0, 0, 0)
        notes_layout.addWidget(self.notes_edit)
        notes_layout.addWidget(self.notes_hidden)
        form.addRow("Notes", notes_box)

        self.sandbox_check = QCheckBox("This endpoint is a Moments sandbox: offer its catalog's values", self)
        self.sandbox_check.setObjectName("isSandboxCheck")
        self.sandbox_check.setChecked(profile.is_sandbox)
        self.sandbox_check.setToolTip("The app then asks the endpoint for GET /__sandbox/catalog. It asks a "
                                      "sandbox on this computer anyway, and never asks any other endpoint.")
        form.addRow("Sandbox", self.sandbox_check)
        # The spin box's lowest value stands for "the app's default" (Qt shows the special text there).
        limits = QWidget(self)
        limits_layout = QHBoxLayout(limits)
        limits_layout.setContentsMargins(0, 0, 0, 0)
        self.deadline_spins: dict[str, QSpinBox] = {}
        for name, label, default in DEADLINE_ROWS:
            spin = QSpinBox(limits)
            spin.setObjectName(name)
            spin.setRange(MIN_DEADLINE_S - 1, MAX_DEADLINE_S)
            spin.setSpecialValueText(f"default ({default:g} s)")
            spin.setSuffix(" s")
            spin.setAccessibleName(f"{label} time limit in seconds")
            spin.setAccessibleDescription(f"How long a whole {label.lower()} call may take; the lowest value is "
                                          f"the app's default of {default:g} s")
            own = getattr(profile, name)
            spin.setValue(MIN_DEADLINE_S - 1 if own is None else round(own))
            self.deadline_spins[name] = spin
            limits_layout.addWidget(QLabel(label, limits))
            limits_layout.addWidget(spin, 1)
        form.addRow("Time limits", limits)
        limits_note = QLabel(f"How long a whole call may take before the app stops waiting "
                             f"({MIN_DEADLINE_S}–{MAX_DEADLINE_S} s). A claim that runs out of time is not sent "
                             "again: its outcome is unknown.", self)
        limits_note.setWordWrap(True)
        styled(limits_note, lambda p: f"color: {p.muted_text};")
        form.addRow("", limits_note)
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("settingsSaveButton")
        self.save_button.setToolTip("Save these settings in the profile")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("settingsCancelButton")
        cancel.setToolTip("Close without changing the profile")
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for edit in (self.cost_edit, self.currency_edit):
            edit.textChanged.connect(self._validate)
        self.notes_edit.textChanged.connect(self._validate)
        self._validate()
        self.rerender(renderer.masked)
        self.resize(max(self.sizeHint().width(), 520), self.sizeHint().height())

    def rerender(self, masked: bool | None = None) -> None:
        """Presenter mode on or off: the title through the renderer, the notes hidden or shown."""
        masked = self.renderer.masked if masked is None else masked
        self.setWindowTitle(f"Settings of “{self.renderer.profile_name(self.profile.name)}”")
        self.notes_edit.setVisible(not masked)
        self.notes_hidden.setVisible(masked)

    def values(self) -> tuple[ProfileSettings | None, str]:
        """The entered settings, or None and the first problem."""
        cost, problem = parse_cost(self.cost_edit.text())
        if problem:
            return None, problem
        currency = self.currency_edit.text().strip().upper()
        problem = validate_currency(currency)
        if problem:
            return None, problem
        notes = self.notes_edit.toPlainText()
        if len(notes) > MAX_NOTES_LENGTH:
            return None, f"Notes: at most {MAX_NOTES_LENGTH} characters."
        deadlines = {name: (None if spin.value() < MIN_DEADLINE_S else float(spin.value()))
                     for name, spin in self.deadline_spins.items()}
        if not is_encodable(notes):
            return None, f"Notes: {UNENCODABLE_MESSAGE[0].lower()}{UNENCODABLE_MESSAGE[1:]}"
        return ProfileSettings(self.live_radio.isChecked(), cost, currency, notes, deadlines,
                               is_sandbox=self.sandbox_check.isChecked()), ""

    def _validate(self, *_args) -> None:
        settings, problem = self.values()
        self.cost_error.setText(problem)
        self.cost_error.setVisible(bool(problem))
        self.save_button.setEnabled(settings is not None)

    def _save(self) -> None:
        settings, _problem = self.values()
        if settings is None:
            return
        self.saved.emit(settings)
        self.accept()
