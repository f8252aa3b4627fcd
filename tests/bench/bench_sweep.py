"""A 1,000-combination sweep through the real Sweep tab: how long the window froze, memory, and the ETA.

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_sweep.py [combinations] [calls-per-second]
    python3 scripts/dev.py bench sweep

A real sandbox on 127.0.0.1 with its ``rate_limit_per_second`` raised (tests/sandbox_variants.py), and the
Session's client built with a limiter raised to just under it (default 100 per second: a 1,000-combination
sweep takes about 11 s). Everything the window does is real: the tab plans, the bridge runs Session.run_sweep
and batches the cards, the grid paints them, thumbnails come from the Session's image cache.

Printed, with baselines measured in the same run:
- the UI heartbeat's longest gap (a 15 ms QTimer) during the sweep, against the same window sitting idle;
- RSS before the sweep, after it, and its peak, against the bare window (built, shown, idle);
- the ETA's error at 10/25/50/75 % done: (predicted remaining - actual remaining) / actual remaining.
Nothing is asserted.

Rows (tests/bench/benchtable.py): the longest heartbeat gap past the sweep's first second against the idle
window's, goal ≤ 2× (at most about one tick missed: the UI never stalls while cards arrive); the gap over the
whole sweep and while scrolling the grid, RSS after the sweep and at its peak against the bare window, what
a second sweep adds and the ETA's error at 50 %, for information. With MOMENTS_BENCH_QUICK=1 (``dev.py bench
--quick``): 200 combinations unless given, 1 s of idle baseline.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import benchtable  # noqa: E402 - tests/bench/benchtable.py
import qasync  # noqa: E402
from memory_keyring import MemoryKeyring  # noqa: E402 - tests/memory_keyring.py
from PySide6.QtCore import QTimer, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sandbox_variants import variant_sandbox  # noqa: E402 - tests/sandbox_variants.py

from moments_desktop.app import freeze_startup_objects  # noqa: E402
from moments_desktop.core.client import MomentsClient, RateLimiter  # noqa: E402
from moments_desktop.core.credentials import CredentialStore  # noqa: E402
from moments_desktop.core.http import make_client  # noqa: E402
from moments_desktop.core.journal import Journal  # noqa: E402
from moments_desktop.core.profiles import ProfileStore  # noqa: E402
from moments_desktop.core.session import EmbeddedSandbox, Session  # noqa: E402
from moments_desktop.ui.bridge import SessionBridge  # noqa: E402
from moments_desktop.ui.main_window import MainWindow  # noqa: E402

HEARTBEAT_MS = 15
IDLE_S = 1.0 if benchtable.quick() else 3.0
MARKS = (0.10, 0.25, 0.50, 0.75)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
FREEZE = "--no-freeze" not in sys.argv  # without the app's gc.freeze() after start-up, to compare


def rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


class Heartbeat:
    """A QTimer's ticks: the longest gap between two is how long the event loop was held up at worst."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)
        self.ticks: list[float] = []
        self.peak_rss = 0

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())
        self.peak_rss = max(self.peak_rss, rss_bytes())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.peak_rss = rss_bytes()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self.ticks.append(time.perf_counter())
        return max(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False))

    def longest_after(self, start: float) -> float:
        """The longest gap that began after ``start`` (perf_counter)."""
        pairs = [(a, b) for a, b in zip(self.ticks, self.ticks[1:], strict=False) if a >= start]
        return max((b - a for a, b in pairs), default=0.0)

    def worst_at(self) -> float:
        """When the longest gap ended."""
        return max(zip(self.ticks, self.ticks[1:], strict=False), key=lambda pair: pair[1] - pair[0])[1]


