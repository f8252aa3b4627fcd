"""Fail the test that leaks async work or sockets, in its own teardown, instead of the next one.

What counts as a leak of a test (see design.md, "Lifecycle rules"):

* an asyncio **task still pending** on an event loop created during the test: when the loop is
  closed, when ``asyncio.run``/``asyncio.Runner`` would cancel it, or at teardown for a loop
  the test never closed;
* a **coroutine never awaited**, a socket or transport never closed, or any other exception
  ignored in a finaliser ("unraisable"): found by a ``gc.collect()`` at the end of the test,
  inside ``warnings.catch_warnings(record=True)`` and with ``sys.unraisablehook`` captured, so
  the RuntimeWarning/ResourceWarning is attributed to this test and not to whichever later
  test happens to trigger a collection;
* an error the event loop could only log: "Task exception was never retrieved", "Task was
  destroyed but it is pending!", an exception in a callback (``call_exception_handler``);
* a **socket still open** at teardown that was created during the test;
* an ``httpx.AsyncClient`` created during the test and never closed (its connection pool
  and whatever work its owner deferred outlive the test).

How resources are attributed: ``install()`` wraps ``asyncio.BaseEventLoop.__init__``/``close``,
``asyncio.runners._cancel_all_tasks``, ``call_exception_handler`` (asyncio's and qasync's),
``socket.socket.__init__`` and ``httpx.AsyncClient.__init__``. Each records what was created
while a test runs (``begin(nodeid)`` ... ``end()``), in any thread. Resources that belong to
the session - the sandbox server and its admin client - are exempted with
``outlives_tests(obj)``: a socket or loop created while ``obj`` is a ``self`` on the
creating call stack (its methods, the server's thread) is never the test's.

``finish_loop(loop)`` is for a fixture that owns a loop: it reports the tasks still pending
and then cancels and awaits them, like ``asyncio.run`` does, so nothing the test left behind
runs (or is garbage-collected) during the next test.
"""

from __future__ import annotations

import asyncio
import asyncio.runners
import contextlib
import gc
import os
import socket
import sys
import threading
import warnings
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

_REPO = str(Path(__file__).resolve().parent.parent)
_THIS = str(Path(__file__).resolve())
_LIBRARY_PREFIXES = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})


# --- what one test created -------------------------------------------------------------------


@dataclass
class _Created:
    ref: Any  # weakref to the resource, or a strong reference for loops
    owners: frozenset[int]  # id() of every ``self`` on the creating call stack
    where: str  # the creating frames of the app or the tests, innermost first
    thread: str
    test: str


@dataclass
class _TestRecord:
    nodeid: str
    loops: list[_Created] = field(default_factory=list)
    sockets: list[_Created] = field(default_factory=list)
    clients: list[_Created] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)


_lock = threading.Lock()
_current: _TestRecord | None = None
_exempt: dict[int, Any] = {}  # id -> object (held, so the id is never reused)
# Tasks already reported: when the loop later destroys them ("Task was destroyed but it is
# pending!") that is the same leak, already blamed on the test that left them.
_reported_tasks: weakref.WeakSet[asyncio.Future] = weakref.WeakSet()
_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Created] = weakref.WeakKeyDictionary()
_installed = False


def outlives_tests(obj: Any) -> Any:
    """Mark ``obj`` (a session fixture's server, client, ...) as living longer than any test:
    loops and sockets created while one of its methods runs are not a test's leak."""
    _exempt[id(obj)] = obj
    return obj


def _stack_info(skip: int = 2) -> tuple[frozenset[int], str]:
    owners = set()
    where = []
    frame = sys._getframe(skip)
    while frame is not None:
        code = frame.f_code
        if code.co_argcount and code.co_varnames[0] == "self":
            owner = frame.f_locals.get("self")
            if owner is not None:
                owners.add(id(owner))
        filename = code.co_filename
        if len(where) < 4 and _is_ours(filename):
            shown = filename[len(_REPO) + 1:] if filename.startswith(_REPO + os.sep) else filename
            where.append(f"{shown}:{frame.f_lineno} in {code.co_name}")
        frame = frame.f_back
    return frozenset(owners), " <- ".join(where) or "(no frame outside the libraries)"


