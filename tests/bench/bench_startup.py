"""Start-up of the whole app as a process, beside a bare PySide6 window; and the UI blocked while it closes.

    python tests/bench/bench_startup.py [rounds] [--compare CHECKOUT]   # default 9 rounds, at least 7

``--compare CHECKOUT`` (another checkout of the repo, e.g. the base of a change, with the same probe) adds its
two app processes to the same interleaved rounds and prints its rows too, prefixed "CHECKOUT:": a before/after
under the same machine load.

Run it with the project's venv (``.venv/bin/python tests/bench/bench_startup.py``). Each round launches, in a
rotated order, as whole processes on the offscreen platform:

- ``python -m moments_desktop`` (the embedded sandbox on, as by default) and ``... --no-sandbox``, each with a
  fresh, empty MOMENTS_DESKTOP_HOME (the first start of a new user: the demo profile, an empty history);
- the baseline: a bare ``QApplication`` + ``QMainWindow().show()`` script.

Figures, taken by the process itself through the app's hidden MOMENTS_DESKTOP_STARTUP_PROBE (app.StartupProbe):
the time from just before the process is launched to "window shown and event loop idle" (a
``QTimer.singleShot(0)`` after ``show()``, in the app and in the baseline alike; CLOCK_MONOTONIC is the same
clock in both processes), the VmRSS at that moment, and — the window then closed — the longest gap of a 1 ms
UI-thread heartbeat from the close until the app has shut down (DesktopApp.aclose returned).

Byte-code caches are warm (a folder of this run, filled by a warm-up round), as for an installed app. The app
reads no API key at start-up (the demo profile's key is the embedded sandbox's, held in memory), so no keyring
session is needed; PYTHON_KEYRING_BACKEND is set to keyring's null backend anyway, so a stray read could not
reach a real keychain. Nothing is asserted; rows go through benchtable.report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "bench"))

from benchtable import Goal, Row, interleaved_medians, report  # noqa: E402

PROBE_ENV = "MOMENTS_DESKTOP_STARTUP_PROBE"

BARE_WINDOW = r"""
import json, os, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def write(**data):
    with open(os.environ["MOMENTS_DESKTOP_STARTUP_PROBE"], "a") as out:
        out.write(json.dumps(data) + "\n")

app = QApplication(sys.argv)
app.setQuitOnLastWindowClosed(False)
window = QMainWindow()
window.show()
beats = []

def idle():
    write(idle=time.monotonic(), rss_kib=rss_kib())
    QTimer.singleShot(300, close)

def close():
    timer.start(1)
    beats.append(time.perf_counter())
    window.close()
    QTimer.singleShot(50, done)

def done():
    timer.stop()
    beats.append(time.perf_counter())
    write(close_blocked_ms=max(b - a for a, b in zip(beats, beats[1:])) * 1000)
    app.quit()

timer = QTimer()
timer.timeout.connect(lambda: beats.append(time.perf_counter()))
QTimer.singleShot(0, idle)
app.exec()
"""


class Launcher:
    def __init__(self, work: Path):
        self.work = work
        self.env = dict(os.environ)
        self.env.update({
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),  # warm after the first round, as when installed
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        })
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env.pop("MOMENTS_DESKTOP_AUTOPREVIEW", None)
        self.runs = 0
        self.results: dict[str, list[dict]] = {}

    def launch(self, name: str, argv: list[str], root: Path = ROOT) -> float:
        self.runs += 1
        home = self.work / f"home-{self.runs}"
        probe = self.work / f"probe-{self.runs}.jsonl"
        env = dict(self.env, MOMENTS_DESKTOP_HOME=str(home), PYTHONPATH=str(root), **{PROBE_ENV: str(probe)})
        if root != ROOT:  # its own byte-code caches
            env["PYTHONPYCACHEPREFIX"] = str(self.work / f"pycache-{root.name}")
        started = time.monotonic()
        done = subprocess.run(argv, env=env, cwd=self.work, capture_output=True, text=True, timeout=120)
        lines = [json.loads(line) for line in probe.read_text().splitlines()] if probe.exists() else []
        found: dict = {}
        for line in lines:
            found.update(line)
        if done.returncode != 0 or "idle" not in found or "close_blocked_ms" not in found:
            raise SystemExit(f"{name}: exit {done.returncode}, probe {lines!r}\n{done.stderr[-3000:]}")
        found["start_ms"] = (found["idle"] - started) * 1000
        self.results.setdefault(name, []).append(found)
        shutil.rmtree(home, ignore_errors=True)
        return found["start_ms"]


def median(values: list[float]) -> float:
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def main() -> None:
    args = sys.argv[1:]
    compare: Path | None = None
    if "--compare" in args:
        at = args.index("--compare")
        compare = Path(args[at + 1]).resolve()
        del args[at:at + 2]
    rounds = max(7, int(args[0]) if args else 9)
    python = sys.executable
    app = [python, "-m", "moments_desktop"]
    programs: dict[str, tuple[list[str], Path]] = {
        "app (sandbox)": (app, ROOT),
        "app --no-sandbox": ([*app, "--no-sandbox"], ROOT),
        "bare QMainWindow": ([python, "-c", BARE_WINDOW], ROOT),
    }
    if compare is not None:
        programs[f"{compare.name}: app (sandbox)"] = (app, compare)
        programs[f"{compare.name}: app --no-sandbox"] = ([*app, "--no-sandbox"], compare)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        launcher = Launcher(Path(tmp))
        for name, (argv, root) in programs.items():  # warm-up: byte-code caches written, files in the page cache
            launcher.launch(name, argv, root)
        launcher.results.clear()
        starts = interleaved_medians({name: (lambda n=name, a=argv, r=root: launcher.launch(n, a, r))
                                      for name, (argv, root) in programs.items()}, rounds)
        results = launcher.results

    def med(name: str, key: str) -> float:
        return median([r[key] for r in results[name]])

    bare = "bare QMainWindow"

    def rows_of(prefix: str) -> list[Row]:
        apps = ((f"{prefix}app (sandbox)", "sandbox on"), (f"{prefix}app --no-sandbox", "--no-sandbox"))
        bench = "startup" if not prefix else f"startup {prefix.rstrip(': ')}"
        rows = []
        for name, label in apps:
            rows.append(Row(bench, f"cold start to window shown and loop idle ({label})", starts[name], "ms",
                            Goal.ratio_at_most(1.5), "bare QMainWindow", starts[bare]))
        for name, label in apps:
            rows.append(Row(bench, f"RSS after start-up ({label})", med(name, "rss_kib") / 1024, "MiB",
                            Goal.ratio_at_most(1.5), "bare window", med(bare, "rss_kib") / 1024))
        for name, label in apps:
            rows.append(Row(bench, f"UI blocked while closing the window ({label})",
                            med(name, "close_blocked_ms"), "ms", Goal.value_at_most(16, "ms"),
                            "bare window", med(bare, "close_blocked_ms")))
        return rows

    print(f"{rounds} rounds; medians; each process started with a fresh MOMENTS_DESKTOP_HOME")
    if compare is not None:
        from benchtable import table

        print(f"\n{compare}, in the same rounds (not reported to the combined table):")
        print(table(rows_of(f"{compare.name}: ")))
    report(rows_of(""))


if __name__ == "__main__":
    main()
