"""The app opens its window on the embedded sandbox, and closing the window stops the sandbox."""

import asyncio
import socket
from urllib.parse import urlsplit

import httpx
import pytest
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel

from moments_desktop import app as desktop_app
from moments_desktop.app import DesktopApp
from moments_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


def accepts_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _app_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


def run_in_qasync_loop(qapp, scenario):
    """As the app runs: the window is built inside the running qasync loop."""
    qapp.setQuitOnLastWindowClosed(False)
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
            return runner.run(scenario())
    finally:
        qapp.setQuitOnLastWindowClosed(True)


def test_window_shows_sandbox_url_and_close_stops_it(qtbot, qapp):
    desktop = DesktopApp()
    url = desktop.start_sandbox()

    async def scenario():
        window = desktop.open_window()
        qtbot.addWidget(window)
        window.show()
        assert window.windowTitle() == "Moments Desktop"
        assert window.findChild(QLabel, "sandboxStatus").text() == f"Sandbox: {url}"
        async with httpx.AsyncClient() as http:
            assert (await http.get(url + "/__sandbox/catalog", timeout=5)).status_code == 200
            # The app holds the embedded sandbox's admin token (and its demo key, from the catalog object).
            token = desktop.embedded.admin_token
            assert token and token == desktop.sandbox.admin_token
            shown = await http.get(url + "/__sandbox/catalog", headers={"x-sandbox-admin-token": token}, timeout=5)
            assert desktop.embedded.api_key in shown.json()["demo"]["api_key"]
        window.close()
        assert desktop.sandbox is None
        await desktop.aclose()
        assert not window.bridge.tasks and window.bridge.session.closed

    run_in_qasync_loop(qapp, scenario)
    assert not accepts_connections(url)


def test_window_needs_the_running_loop(qapp):
    desktop = DesktopApp(use_sandbox=False)
    with pytest.raises(RuntimeError):
        desktop.open_window()  # nothing may be scheduled before the loop runs


def test_no_sandbox_option(qtbot, qapp):
    desktop = DesktopApp(use_sandbox=False)
    assert desktop.start_sandbox() is None

    async def scenario():
        window = desktop.open_window()
        qtbot.addWidget(window)
        assert desktop.sandbox is None
        assert window.findChild(QLabel, "sandboxStatus").text() == "Sandbox: not running"
        window.close()
        await desktop.aclose()

    run_in_qasync_loop(qapp, scenario)


def test_main_runs_qasync_loop_until_window_closes(qtbot):
    """The real entry point: qasync loop, window, sandbox; closing the window returns 0."""
    seen = {}

    def inspect_and_close():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, inspect_and_close)
            return
        window = windows[0]
        seen["status"] = window.findChild(QLabel, "sandboxStatus").text()
        seen["url"] = seen["status"].removeprefix("Sandbox: ")
        seen["serving"] = accepts_connections(seen["url"])
        window.close()

    QTimer.singleShot(0, inspect_and_close)
    assert desktop_app.main([]) == 0
    assert seen["status"].startswith("Sandbox: http://127.0.0.1:")
    assert seen["serving"]
    assert not accepts_connections(seen["url"]), "the sandbox still listens after the window closed"


def test_self_test_runs_without_a_window(capsys):
    code = desktop_app.main(["--self-test"])
    out = capsys.readouterr().out
    assert "PASS sandbox-roundtrip" in out and "PASS resources" in out
    assert code == 0, out


def test_crash_reporter_logs_and_tells_the_user(qtbot, tmp_path, capsys):
    reporter = desktop_app.CrashReporter()
    assert reporter.log_path == tmp_path / "home" / "logs" / "moments-desktop.log"
    try:
        raise ValueError("boom")
    except ValueError as exc:
        reporter.excepthook(type(exc), exc, exc.__traceback__)
    assert "ValueError: boom" in reporter.log_path.read_text(encoding="utf-8")
    assert str(reporter.log_path) in capsys.readouterr().err
    box = reporter._open_box
    assert box is not None and box.isVisible() and str(reporter.log_path) in box.text()
    box.close()
    qtbot.waitUntil(lambda: reporter._open_box is None)
