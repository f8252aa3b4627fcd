"""The history's access to the journal: every read and write runs on a worker thread.

A count with a text search can take a tenth of a second on 100,000 rows and an export
seconds, so nothing here touches SQLite on the UI thread. Widgets await these methods
(from asyncio tasks on the qasync loop) and render what comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from moments_desktop.core import errorlog
from moments_desktop.api_schema import Outcome
from moments_desktop.core.journal import Journal, JournalEntry, JournalFilter
from moments_desktop.core.render import PLAIN, Renderer
from moments_desktop.core.tasks import TaskOwner, ThreadJobs

from .history_format import HistoryRow, history_row

UNRESOLVED = JournalFilter(outcome=Outcome.UNKNOWN, unresolved_only=True)


@dataclass(frozen=True)
class Snapshot:
    """What a filter shows right now: its row count, the journal's size and the first page."""

    count: int
    total: int
    first_page: list[HistoryRow]


class HistoryService(QObject):
    changed = Signal()  # rows were added or resolved: views refresh
    unresolved_changed = Signal(int)  # how many unknown outcomes nobody has resolved
    unresolved_failed = Signal(str)

    def __init__(self, journal: Journal, renderer: Renderer = PLAIN, parent: QObject | None = None):
        """Build inside the running loop: its task owner binds to it."""
        super().__init__(parent)
        self._journal = journal
        self.renderer = renderer
        self._tasks = TaskOwner("history")
        # A cancelled read stops waiting, not its thread: aclose() waits for the threads too, so that
        # whoever closes the journal afterwards does not close it under a read.
        self._jobs = ThreadJobs()
        self.unresolved_count: int | None = None

    @property
    def _closed(self) -> bool:
        return self._tasks.closed

    @property
    def closed(self) -> bool:
        return self._closed

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._jobs.run(fn, *args)

    # --- reads ----------------------------------------------------------------------

    async def snapshot(self, filters: JournalFilter, page_size: int) -> Snapshot:
        def read() -> Snapshot:
            first = [history_row(e, self.renderer) for e in self._journal.query(filters, 0, page_size)]
            count = self._journal.count(filters)
            total = count if filters == JournalFilter() else self._journal.count()
            return Snapshot(count, total, first)

        return await self._run(read)

    async def page(self, filters: JournalFilter, offset: int, limit: int) -> list[HistoryRow]:
        return await self._run(
            lambda: [history_row(e, self.renderer) for e in self._journal.query(filters, offset, limit)])

    async def profiles(self) -> list[tuple[str, str]]:
        return await self._run(self._journal.profiles)

    async def export(self, kind: str, path: Path, filters: JournalFilter) -> int:
        write = {"csv": self._journal.export_csv, "json": self._journal.export_json}[kind]
        return await self._run(write, Path(path), filters)

    # --- writes ---------------------------------------------------------------------

    async def resolve(self, entry_id: int, note: str) -> JournalEntry:
        entry = await self._run(self._journal.resolve, entry_id, note)
        self.notify_changed()
        return entry

    # --- unknown outcomes -------------------------------------------------------------

    def check_unresolved(self, *, recover: bool = False) -> asyncio.Task | None:
        """Count unresolved unknown outcomes (after marking an earlier run's open intents
        'unknown' when ``recover``); the answer arrives as ``unresolved_changed``."""
        return self.start(self._check_unresolved(recover))

    def recover_and_check(self) -> None:
        """At start-up: an earlier run's claims left pending become 'unknown' (never retried), then count."""
        self.check_unresolved(recover=True)

    async def _check_unresolved(self, recover: bool) -> None:
        def read() -> int:
            if recover:
                self._journal.recover()  # an earlier run's pending claims become 'unknown', never retried
            return self._journal.count(UNRESOLVED)

        try:
            count = await self._run(read)
        except Exception as exc:  # noqa: BLE001 - a banner check must never break the window
            errorlog.log_exception(exc, "history: checking unresolved claims")
            if not self._closed:
                self.unresolved_failed.emit(f"The history could not be checked for unfinished claims ({exc}).")
            return
        if not self._closed:
            self.unresolved_count = count
            self.unresolved_changed.emit(count)

    def notify_changed(self) -> None:
        """New or changed journal rows (the bridge's journal_changed lands here)."""
        if self._closed:
            return
        self.changed.emit()
        self.check_unresolved()

    # --- tasks ----------------------------------------------------------------------

    def start(self, coro: Coroutine[Any, Any, Any]):
        """Run ``coro`` as a task of this service's owner (None, the coroutine closed, once shut down)."""
        return self._tasks.start(coro)

    def shutdown(self) -> None:
        """Stop reading: the window is closing and the journal is about to be closed. Refuses new work
        at once; the loop's owner awaits ``aclose()``, which waits for the running reads to end."""
        self._tasks.stop()

    async def aclose(self) -> None:
        """Cancel and await every task, then wait for the worker threads' reads to end: after this the
        journal may be closed."""
        await self._tasks.aclose()
        await self._jobs.wait_idle()
