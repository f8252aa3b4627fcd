"""The tabs not seen at the first paint are built when first shown (issue 17, start-up): right after the window is
shown the Message and Sweep tabs' modules are not imported (nor the sweep's grid and report), and no History view
is built; opening each tab — by a click on it, by its Alt+N shortcut, or by asking the window for it — builds it
in its place, with its text and order, and it works. Runs the real entry point in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_SCRIPT = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from moments_desktop import app

MODULES = ("moments_desktop.ui.message_tab", "moments_desktop.ui.sweep_tab", "moments_desktop.ui.sweep_grid",
           "moments_desktop.core.sweep_report")
seen = {}

def loaded():
    return sorted(name for name in MODULES if name in sys.modules)

def tabs_of(window):
    return [(window.tabs.tabText(i), type(window.tabs.widget(i)).__name__) for i in range(window.tabs.count())]

frozen = app.freeze_startup_objects
def shown():
    frozen()
    QTimer.singleShot(0, look)
app.freeze_startup_objects = shown

def look():
    from moments_desktop.ui.main_window import MainWindow
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
    seen["loaded_when_shown"] = loaded()
    seen["tabs_when_shown"] = tabs_of(window)
    seen["built_when_shown"] = sorted(window._built_tabs)
    # a click on the Sweep tab
    window.tabs.setCurrentIndex([window.tabs.tabText(i) for i in range(window.tabs.count())].index("Sweep"))
    seen["sweep_current"] = type(window.tabs.currentWidget()).__name__
    seen["sweep_is_attribute"] = window.tabs.currentWidget() is window.sweep_tab
    seen["loaded_after_sweep"] = loaded()
    # the Message tab by its shortcut (Alt+3)
    window.shortcut_actions["tab_message_tab"].trigger()
    seen["message_current"] = type(window.tabs.currentWidget()).__name__
    seen["message_profile"] = window.message_tab._profile_id == window.current_profile_id()
    # the History tab by Ctrl+F (its search)
    window.shortcut_actions["history_search"].trigger()
    seen["history_current"] = type(window.tabs.currentWidget()).__name__
    QTimer.singleShot(50, finish)

def finish():
    from moments_desktop.ui.main_window import MainWindow
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
    seen["history_visible"] = window.history_view.isVisible()
    seen["tabs_after"] = tabs_of(window)
    window.close()

seen["code"] = app.main(sys.argv[1:])
print(json.dumps(seen))
"""


@pytest.mark.slow
def test_hidden_tabs_are_built_on_first_show(tmp_path):
    env = dict(os.environ, MOMENTS_DESKTOP_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", _SCRIPT, "--no-sandbox"], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0
    assert seen["loaded_when_shown"] == [], seen["loaded_when_shown"]
    assert seen["built_when_shown"] == []
    # the stand-ins keep the tabs' text and order
    assert [text for text, _kind in seen["tabs_when_shown"]] == ["Preview", "Raw", "Message", "Sweep", "History"]
    assert seen["sweep_current"] == "SweepTab" and seen["sweep_is_attribute"]
    assert "moments_desktop.ui.sweep_tab" in seen["loaded_after_sweep"]
    assert "moments_desktop.ui.message_tab" not in seen["loaded_after_sweep"]
    assert seen["message_current"] == "MessageTab" and seen["message_profile"]
    assert seen["history_current"] == "HistoryView" and seen["history_visible"]
    assert seen["tabs_after"] == [["Preview", "PreviewPanel"], ["Raw", "RawView"], ["Message", "MessageTab"],
                                  ["Sweep", "SweepTab"], ["History", "HistoryView"]]
