"""What the desktop app has imported once its window is shown (issue 17, start-up): with --no-sandbox nothing of
the sandbox's stack (uvicorn, Starlette, click, the sandbox package), and in no case httpx's command line (rich,
pygments) or keyring (no key is read at start-up). With the sandbox on, its stack is loaded — imported and
started on a thread of its own, not the UI thread. Each run is a fresh process: nothing this test process
imported counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Runs the real entry point (moments_desktop.app.main); once the window is shown (freeze_startup_objects is
# called right after show()), says which of these modules are loaded and which thread started the sandbox,
# then closes the window.
_SCRIPT = r"""
import json, sys, threading
from PySide6.QtCore import QTimer
from moments_desktop import app

WATCHED = ("uvicorn", "starlette", "click", "rich", "pygments", "keyring", "liquid",
           "moments_desktop.sandbox", "moments_desktop.sandbox.server", "moments_desktop.sandbox.app")
seen = {}
started_on = []
from_threads = threading.current_thread().name

original_thread = app.DesktopApp._start_sandbox_thread
sandbox_done = []
def spying(self, started, sock=None):
    started_on.append(threading.current_thread().name)
    try:
        return original_thread(self, started, sock)
    finally:
        sandbox_done.append(True)
app.DesktopApp._start_sandbox_thread = spying

frozen = app.freeze_startup_objects
def shown():
    frozen()
    def look():
        seen["loaded_when_shown"] = sorted(name for name in WATCHED if name in sys.modules)
        wait()
    def wait():  # the sandbox (if any) starts after the first paint: its outcome, then close
        if "--no-sandbox" not in sys.argv and not sandbox_done:
            QTimer.singleShot(10, wait)
            return
        seen["loaded"] = sorted(name for name in WATCHED if name in sys.modules)
        from PySide6.QtWidgets import QApplication
        from moments_desktop.ui.main_window import MainWindow
        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        window.close()
    QTimer.singleShot(0, look)
app.freeze_startup_objects = shown

code = app.main(sys.argv[1:])
seen["code"] = code
seen["after_close"] = sorted(name for name in ("anyio._backends._asyncio",) if name in sys.modules)
seen["started_on"] = started_on
seen["main_thread"] = from_threads
print(json.dumps(seen))
"""


def run_app(tmp_path: Path, *args: str) -> dict:
    env = dict(os.environ, MOMENTS_DESKTOP_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_no_sandbox_imports_nothing_of_the_sandbox_stack(tmp_path):
    seen = run_app(tmp_path, "--no-sandbox")
    assert seen["code"] == 0
    assert seen["loaded"] == [], f"imported by a --no-sandbox start: {seen['loaded']}"
    assert seen["loaded_when_shown"] == []
    assert seen["started_on"] == []
    # No call was made: closing the HTTP client as the window closes does not load an async backend.
    assert seen["after_close"] == []


@pytest.mark.slow
def test_the_sandbox_stack_is_loaded_on_its_own_thread_once_started(tmp_path):
    seen = run_app(tmp_path)
    assert seen["code"] == 0
    loaded = set(seen["loaded"])
    assert {"uvicorn", "starlette", "moments_desktop.sandbox.server", "moments_desktop.sandbox.app"} <= loaded
    assert not loaded & {"rich", "pygments"}, seen["loaded"]
    # keyring: later, when a worker thread asks for the backend's name; never before the window is shown
    assert not set(seen["loaded_when_shown"]) & {"rich", "pygments", "keyring", "liquid"}, seen["loaded_when_shown"]
    assert seen["started_on"] == ["moments-sandbox-start"] and seen["main_thread"] == "MainThread"
    # ... and only after the window was shown: none of its stack was loaded then.
    shown = set(seen["loaded_when_shown"])
    assert not shown & {"uvicorn", "starlette", "moments_desktop.sandbox", "moments_desktop.sandbox.server",
                        "moments_desktop.sandbox.app"}, seen["loaded_when_shown"]
