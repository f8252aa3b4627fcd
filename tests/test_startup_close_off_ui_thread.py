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
