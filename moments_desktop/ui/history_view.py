"""The History tab: every exchange in the journal, filtered, searched, inspected, exported.

The table is a lazy model (history_model.py): it never loads more than the pages in view,
so 100,000 rows open as fast as 100. Every read and write goes through the HistoryService
on a worker thread. Unknown claim outcomes are highlighted and can be marked resolved with
a note; the UnresolvedBanner above the window's tabs counts the ones nobody has checked.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QKeyEvent, QMouseEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from moments_desktop import APP_NAME
from moments_desktop.core.errors import MomentsError
from moments_desktop.api_schema import Outcome
from moments_desktop.core.journal import JournalEntry, JournalFilter
from moments_desktop.core.render import PLAIN, REVEAL_SECONDS, Renderer

from .claim_result import reveal_timer
from .copy_as import CopyAsController
from .history_format import OUTCOME_LABELS, detail_text, is_unresolved, outcome_text
from .history_model import COLUMNS, ENDPOINT, OUTCOME, PROFILE, SUMMARY, TIME, HistoryModel, outcome_colour
from .history_service import HistoryService
from .theme import ThemePalette, on_change, styled

SEARCH_DELAY_MS = 250
UNRESOLVED_CHOICE = "unresolved"
NO_DATE = QDate(2000, 1, 1)  # the date editors' "Any" value


def banner_style(p: ThemePalette) -> str:
    return (f"QFrame#unresolvedBanner {{ background: {p.warning_background}; border: 1px solid {p.warning};"
            f" border-radius: 4px; }} QFrame#unresolvedBanner QLabel {{ color: {p.text}; }}")



class OptionalDateEdit(QDateEdit):
    """A day, or "Any" (the minimum date) for no bound; its calendar opens on this month, not on 2000."""

    def __init__(self, parent: QWidget, name: str, tooltip: str):
        super().__init__(parent)
        self.setObjectName(name)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setMinimumDate(NO_DATE)
        self.setSpecialValueText("Any")  # shown while the date is at its minimum
        self.setDate(NO_DATE)
        self.setToolTip(tooltip)
        self._watching_calendar = False

    def _watch_calendar(self) -> None:
        # Lazily: asking for calendarWidget() builds the calendar (~20 ms the first time), which
        # the window's start-up should not pay for a popup that may never open.
        if not self._watching_calendar:
            self._watching_calendar = True
            self.calendarWidget().installEventFilter(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._watch_calendar()
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        self._watch_calendar()
        super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Show and watched is self.calendarWidget() and self.date() == NO_DATE:
            today = QDate.currentDate()
            self.calendarWidget().setCurrentPage(today.year(), today.month())
        return super().eventFilter(watched, event)

    def day(self) -> QDate | None:
        return None if self.date() == NO_DATE else self.date()

    def clear_day(self) -> None:
        self.setDate(NO_DATE)


def _local_midnight(day: QDate) -> datetime:
    return datetime(day.year(), day.month(), day.day()).astimezone()


class HistoryDetail(QWidget):
    """The selected exchange: request, response, outcome, resolution; copy and resolve actions."""

    resolve_requested = Signal(object)  # JournalEntry
    copy_as_requested = Signal(object, object)  # JournalEntry, ExportFormat: its request as a snippet

    def __init__(self, renderer: Renderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.entry: JournalEntry | None = None
        self.revealed = False  # the reward URL shown in clear after a click on Reveal (presenter mode)
        self.reveal_timer = reveal_timer(self, self.hide_reward_url)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        bar = QHBoxLayout()
        self.title = QLabel("Select an entry to see the request and the answer.", self)
        self.title.setObjectName("historyDetailTitle")
        on_change(self, self._theme_changed)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        bar.addWidget(self.title, 1)
        self.resolve_button = self._button("Mark resolved…", "resolveButton", bar)
        self.resolve_button.setToolTip("Record what you found out about this claim (kept with the entry)")
        self.reveal_button = self._button(f"Reveal URL for {REVEAL_SECONDS} s", "historyRevealButton", bar)
        self.reveal_button.setToolTip(f"Shows the reward URL in clear for {REVEAL_SECONDS} seconds, then masks it "
                                      "again")
        self.reveal_button.setAccessibleName("Reveal the reward URL")
        self.reveal_button.setAccessibleDescription(self.reveal_button.toolTip())
        self.copy_reward_button = self._button("Copy reward URL", "copyRewardUrlButton", bar)
        self.copy_details_button = self._button("Copy details", "copyDetailsButton", bar)
        self.copy_reward_button.setToolTip("Copy this claim's reward URL to the clipboard")
        self.copy_details_button.setToolTip("Copy the request and the answer below to the clipboard")
        self.copy_as_button = self._button("Copy as", "historyCopyAsButton", bar)
        self.copy_as_button.setToolTip("Copy this entry's request as cURL, HTTPie, Python, PowerShell or Braze "
                                       "(the API key as a placeholder)")
        self.copy_as_button.setMenu(CopyAsController.make_entry_menu(
            self.copy_as_button, lambda fmt: self.entry and self.copy_as_requested.emit(self.entry, fmt)))
        layout.addLayout(bar)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("historyDetailText")
        self.text.setAccessibleName("Entry details")
        self.text.setAccessibleDescription("The selected entry's request and answer, read-only")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.text, 1)
        self.copy_reward_button.clicked.connect(self.copy_reward_url)
        self.copy_details_button.clicked.connect(self.copy_details)
        self.reveal_button.clicked.connect(self.reveal_reward_url)
        self.resolve_button.clicked.connect(lambda: self.entry and self.resolve_requested.emit(self.entry))
        self.show_entry(None)

    def _button(self, text: str, name: str, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAutoDefault(False)
        row.addWidget(button)
        return button

    def show_entry(self, entry: JournalEntry | None, *, loading: bool = False) -> None:
        if entry is None or self.entry is None or entry.id != self.entry.id:
            self.reveal_timer.stop()
            self.revealed = False
        self.entry = entry
        if entry is None:
            self.title.setText("Loading…" if loading else "Select an entry to see the request and the answer.")
            self.text.clear()
        else:
            self._show_title(entry)
            self.text.setPlainText(detail_text(entry, self.renderer, reveal_reward_url=self.revealed))
        reveal = bool(entry and entry.reward_url and self.renderer.masked)
        self.reveal_button.setVisible(reveal)
        self.reveal_button.setEnabled(reveal and not self.revealed)
        self.copy_reward_button.setEnabled(bool(entry and entry.reward_url))
        self.copy_details_button.setEnabled(entry is not None)
        self.copy_as_button.setEnabled(entry is not None)
        self.resolve_button.setVisible(bool(entry and entry.outcome == Outcome.UNKNOWN))
        self.resolve_button.setEnabled(bool(entry and is_unresolved(entry)))

    def rerender(self) -> None:
        """Presenter mode on or off: the entry again through the renderer (a reveal ends)."""
        self.reveal_timer.stop()
        self.revealed = False
        self.show_entry(self.entry)

    def reveal_reward_url(self) -> None:
        """A deliberate click: the reward URL in clear for REVEAL_SECONDS, then masked again."""
        if self.entry is None or not self.entry.reward_url or not self.renderer.masked:
            return
        self.revealed = True
        self.show_entry(self.entry)
        self.reveal_timer.start()

    def hide_reward_url(self) -> None:
        self.reveal_timer.stop()
        self.revealed = False
        self.show_entry(self.entry)

    def _show_title(self, entry: JournalEntry) -> None:
        colour = outcome_colour(entry.outcome).name()
        self.title.setText(f'<span style="color:{colour}; font-size:14pt">\u25cf</span> '
                           f"<b>{outcome_text(entry)}</b>")

    def _theme_changed(self, _palette: ThemePalette) -> None:
        if self.entry is not None:
            self._show_title(self.entry)

    def copy_reward_url(self) -> None:
        if self.entry is not None and self.entry.reward_url:
            QGuiApplication.clipboard().setText(self.entry.reward_url)

    def copy_details(self) -> None:
        if self.entry is not None:
            # In full, as shown without presenter mode: a copy is for the user's use, not for the screen
            # (as Copy reward URL copies the real URL).
            QGuiApplication.clipboard().setText(detail_text(self.entry, PLAIN))


class HistoryView(QWidget):
    """Filters and count on top, the table, and the selected entry's details below."""

    def __init__(self, service: HistoryService, parent: QWidget | None = None):
        super().__init__(parent)
        self.service = service
        self.model = HistoryModel(service, self)
        self._started = False
        self._stale = False
        self._export_task: asyncio.Task | None = None
        self._profile_names: list[tuple[str, str]] = []  # (id, name) as the journal lists them

        # --- filters -------------------------------------------------------------------
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("historySearch")
        self.search_edit.setPlaceholderText("Search URLs, bodies, reward URLs, messages…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Search the history")
        self.count_label = QLabel("", self)
        self.count_label.setObjectName("historyCount")
        self.export_button = QPushButton("Export", self)
        self.export_button.setObjectName("exportButton")
        self.export_button.setAutoDefault(False)
        self.export_button.setToolTip("Save the entries that match the filters")
        export_menu = QMenu(self.export_button)
        self.export_csv_action = export_menu.addAction("As CSV (spreadsheets)…")
        self.export_json_action = export_menu.addAction("As JSON…")
        self.export_button.setMenu(export_menu)

        self.profile_combo = QComboBox(self)
        self.profile_combo.setObjectName("historyProfile")
        self.profile_combo.setAccessibleName("Profile filter")
        self.profile_combo.setAccessibleDescription("Show the entries of one profile, or of all")
        self.profile_combo.addItem("All profiles", None)
        self.endpoint_combo = QComboBox(self)
        self.endpoint_combo.setObjectName("historyEndpoint")
        self.endpoint_combo.setAccessibleName("Request filter")
        self.endpoint_combo.setAccessibleDescription("Show previews, claims or both")
        self.endpoint_combo.addItem("All requests", None)
        self.endpoint_combo.addItem("getRewardInfo (previews)", "GetRewardInfo")
        self.endpoint_combo.addItem("getReward (claims)", "GetReward")
        self.outcome_combo = QComboBox(self)
        self.outcome_combo.setObjectName("historyOutcome")
        self.outcome_combo.setAccessibleName("Outcome filter")
        self.outcome_combo.setAccessibleDescription("Show the entries with one outcome, or unresolved claims")
        self.outcome_combo.addItem("All outcomes", None)
        for outcome, label in OUTCOME_LABELS.items():
            self.outcome_combo.addItem(label, outcome)
        self.outcome_combo.insertSeparator(self.outcome_combo.count())
        self.outcome_combo.addItem("Unresolved claims", UNRESOLVED_CHOICE)
        self.outcome_combo.setItemData(self.outcome_combo.count() - 1,
                                       "Claims with an unknown outcome that nobody has marked resolved yet",
                                       Qt.ItemDataRole.ToolTipRole)
        for combo in (self.profile_combo, self.endpoint_combo, self.outcome_combo):
            # Long profile names must not widen the whole window: the popup still shows them in full.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(11)
        self.from_date = OptionalDateEdit(self, "historyFrom", "Only entries on or after this day (local time)")
        self.to_date = OptionalDateEdit(self, "historyTo", "Only entries on or before this day (local time)")
        self.reset_button = QPushButton("Reset", self)
        self.reset_button.setObjectName("resetFiltersButton")
        self.reset_button.setAutoDefault(False)
        self.reset_button.setToolTip("Show every entry again (clears the filters and the search)")

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 2)
        top.addWidget(self.profile_combo, 1)
        top.addWidget(self.endpoint_combo, 1)
        top.addWidget(self.outcome_combo, 1)
        filters = QHBoxLayout()
        for text, edit in (("From", self.from_date), ("to", self.to_date)):
            label = QLabel(text, self)
            label.setBuddy(edit)
            filters.addWidget(label)
            filters.addWidget(edit)
        filters.addWidget(self.reset_button)
        filters.addStretch(1)
        filters.addWidget(self.count_label)
        filters.addSpacing(6)
        filters.addWidget(self.export_button)
        self.message_label = QLabel("", self)
        self.message_label.setObjectName("historyMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()

        # --- table and details -------------------------------------------------------------
        self.table = QTableView(self)
        self.table.setObjectName("historyTable")
        self.table.setAccessibleName("History entries")
        self.table.setAccessibleDescription("One row per request, newest first; select one to see its details")
        on_change(self.table, lambda _palette: self.table.viewport().update())  # outcome colours are the theme's
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        vertical = self.table.verticalHeader()
        vertical.hide()
        # Fixed row heights: the view never measures 100,000 rows.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        metrics = self.fontMetrics()
        widths = {TIME: metrics.horizontalAdvance("8888-88-88 88:88:88") + 14,
                  PROFILE: metrics.horizontalAdvance("Sandbox demo") + 14,
                  ENDPOINT: metrics.horizontalAdvance("getRewardInfo") + 14,
                  OUTCOME: metrics.horizontalAdvance("Outcome unknown") + 34}
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        assert SUMMARY == len(COLUMNS) - 1
        self.detail = HistoryDetail(service.renderer, self)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.message_label)
        layout.addWidget(self.splitter, 1)

        # --- wiring -------------------------------------------------------------------------
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search_edit.textChanged.connect(self._search_timer.start)
        self.search_edit.returnPressed.connect(self.apply_filters)
        for combo in (self.profile_combo, self.endpoint_combo, self.outcome_combo):
            combo.currentIndexChanged.connect(self.apply_filters)
        for edit in (self.from_date, self.to_date):
            edit.dateChanged.connect(self.apply_filters)
        self.reset_button.clicked.connect(self.reset_filters)
        self.export_csv_action.triggered.connect(lambda: self.export("csv"))
        self.export_json_action.triggered.connect(lambda: self.export("json"))
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._selection_reset)
        self.model.dataChanged.connect(self._rows_loaded)
        self.model.snapshot_loaded.connect(self._update_count)
        self.model.loading_changed.connect(self._update_count)
        self.model.load_failed.connect(self.show_message)
        self.detail.resolve_requested.connect(self.resolve)
        service.changed.connect(self._journal_changed)

    # --- overridable dialogs (tests replace these instead of driving modal boxes) ----------

    def choose_export_path(self, kind: str) -> str | None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        suggestion = str(Path.home() / f"moments-history-{stamp}.{kind}")
        kinds = {"csv": "CSV files (*.csv)", "json": "JSON files (*.json)"}
        path, _ = QFileDialog.getSaveFileName(self, f"Export history as {kind.upper()}", suggestion, kinds[kind])
        return path or None

    def ask_resolution_note(self, entry: JournalEntry) -> str | None:
        text, ok = QInputDialog.getMultiLineText(
            self, "Mark resolved",
            "What did you find out? (e.g. \u201cledger shows the reward was consumed\u201d)\n"
            "The entry stays in the history with this note.", "")
        return text if ok else None

    def show_error(self, text: str) -> None:
        QMessageBox.warning(self, APP_NAME, text)

    # --- filters ------------------------------------------------------------------------

    def current_filter(self) -> JournalFilter:
        outcome = self.outcome_combo.currentData()
        since = until = None
        if (first_day := self.from_date.day()) is not None:
            since = _local_midnight(first_day)
        if (last_day := self.to_date.day()) is not None:
            until = _local_midnight(last_day) + timedelta(days=1)
        return JournalFilter(
            profile_id=self.profile_combo.currentData(),
            endpoint=self.endpoint_combo.currentData(),
            outcome="unknown" if outcome == UNRESOLVED_CHOICE else outcome,
            unresolved_only=outcome == UNRESOLVED_CHOICE,
            since=since, until=until,
            text=self.search_edit.text().strip() or None,
        )

    def apply_filters(self) -> None:
        self._search_timer.stop()
        if not self._started:
            return  # read on first show
        wanted = self.current_filter()
        if wanted != self.model.filters or not self.model.loaded_once:
            self.model.set_filters(wanted)

    def reset_filters(self, outcome: str | None = None) -> None:
        """Clear every filter (then show only ``outcome``, when given), with one read."""
        widgets = (self.search_edit, self.profile_combo, self.endpoint_combo, self.outcome_combo,
                   self.from_date, self.to_date)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.search_edit.clear()
            self.profile_combo.setCurrentIndex(0)
            self.endpoint_combo.setCurrentIndex(0)
            self.outcome_combo.setCurrentIndex(max(0, self.outcome_combo.findData(outcome)) if outcome else 0)
            self.from_date.clear_day()
            self.to_date.clear_day()
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self.apply_filters()

    def show_unresolved(self) -> None:
        """The banner's Review: list every claim whose outcome nobody has checked yet."""
        self.reset_filters(UNRESOLVED_CHOICE)
        self.start()

    # --- loading ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.start()
        if self._stale:
            self._stale = False
            self.model.reload()
            self._load_profiles()

    def start(self) -> None:
        """Read the first page (and the profile list) once, when the view is first needed."""
        if self._started:
            return
        self._started = True
        # The profile list waits for the first page: both would queue on the journal's lock.
        self.model.snapshot_loaded.connect(self._load_profiles, Qt.ConnectionType.SingleShotConnection)
        self.model.set_filters(self.current_filter())

    def _journal_changed(self) -> None:
        if not self._started:
            return
        if self.isVisible():
            self.model.reload()
            self._load_profiles()
        else:
            self._stale = True  # refresh when shown again, not on every preview in another tab

    def _load_profiles(self) -> None:
        self.service.start(self._read_profiles())

    async def _read_profiles(self) -> None:
        try:
            profiles = await self.service.profiles()
        except Exception:  # noqa: BLE001 - the list just stays as it was
            return
        if profiles == self._profile_names:
            return
        self._profile_names = list(profiles)
        self._fill_profile_combo()

    def _fill_profile_combo(self) -> None:
        """The journal's profiles, their names through the renderer (masked in presenter mode)."""
        renderer = self.service.renderer
        combo = self.profile_combo
        current = combo.currentData()
        combo.blockSignals(True)
        try:
            while combo.count() > 1:
                combo.removeItem(1)
            for profile_id, name in self._profile_names:
                combo.addItem(renderer.profile_name(name), profile_id)
            index = combo.findData(current) if current is not None else 0
            if index < 0:  # the chosen profile's rows are gone: keep the choice visible
                combo.addItem(renderer.identifier(current), current)
                index = combo.count() - 1
            combo.setCurrentIndex(index)
        finally:
            combo.blockSignals(False)

    def rerender(self) -> None:
        """Presenter mode on or off: the rows, the profile filter and the detail in the new mode."""
        self.model.rerender()
        self._fill_profile_combo()
        self.detail.rerender()

    def _update_count(self, *_args) -> None:
        model = self.model
        if not model.loaded_once:
            self.count_label.setText("Loading…")
            return
        shown, total = model.rowCount(), model.total or 0
        text = f"{shown:,} of {total:,} entries" if shown != total else f"{total:,} entries"
        self.count_label.setText(("Searching… " if model.loading else "") + text)

    # --- selection and details ------------------------------------------------------------

    def selected_row(self) -> int | None:
        index = self.table.currentIndex()
        return index.row() if index.isValid() else None

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.detail.show_entry(None)
            return
        entry = self.model.entry(current.row())
        self.detail.show_entry(entry, loading=entry is None)

    def _selection_reset(self) -> None:
        self.detail.show_entry(None)

    def _rows_loaded(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        row = self.selected_row()
        if row is not None and top_left.row() <= row <= bottom_right.row():
            entry = self.model.entry(row)
            if entry is not None and entry != self.detail.entry:
                self.detail.show_entry(entry)

    # --- actions --------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def export(self, kind: str) -> asyncio.Task | None:
        if self._export_task is not None and not self._export_task.done():
            return None
        self.apply_filters()  # a search still waiting for its debounce counts
        path = self.choose_export_path(kind)
        if not path:
            return None
        self._export_task = self.service.start(self._export(kind, Path(path), self.model.filters))
        return self._export_task

    async def _export(self, kind: str, path: Path, filters: JournalFilter) -> None:
        self.export_button.setEnabled(False)
        self.show_message(f"Exporting to {path}…")
        try:
            written = await self.service.export(kind, path, filters)
        except asyncio.CancelledError:
            raise
        except (OSError, MomentsError) as exc:
            reason = exc.message if isinstance(exc, MomentsError) else (exc.strerror or str(exc))
            self.show_message("")
            self.show_error(f"The history could not be exported to {path}.\n\n{reason}")
            return
        except Exception as exc:  # noqa: BLE001 - a message, never a traceback
            self.show_message("")
            self.show_error(f"The history could not be exported to {path} ({type(exc).__name__}).")
            return
        finally:
            self.export_button.setEnabled(True)
        self.show_message(f"Exported {written:,} {'entry' if written == 1 else 'entries'} to {path}.")

    def resolve(self, entry: JournalEntry) -> asyncio.Task | None:
        if not is_unresolved(entry):
            return None
        note = self.ask_resolution_note(entry)
        if note is None or not note.strip():
            return None
        return self.service.start(self._resolve(entry.id, note.strip()))

    async def _resolve(self, entry_id: int, note: str) -> None:
        try:
            entry = await self.service.resolve(entry_id, note)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            reason = exc.message if isinstance(exc, MomentsError) else str(exc)
            self.show_error(f"The note could not be saved.\n\n{reason}")
            return
        self.model.replace_entry(entry)
        if self.detail.entry is not None and self.detail.entry.id == entry.id:
            self.detail.show_entry(entry)


class UnresolvedBanner(QFrame):
    """A yellow bar above the tabs while claims with an unknown outcome are unresolved."""

    review_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("unresolvedBanner")
        styled(self, banner_style)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        icon = QLabel("\u26a0", self)
        icon.setStyleSheet("font-size: 15pt;")
        layout.addWidget(icon)
        self.label = QLabel("", self)
        self.label.setObjectName("unresolvedBannerText")
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.review_button = QPushButton("Review", self)
        self.review_button.setObjectName("reviewUnresolvedButton")
        self.review_button.setAutoDefault(False)
        self.review_button.clicked.connect(self.review_requested)
        layout.addWidget(self.review_button)
        self.count = 0
        self.hide()

    def set_count(self, count: int) -> None:
        self.count = count
        if count <= 0:
            self.hide()
            return
        claims = "1 claim has" if count == 1 else f"{count:,} claims have"
        self.label.setText(
            f"<b>{claims} an unknown outcome</b> \u2013 a reward may have been consumed. Check the campaign "
            "(or the sandbox ledger) before claiming again.")
        self.show()