def _is_ours(filename: str) -> bool:
    """Code of the app or of the tests, not of Python, a library or this guard."""
    if filename == _THIS or filename.startswith("<") or "site-packages" in filename:
        return False
    return not filename.startswith(_LIBRARY_PREFIXES)


def _is_exempt(created: _Created) -> bool:
    return not created.owners.isdisjoint(_exempt)


def _record(kind: str, obj: Any, *, strong: bool = False) -> None:
    test = _current
    if test is None:
        return
    owners, where = _stack_info(3)
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop in this thread
        task = None
    if task is not None:
        coro = task.get_coro()
        where += f", in task {task.get_name()} ({getattr(coro, '__qualname__', coro)})"
    created = _Created(obj if strong else weakref.ref(obj), owners, where, threading.current_thread().name,
                       test.nodeid)
    with _lock:
        getattr(test, kind).append(created)
        if kind == "loops":
            _loops[obj] = replace(created, ref=None)  # no reference to the loop itself


def _leak(message: str) -> None:
    test = _current
    if test is not None:
        with _lock:
            test.leaks.append(message)


# --- tasks -----------------------------------------------------------------------------------


def describe_task(task: asyncio.Future) -> str:
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    name = getattr(coro, "__qualname__", None) or type(task).__name__
    text = repr(task)
    if len(text) > 400:
        text = text[:400] + "...>"
    return f"coroutine {name}: {text}"


def _pending_tasks(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks(loop) if not t.done() and t not in _reported_tasks]


def _report_pending(loop: asyncio.AbstractEventLoop, when: str) -> list[asyncio.Task]:
    if _current is None or not _loop_is_tests(loop):
        return []
    tasks = _pending_tasks(loop)
    for task in tasks:
        _reported_tasks.add(task)
        _leak(f"task still pending {when}: {describe_task(task)}")
    return tasks


def _loop_is_tests(loop: asyncio.AbstractEventLoop) -> bool:
    """The loop was created during the current test, and not by a session object."""
    created = _loops.get(loop)
    return created is not None and _current is not None and created.test == _current.nodeid \
        and not _is_exempt(created)


