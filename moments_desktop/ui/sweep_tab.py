"""The Sweep tab: getRewardInfo for every combination of chosen field values, as a grid of customer cards.

Per body field the user checks values from the endpoint's sandbox catalog (or types them, one per line); a
field left empty keeps the form's one value. The number of combinations and the time they take at the key's
rate limit are shown before anything is sent (Session.plan_sweep decides both, and every error, per field).
Run sends getRewardInfo only, through the client's limiter, each call journaled (Session.run_sweep); Cancel
stops at once. The cards arrive in batches (SessionBridge.sweep_cards), can be filtered by status and, once
compared with a saved baseline, by what changed; a click opens that combination in the Preview tab.

The sweep runs for the profile and form values shown when Run is pressed, and keeps that plan while the user
goes on using the form. Every rule is the Session's (core/session.py, core/sweep*.py); this module shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from moments_desktop.api_schema import BODY_FIELDS, DEVICE_TYPES
from moments_desktop.core import errorlog
from moments_desktop.core.errors import MomentsError, ValidationError
from moments_desktop.core.render import Renderer, local_time
from moments_desktop.core.sweep import STATUS_LABELS, SweepStatus, parse_value_list

from .bridge import SessionBridge
from .sweep_grid import STATUS_ROLES, CardRole, SweepCardModel, SweepGridView
from .theme import error_style, hint_style, styled

CHOICES_DELAY_MS = 400  # typing an endpoint pauses this long before its catalog is asked for
from .shortcuts import SWEEP_RUN_KEYS as RUN_KEYS  # noqa: E402 - one list of the keys
LABEL_SEPARATOR = " \u2014 "  # as core/catalog_choices.py labels a choice: "id — description"
PRESENTER_TIP = ("Masked in presenter mode. To edit the values, turn presenter mode off "
                 "(View \u25b8 Presenter mode, Ctrl+Shift+P).")


def duration_text(seconds: float | None) -> str:
    """12 s, 3 min 20 s, 1 h 05 min: how long, for a person."""
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class FieldValues(QGroupBox):
    """One body field's values to sweep: catalog choices to check, and/or values typed one per line."""

    changed = Signal()

    def __init__(self, name: str, renderer: Renderer, parent: QWidget | None = None):
        super().__init__(name, parent)
        self.name = name
        self.renderer = renderer
        self.setObjectName(f"sweepField_{name}")
        self.setMinimumWidth(170)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        self.choice_list = QListWidget(self)
        self.choice_list.setObjectName(f"sweepChoices_{name}")
        self.choice_list.setAccessibleName(f"{name}: values to sweep, from the catalog")
        self.choice_list.setUniformItemSizes(True)
        self.choice_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.choice_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        line = self.fontMetrics().lineSpacing()
        self.choice_list.setMinimumHeight(line * 3 + 8)
        self.choice_list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout.addWidget(self.choice_list, 1)
        self.typed = QPlainTextEdit(self)
        self.typed.setObjectName(f"sweepTyped_{name}")
        self.typed.setAccessibleName(f"{name}: values to sweep, one per line")
        self.typed.setAccessibleDescription(f"Values of {name} typed by hand, swept with the checked ones")
        self.typed.setTabChangesFocus(True)
        self.typed.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.typed.setMinimumHeight(line * 2 + 10)
        layout.addWidget(self.typed, 0)
        # Presenter mode: the typed values (identifiers) are shown masked, read-only, in the editor's place.
        self.typed_masked = QPlainTextEdit(self)
        self.typed_masked.setObjectName(f"sweepTypedMasked_{name}")
        self.typed_masked.setReadOnly(True)
        self.typed_masked.setAccessibleName(f"{name}: values to sweep (masked in presenter mode)")
        self.typed_masked.setToolTip(PRESENTER_TIP)
        self.typed_masked.setAccessibleDescription(PRESENTER_TIP)
        self.typed_masked.setTabChangesFocus(True)
        self.typed_masked.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.typed_masked.setMinimumHeight(line * 2 + 10)
        self.typed_masked.hide()
        layout.addWidget(self.typed_masked, 0)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.all_button = QPushButton("All" if name != "deviceType" else "All device types", self)
        self.all_button.setObjectName(f"sweepAll_{name}")
        self.all_button.setAccessibleName(f"Check every {name}" if name != "deviceType" else "All device types")
        self.none_button = QPushButton("None", self)
        self.none_button.setObjectName(f"sweepNone_{name}")
        self.none_button.setAccessibleName(f"Uncheck every {name}")
        self.all_button.setAccessibleDescription(f"Sweep every listed {name}")
        self.none_button.setAccessibleDescription(f"Sweep no listed {name}")
        for button in (self.all_button, self.none_button):
            button.setAutoDefault(False)
            button.setStyleSheet("QPushButton { padding: 1px 6px; }")
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.hint = QLabel("", self)
        self.hint.setObjectName(f"sweepHint_{name}")
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        styled(self.hint, hint_style)
        self.hint.setMinimumWidth(40)
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.hint)
        self.error_label = QLabel("", self)
        self.error_label.setObjectName(f"sweepError_{name}")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        styled(self.error_label, error_style)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self._has_choices = False
        self._form_value = ""
        self._choices = None  # as last given to set_choices, rendered again when presenter mode changes
        self._presenting = False
        self.choice_list.itemChanged.connect(lambda _item: self.changed.emit())
        self.typed.textChanged.connect(self.changed.emit)
        self.all_button.clicked.connect(self.check_all)
        self.none_button.clicked.connect(self.clear)
        self.set_choices(None)

    def set_choices(self, choices) -> None:
        """The catalog's values for this field (a sequence of core Choice), or None: typed values only. The
        values checked before stay checked when they are offered again."""
        self._choices = choices
        if choices is None and self.name == "deviceType":
            choices = [_Plain(value) for value in DEVICE_TYPES]  # an enum of the API: always offered
        checked = set(self.checked_values())
        self.choice_list.blockSignals(True)
        try:
            self.choice_list.clear()
            for choice in choices or ():
                description = choice.label.split(LABEL_SEPARATOR, 1)[1] if LABEL_SEPARATOR in choice.label else ""
                if self.renderer.masked:
                    description = ""  # it names other identifiers (a group's campaigns): not shown masked
                shown = self.renderer.field_value(self.name, choice.value)
                item = QListWidgetItem(shown + (LABEL_SEPARATOR + description if description else ""))
                item.setData(Qt.ItemDataRole.UserRole, choice.value)
                item.setToolTip(item.text())
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if choice.value in checked else Qt.CheckState.Unchecked)
                self.choice_list.addItem(item)
        finally:
            self.choice_list.blockSignals(False)
        self._has_choices = self.choice_list.count() > 0
        self.choice_list.setVisible(self._has_choices)
        self.none_button.setVisible(self._has_choices)
        self.all_button.setVisible(self._has_choices)
        self.typed.setPlaceholderText("Other values, one per line" if self._has_choices
                                      else "Values, one per line")
        line = self.typed.fontMetrics().lineSpacing()
        self.typed.setMaximumHeight(16777215 if not self._has_choices else line * 2 + 10)
        self.typed_masked.setMaximumHeight(self.typed.maximumHeight())
        self.typed_masked.setPlaceholderText(self.typed.placeholderText())
        self.changed.emit()

    def rerender(self) -> None:
        """Presenter mode on or off (the renderer's setting): choices, typed values and hint again."""
        self._presenting = self.renderer.masked
        self.set_choices(self._choices)
        if self._presenting:
            self.typed_masked.setPlainText("\n".join(
                self.renderer.field_value(self.name, value) for value in self.typed.toPlainText().split("\n")))
        else:
            self.typed_masked.clear()
        self.typed_masked.setVisible(self._presenting)
        self.typed.setVisible(not self._presenting)
        self._update_hint()

    @property
    def has_choices(self) -> bool:
        return self._has_choices

    def choice_values(self) -> list[str]:
        return [self.choice_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.choice_list.count())]

    def checked_values(self) -> list[str]:
        items = (self.choice_list.item(i) for i in range(self.choice_list.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]

    def values(self) -> list[str]:
        """What to sweep for this field: the checked choices, then the typed values (order kept)."""
        values = self.checked_values()
        for value in parse_value_list(self.typed.toPlainText()):
            if value not in values:
                values.append(value)
        return values

    def set_checked(self, values) -> None:
        wanted = set(values)
        self.choice_list.blockSignals(True)
        try:
            for i in range(self.choice_list.count()):
                item = self.choice_list.item(i)
                item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                                   else Qt.CheckState.Unchecked)
        finally:
            self.choice_list.blockSignals(False)
        self.changed.emit()

    def check_all(self) -> None:
        self.set_checked(self.choice_values())

    def clear(self) -> None:
        self.set_checked(())

    def set_form_value(self, value: str) -> None:
        self._form_value = value
        self._update_hint()

    def _update_hint(self) -> None:
        count = len(self.values())
        if count == 0:
            shown = self.renderer.field_value(self.name, self._form_value) or "(empty)"
            self.hint.setText(f"None chosen: the form's {shown}")
        else:
            self.hint.setText(f"{count} value{'' if count == 1 else 's'}")
        self.hint.setToolTip(self.hint.text())

    def set_error(self, text: str | None) -> None:
        self.error_label.setText(text or "")
        self.error_label.setVisible(bool(text))
        self._update_hint()


