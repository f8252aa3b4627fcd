"""Journal speed with 100,000 rows, as ratios against a baseline measured in the same run.

    python tests/bench/bench_journal.py [rows]        # or: python3 scripts/dev.py bench journal

Baseline: fetching one row by primary key (Journal.get), interleaved with each operation (run by run, the
median of each). Each operation is reported as "x times the baseline", so the numbers compare across
machines. Nothing is asserted.

Rows (tests/bench/benchtable.py), each against get(id) of the same interleaved runs: the reads the History view
makes (counts, pages, the FTS search), goal ≤ 100 ms each at 100,000 rows (the History view's budget from
open to first paint, issue 17, which includes a count and a page); record() (an fsync), the short searches
that scan (LIKE) and the CSV export, for information. With MOMENTS_BENCH_QUICK=1 (``dev.py bench --quick``):
10,000 rows unless given, 7 runs of each.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchtable  # noqa: E402 - tests/bench/benchtable.py
from synthetic_journal import fill_journal  # noqa: E402

from moments_desktop.core.journal import Journal, JournalFilter  # noqa: E402


def timed(fn, repeat: int = 20) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def once(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    quick = benchtable.quick()
    n = int(sys.argv[1]) if len(sys.argv) > 1 else (10_000 if quick else 100_000)
    rows: list[benchtable.Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        t = time.perf_counter()
        fill_journal(path, n)
        journal = Journal(path)
        insert_s = time.perf_counter() - t
        print(f"rows: {journal.count():,}  (FTS5 trigram search: {journal.fts})  bulk insert: {insert_s:.1f} s")

        mid = n // 2
        baseline = timed(lambda: journal.get(mid), 2000)
        print(f"baseline get(id): {baseline * 1e6:.0f} µs\n")
        since = datetime(2025, 1, 10, tzinfo=UTC)
        cases = {
            "record() one row (fsync)": lambda: journal.record(endpoint="GetRewardInfo", url="u", outcome="success"),
            "count() all": lambda: journal.count(),
            "count() profile": lambda: journal.count({"profile_id": "profile-3"}),
            "count() outcome=error": lambda: journal.count({"outcome": "error"}),
            "query() first page (100)": lambda: journal.query(None, 0, 100),
            f"query() page at offset {n // 2:,}": lambda: journal.query(None, n // 2, 100),
            "query() profile + endpoint page": lambda: journal.query(
                JournalFilter(profile_id="profile-0", endpoint="GetReward"), 0, 100),
            "query() date range page": lambda: journal.query(
                {"since": since, "until": since + timedelta(days=2)}, 0, 100),
            "search 'CAMP0042' page (FTS)": lambda: journal.query({"text": "CAMP0042"}, 0, 100),
            "search 'CAMP0042' count (FTS)": lambda: journal.count({"text": "CAMP0042"}),
            "search reward url page": lambda: journal.query({"text": "rewards.example/r/4200"}, 0, 100),
            "search 'r/' page (LIKE, short)": lambda: journal.query({"text": "r/"}, 0, 100),
            "search 'zz' count (LIKE, no hit)": lambda: journal.count({"text": "zz"}),
        }
        width = max(map(len, cases))
        for name, fn in cases.items():
            runs = 7 if quick or "LIKE" in name else 20
            medians = benchtable.interleaved_medians({"get": lambda: once(lambda: journal.get(mid)),
                                                      "case": lambda fn=fn: once(fn)}, runs)
            elapsed, get_s = medians["case"], medians["get"]
            print(f"{name:<{width}}  {elapsed * 1e3:9.2f} ms  {elapsed / get_s:9.0f}x baseline")
            goal = (benchtable.Goal.none() if name.startswith("record") or "LIKE" in name
                    else benchtable.Goal.value_at_most(100, "ms"))
            rows.append(benchtable.Row("journal", f"{name}, {n:,} rows", elapsed * 1e3, "ms", goal,
                                       "get(id)", get_s * 1e3))
        out = Path(tmp) / "export.csv"
        t = time.perf_counter()
        exported = journal.export_csv(out, {"endpoint": "GetReward"})
        elapsed = time.perf_counter() - t
        print(f"{'export_csv GetReward rows':<{width}}  {elapsed * 1e3:9.2f} ms  {elapsed / baseline:9.0f}x baseline"
              f"  ({exported:,} rows)")
        rows.append(benchtable.Row("journal", f"export_csv GetReward ({exported:,} of {n:,} rows), one run",
                                   elapsed * 1e3, "ms", benchtable.Goal.none(), "get(id)", baseline * 1e3))
        journal.close()
    benchtable.report(rows)


if __name__ == "__main__":
    main()
