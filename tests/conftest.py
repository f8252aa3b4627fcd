"""Shared fixtures. ``sandbox`` gives every test a freshly reset, real sandbox server."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass

import leak_guard  # tests/leak_guard.py
import pytest

from moments_desktop.sandbox.admin import SandboxAdmin
from moments_desktop.sandbox.catalog import load_default_catalog
from moments_desktop.sandbox.server import SandboxServer


@dataclass(frozen=True)
class Sandbox:
    base_url: str  # e.g. http://127.0.0.1:54321 (no trailing slash)
    admin: SandboxAdmin
    demo_key: str  # sandbox-demo-key-0001
    demo_body: dict  # the demo profile's request body (DEMO1 / GAME_COMPLETE / DEMOCAMP1 / US / Android)


pytest_plugins = ["pytester"]  # tests/test_leak_guard.py runs the guard on small test files


def pytest_configure(config):
    leak_guard.install()


def pytest_collection_finish(session):
    leak_guard.freeze_imports()


def pytest_sessionfinish(session):
    leak_guard.session_finished()


@pytest.fixture(autouse=True)
def _leak_guard(request):
    """Fail the test itself (at its teardown) when it leaves a pending task, an unawaited
    coroutine, an open socket or an unclosed AsyncClient behind: see tests/leak_guard.py.

    Autouse and defined here, so it is set up before every other function-scoped fixture and
    torn down after them (the qasync loop fixture closes its loop before this checks)."""
    leak_guard.begin(request.node.nodeid)
    yield
    leaks = leak_guard.end()
    if leaks:
        pytest.fail(leak_guard.report(request.node.nodeid, leaks), pytrace=False)


@pytest.fixture(scope="session")
def sandbox_server():
    """One real sandbox on 127.0.0.1 with a free port, for the whole session."""
    server = leak_guard.outlives_tests(SandboxServer())
    with server:
        yield server


@pytest.fixture(scope="session")
def _sandbox_session(sandbox_server):
    demo = load_default_catalog().demo()
    # With the server's admin token: the catalog it reads shows the API keys.
    with leak_guard.outlives_tests(SandboxAdmin(sandbox_server.base_url, sandbox_server.admin_token)) as admin:
        yield Sandbox(sandbox_server.base_url, admin, demo.api_key, demo.body())


@pytest.fixture
def sandbox(_sandbox_session):
    """The session's sandbox, reset (inventory, ledger, rate limits, quotas, faults) before the test."""
    _sandbox_session.admin.reset(ledger=True)  # a reset keeps the ledger unless asked: every test starts empty
    return _sandbox_session


def pytest_runtest_setup(item):
    # Secret Service tests skip with a reason on a developer machine without one,
    # but fail under CI=true, where .ci/run provides a real gnome-keyring.
    if item.get_closest_marker("secret_service"):
        from secret_service import require_secret_service

        require_secret_service()