async def until(predicate, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not get there")
        await asyncio.sleep(0.005)


def rewards_groups(count_per_device: int, real: list[str]) -> list[str]:
    """The catalog's real reward groups first (rewards, with images), then made-up ones (no reward)."""
    made_up = [f"RG-{n:04d}" for n in range(1, count_per_device - len(real) + 1)]
    return (real + made_up)[:count_per_device]


async def bench(sandbox, tmp: Path, combinations: int, rate: int) -> None:
    profiles = ProfileStore(tmp / "profiles.json")
    journal = Journal(tmp / "journal.sqlite3")
    http = make_client()
    # Just under the sandbox's own limit: the limiter's 1.1 s window for ``rate`` calls.
    client = MomentsClient(http, limiter=RateLimiter(calls=rate, window=1.1))
    session = Session(profiles, CredentialStore(MemoryKeyring()), journal, http, client=client,
                      sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key))
    bridge = SessionBridge(session)
    window = MainWindow(bridge)
    window.resize(1400, 860)
    window.show()
    tab = window.sweep_tab
    window.tabs.setCurrentWidget(tab)
    tab.load_choices_now()
    await until(lambda: tab.fields["rewardGroupId"].has_choices)
    if FREEZE:
        freeze_startup_objects()  # as the app does once its window is shown
    await asyncio.sleep(0.5)

    heartbeat = Heartbeat()
    heartbeat.start()
    await asyncio.sleep(IDLE_S)
    idle_gap = heartbeat.stop()
    bare_rss = rss_bytes()

    devices = tab.fields["deviceType"]
    devices.check_all()
    per_device = max(1, combinations // len(devices.choice_values()))
    real = [g for g in tab.fields["rewardGroupId"].choice_values() if g in ("US", "JP", "DE")]
    tab.fields["rewardGroupId"].typed.setPlainText("\n".join(rewards_groups(per_device, real)))
    plan = tab.plan
    assert plan is not None, tab.plan_label.text()

    marks: dict[float, tuple[float, float | None]] = {}  # fraction -> (time, predicted remaining)

    def on_cards(_cards, progress) -> None:
        if progress is None:
            return
        for mark in MARKS:
            if mark not in marks and progress.done >= mark * progress.total:
                marks[mark] = (time.perf_counter(), progress.eta_s)

    bridge.sweep_cards.connect(on_cards)
    before_rss = rss_bytes()
    heartbeat.start()
    started = time.perf_counter()
    assert tab.run()
    await until(lambda: tab.result() is not None and not bridge.sweep_running)
    ended = time.perf_counter()
    run_gap = heartbeat.stop()
    run_gap_at = heartbeat.worst_at() - started
    # Past the first burst (the limiter lets a whole window's calls out at once, and the client opens its
    # connections): the steady state of cards arriving.
    steady_gap = heartbeat.longest_after(started + 1.0)
    run_peak = heartbeat.peak_rss
    result = tab.result()

    # Scroll the whole grid so every card is painted once and its thumbnail asked for.
    heartbeat.start()
    bar = tab.grid.verticalScrollBar()
    while bar.value() < bar.maximum():
        bar.setValue(bar.value() + bar.pageStep())
        tab.grid.viewport().repaint()
        await asyncio.sleep(0.02)
    await asyncio.sleep(1.0)
    scroll_gap = heartbeat.stop()
    after_rss = rss_bytes()
    peak = max(run_peak, heartbeat.peak_rss)
    thumbnails = len(tab.model.thumbnails)
    # The same sweep again: what the first one left behind should not grow with a second.
    assert tab.run()
    await until(lambda: tab.result() is not result and tab.result() is not None and not bridge.sweep_running)
    second_rss = rss_bytes()

    window.discard_all_edits()
    window.close()
    await window.aclose()

    mib = 1024 * 1024
    elapsed = ended - started
    print(f"sweep: {plan.count:,} combinations, {len(result.cards):,} cards, counts "
          + ", ".join(f"{status.value} {n}" for status, n in result.counts.items())
          + f"; {elapsed:.1f} s (plan estimate {plan.estimated_seconds:.1f} s at {plan.calls} per {plan.window:g} s)")
    print(f"\nUI heartbeat ({HEARTBEAT_MS} ms timer), longest gap:")
    print(f"  idle window (baseline)         {idle_gap * 1e3:6.0f} ms")
    print(f"  during the sweep               {run_gap * 1e3:6.0f} ms   x{run_gap / idle_gap:.1f} the idle gap "
          f"(ended {run_gap_at:.2f} s into the {elapsed:.2f} s run)")
    print(f"  during the sweep, past 1st s   {steady_gap * 1e3:6.0f} ms   x{steady_gap / idle_gap:.1f}")
    print(f"  scrolling the finished grid    {scroll_gap * 1e3:6.0f} ms   x{scroll_gap / idle_gap:.1f}")
    print("\nRSS:")
    print(f"  bare window (baseline)         {bare_rss / mib:6.1f} MiB")
    print(f"  before the sweep               {before_rss / mib:6.1f} MiB")
    print(f"  after (grid scrolled through)  {after_rss / mib:6.1f} MiB   +{(after_rss - bare_rss) / mib:.1f} MiB over "
          f"the bare window ({thumbnails} thumbnails held)")
    print(f"  peak                           {peak / mib:6.1f} MiB   +{(peak - bare_rss) / mib:.1f} MiB")
    print(f"  after a second, same sweep     {second_rss / mib:6.1f} MiB   +{(second_rss - after_rss) / mib:.1f} MiB "
          "over the first")
    print("\nETA (predicted remaining vs actual remaining):")
    errors: dict[float, float] = {}
    for mark in MARKS:
        if mark not in marks:
            print(f"  {mark:4.0%}  (not reached)")
            continue
        at, predicted = marks[mark]
        actual = ended - at
        if predicted is None:
            print(f"  {mark:4.0%}  no prediction yet; actual {actual:.1f} s")
            continue
        error = (predicted - actual) / actual if actual > 0 else 0.0
        errors[mark] = error
        print(f"  {mark:4.0%}  predicted {predicted:6.1f} s   actual {actual:6.1f} s   error {error:+6.1%}")

    Row, Goal = benchtable.Row, benchtable.Goal
    what = f"{plan.count:,}-combination sweep"
    ms = 1e3
    rows = [
        Row("sweep", f"UI gap past the 1st s, {what}", steady_gap * ms, "ms", Goal.ratio_at_most(2.0),
            "idle window", idle_gap * ms),
        Row("sweep", f"UI gap over the whole {what}", run_gap * ms, "ms", Goal.none(), "idle window", idle_gap * ms),
        Row("sweep", "UI gap scrolling the finished grid", scroll_gap * ms, "ms", Goal.none(), "idle window",
            idle_gap * ms),
        Row("sweep", f"RSS after the {what} (grid scrolled)", after_rss / mib, "MiB", Goal.none(), "bare window",
            bare_rss / mib),
        Row("sweep", f"RSS peak during the {what}", peak / mib, "MiB", Goal.none(), "bare window", bare_rss / mib),
        Row("sweep", "RSS a second, same sweep adds", (second_rss - after_rss) / mib, "MiB", Goal.none()),
    ]
    if 0.5 in errors:
        rows.append(Row("sweep", "ETA error at 50 % done", errors[0.5] * 100, "%", Goal.none()))
    benchtable.report(rows)


def quiet_offscreen_noise(mode, context, message: str) -> None:
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def main() -> None:
    qInstallMessageHandler(quiet_offscreen_noise)
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    combinations = int(args[0]) if args else (200 if benchtable.quick() else 1000)
    rate = int(args[1]) if len(args) > 1 else 100
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MOMENTS_DESKTOP_HOME"] = str(Path(tmp) / "home")
        # The sandbox's limit a little above the client's (rate per 1.1 s): the limiter decides the pace.
        with variant_sandbox(rate_limit_per_second=rate) as sandbox:  # noqa: SIM117
            with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
                runner.run(bench(sandbox, Path(tmp), combinations, rate))


if __name__ == "__main__":
    main()
