"""The one row format every benchmark in tests/bench/ reports, so ``python3 scripts/dev.py bench`` can print
one table: figure, baseline, ratio, goal, met or not.

A benchmark measures its figure and its baseline *in the same run* (interleaved, medians), builds one
``Row`` per figure and calls ``report(rows)``. That prints the rows as a small table (a benchmark run on its
own stays readable) and, when ``MOMENTS_BENCH_ROWS`` names a file (``dev.py bench`` sets it), appends them
there as JSON lines for the combined table. Nothing here asserts: a goal not met is a row that says "no".

Goals, one per row:
- ``Goal.ratio_at_most(1.5)``: figure / baseline ≤ 1.5 (start-up against a bare window, ...);
- ``Goal.ratio_at_least(0.9)``: figure / baseline ≥ 0.9 (throughput against bare Starlette, ...);
- ``Goal.value_at_most(16, "ms")``: the figure itself ≤ 16 ms (a UI gap), with or without a baseline;
- ``Goal.none()``: reported for information (e.g. a breakdown), no goal.

``dev.py bench --quick`` sets ``MOMENTS_BENCH_QUICK=1``: a benchmark asks ``quick()`` and uses a small size
and few rounds (still ≥ 7 for a median). A benchmark that crashed or reported nothing shows in the combined
table as a ``Row.failure`` ("FAILED"), added by dev.py, not by the benchmark.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass

ROWS_ENV = "MOMENTS_BENCH_ROWS"
QUICK_ENV = "MOMENTS_BENCH_QUICK"


def quick() -> bool:
    """Whether ``dev.py bench --quick`` asked for small sizes and few rounds."""
    return os.environ.get(QUICK_ENV, "") not in ("", "0")


@dataclass(frozen=True)
class Goal:
    kind: str  # "ratio_at_most" | "ratio_at_least" | "value_at_most" | "none"
    limit: float | None = None
    unit: str = ""

    @classmethod
    def ratio_at_most(cls, limit: float) -> Goal:
        return cls("ratio_at_most", limit)

    @classmethod
    def ratio_at_least(cls, limit: float) -> Goal:
        return cls("ratio_at_least", limit)

    @classmethod
    def value_at_most(cls, limit: float, unit: str) -> Goal:
        return cls("value_at_most", limit, unit)

    @classmethod
    def none(cls) -> Goal:
        return cls("none")

    def text(self) -> str:
        if self.kind == "ratio_at_most":
            return f"≤ {self.limit:g}×"
        if self.kind == "ratio_at_least":
            return f"≥ {self.limit:g}×"
        if self.kind == "value_at_most":
            return f"≤ {self.limit:g} {self.unit}"
        return "—"

    def met(self, value: float, ratio: float | None) -> bool | None:
        if self.kind == "ratio_at_most":
            return None if ratio is None else ratio <= self.limit
        if self.kind == "ratio_at_least":
            return None if ratio is None else ratio >= self.limit
        if self.kind == "value_at_most":
            return value <= self.limit
        return None


@dataclass(frozen=True)
class Row:
    bench: str  # the benchmark file's short name, e.g. "startup"
    figure: str  # what is measured, e.g. "cold start to window shown and loop idle"
    value: float
    unit: str  # "ms", "MiB", "req/s", ...
    goal: Goal
    baseline: str = ""  # what it is compared to, e.g. "bare PySide6 QMainWindow"
    baseline_value: float | None = None
    failed: bool = False  # a benchmark that did not finish (Row.failure): the figure says why

    @classmethod
    def failure(cls, bench: str, reason: str) -> Row:
        """The combined table's row for a benchmark that crashed or reported no rows."""
        return cls(bench, f"did not finish: {reason}", math.nan, "", Goal.none(), failed=True)

    @property
    def ratio(self) -> float | None:
        if self.failed or self.baseline_value is None or self.baseline_value == 0:
            return None
        return self.value / self.baseline_value

    @property
    def met(self) -> bool | None:
        if self.failed:
            return None
        return self.goal.met(self.value, self.ratio)

    def to_json(self) -> str:
        data = asdict(self)
        data["goal"] = asdict(self.goal)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Row:
        data = json.loads(line)
        data["goal"] = Goal(**data["goal"])
        return cls(**data)


def format_value(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f} {unit}".strip()
    if abs(value) >= 10:
        return f"{value:.1f} {unit}".strip()
    return f"{value:.2f} {unit}".strip()


def table(rows: Sequence[Row]) -> str:
    """The rows as aligned text columns: bench, figure, value, baseline, ratio, goal, met."""
    header = ("bench", "figure", "value", "baseline", "ratio", "goal", "met")
    lines = [header]
    for row in rows:
        baseline = f"{row.baseline} {format_value(row.baseline_value, row.unit)}" if row.baseline else "—"
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        met = "FAILED" if row.failed else {True: "yes", False: "NO", None: "—"}[row.met]
        lines.append((row.bench, row.figure, format_value(row.value, row.unit), baseline, ratio,
                      row.goal.text(), met))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def report(rows: Iterable[Row]) -> None:
    """Print the rows; append them to $MOMENTS_BENCH_ROWS when set (dev.py bench's combined table)."""
    rows = list(rows)
    print()
    print(table(rows), flush=True)
    target = os.environ.get(ROWS_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as out:
            for row in rows:
                out.write(row.to_json() + "\n")


def read_rows(path: str) -> list[Row]:
    with open(path, encoding="utf-8") as source:
        return [Row.from_json(line) for line in source if line.strip()]


def interleaved_medians(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Each callable returns one measurement; they run in turns (rotated each round so none always goes
    first) ``rounds`` times; the median of each. Interleaving keeps a baseline and its figure under the same
    machine load."""
    names = list(runs)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            samples[name].append(runs[name]())
    return {name: statistics.median(values) for name, values in samples.items()}
