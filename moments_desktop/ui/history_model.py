"""A lazy table over the journal: it knows the row count and holds only the pages in view.

rowCount() is the filter's count; data() for a row that is not cached yet shows a
placeholder and asks for its page (200 rows) from a worker thread. Pages load one at a
time, the most recently wanted first, so a fast scroll to the end does not queue up
every page on the way. When new exchanges arrive at the top (the journal lists newest
first) the cached rows are shifted down, so the selection and scroll position survive.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

from moments_desktop.core import errorlog
from moments_desktop.core.journal import JournalEntry, JournalFilter

from .history_format import OUTCOME_COLOURS, HistoryRow, history_row
from .history_service import HistoryService, Snapshot
from .text_direction import text_alignment
from .theme import current

PAGE_SIZE = 200
MAX_CACHED_PAGES = 40  # 8,000 rows at most in memory, whatever the journal's size
MAX_WANTED_PAGES = 6  # pages scrolled past faster than they load are forgotten
COLUMNS = ("Time", "Profile", "Endpoint", "Outcome", "Summary")
TIME, PROFILE, ENDPOINT, OUTCOME, SUMMARY = range(len(COLUMNS))
# An unresolved claim's row: the theme's warning background and text roles.
UNRESOLVED_BACKGROUND_ROLE = "warning_background"
UNRESOLVED_FOREGROUND_ROLE = "text"
PLACEHOLDER = "\u2026"
UNRESOLVED_TIP = ("Unresolved: nobody has recorded yet whether this claim consumed a reward. "
                  "Select it and use \u201cMark resolved\u2026\u201d once you have checked.")

EntryIdRole = Qt.ItemDataRole.UserRole + 1


def outcome_icon(outcome: str) -> QIcon:
    """A filled dot in the outcome's colour (cached per theme and outcome)."""
    palette = current().palette
    icon = _ICONS.get((palette.name, outcome))
    if icon is None:
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(outcome_colour(outcome))
        painter.drawEllipse(1, 1, 10, 10)
        painter.end()
        icon = _ICONS[(palette.name, outcome)] = QIcon(pixmap)
    return icon


_ICONS: dict[tuple[str, str], QIcon] = {}


def outcome_colour(outcome: str) -> QColor:
    """The outcome's colour in the current theme (neutral for one this version does not know)."""
    return current().palette.qcolor(OUTCOME_COLOURS.get(outcome, "neutral"))


