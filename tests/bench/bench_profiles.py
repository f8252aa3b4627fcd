"""Loading profiles.json against the number of profiles, with the ratio per doubling.

    python tests/bench/bench_profiles.py [largest]        # or: python3 scripts/dev.py bench profiles

Loads files of 1k, 2k, 4k, … profiles (up to ``largest``, default 128k) and then 150,000, each with the
real ProfileStore. A load that grows linearly with the count shows a ratio near 2.0 per doubling; the
quadratic load of issue 11 (finding 3) showed about 4.0 (1k 0.04 s, 2k 0.12 s, 4k 0.43 s, 8k 1.72 s).
Nothing is asserted.

Rows (tests/bench/benchtable.py): one doubling measured again, its two loads interleaved (7 runs, medians):
the load of ``largest`` profiles (at most 32,000, to keep 14 loads short) against half as many, goal ≤ 2.5×
(linear is 2.0, Step 8's goal; quadratic 4.0); the load of 150,000 profiles, for information. With
MOMENTS_BENCH_QUICK=1 (``dev.py bench --quick``): up to 8,000 profiles unless given, no 150,000.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchtable  # noqa: E402 - tests/bench/benchtable.py
from synthetic_profiles import write_profiles_file  # noqa: E402

from moments_desktop.core.profiles import ProfileStore  # noqa: E402


def load_seconds(path: Path, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        store = ProfileStore(path)
        samples.append(time.perf_counter() - t)
        assert not store.load_warnings, store.load_warnings  # a valid file: nothing set aside
    return statistics.median(samples)


def main() -> None:
    quick = benchtable.quick()
    largest = int(sys.argv[1]) if len(sys.argv) > 1 else (8_000 if quick else 128_000)
    counts = []
    n = 1000
    while n <= largest:
        counts.append(n)
        n *= 2
    if not quick:
        counts.append(150_000)
    rows: list[benchtable.Row] = []
    print(f"{'profiles':>10}  {'file MiB':>8}  {'load s':>8}  {'µs/profile':>10}  ratio per doubling")
    previous: tuple[int, float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            path = write_profiles_file(Path(tmp) / f"profiles-{count}.json", count)
            seconds = load_seconds(path, 3 if count <= 16_000 else 1)
            ratio = ""
            if previous is not None and count == previous[0] * 2:
                ratio = f"{seconds / previous[1]:.2f}"
            print(f"{count:>10,}  {path.stat().st_size / 2**20:>8.1f}  {seconds:>8.3f}  "
                  f"{seconds / count * 1e6:>10.1f}  {ratio}")
            previous = (count, seconds)
            path.unlink()
            if count == 150_000:
                rows.append(benchtable.Row("profiles", "profiles.json load, 150,000 profiles", seconds * 1e3, "ms",
                                           benchtable.Goal.none()))
        doubled = min(32_000, [c for c in counts if c != 150_000][-1])
        if doubled >= 2000:
            half = doubled // 2
            big = write_profiles_file(Path(tmp) / f"profiles-{doubled}.json", doubled)
            small = write_profiles_file(Path(tmp) / f"profiles-{half}.json", half)
            medians = benchtable.interleaved_medians({"big": lambda: load_seconds(big, 1),
                                                      "small": lambda: load_seconds(small, 1)}, 7)
            print(f"\n{doubled:,} against {half:,}, interleaved, 7 runs: {medians['big']:.3f} s / "
                  f"{medians['small']:.3f} s = {medians['big'] / medians['small']:.2f} per doubling")
            rows.insert(0, benchtable.Row("profiles", f"profiles.json load, {doubled:,} profiles", medians["big"] * 1e3,
                                          "ms", benchtable.Goal.ratio_at_most(2.5), f"{half:,} profiles",
                                          medians["small"] * 1e3))
    benchtable.report(rows)


if __name__ == "__main__":
    main()
