"""GUI fixtures: a qasync loop per test, and a MainWindow wired to the real sandbox.

pytest-qt knows nothing of qasync, so each test gets its own QEventLoop (qasync's own test
suite does the same) and runs its scenario as a coroutine on it: ``in_loop(scenario)``.
Inside, ``await until(predicate)`` is the loop-friendly ``qtbot.waitUntil``: nesting
qtbot's own Qt event loop inside a qasync callback crashed PySide intermittently.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import leak_guard  # tests/leak_guard.py
import pytest
import qasync
from memory_keyring import MemoryKeyring  # tests/memory_keyring.py

from moments_desktop.core.client import MomentsClient
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import ProfileStore
from moments_desktop.ui.controller import PreviewController
from moments_desktop.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _app_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


@pytest.fixture
def loop(qapp):
    lp = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(lp)
    yield lp
    # A task still pending is this test's leak (tests/leak_guard.py reports it at teardown);
    # cancel and await it here, on this loop, so none of it runs during a later test.
    leak_guard.finish_loop(lp)
    lp.close()
    asyncio.set_event_loop(None)
    del lp
    # Collect the test's Qt objects (loop timers, window, controller) here, on the GUI thread:
    # a cyclic QObject left to a later collection may be destroyed on a worker thread, which
    # Qt answers with "Timers cannot be stopped from another thread" or a crash. What their
    # finalisers report (an unawaited coroutine, an unclosed socket) is blamed on this test.
    leak_guard.collect_garbage()


@pytest.fixture
def in_loop(loop):
    """Run ``scenario()`` (a coroutine function) on the test's qasync loop."""

    def run(scenario):
        return loop.run_until_complete(asyncio.wait_for(scenario(), timeout=30))

    return run


@pytest.fixture
def until():
    """``await until(predicate, timeout_ms)``: poll on the running loop until true, else fail."""

    async def wait(predicate, timeout_ms: int = 10_000):
        deadline = asyncio.get_running_loop().time() + timeout_ms / 1000
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not met within {timeout_ms} ms")
            await asyncio.sleep(0.01)

    return wait


@pytest.fixture
def keep_loop_after_last_window(qapp):
    """For a window that closes while the loop runs: Qt must not quit the application, which
    would stop the test's loop. The scenario should then await ``controller.aclose()`` itself."""
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(True)


@dataclass
class Harness:
    window: MainWindow
    controller: PreviewController
    profiles: ProfileStore
    credentials: CredentialStore
    journal: Journal


@pytest.fixture
def make_harness(qtbot, loop, tmp_path, sandbox):
    """``make_harness(**client_options)``: the window over a MomentsClient built with those options
    (e.g. ``info_retries=0`` or a short read timeout); once per test."""
    built: list[Harness] = []

    def make(**client_options) -> Harness:
        assert not built, "one window per test"
        profiles = ProfileStore(tmp_path / "profiles.json")
        credentials = CredentialStore(MemoryKeyring())
        journal = Journal(tmp_path / "journal.sqlite3")
        http = httpx.AsyncClient()
        controller = PreviewController(profiles, credentials, journal, http,
                                       sandbox_url=sandbox.base_url, sandbox_key=sandbox.demo_key,
                                       client=MomentsClient(http, **client_options))
        window = MainWindow(controller, sandbox_url=sandbox.base_url)
        # A test's leftover form edits must not open the "save unsaved changes?" question on close.
        qtbot.addWidget(window, before_close_func=lambda w: w.discard_all_edits())
        window.show()
        qtbot.waitExposed(window)
        built.append(Harness(window, controller, profiles, credentials, journal))
        return built[0]

    yield make
    for h in built:
        h.window.close()
        loop.run_until_complete(h.controller.aclose())


@pytest.fixture
def harness(make_harness):
    return make_harness()
