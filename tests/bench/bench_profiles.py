"""Loading profiles.json against the number of profiles, with the ratio per doubling.

    python tests/bench/bench_profiles.py [largest]

Loads files of 1k, 2k, 4k, … profiles (up to ``largest``, default 128k) and then 150,000, each with the
real ProfileStore. A load that grows linearly with the count shows a ratio near 2.0 per doubling; the
quadratic load of issue 11 (finding 3) showed about 4.0 (1k 0.04 s, 2k 0.12 s, 4k 0.43 s, 8k 1.72 s).
Nothing is asserted.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
    largest = int(sys.argv[1]) if len(sys.argv) > 1 else 128_000
    counts = []
    n = 1000
    while n <= largest:
        counts.append(n)
        n *= 2
    counts.append(150_000)
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


if __name__ == "__main__":
    main()