def finish_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Before closing a test's loop: report its pending tasks, then cancel and await them
    (as asyncio.run does) so none of them runs or is destroyed during a later test."""
    tasks = _report_pending(loop, "when the test's event loop was closed")
    if not tasks or loop.is_closed() or loop.is_running():
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


# --- garbage: unawaited coroutines, unclosed sockets/transports, finaliser errors -----------


def collect_garbage() -> None:
    """``gc.collect()`` with warnings and unraisable exceptions captured for the current test."""
    found: list[str] = []

    def unraisable(args: sys.UnraisableHookArgs) -> None:
        what = args.err_msg or "Exception ignored in"
        found.append(f"{what}: {args.object!r}: {args.exc_type.__name__}: {args.exc_value}")

    previous = sys.unraisablehook
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sys.unraisablehook = unraisable
        try:
            for _ in range(2):
                gc.collect()
        finally:
            sys.unraisablehook = previous
    for warning in caught:
        message = str(warning.message)
        if issubclass(warning.category, RuntimeWarning) and "was never awaited" in message:
            _leak(f"coroutine never awaited: {message}")
        else:
            _leak(f"{warning.category.__name__} when garbage was collected: {message}")
    for text in found:
        _leak(f"unraisable exception when garbage was collected: {text}")


# --- the event loop's own error reports ------------------------------------------------------


def _loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if _current is None:
        return
    created = _loops.get(loop)
    if created is None or _is_exempt(created):
        return  # a loop of the session (the sandbox server's), not of any test
    task = context.get("task") or context.get("future")
    if task is not None and task in _reported_tasks:
        return  # already blamed as a pending task
    parts = [context.get("message", "unhandled error in the event loop")]
    if task is not None:
        parts.append(describe_task(task))
    exc = context.get("exception")
    if exc is not None:
        parts.append(f"exception {exc!r}")
    handle = context.get("handle")
    if handle is not None:
        parts.append(f"handle {handle!r}"[:300])
    if created.test != _current.nodeid:
        parts.append(f"on an event loop created by {created.test}")
    _leak("event loop error: " + "; ".join(parts))


# --- the test's lifetime ---------------------------------------------------------------------


def begin(nodeid: str) -> None:
    global _current
    install()
    _current = _TestRecord(nodeid)


def freeze_imports() -> None:
    """Once the tests are collected: move every object alive now (modules, hypothesis strategies,
    schemas...) to gc's permanent generation, so each test's collection scans only what the tests
    created - a full collection of the collected session costs a few hundred ms, that one a few."""
    gc.collect()
    gc.freeze()


def session_finished() -> None:
    """Let go of the session's objects: held here (or frozen) until the interpreter exits they
    would be finalised after module globals are cleared, where SandboxServer.__del__ fails."""
    _exempt.clear()
    gc.unfreeze()


def end() -> list[str]:
    """Stop recording for the current test; return what it leaked (empty when clean)."""
    global _current
    test = _current
    if test is None:
        return []
    # What is reported is then closed (best effort), so that it does not warn again - as
    # "unclosed ..." when it is collected - during a later test.
    try:
        # Loops the test created and did not close.
        for created in test.loops:
            loop = created.ref
            if _is_exempt(created) or loop.is_closed():
                continue
            _report_pending(loop, "at the end of the test")
            if not loop.is_running():
                _leak(f"event loop never closed: {loop!r} (created at {created.where})")
                with warnings.catch_warnings(), contextlib.suppress(Exception):
                    warnings.simplefilter("ignore")
                    loop.close()
        collect_garbage()
        for created in test.sockets:
            sock = created.ref()
            if sock is None or _is_exempt(created) or sock.fileno() == -1:
                continue
            _leak(f"socket still open: {sock!r} (created at {created.where}, thread {created.thread})")
            sock.close()
        for created in test.clients:
            client = created.ref()
            if client is None or _is_exempt(created) or client.is_closed:
                continue
            _leak(f"httpx.AsyncClient never closed (created at {created.where})")
    finally:
        _current = None
    return list(dict.fromkeys(test.leaks))


def report(nodeid: str, leaks: list[str]) -> str:
    lines = [f"{nodeid} leaked {len(leaks)} thing(s) (design.md, 'Lifecycle rules'):"]
    lines += [f"  - {leak}" for leak in leaks]
    return "\n".join(lines)


# --- the hooks into asyncio, socket and httpx -------------------------------------------------


def install() -> None:
    """Wrap the constructors and the loop's error reporting (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True

    base = asyncio.BaseEventLoop
    original_init = base.__init__
    original_close = base.close

    def loop_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        _record("loops", self, strong=True)

    def loop_close(self):
        if not self.is_closed() and not self.is_running():
            _report_pending(self, "when its event loop was closed")
        original_close(self)

    base.__init__ = loop_init
    base.close = loop_close

    original_cancel_all = asyncio.runners._cancel_all_tasks

    def cancel_all_tasks(loop):
        # asyncio.run / Runner cancels what the main coroutine left running: that work had no owner.
        _report_pending(loop, "when asyncio.run()/Runner finished (it had to cancel it)")
        original_cancel_all(loop)

    asyncio.runners._cancel_all_tasks = cancel_all_tasks

    def wrap_exception_handler(cls):
        original = cls.call_exception_handler

        def call_exception_handler(self, context):
            try:
                _loop_error(self, context)
            finally:
                original(self, context)

        cls.call_exception_handler = call_exception_handler

    wrap_exception_handler(base)
    try:
        import qasync
    except ImportError:  # pragma: no cover - qasync is a dependency
        pass
    else:
        wrap_exception_handler(qasync._QEventLoop)

    original_socket_init = socket.socket.__init__

    def socket_init(self, *args, **kwargs):
        original_socket_init(self, *args, **kwargs)
        _record("sockets", self)

    socket.socket.__init__ = socket_init

    try:
        import httpx
    except ImportError:  # pragma: no cover
        return
    original_client_init = httpx.AsyncClient.__init__

    def client_init(self, *args, **kwargs):
        original_client_init(self, *args, **kwargs)
        _record("clients", self)

    httpx.AsyncClient.__init__ = client_init