class HistoryModel(QAbstractTableModel):
    loading_changed = Signal(bool)  # a filter's count and first page are being read
    snapshot_loaded = Signal()  # count/total are current
    load_failed = Signal(str)

    def __init__(self, service: HistoryService, parent: QObject | None = None):
        super().__init__(parent)
        self._service = service
        self._filters = JournalFilter()
        self._count = 0
        self.total: int | None = None
        self._rows: dict[int, HistoryRow] = {}
        self._pages: OrderedDict[int, None] = OrderedDict()  # loaded pages, least recently used first
        self._wanted: OrderedDict[int, None] = OrderedDict()
        self._generation = 0  # a new filter: results of older reads are dropped
        self._layout = 0  # rows moved (reset or shifted): pages read before are dropped
        self._reload_task: asyncio.Task | None = None
        self._fetch_task: asyncio.Task | None = None
        self._reload_again = False
        self._loading = False
        self.loaded_once = False

    # --- Qt model API ------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows.get(index.row())
        if row is not None and row.masked != self._service.renderer.masked:
            # Formatted before presenter mode changed (or while it did): formatted again, in the mode now on.
            row = self._rows[index.row()] = history_row(row.entry, self._service.renderer)
        if row is None:
            if role == Qt.ItemDataRole.DisplayRole:
                self._want(index.row() // PAGE_SIZE)
                return PLACEHOLDER if index.column() == TIME else ""
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.time, row.profile, row.endpoint, row.outcome, row.summary)[column]
        if role == Qt.ItemDataRole.DecorationRole and column == OUTCOME:
            return outcome_icon(row.entry.outcome)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == SUMMARY:
                return row.summary
            if row.unresolved:
                return UNRESOLVED_TIP
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (PROFILE, SUMMARY):
            text = row.profile if column == PROFILE else row.summary
            return text_alignment(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and row.unresolved:
            return QBrush(current().palette.qcolor(UNRESOLVED_BACKGROUND_ROLE))
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.unresolved:
                return QBrush(current().palette.qcolor(UNRESOLVED_FOREGROUND_ROLE))
            if column == OUTCOME:
                return QBrush(outcome_colour(row.entry.outcome))
        if role == EntryIdRole:
            return row.entry.id
        return None

    def rerender(self) -> None:
        """Presenter mode on or off: every row is shown again in the new mode (formatted as it is asked for)."""
        if self._count:
            self.dataChanged.emit(self.index(0, 0), self.index(self._count - 1, len(COLUMNS) - 1))

    # --- what the view asks -------------------------------------------------------------

    @property
    def filters(self) -> JournalFilter:
        return self._filters

    @property
    def loading(self) -> bool:
        return self._loading

    def history_row(self, row: int) -> HistoryRow | None:
        return self._rows.get(row)

    def entry(self, row: int) -> JournalEntry | None:
        cached = self._rows.get(row)
        return cached.entry if cached is not None else None

    def row_of(self, entry_id: int) -> int | None:
        """The row of a cached entry (None when it is not in a loaded page)."""
        return next((r for r, cached in self._rows.items() if cached.entry.id == entry_id), None)

    def is_loaded(self, row: int) -> bool:
        return row in self._rows

    def set_filters(self, filters: JournalFilter) -> None:
        self._filters = filters
        self._generation += 1
        self.reload()

    def reload(self) -> None:
        """Read the count and the first page again (new rows, a new filter)."""
        if self.loading:
            if self._reload_task_generation == self._generation:
                self._reload_again = True  # same filter: read once more after this one
                return
            self._reload_task.cancel()
        self._reload_again = False
        self._reload_task_generation = self._generation
        self._reload_task = self._service.start(self._reload(self._generation, self._filters))
        if self._reload_task is not None:
            self._set_loading(True)

    def replace_entry(self, entry: JournalEntry) -> None:
        """Show a changed entry (e.g. just resolved) wherever it is cached."""
        row = self.row_of(entry.id)
        if row is not None:
            self._rows[row] = history_row(entry, self._service.renderer)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # --- loading ------------------------------------------------------------------------

    async def _reload(self, generation: int, filters: JournalFilter) -> None:
        try:
            snapshot = await self._service.snapshot(filters, PAGE_SIZE)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            errorlog.log_exception(exc, "history: counting rows")
            if generation == self._generation and not self._service.closed:
                self._set_loading(False)
                self.load_failed.emit(f"The history could not be read: {exc}")
            return
        if generation != self._generation:
            return
        self._apply(snapshot, same_filter=self.loaded_once and generation == self._shown_generation)
        self._shown_generation = generation
        self.loaded_once = True
        self.snapshot_loaded.emit()
        if self._reload_again:
            self._reload_again = False
            self._reload_task = self._service.start(self._reload(generation, filters))
            if self._reload_task is not None:
                return
        self._set_loading(False)

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)

    _shown_generation = -1
    _reload_task_generation = -1

    def _apply(self, snapshot: Snapshot, *, same_filter: bool) -> None:
        self.total = snapshot.total
        added = self._prepended(snapshot) if same_filter else None
        if added is None:
            self.beginResetModel()
            self._layout += 1
            self._count = snapshot.count
            self._rows = dict(enumerate(snapshot.first_page))
            self._pages = OrderedDict({0: None})
            self._wanted.clear()
            self.endResetModel()
            return
        # Only new rows on top: move what is cached down by `added` rows, keep the view's place.
        if added:
            self.beginInsertRows(QModelIndex(), 0, added - 1)
            self._layout += 1
            self._count = snapshot.count
            self._rows = {row + added: cached for row, cached in self._rows.items()}
            shifted: OrderedDict[int, None] = OrderedDict()
            for page in self._pages:  # a moved page now straddles two: keep both, least recent first
                for row in (page * PAGE_SIZE + added, (page + 1) * PAGE_SIZE - 1 + added):
                    shifted[row // PAGE_SIZE] = None
                    shifted.move_to_end(row // PAGE_SIZE)
            self._pages = shifted
            self._wanted.clear()
            self._rows.update(enumerate(snapshot.first_page))
            self.endInsertRows()
        else:
            self._rows.update(enumerate(snapshot.first_page))
        if snapshot.first_page:  # the newest rows may have changed (an intent completed)
            self.dataChanged.emit(self.index(0, 0), self.index(len(snapshot.first_page) - 1, len(COLUMNS) - 1))

    def _prepended(self, snapshot: Snapshot) -> int | None:
        """How many rows were added on top since the last snapshot, or None when it is not that simple."""
        added = snapshot.count - self._count
        top = self._rows.get(0)
        if added < 0 or top is None:
            return None
        if added == 0:
            return 0 if snapshot.first_page and snapshot.first_page[0].entry.id == top.entry.id else None
        if added < len(snapshot.first_page) and snapshot.first_page[added].entry.id == top.entry.id:
            return added
        return None

    def _want(self, page: int) -> None:
        if page in self._wanted:
            self._wanted.move_to_end(page)
        else:
            self._wanted[page] = None
            while len(self._wanted) > MAX_WANTED_PAGES:
                self._wanted.popitem(last=False)
        if self._fetch_task is None or self._fetch_task.done():
            self._fetch_task = self._service.start(self._fetch_pages())

    async def _fetch_pages(self) -> None:
        while self._wanted:
            page, _ = self._wanted.popitem(last=True)  # the latest scroll position first
            first = page * PAGE_SIZE
            if first >= self._count or all(r in self._rows for r in range(first, min(first + PAGE_SIZE,
                                                                                          self._count))):
                continue
            generation, layout = self._generation, self._layout
            try:
                rows = await self._service.page(self._filters, first, PAGE_SIZE)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                errorlog.log_exception(exc, "history: reading a page")
                if not self._service.closed:
                    self.load_failed.emit(f"The history could not be read: {exc}")
                return
            if generation != self._generation:
                continue
            if layout != self._layout:
                self._want(page)  # rows moved while reading: read this page again in the new layout
                continue
            self._store(page, rows)

    def _store(self, page: int, rows: list[HistoryRow]) -> None:
        first = page * PAGE_SIZE
        last = min(first + len(rows), self._count) - 1
        if last < first:
            return
        for offset, cached in enumerate(rows[: last - first + 1]):
            self._rows[first + offset] = cached
        self._pages[page] = None
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_CACHED_PAGES:
            old = next(p for p in self._pages if p != 0)  # the top stays: new rows are matched against it
            del self._pages[old]
            for row in range(old * PAGE_SIZE, (old + 1) * PAGE_SIZE):
                self._rows.pop(row, None)
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
