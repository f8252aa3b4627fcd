"""The leak guard (tests/leak_guard.py) fails the test that leaked, at its own teardown, naming
the leak - and only that test: a clean test run right after a leaky one passes.

The scenarios run in a separate pytest process (pytester) with this suite's real conftest files,
so the guard is exercised exactly as the suite wires it: tests/conftest.py's autouse fixture and
tests/ui/conftest.py's per-test qasync loop.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

LEAKS = '''
import asyncio
import socket

import httpx

_kept = []


def test_task_left_to_asyncio_run():
    async def main():
        asyncio.get_running_loop().create_task(asyncio.sleep(3600), name="forgotten-sleep")

    asyncio.run(main())


def test_clean_after_task():
    asyncio.run(asyncio.sleep(0))


class Holder:
    pass


def test_coroutine_never_awaited():
    holder = Holder()
    holder.cycle = holder  # only the garbage collector frees it, after the test returned
    holder.coro = asyncio.sleep(0)


def test_clean_after_coroutine():
    async def awaited():
        return 1

    assert asyncio.run(awaited()) == 1


def test_socket_left_open():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _kept.append(sock)


def test_clean_after_socket():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))


def test_task_exception_never_retrieved():
    loop = asyncio.new_event_loop()

    async def boom():
        raise ValueError("nobody looked at me")

    task = loop.create_task(boom())
    loop.run_until_complete(asyncio.sleep(0.01))
    loop.close()
    del task


def test_async_client_never_closed():
    _kept.append(httpx.AsyncClient())


def test_clean_after_client():
    async def use():
        async with httpx.AsyncClient():
            pass

    asyncio.run(use())
'''

QASYNC_LEAKS = '''
import asyncio


def test_task_pending_on_the_qasync_loop(loop):
    async def start():
        asyncio.get_running_loop().create_task(asyncio.Event().wait(), name="waits-forever")

    loop.run_until_complete(start())


def test_clean_after_qasync_task(in_loop):
    async def scenario():
        await asyncio.sleep(0)

    in_loop(scenario)
'''

EXPECTED = {
    # test name -> what its teardown error must say
    "test_task_left_to_asyncio_run": ["task still pending when asyncio.run()/Runner finished", "forgotten-sleep",
                                      "coroutine sleep"],
    "test_coroutine_never_awaited": ["coroutine never awaited", "'sleep' was never awaited"],
    "test_socket_left_open": ["socket still open", "laddr=('127.0.0.1'", "test_leaky.py"],
    "test_task_exception_never_retrieved": ["Task exception was never retrieved", "coroutine test_task_exception",
                                            "nobody looked at me"],
    "test_async_client_never_closed": ["httpx.AsyncClient never closed", "test_leaky.py"],
    "test_task_pending_on_the_qasync_loop": ["task still pending when the test's event loop was closed",
                                             "waits-forever", "coroutine Event.wait"],
}
CLEAN = ["test_clean_after_task", "test_clean_after_coroutine", "test_clean_after_socket",
         "test_clean_after_client", "test_clean_after_qasync_task"]


def teardown_errors(output: str) -> dict[str, str]:
    """The text of each 'ERROR at teardown of <test>' section, by test name."""
    sections = re.split(r"_+ ERROR at teardown of (\w+) _+", output)
    return {name: text for name, text in zip(sections[1::2], sections[2::2])}


@pytest.fixture
def guarded_suite(pytester, monkeypatch):
    """A pytest project using this suite's own conftest files and settings, with the scenarios above."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\nqt_api = pyside6\n")
    pytester.makeconftest((TESTS / "conftest.py").read_text(encoding="utf-8"))
    ui = pytester.mkdir("ui")  # like tests/ui: no __init__.py
    (ui / "conftest.py").write_text((TESTS / "ui" / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8")
    (ui / "test_qasync_leaky.py").write_text(QASYNC_LEAKS, encoding="utf-8")
    pytester.makepyfile(test_leaky=LEAKS)
    return pytester


def test_each_leak_fails_the_test_that_leaked_and_only_it(guarded_suite):
    result = guarded_suite.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:anyio", timeout=180)
    output = result.stdout.str()
    errors = teardown_errors(output)
    assert sorted(errors) == sorted(EXPECTED), output
    for name, needles in EXPECTED.items():
        report = errors[name]
        assert f"{name} leaked" in report, report  # named in its own teardown
        for needle in needles:
            assert needle in report, f"{name}: {needle!r} not in\n{report}"
    for name in CLEAN:
        assert name not in errors, errors[name]
    # Every scenario's own body passed; the leaky ones add one error each, at teardown.
    result.assert_outcomes(passed=len(EXPECTED) + len(CLEAN), errors=len(EXPECTED))
