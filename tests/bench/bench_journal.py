"""Journal speed with 100,000 rows, as ratios against a baseline measured in the same run.

    python tests/bench/bench_journal.py [rows]

Baseline: fetching one row by primary key (Journal.get). Each operation is reported as
"x times the baseline", so the numbers compare across machines. Nothing is asserted.
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

from synthetic_journal import fill_journal  # noqa: E402

from moments_desktop.core.journal import Journal, JournalFilter  # noqa: E402


def timed(fn, repeat: int = 20) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
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
            "query() page at offset 50k": lambda: journal.query(None, n // 2, 100),
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
            elapsed = timed(fn, 5 if "LIKE" in name else 20)
            print(f"{name:<{width}}  {elapsed * 1e3:9.2f} ms  {elapsed / baseline:9.0f}x baseline")
        out = Path(tmp) / "export.csv"
        t = time.perf_counter()
        exported = journal.export_csv(out, {"endpoint": "GetReward"})
        elapsed = time.perf_counter() - t
        print(f"{'export_csv GetReward rows':<{width}}  {elapsed * 1e3:9.2f} ms  {elapsed / baseline:9.0f}x baseline"
              f"  ({exported:,} rows)")
        journal.close()


if __name__ == "__main__":
    main()
