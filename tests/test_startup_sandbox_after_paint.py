"""The window does not wait for the embedded sandbox (issue 17, start-up): the app binds the sandbox's listening
socket before the window (its URL is known at once), builds the Session over it, shows the window, and only then
starts the server on its thread. A preview pressed at once waits in the socket's backlog and succeeds; a sandbox
that fails to start once the window is up is told (non-modally) and the app keeps working; a --sandbox-port in use
is told the same way. These run the real entry point, ``main``, in this process."""

from __future__ import annotations

import socket
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from moments_desktop import app as desktop_app
from moments_desktop.core import errors
from moments_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _app_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


def shown_window() -> MainWindow | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)


def run_main(qapp, args: list[str], scenario, timeout_s: float = 30.0) -> dict:
    """``main(args)``; ``scenario(window, seen, done)`` is called once the window is shown and calls ``done()``
    when it has seen enough (the window is closed then)."""
    seen: dict = {"events": []}

    def done() -> None:
        window = shown_window()
        if window is not None:
            window.close()

    def wait_for_window() -> None:
        window = shown_window()
        if window is None:
            QTimer.singleShot(10, wait_for_window)
            return
        scenario(window, seen, done)

    watchdog = threading.Timer(timeout_s, lambda: QTimer.singleShot(0, done))
    watchdog.start()
    QTimer.singleShot(0, wait_for_window)
    try:
        seen["code"] = desktop_app.main(args)
    finally:
        watchdog.cancel()
    return seen


def record_order(monkeypatch, seen_events: list) -> None:
    """Records, in order, the window's show and the start of the sandbox server's thread (with whether a window
    was visible then)."""
    real_show = MainWindow.show
    real_thread = desktop_app.DesktopApp._start_sandbox_thread

    def show(self):
        real_show(self)
        seen_events.append("window shown")

    def start_thread(self, started, sock=None):
        seen_events.append(("sandbox thread started", shown_window() is not None,
                            threading.current_thread() is not threading.main_thread()))
        return real_thread(self, started, sock)

    monkeypatch.setattr(MainWindow, "show", show)
    monkeypatch.setattr(desktop_app.DesktopApp, "_start_sandbox_thread", start_thread)


def when(condition, then, every_ms: int = 10) -> None:
    def poll() -> None:
        if condition():
            then()
        else:
            QTimer.singleShot(every_ms, poll)

    poll()


def test_the_window_is_shown_before_the_sandbox_starts_and_a_preview_pressed_at_once_succeeds(qapp, monkeypatch):
    events: list = []
    record_order(monkeypatch, events)
    # Pressed right after show(), before the server's thread starts (the app's own hook for demos).
    monkeypatch.setenv(desktop_app.AUTOPREVIEW_ENV, "1")
    results: list = []
    real_open = desktop_app.DesktopApp.open_window

    def open_window(self):
        window = real_open(self)
        window.bridge.preview_finished.connect(lambda result: results.append(result))
        events.append(("sandbox URL known when the window is built", self.embedded is not None,
                       self.sandbox is None))
        return window

    monkeypatch.setattr(desktop_app.DesktopApp, "open_window", open_window)

    def scenario(window, seen, done):
        when(lambda: results, lambda: (seen.update(result=results[0]), done()))

    seen = run_main(qapp, [], scenario)
    assert seen["code"] == 0
    assert events[0] == ("sandbox URL known when the window is built", True, True)
    assert events[1] == "window shown"
    assert events[2] == ("sandbox thread started", True, True)
    result = seen["result"]
    assert result.error is None and result.ok, result.error


def test_a_sandbox_that_fails_to_start_after_the_window_is_up_is_told_and_the_app_keeps_working(
        qapp, monkeypatch, tmp_path):
    events: list = []
    record_order(monkeypatch, events)
    catalog = tmp_path / "broken-catalog.json"
    catalog.write_text('{"schema_version": 1, "apps": [{"id": "a", "api_keys": ["k"]}]}', encoding="utf-8")

    def scenario(window, seen, done):
        def told():
            box = window.findChild(QMessageBox, "sandboxProblemBox")
            return box if box is not None and box.isVisible() else None

        def then():
            box = told()
            seen["text"] = box.text()
            seen["modal"] = box.isModal()
            results: list = []
            window.bridge.preview_finished.connect(results.append)
            window.preview()  # the window works on: the call fails fast, at the closed socket
            when(lambda: results, lambda: (seen.update(result=results[0]), done()))

        when(lambda: told() is not None, then)

    seen = run_main(qapp, ["--sandbox-catalog", str(catalog)], scenario)
    assert seen["code"] == 0
    assert events[:2] == ["window shown", ("sandbox thread started", True, True)]
    assert "The sandbox catalog cannot be used" in seen["text"]
    assert "will open without the sandbox" in seen["text"]
    assert not seen["modal"]
    assert isinstance(seen["result"].error, errors.NotSentError), seen["result"].error


def test_a_sandbox_port_in_use_is_told_once_the_window_is_shown(qapp, monkeypatch):
    events: list = []
    record_order(monkeypatch, events)
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        def scenario(window, seen, done):
            def told():
                box = window.findChild(QMessageBox, "sandboxProblemBox")
                return box if box is not None and box.isVisible() else None

            def then():
                seen["text"] = told().text()
                seen["modal"] = told().isModal()
                seen["embedded"] = window.bridge.session.sandbox
                done()

            when(lambda: told() is not None, then)

        seen = run_main(qapp, ["--sandbox-port", str(port)], scenario)
    finally:
        holder.close()
    assert seen["code"] == 0
    assert events == ["window shown"]  # no server started
    assert f"Cannot listen on 127.0.0.1:{port}" in seen["text"]
    assert "will open without the sandbox" in seen["text"]
    assert not seen["modal"]
    assert seen["embedded"] is None
