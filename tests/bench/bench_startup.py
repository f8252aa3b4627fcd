"""Start-up of the whole app as a process, beside a bare PySide6 window; and the UI blocked while it closes.

    python tests/bench/bench_startup.py [rounds]        # default 9 rounds, at least 7

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
            "PYTHONPATH": str(ROOT),
        })
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env.pop("MOMENTS_DESKTOP_AUTOPREVIEW", None)
        self.runs = 0
        self.results: dict[str, list[dict]] = {}

    def launch(self, name: str, argv: list[str]) -> float:
        self.runs += 1
        home = self.work / f"home-{self.runs}"
        probe = self.work / f"probe-{self.runs}.jsonl"
        env = dict(self.env, MOMENTS_DESKTOP_HOME=str(home), **{PROBE_ENV: str(probe)})
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
    rounds = max(7, int(sys.argv[1]) if len(sys.argv) > 1 else 9)
    python = sys.executable
    app = [python, "-m", "moments_desktop"]
    programs = {
        "app (sandbox)": app,
        "app --no-sandbox": [*app, "--no-sandbox"],
        "bare QMainWindow": [python, "-c", BARE_WINDOW],
    }
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        launcher = Launcher(Path(tmp))
        for name, argv in programs.items():  # warm-up: byte-code caches written, files in the page cache
            launcher.launch(name, argv)
        launcher.results.clear()
        starts = interleaved_medians({name: (lambda n=name, a=argv: launcher.launch(n, a))
                                      for name, argv in programs.items()}, rounds)
        results = launcher.results

    def med(name: str, key: str) -> float:
        return median([r[key] for r in results[name]])

    bare = "bare QMainWindow"
    rows = []
    for name, label in (("app (sandbox)", "sandbox on"), ("app --no-sandbox", "--no-sandbox")):
        rows.append(Row("startup", f"cold start to window shown and loop idle ({label})", starts[name], "ms",
                        Goal.ratio_at_most(1.5), "bare QMainWindow", starts[bare]))
    for name, label in (("app (sandbox)", "sandbox on"), ("app --no-sandbox", "--no-sandbox")):
        rows.append(Row("startup", f"RSS after start-up ({label})", med(name, "rss_kib") / 1024, "MiB",
                        Goal.ratio_at_most(1.5), "bare window", med(bare, "rss_kib") / 1024))
    for name, label in (("app (sandbox)", "sandbox on"), ("app --no-sandbox", "--no-sandbox")):
        rows.append(Row("startup", f"UI blocked while closing the window ({label})",
                        med(name, "close_blocked_ms"), "ms", Goal.value_at_most(16, "ms"),
                        "bare window", med(bare, "close_blocked_ms")))
    print(f"{rounds} rounds; medians; each process started with a fresh MOMENTS_DESKTOP_HOME")
    report(rows)


if __name__ == "__main__":
    main()
