"""History view speed with 100,000 journal rows, as ratios against baselines measured in the same run.

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_history.py [rows]     # or: python3 scripts/dev.py bench history

Baselines: fetching one row by primary key (Journal.get), and showing and painting an empty
QTableView. Each step is timed from the user's action to the rows being painted (the model
reads on a worker thread, so this includes the hop there and back). The longest gap of a
20 ms UI timer over the whole run is reported too: it is how long the window froze at worst.
Nothing is asserted.

Rows (tests/bench/benchtable.py), each against the empty table measured in the same run (opening the view is
interleaved with it, round by round): opening the view to its first page painted, goal ≤ 100 ms at 100,000
rows (issue 17); scrolling to the bottom, the middle and 10 screens down, goal ≤ 100 ms each (the same budget:
a page read and painted); filtering, searching and the longest freeze, for information. With
MOMENTS_BENCH_QUICK=1 (``dev.py bench --quick``): 10,000 rows unless given, 7 rounds.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import benchtable  # noqa: E402 - tests/bench/benchtable.py
import qasync  # noqa: E402
from PySide6.QtCore import QTimer, qInstallMessageHandler  # noqa: E402
from PySide6.QtGui import QStandardItemModel  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableView  # noqa: E402
from synthetic_journal import fill_journal  # noqa: E402

from moments_desktop.core.journal import Journal  # noqa: E402
from moments_desktop.ui.history_service import HistoryService  # noqa: E402
from moments_desktop.ui.history_view import HistoryView  # noqa: E402

REPEAT = 7  # medians of >= 7 runs


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the view did not get there")
        await asyncio.sleep(0.001)


def paint(widget) -> None:
    """Paint now (synchronously; no processEvents inside a task: qasync would re-enter tasks)."""
    widget.repaint()


async def timed(step: Callable[[], Awaitable[None]], repeat: int = REPEAT,
                setup: Callable[[], Awaitable[None]] | None = None) -> float:
    samples = []
    for _ in range(repeat):
        if setup is not None:
            await setup()
        start = time.perf_counter()
        await step()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def fill(path: Path, n: int) -> float:
    start = time.perf_counter()
    fill_journal(path, n)
    return time.perf_counter() - start


async def interleaved(steps: dict[str, Callable[[], Awaitable[None]]], rounds: int) -> dict[str, float]:
    """benchtable.interleaved_medians for awaited steps: each round runs every step once, in a rotated order."""
    names = list(steps)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            await steps[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


async def bench(journal: Journal, n: int, tmp: Path) -> None:
    mid = n // 2
    get_s = statistics.median(_time_get(journal, mid) for _ in range(2000))

    async def empty_table() -> None:
        table = QTableView()
        table.setModel(QStandardItemModel(0, 5))
        table.resize(900, 500)
        table.show()
        paint(table)
        table.close()
        table.deleteLater()


    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    heartbeat.start()
    ticks.append(time.perf_counter())

    service = HistoryService(journal)
    views: list[HistoryView] = []

    async def open_view() -> None:
        if views:
            views.pop().close()
        view = HistoryView(service)
        view.resize(900, 600)
        view.show()  # the first show reads the count and the first page
        await until(lambda: view.model.loaded_once and view.model.is_loaded(0))
        paint(view.table.viewport())
        views.append(view)

    results: dict[str, float] = {}
    opened = await interleaved({"empty": empty_table, "open": open_view}, max(REPEAT, 7))
    empty_s = opened["empty"]
    results["open view (count + first page painted)"] = opened["open"]
    view = views[0]
    model, table = view.model, view.table

    async def fresh_cache() -> None:
        table.scrollToTop()
        model.set_filters(model.filters)  # drop the cache: every repeat reads from the journal
        await until(lambda: not model.loading)

    async def scroll_to(row_of: Callable[[], int], scroll: Callable[[], None]) -> None:
        scroll()
        await until(lambda: model.is_loaded(row_of()))
        paint(table.viewport())

    results["scroll to bottom (last page painted)"] = await timed(
        lambda: scroll_to(lambda: model.rowCount() - 1, table.scrollToBottom), setup=fresh_cache)
    results["scroll to middle"] = await timed(
        lambda: scroll_to(lambda: mid, lambda: table.scrollTo(model.index(mid, 0))), setup=fresh_cache)

    async def page_down() -> None:
        bar = table.verticalScrollBar()
        bar.setValue(bar.value() + bar.pageStep() * 10)  # well past the cached pages
        await until(lambda: model.is_loaded(table.rowAt(0)))
        paint(table.viewport())

    table.scrollToTop()
    results["jump 10 screens down"] = await timed(page_down, 10)

    async def unfiltered() -> None:
        view.reset_filters()
        await until(lambda: not model.loading and view.model.filters == view.current_filter())

    async def refilter(apply: Callable[[], None]) -> None:
        apply()
        await until(lambda: not model.loading and view.model.filters == view.current_filter()
                    and (model.rowCount() == 0 or model.is_loaded(0)))
        paint(table.viewport())

    def choose_profile() -> None:
        view.profile_combo.setCurrentIndex(view.profile_combo.findData("profile-3"))

    await until(lambda: view.profile_combo.count() > 1)
    results["filter by profile (count + first page)"] = await timed(
        lambda: refilter(choose_profile), setup=unfiltered)

    def search(text: str) -> Callable[[], None]:
        def apply() -> None:
            view.search_edit.setText(text)
            view.apply_filters()  # no 250 ms debounce in the measurement
        return apply

    results["search 'CAMP0042' (FTS)"] = await timed(lambda: refilter(search("CAMP0042")), setup=unfiltered)
    results["search 'r/' (short: LIKE scan)"] = await timed(lambda: refilter(search("r/")), 3, setup=unfiltered)

    view.reset_filters()
    await until(lambda: not model.loading)
    heartbeat.stop()
    ticks.append(time.perf_counter())
    worst_gap = max(b - a for a, b in zip(ticks, ticks[1:], strict=False))
    for v in views:
        v.close()
    await service.aclose()

    print(f"baseline get(id): {get_s * 1e6:.0f} µs    baseline empty table shown+painted: {empty_s * 1e3:.2f} ms\n")
    width = max(map(len, results))
    print(f"{'step':<{width}}  {'time':>10}  {'x get(id)':>10}  {'x empty table':>13}")
    for name, seconds in results.items():
        print(f"{name:<{width}}  {seconds * 1e3:7.1f} ms  {seconds / get_s:10.0f}  {seconds / empty_s:13.1f}")
    print(f"\nlongest UI freeze over the whole run (20 ms heartbeat): {worst_gap * 1e3:.0f} ms")
    rows = []
    budget = {"open view (count + first page painted)": "History, open to first paint",
              "scroll to bottom (last page painted)": "History, scroll to bottom painted",
              "scroll to middle": "History, scroll to middle painted",
              "jump 10 screens down": "History, jump 10 screens down painted"}
    for name, seconds in results.items():
        goal = benchtable.Goal.value_at_most(100, "ms") if name in budget else benchtable.Goal.none()
        rows.append(benchtable.Row("history", f"{budget.get(name, 'History, ' + name)}, {n:,} rows", seconds * 1e3,
                                   "ms", goal, "empty table", empty_s * 1e3))
    rows.append(benchtable.Row("history", f"History, longest UI freeze of the run, {n:,} rows", worst_gap * 1e3,
                               "ms", benchtable.Goal.none(), "20 ms heartbeat", 20.0))
    benchtable.report(rows)


def _time_get(journal: Journal, entry_id: int) -> float:
    start = time.perf_counter()
    journal.get(entry_id)
    return time.perf_counter() - start


def quiet_offscreen_noise(mode, context, message: str) -> None:
    # The offscreen platform warns on every resize ("does not support propagateSizeHints"): not news.
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def main() -> None:
    qInstallMessageHandler(quiet_offscreen_noise)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else (10_000 if benchtable.quick() else 100_000)
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        fill_s = fill(path, n)
        journal = Journal(path)
        print(f"rows: {journal.count():,}  (FTS5 trigram search: {journal.fts})  bulk insert: {fill_s:.1f} s")
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            runner.run(bench(journal, n, Path(tmp)))
        journal.close()


if __name__ == "__main__":
    main()