class _Plain:
    """A choice without a description (the API's device types when there is no catalog)."""

    def __init__(self, value: str):
        self.value = value
        self.label = value


class SweepTab(QWidget):
    """Values per field, the plan's size and time, Run/Cancel with progress, the grid, baselines, reports."""

    open_requested = Signal(str, str, object)  # profile id, endpoint, the five fields: open in the Preview tab

    def __init__(self, bridge: SessionBridge, *, current_profile_id: Callable[[], str | None],
                 request_values: Callable[[], tuple[str, dict[str, str]]],
                 show_error: Callable[[MomentsError | str], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sweepTab")
        self.bridge = bridge
        self.renderer = bridge.renderer
        self._current_profile_id = current_profile_id
        self._request_values = request_values
        self._show_error = show_error
        self._plan: Any = None  # what Run would send now
        self._run_plan: Any = None  # what the running (or last) sweep sent
        self._result: Any = None  # the last finished (or cancelled) sweep
        self._baseline: Any = None
        self._baseline_path: str | None = None
        self._choices_url: str | None = None  # the endpoint whose choices are shown (or asked for)
        self._progress: Any = None
        self._build()
        self._wire()

    # --- building ----------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)

        holder = QWidget(self)
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.fields: dict[str, FieldValues] = {}
        for name in BODY_FIELDS:
            chooser = FieldValues(name, self.renderer, holder)
            self.fields[name] = chooser
            row.addWidget(chooser, 1)
        self.fields_scroll = QScrollArea(self)
        self.fields_scroll.setObjectName("sweepFieldsScroll")
        self.fields_scroll.setAccessibleName("Values to sweep")
        self.fields_scroll.setAccessibleDescription("One column per request field")
        self.fields_scroll.setWidgetResizable(True)
        self.fields_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.fields_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.fields_scroll.setWidget(holder)
        self.fields_scroll.setMinimumHeight(150)
        # The choosers above, the results below; the user may give either more room.
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("sweepSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.fields_scroll)
        results = QWidget(self.splitter)
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.setSpacing(6)
        self.splitter.addWidget(results)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([250, 500])
        outer.addWidget(self.splitter, 1)
        outer = results_layout

        run_row = QHBoxLayout()
        self.run_button = QPushButton("&Run sweep", self)
        self.run_button.setObjectName("runSweepButton")
        self.run_button.setAccessibleName("Run the sweep")
        self.run_button.setToolTip("Free: getRewardInfo for every combination, never getReward (Ctrl+Alt+Return)")
        self.run_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelSweepButton")
        self.cancel_button.setAccessibleName("Cancel the sweep")
        self.cancel_button.setToolTip("Stop now: no call is sent after this (Esc)")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.hide()
        self.plan_label = QLabel("", self)
        self.plan_label.setObjectName("sweepPlan")
        self.plan_label.setAccessibleName("Combinations and time")
        self.plan_label.setTextFormat(Qt.TextFormat.PlainText)
        self.plan_label.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("sweepProgress")
        self.progress.setAccessibleName("Sweep progress")
        self.progress.setFormat("%v / %m")
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        self.eta_label = QLabel("", self)
        self.eta_label.setObjectName("sweepEta")
        self.eta_label.setAccessibleName("Time left")
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.plan_label, 1)
        run_row.addWidget(self.progress)
        run_row.addWidget(self.eta_label)
        outer.addLayout(run_row)

        filter_row = QHBoxLayout()
        filter_row.setSpacing(4)
        self.status_buttons: dict[SweepStatus, QPushButton] = {}
        for status in SweepStatus:
            button = QPushButton(STATUS_LABELS[status], self)
            button.setObjectName(f"sweepFilter_{status.value}")
            button.setAccessibleName(f"Show {STATUS_LABELS[status].lower()} cards")
            button.setAccessibleDescription("A filter: checked, these cards are shown")
            button.setCheckable(True)
            button.setChecked(True)
            button.setAutoDefault(False)
            styled(button, lambda p, role=STATUS_ROLES[status]:
                   f"QPushButton {{ border-left: 5px solid {getattr(p, role)}; padding: 3px 8px; }}")
            self.status_buttons[status] = button
            filter_row.addWidget(button)
        self.only_changes = QCheckBox("Only changes", self)
        self.only_changes.setObjectName("sweepOnlyChanges")
        self.only_changes.setAccessibleName("Show only the combinations that changed since the baseline")
        self.only_changes.setAccessibleDescription("Available once the sweep is compared with a baseline")
        self.only_changes.setEnabled(False)
        filter_row.addWidget(self.only_changes)
        filter_row.addStretch(1)
        self.save_baseline_button = QPushButton("Save as baseline…", self)
        self.save_baseline_button.setObjectName("saveBaselineButton")
        self.save_baseline_button.setAccessibleName("Save this sweep as a baseline")
        self.compare_button = QPushButton("Compare with baseline…", self)
        self.compare_button.setObjectName("compareBaselineButton")
        self.compare_button.setAccessibleName("Compare with a saved baseline")
        self.export_button = QPushButton("Export report", self)
        self.export_button.setObjectName("exportSweepButton")
        self.export_button.setAccessibleName("Export the sweep as a report")
        menu = QMenu(self.export_button)
        self.export_html_action = menu.addAction("As HTML (self-contained page)…")
        self.export_csv_action = menu.addAction("As CSV (spreadsheets)…")
        self.export_button.setMenu(menu)
        self.save_baseline_button.setAccessibleDescription("Keeps these results to compare a later sweep with")
        self.compare_button.setAccessibleDescription("Marks what changed since a saved sweep")
        self.export_button.setAccessibleDescription("As a self-contained HTML page or a CSV file")
        for button in (self.save_baseline_button, self.compare_button, self.export_button):
            button.setAutoDefault(False)
            filter_row.addWidget(button)
        outer.addLayout(filter_row)

        self.status_label = QLabel("", self)
        self.status_label.setObjectName("sweepStatus")
        self.status_label.setAccessibleName("Sweep status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.status_label)

        self.model = SweepCardModel(self.renderer, self)
        self.grid = SweepGridView(self.model, self)
        self.grid.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        outer.addWidget(self.grid, 1)
        self._choices_timer = QTimer(self)
        self._choices_timer.setSingleShot(True)
        self._choices_timer.setInterval(CHOICES_DELAY_MS)

    def _wire(self) -> None:
        for chooser in self.fields.values():
            chooser.changed.connect(self.update_plan)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        for button in self.status_buttons.values():
            button.toggled.connect(self._apply_filter)
        self.only_changes.toggled.connect(self._apply_filter)
        self.save_baseline_button.clicked.connect(self.save_baseline)
        self.compare_button.clicked.connect(self.compare_with_baseline)
        self.export_html_action.triggered.connect(lambda: self.export_report("html"))
        self.export_csv_action.triggered.connect(lambda: self.export_report("csv"))
        self.grid.clicked.connect(self._card_clicked)
        self.grid.activated.connect(self._card_clicked)
        self.model.thumbnail_wanted.connect(self._thumbnail_wanted)
        self.model.counts_changed.connect(self._update_counts)
        self._choices_timer.timeout.connect(self._load_choices)
        host = self.window()
        for keys in RUN_KEYS:  # on the window: a shortcut of a hidden tab never fires
            QShortcut(QKeySequence(keys), host, activated=self._run_shortcut)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.cancel,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        bridge = self.bridge
        bridge.sweep_choices_loaded.connect(self._choices_loaded)
        bridge.sweep_started.connect(self._started)
        bridge.sweep_cards.connect(self._cards_arrived)
        bridge.sweep_finished.connect(self._finished)
        bridge.sweep_failed.connect(self._failed)
        bridge.sweep_running_changed.connect(self._update_actions)
        bridge.sweep_thumbnail_loaded.connect(self.model.thumbnail_arrived)
        # Queued: these may open a message box, which must not open inside an asyncio task.
        queued = Qt.ConnectionType.QueuedConnection
        bridge.baseline_saved.connect(self._baseline_saved, queued)
        bridge.baseline_loaded.connect(self._baseline_loaded, queued)
        bridge.sweep_report_written.connect(self._report_written, queued)
        self._update_counts()
        self._update_actions()

    # --- the plan ------------------------------------------------------------------------

    def request_changed(self) -> None:
        """The window's profile or form changed: a new plan (sent nothing), and the endpoint's choices."""
        values = self._request_values()
        base_url = values[0].strip().rstrip("/")
        if base_url != self._choices_url:
            self._choices_timer.start()  # restarted by every keystroke in the endpoint
        self.update_plan()

    def _load_choices(self) -> None:
        base_url = self._request_values()[0].strip().rstrip("/")
        self._choices_url = base_url
        if not base_url or self.bridge.closed:
            self._choices_loaded(base_url, None)
            return
        self.bridge.load_sweep_choices(base_url)

    def load_choices_now(self) -> None:
        self._choices_timer.stop()
        self._load_choices()

    def _choices_loaded(self, base_url: str, choices: Any) -> None:
        if base_url != self._choices_url:
            return  # an endpoint typed since
        by_field = getattr(choices, "by_field", None) or {}
        for name, chooser in self.fields.items():
            offered = by_field.get(name)
            chooser.set_choices(tuple(offered) if offered else None)

    def value_lists(self) -> dict[str, list[str]]:
        return {name: chooser.values() for name, chooser in self.fields.items()}

    def update_plan(self) -> Any:
        """Plan the sweep from the choices and the form (sends nothing); show its size and time, or what is
        wrong, next to the field it is about."""
        profile_id = self._current_profile_id()
        base_url, fields = self._request_values()
        for name, chooser in self.fields.items():
            chooser.set_form_value(fields.get(name, ""))
        self._plan = None
        errors: dict[str, str] = {}
        problem = ""
        if profile_id is None:
            problem = "Choose a profile."
        else:
            try:
                self._plan = self.bridge.plan_sweep(profile_id, self.value_lists(), base_url, fields)
            except ValidationError as exc:
                errors = dict(exc.field_errors)
                others = [f"{name}: {text}" for name, text in errors.items() if name not in self.fields]
                problem = "Cannot sweep: " + ("; ".join(others) if others else "fix the values marked in red.")
            except MomentsError as exc:
                problem = exc.message
            except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
                problem = errorlog.unexpected(exc, "sweep plan").message
        for name, chooser in self.fields.items():
            chooser.set_error(errors.get(name))
        if self._plan is not None:
            plan = self._plan
            count = plan.count
            self.plan_label.setText(
                f"{count:,} combination{'' if count == 1 else 's'} · about {duration_text(plan.estimated_seconds)} "
                f"at {plan.calls} calls per {plan.window:g} s (getRewardInfo only, nothing is claimed)")
        else:
            self.plan_label.setText(problem)
        self._update_actions()
        return self._plan

    @property
    def plan(self) -> Any:
        return self._plan

    # --- running ------------------------------------------------------------------------

    # --- presenter mode ------------------------------------------------------------------

    def rerender(self) -> None:
        """Presenter mode on or off: the choosers, the running sweep's line and the cards in the new mode."""
        for chooser in self.fields.values():
            chooser.rerender()
        if self.bridge.sweep_running and self._run_plan is not None:
            plan = self._run_plan
            self.status_label.setText(
                f"Sweeping {plan.count:,} combinations of “{self.renderer.profile_name(plan.profile_name)}”…")
        self.model.rerender()
        self.grid.viewport().update()

    def _run_shortcut(self) -> None:
        widget = self.parentWidget()
        while widget is not None and not hasattr(widget, "setCurrentWidget"):
            widget = widget.parentWidget()
        if widget is not None:
            widget.setCurrentWidget(self)
        self.run()

    def run(self) -> bool:
        if self.bridge.sweep_running:
            return False
        plan = self.update_plan()
        if plan is None:
            self.status_label.setText(self.plan_label.text())
            return False
        return self.bridge.start_sweep(plan)

    def cancel(self) -> None:
        if self.bridge.sweep_running:
            self.bridge.cancel_sweep()

    def _started(self, plan: Any) -> None:
        self._run_plan = plan
        self._result = None
        self._progress = None
        self.bridge.forget_sweep_thumbnails()
        self.model.start(plan.swept_fields)
        self.progress.setRange(0, max(1, plan.count))
        self.progress.setValue(0)
        self.progress.show()
        self.eta_label.setText(f"ETA {duration_text(plan.estimated_seconds)}")
        self.status_label.setText(f"Sweeping {plan.count:,} combinations of “{self.renderer.profile_name(plan.profile_name)}”…")
        self._update_actions()

    def _cards_arrived(self, cards: list, progress: Any) -> None:
        self.model.add_cards(cards)
        if progress is not None:
            self._progress = progress
            self.progress.setValue(progress.done)
            eta = progress.eta_s
            self.eta_label.setText(f"ETA {duration_text(eta)}" if eta is not None else "ETA …")

    def _finished(self, result: Any) -> None:
        self._result = result
        self.model.set_cards(result.cards)
        if self._baseline is not None:
            self._apply_baseline()
        done, total = len(result.cards), result.plan.count
        self.progress.setValue(done)
        elapsed = (result.finished_at - result.started_at).total_seconds()
        if result.stopped:
            self.eta_label.setText("")
            self.status_label.setText(f"{result.stopped} The cards that came back are shown.")
        elif result.cancelled:
            self.eta_label.setText("")
            self.status_label.setText(f"Cancelled after {done:,} of {total:,} combinations; no call was sent after "
                                      f"Cancel. The cards that came back are shown.")
        else:
            self.eta_label.setText(f"Done in {duration_text(elapsed)}")
            self.status_label.setText(f"{done:,} combinations answered in {duration_text(elapsed)}; every call "
                                      "is in the History tab (as a preview).")
        self._update_actions()

    def _failed(self, error: MomentsError) -> None:
        self.progress.hide()
        self.eta_label.setText("")
        self.status_label.setText(f"The sweep did not run: {self.renderer.text(error.message)}")
        self._update_actions()

    def result(self) -> Any:
        return self._result

    # --- the grid --------------------------------------------------------------------------

    def _apply_filter(self, *_args) -> None:
        statuses = [status for status, button in self.status_buttons.items() if button.isChecked()]
        self.model.set_filter(statuses, self.only_changes.isChecked() and self.only_changes.isEnabled())

    def _update_counts(self) -> None:
        counts = self.model.counts()
        for status, button in self.status_buttons.items():
            button.setText(f"{STATUS_LABELS[status]} ({counts.get(status, 0):,})")
        has_diff = self.model.diff is not None
        changed = self.model.changed_count() if has_diff else 0
        self.only_changes.setEnabled(has_diff)
        self.only_changes.setText(f"Only changes ({changed:,})" if has_diff else "Only changes")

    def _card_clicked(self, index: QModelIndex) -> None:
        card = index.data(CardRole)
        plan = self._run_plan
        if card is None or plan is None:
            return
        self.open_requested.emit(plan.profile_id, plan.base_url, card.combination.fields())

    def _thumbnail_wanted(self, url: str) -> None:
        plan = self._run_plan
        if plan is not None and not self.bridge.closed:
            self.bridge.load_sweep_thumbnail(plan.profile_id, url)

    # --- baselines and reports -------------------------------------------------------------

    def choose_save_path(self, title: str, suggestion: str, kinds: str) -> str | None:
        """Overridable: tests answer instead of the dialog."""
        path, _ = QFileDialog.getSaveFileName(self, title, suggestion, kinds)
        return path or None

    def choose_open_path(self, title: str, kinds: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", kinds)
        return path or None

    def save_baseline(self) -> None:
        if self._result is None:
            self.status_label.setText("Run a sweep first: a baseline is a finished sweep.")
            return
        path = self.choose_save_path("Save the sweep as a baseline", "sweep-baseline.json", "Baseline (*.json)")
        if not path:
            return
        self.status_label.setText("Saving the baseline…")
        self.bridge.start_save_baseline(self._result, path)

    def _baseline_saved(self, path: str, result: Any) -> None:
        if isinstance(result, MomentsError):
            self.status_label.setText("The baseline was not saved.")
            self._show_error(result)
            return
        count = len(result.entries)
        self.status_label.setText(f"Baseline saved to {path} ({count:,} combinations). Compare a later sweep "
                                  "with it to see what changed.")

    def compare_with_baseline(self) -> None:
        path = self.choose_open_path("Compare with a baseline", "Baseline (*.json);;All files (*)")
        if not path:
            return
        self.status_label.setText("Reading the baseline…")
        self.bridge.start_load_baseline(path)

    def _baseline_loaded(self, path: str, result: Any) -> None:
        if isinstance(result, MomentsError):
            self.status_label.setText("The baseline could not be used.")
            self._show_error(result)
            return
        self._baseline, self._baseline_path = result, path
        if self._result is None:
            self.status_label.setText(f"Baseline {path} loaded: the next sweep is compared with it.")
            return
        self._apply_baseline()

    def _apply_baseline(self) -> None:
        try:
            diff = self.bridge.compare_sweep(self._result, self._baseline)
        except MomentsError as exc:
            self._show_error(exc)
            return
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self._show_error(errorlog.unexpected(exc, "sweep compare"))
            return
        self.model.set_diff(diff)
        gone = len(diff.gone)
        baseline = self._baseline
        self.status_label.setText(
            f"Compared with the baseline of {local_time(baseline.saved_at) or '?'} "
            f"({self._baseline_path}): "
            f"{diff.changed_count:,} changed" + (f", {gone:,} no longer swept" if gone else "") + ".")
        self._apply_filter()

    def export_report(self, kind: str) -> None:
        if self._result is None:
            self.status_label.setText("Run a sweep first: the report is of a finished sweep.")
            return
        from moments_desktop.core.sweep_report import SweepReportFormat

        fmt = SweepReportFormat(kind)
        kinds = {"html": "HTML page (*.html)", "csv": "CSV (*.csv)"}[kind]
        path = self.choose_save_path(f"Export the sweep as {kind.upper()}", f"sweep-report.{kind}", kinds)
        if not path:
            return
        self.status_label.setText("Writing the report…")
        self.bridge.start_write_sweep_report(self._result, self.model.diff, Path(path), fmt)

    def _report_written(self, path: str, result: Any) -> None:
        if isinstance(result, MomentsError):
            self.status_label.setText("The report was not written.")
            self._show_error(result)
            return
        self.status_label.setText(f"Report written to {path}.")

    # --- state ---------------------------------------------------------------------------

    def _update_actions(self, *_args) -> None:
        running = self.bridge.sweep_running
        self.run_button.setEnabled(not running and self._plan is not None)
        self.cancel_button.setVisible(running)
        if not running and self._result is None and self._progress is None:
            self.progress.setVisible(False)
        finished = self._result is not None and not running
        # A cancelled or stopped sweep is no baseline (Session.save_baseline refuses it): the button says so.
        whole = finished and not self._result.cancelled
        self.save_baseline_button.setEnabled(whole)
        self.save_baseline_button.setToolTip("" if whole or not finished else
                                             "A sweep that did not finish is not saved as a baseline.")
        self.export_button.setEnabled(finished)
        self.compare_button.setEnabled(not running)
