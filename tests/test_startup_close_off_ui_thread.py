"""Closing the window does not stop the embedded sandbox on the UI thread (issue 17: ~140 ms blocked): the close
returns to the loop while another thread stops the server, and by the end of DesktopApp.aclose it has stopped
and its port no longer accepts connections."""

from __future__ import annotations

import asyncio
import socket
import threading
from urllib.parse import urlsplit

import pytest
import qasync

from moments_desktop.app import DesktopApp

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _app_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


def accepts_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


def test_closing_the_window_stops_the_sandbox_on_another_thread(qtbot, qapp):
    desktop = DesktopApp()
    url = desktop.start_sandbox()
    server = desktop.sandbox
    close_returned = threading.Event()
    seen = {}
    real_stop = server.stop

    def stop() -> None:  # the real stop, told which thread runs it and whether the close had returned first
        seen["thread"] = threading.current_thread()
        seen["close_had_returned"] = close_returned.wait(10)  # would wait out the 10 s on the UI thread
        real_stop()

    server.stop = stop

    async def scenario():
        window = desktop.open_window()
        qtbot.addWidget(window)
        window.show()
        window.close()
        close_returned.set()
        assert desktop.sandbox is None  # no longer offered to anything; stopping
        ticks = 0
        while "thread" not in seen:  # the loop runs on while the sandbox stops
            await asyncio.sleep(0.01)
            ticks += 1
        await desktop.aclose()
        seen["running_after_aclose"] = server.running
        seen["serving_after_aclose"] = accepts_connections(url)
        return ticks

    qapp.setQuitOnLastWindowClosed(False)
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
            runner.run(scenario())
    finally:
        qapp.setQuitOnLastWindowClosed(True)
    assert seen["thread"] is not threading.main_thread()
    assert seen["close_had_returned"]
    assert not seen["running_after_aclose"] and not seen["serving_after_aclose"]
    assert not any(t.name == "moments-sandbox-stop" and t.is_alive() for t in threading.enumerate())


def test_a_sandbox_started_but_not_taken_is_stopped_by_aclose(qapp):
    """The user quit at a start-up question: the sandbox begun on its thread is still stopped before the loop
    ends."""
    desktop = DesktopApp()
    desktop.begin_sandbox()

    async def scenario():
        await desktop.aclose()

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
        runner.run(scenario())
    assert desktop.sandbox is None and desktop.embedded is not None
    assert not accepts_connections(desktop.embedded.url)


def test_window_ini_is_rewritten_at_close_only_when_the_window_state_changed(qtbot, qapp, tmp_path):
    """Rewriting window.ini (a lock file, a new file, fsyncs, a rename) blocks the UI thread as the window
    closes: a close after which nothing changed leaves the file as it was; a moved splitter, or a resized
    window, is saved and restored."""
    from moments_desktop.ui.main_window import window_settings

    ini = tmp_path / "home" / "config" / "window.ini"
    seen = {}

    def open_and_close(change=None) -> None:
        desktop = DesktopApp(use_sandbox=False)

        async def scenario():
            window = desktop.open_window()
            qtbot.addWidget(window)
            window.show()
            await asyncio.sleep(0.05)
            seen["sizes"] = window.splitter.sizes()
            seen["size"] = (window.width(), window.height())
            if change is not None:
                change(window)
                await asyncio.sleep(0.05)
                seen["changed_sizes"] = window.splitter.sizes()
                seen["changed_size"] = (window.width(), window.height())
            window.close()
            await desktop.aclose()

        qapp.setQuitOnLastWindowClosed(False)
        try:
            with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
                runner.run(scenario())
        finally:
            qapp.setQuitOnLastWindowClosed(True)

    open_and_close()
    first = ini.stat()
    geometry_before = window_settings().value("geometry")
    open_and_close()
    again = ini.stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)

    def change(window) -> None:
        total = sum(window.splitter.sizes())
        window.splitter.setSizes([total // 4, total - total // 4])
        window.resize(window.width() + 40, window.height() + 30)

    open_and_close(change)
    changed = ini.stat()
    assert (changed.st_ino, changed.st_mtime_ns) != (first.st_ino, first.st_mtime_ns)
    assert window_settings().value("geometry") != geometry_before  # the resized window's, saved
    open_and_close()  # the next window opens as the last one was left
    assert seen["sizes"][0] == seen["changed_sizes"][0]  # the rest follows the window's width as restored
