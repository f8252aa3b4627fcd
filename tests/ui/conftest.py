"""GUI fixtures: a qasync loop per test, and a MainWindow wired to the real sandbox.

pytest-qt knows nothing of qasync, so each test gets its own QEventLoop (qasync's own test
suite does the same). ``in_loop(fn)`` runs a plain function *inside* the running loop as a
callback (not a task), so ``qtbot.waitUntil`` can spin Qt events and with them the asyncio
tasks the window starts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import keyring.errors
import pytest
import qasync
from keyring.backend import KeyringBackend

from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import ProfileStore
from moments_desktop.ui.controller import PreviewController
from moments_desktop.ui.main_window import MainWindow


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        try:
            del self.store[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("No such password") from None


@pytest.fixture(autouse=True)
def _app_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


@pytest.fixture
def loop(qapp):
    lp = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(lp)
    yield lp
    lp.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def in_loop(loop):
    """Run ``fn()`` as a callback inside the running qasync loop and return its result."""

    def run(fn):
        done = loop.create_future()

        def callback():
            try:
                done.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - re-raised by run_until_complete
                done.set_exception(exc)

        loop.call_soon(callback)
        return loop.run_until_complete(done)

    return run


@dataclass
class Harness:
    window: MainWindow
    controller: PreviewController
    profiles: ProfileStore
    credentials: CredentialStore
    journal: Journal


@pytest.fixture
def harness(qtbot, loop, tmp_path, sandbox):
    profiles = ProfileStore(tmp_path / "profiles.json")
    credentials = CredentialStore(MemoryKeyring())
    journal = Journal(tmp_path / "journal.sqlite3")
    controller = PreviewController(profiles, credentials, journal, httpx.AsyncClient(),
                                   sandbox_url=sandbox.base_url, sandbox_key=sandbox.demo_key)
    window = MainWindow(controller, sandbox_url=sandbox.base_url)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield Harness(window, controller, profiles, credentials, journal)
    window.close()
    loop.run_until_complete(controller.aclose())
