"""GUI fixtures: a qasync loop per test, and a MainWindow wired to the real sandbox.

pytest-qt knows nothing of qasync, so each test gets its own QEventLoop (qasync's own test
suite does the same) and runs its scenario as a coroutine on it: ``in_loop(scenario)``.
Inside, ``await until(predicate)`` is the loop-friendly ``qtbot.waitUntil``: nesting
qtbot's own Qt event loop inside a qasync callback crashed PySide intermittently.

qasync runs the loop's callbacks from Qt's event processing, also while the loop is *not*
running: in ``qtbot.waitExposed``, in pytest-qt's ``processEvents`` after each test phase.
A task still in flight when ``run_until_complete`` returns takes its next step there, with no
running asyncio loop: ``asyncio.to_thread``, ``wait_for`` and anyio's connect then fail with
"no running event loop", leaving a socket open and coroutines never awaited - in whichever
test's Qt processing comes next. So the window is built, and closed, inside the running loop,
and a scenario ends only once the app is idle (every task it started has finished).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import leak_guard  # tests/leak_guard.py
import pytest
import qasync
from memory_keyring import MemoryKeyring  # tests/memory_keyring.py

from moments_desktop.core.client import MomentsClient
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import ProfileStore
from moments_desktop.core.render import Renderer
from moments_desktop.core.session import EmbeddedSandbox, Session
from moments_desktop.ui.bridge import SessionBridge
from moments_desktop.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _app_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


# How long the app's own work (a catalog fetch, an image, a journal read) may take to finish once a
# scenario is done; every network call has a shorter deadline than this.
IDLE_TIMEOUT_S = 20.0


@pytest.fixture
def loop(qapp):
    lp = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(lp)
    yield lp
    # A task still pending is this test's leak (tests/leak_guard.py reports it at teardown);
    # cancel and await it here, on this loop, so none of it runs during a later test.
    leak_guard.finish_loop(lp)
    lp.run_until_complete(lp.shutdown_asyncgens())
    lp.run_until_complete(lp.shutdown_default_executor())
    lp.close()
    asyncio.set_event_loop(None)
    del lp
    # Collect the test's Qt objects (loop timers, window, controller) here, on the GUI thread:
    # a cyclic QObject left to a later collection may be destroyed on a worker thread, which
    # Qt answers with "Timers cannot be stopped from another thread" or a crash. What their
    # finalisers report (an unawaited coroutine, an unclosed socket) is blamed on this test.
    leak_guard.collect_garbage()


async def app_idle(timeout_s: float = IDLE_TIMEOUT_S) -> None:
    """Wait, on the running loop, until no task but the caller's is left on it: the work a
    scenario started (and the work that work started) has finished. Fails naming what still runs."""
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    deadline = loop.time() + timeout_s
    quiet_turns = 0
    while quiet_turns < 2:  # two turns in a row with nothing running: queued signals were delivered too
        others = [t for t in asyncio.all_tasks(loop) if t is not me]
        if not others:
            quiet_turns += 1
            await asyncio.sleep(0)
            continue
        quiet_turns = 0
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"still running {timeout_s:g} s after the scenario ended: "
                                 + "; ".join(leak_guard.describe_task(t) for t in others))
        await asyncio.wait(others, timeout=remaining)


@pytest.fixture
def in_loop(loop):
    """Run ``scenario()`` (a coroutine function) on the test's qasync loop, then wait until the
    app is idle (see app_idle), so nothing is left to run outside the loop."""

    def run(scenario):
        async def scenario_then_idle():
            result = await asyncio.wait_for(scenario(), timeout=30)
            await app_idle()
            return result

        return loop.run_until_complete(scenario_then_idle())

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
    would stop the test's loop. The scenario should then await ``window.aclose()`` itself."""
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(True)


@dataclass
class Harness:
    window: MainWindow
    bridge: SessionBridge
    session: Session
    profiles: ProfileStore
    credentials: CredentialStore
    journal: Journal


@pytest.fixture
def make_harness(qapp, qtbot, loop, in_loop, until, tmp_path, sandbox):
    """``make_harness(**client_options)``: the window over a MomentsClient built with those options
    (e.g. ``info_retries=0`` or a short read timeout); once per test.

    As in the app, the Session, the bridge and the window are built and shown inside the running loop,
    and its start-up work (keychain name, catalog, unfinished claims) finishes there. At teardown it is
    closed inside the loop too, and every owner of work is awaited before the loop stops
    (``MainWindow.aclose``: the history service, then the bridge's tasks, then the Session's HTTP
    client and journal). The window is not given to qtbot.addWidget: pytest-qt would close it
    outside the loop, before this fixture's teardown."""
    built: list[Harness] = []

    def make(renderer: Renderer | None = None, **client_options) -> Harness:
        assert not built, "one window per test"
        profiles = ProfileStore(tmp_path / "profiles.json")
        credentials = CredentialStore(MemoryKeyring())
        journal = Journal(tmp_path / "journal.sqlite3")
        http = make_client()
        session = Session(profiles, credentials, journal, http, client=MomentsClient(http, **client_options),
                          sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key), renderer=renderer)

        async def build() -> Harness:
            bridge = SessionBridge(session)
            window = MainWindow(bridge)
            built.append(Harness(window, bridge, session, profiles, credentials, journal))
            window.show()
            await until(lambda: window.windowHandle() is not None and window.windowHandle().isExposed())
            return built[0]

        return in_loop(build)

    yield make
    for h in built:
        async def close(h: Harness = h) -> None:
            # A test's leftover form edits must not open the "save unsaved changes?" question.
            h.window.discard_all_edits()
            h.window.close()
            await h.window.aclose()

        # Closing the last window must not make Qt quit the application, which would stop the loop.
        quit_on_last = qapp.quitOnLastWindowClosed()
        qapp.setQuitOnLastWindowClosed(False)
        try:
            loop.run_until_complete(close())
        finally:
            qapp.setQuitOnLastWindowClosed(quit_on_last)
        h.window.deleteLater()


@pytest.fixture
def harness(make_harness):
    return make_harness()
