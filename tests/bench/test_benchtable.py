"""tests/bench/benchtable.py: goals, ratios, the JSON lines dev.py bench reads back, the table's text.

No timings: the benchmarks themselves (bench_*.py) are not collected (pytest collects test_*.py only).
"""

from __future__ import annotations

import math

import benchtable  # tests/bench/benchtable.py
import pytest
from benchtable import Goal, Row


@pytest.mark.parametrize(("goal", "value", "ratio", "met"), [
    (Goal.ratio_at_most(1.5), 10.0, 1.5, True),
    (Goal.ratio_at_most(1.5), 10.0, 1.51, False),
    (Goal.ratio_at_most(1.5), 10.0, None, None),  # no baseline: cannot say
    (Goal.ratio_at_least(0.9), 10.0, 0.9, True),
    (Goal.ratio_at_least(0.9), 10.0, 0.89, False),
    (Goal.ratio_at_least(0.9), 10.0, None, None),
    (Goal.value_at_most(16, "ms"), 16.0, None, True),
    (Goal.value_at_most(16, "ms"), 16.5, 0.5, False),
    (Goal.none(), 1e9, 1e9, None),
])
def test_goal_met_for_each_kind(goal, value, ratio, met):
    assert goal.met(value, ratio) is met


def test_goal_texts():
    assert Goal.ratio_at_most(1.5).text() == "≤ 1.5×"
    assert Goal.ratio_at_least(0.9).text() == "≥ 0.9×"
    assert Goal.value_at_most(100, "ms").text() == "≤ 100 ms"
    assert Goal.none().text() == "—"


def test_ratio_needs_a_nonzero_baseline():
    goal = Goal.ratio_at_most(2)
    assert Row("b", "f", 3.0, "ms", goal, "base", 1.5).ratio == 2.0
    assert Row("b", "f", 3.0, "ms", goal, "base", 1.5).met is True
    assert Row("b", "f", 3.0, "ms", goal).ratio is None
    assert Row("b", "f", 3.0, "ms", goal, "base", 0.0).ratio is None
    assert Row("b", "f", 3.0, "ms", goal, "base", 0.0).met is None


def test_json_round_trip(tmp_path, monkeypatch):
    rows = [
        Row("startup", "cold start", 314.0, "ms", Goal.ratio_at_most(1.5), "bare QMainWindow", 78.0),
        Row("sandbox", "throughput", 7841.0, "req/s", Goal.ratio_at_least(0.9), "bare Starlette", 10130.0),
        Row("preview", "UI gap", 85.0, "ms", Goal.value_at_most(16, "ms")),
        Row("history", "freeze", 20.5, "ms", Goal.none(), "heartbeat", 20.0),
    ]
    assert [Row.from_json(row.to_json()) for row in rows] == rows
    target = tmp_path / "rows.jsonl"
    monkeypatch.setenv(benchtable.ROWS_ENV, str(target))
    benchtable.report(rows[:2])
    benchtable.report(rows[2:])  # appended, as several benches do into one file
    assert benchtable.read_rows(str(target)) == rows


def test_a_failure_row_round_trips_and_is_neither_met_nor_not():
    row = Row.failure("sweep", "exit code 3")
    back = Row.from_json(row.to_json())
    assert back.failed and back.bench == "sweep" and "exit code 3" in back.figure
    assert math.isnan(back.value)
    assert back.met is None and back.ratio is None


def test_a_line_without_the_failed_field_still_reads():
    # A row written before ``failed`` existed.
    line = ('{"bench": "b", "figure": "f", "value": 1.0, "unit": "ms", '
            '"goal": {"kind": "none", "limit": null, "unit": ""}, "baseline": "", "baseline_value": null}')
    assert Row.from_json(line) == Row("b", "f", 1.0, "ms", Goal.none())


def test_quick_reads_the_environment(monkeypatch):
    monkeypatch.delenv(benchtable.QUICK_ENV, raising=False)
    assert not benchtable.quick()
    monkeypatch.setenv(benchtable.QUICK_ENV, "1")
    assert benchtable.quick()
    monkeypatch.setenv(benchtable.QUICK_ENV, "0")
    assert not benchtable.quick()


def test_table_text():
    text = benchtable.table([
        Row("startup", "cold start", 314.0, "ms", Goal.ratio_at_most(1.5), "bare window", 78.0),
        Row("history", "open to first paint", 18.0, "ms", Goal.value_at_most(100, "ms"), "empty table", 0.17),
        Row("journal", "export", 600.0, "ms", Goal.none()),
        Row.failure("sweep", "exit code 3"),
    ])
    lines = text.splitlines()
    assert lines[0].split() == ["bench", "figure", "value", "baseline", "ratio", "goal", "met"]
    assert set(lines[1]) <= {"-", " "}
    startup, history, journal, sweep = lines[2:]
    assert "314.0 ms" in startup and "bare window 78.0 ms" in startup and "4.03×" in startup
    assert "≤ 1.5×" in startup and startup.endswith("NO")
    assert "empty table 0.17 ms" in history and history.endswith("yes")
    assert journal.endswith("—")
    assert "did not finish: exit code 3" in sweep and sweep.endswith("FAILED")
    # Aligned: the met column starts at the same place on each line.
    assert lines[0].index("met") == startup.index("NO") == history.index("yes")


def test_interleaved_medians_rotates_the_order():
    calls: list[str] = []

    def run(name: str, value: float):
        def measure() -> float:
            calls.append(name)
            return value
        return measure

    medians = benchtable.interleaved_medians({"a": run("a", 1.0), "b": run("b", 2.0)}, 3)
    assert medians == {"a": 1.0, "b": 2.0}
    assert calls == ["a", "b", "b", "a", "a", "b"]
