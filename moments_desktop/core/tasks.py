"""TaskOwner: every asyncio task of a component belongs to one owner that cancels and awaits it.

The owner is made on the loop that will run its tasks (inside the running loop, by the bridge or
the CLI) and remembers it, so a task started from a Qt slot between two turns of the loop still
lands on that loop and is still owned. ``aclose()`` refuses new tasks, cancels the running ones
and awaits every one of them, so when it returns nothing of the owner is pending: no task left
for a closed loop to destroy, no coroutine that was never awaited.

A task's own exception is logged (never "Task exception was never retrieved" on stderr): the
component that started it turns the errors it expects into messages itself.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from . import errorlog

T = TypeVar("T")


class TaskOwner:
    def __init__(self, name: str, loop: asyncio.AbstractEventLoop | None = None):
        """``loop`` defaults to the running loop: build the owner inside it."""
        self.name = name
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError(f"{name}: a TaskOwner binds to the running event loop; build it (and the "
                                   "window) inside the loop") from None
        self._loop = loop
        self._tasks: set[asyncio.Task] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T] | None:
        """Run ``coro`` as an owned task; None (and the coroutine closed, never leaked) once closed."""
        if self._closed or self._loop.is_closed():
            coro.close()
            return None
        task = self._loop.create_task(coro, name=f"{self.name}: {name}" if name else None)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()  # retrieved, so asyncio never reports it as unretrieved
        if exc is not None:
            errorlog.log_exception(exc, f"{self.name}: task {task.get_name()}")

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def stop(self) -> None:
        """Refuse new tasks and cancel the running ones now; ``aclose()`` then waits for them to end."""
        self._closed = True
        self.cancel_all()

    async def aclose(self) -> None:
        """Refuse new tasks, cancel the running ones and wait until every one has ended."""
        self._closed = True
        current = asyncio.current_task()
        while tasks := [t for t in self._tasks if t is not current]:
            for task in tasks:
                task.cancel()
            # return_exceptions: their cancellation or error is reported by _finished; our own
            # cancellation still propagates.
            await asyncio.gather(*tasks, return_exceptions=True)


class ThreadJobs:
    """Blocking calls in worker threads, tracked until their threads are done.

    Cancelling the coroutine that awaits a job stops the waiting, not the thread: the call runs on
    to its end. ``wait_idle()`` waits for every job still running, so whoever closes a resource the
    jobs use (the journal's SQLite connection) never closes it under a running call.
    """

    def __init__(self) -> None:
        self._jobs: set[asyncio.Future] = set()

    def __len__(self) -> int:
        return len(self._jobs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        job = asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))
        self._jobs.add(job)
        job.add_done_callback(self._finished)
        # Shielded: a cancelled caller must not mark the job done while its thread still runs.
        return await asyncio.shield(job)

    def _finished(self, job: asyncio.Future) -> None:
        self._jobs.discard(job)
        if not job.cancelled():
            job.exception()  # retrieved: the caller (if still waiting) got it; else it is moot

    async def wait_idle(self) -> None:
        while self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)


class DetachedJobs:
    """Blocking calls that may never return, each on a daemon thread of its own: a keychain call waiting
    on an unlock prompt nobody answers blocks for as long as the prompt stays open.

    ``wait_idle(timeout)`` waits for them only that long, then abandons the rest. That is safe for what
    runs here: a keychain call writes nothing of ours (no journal, no file), so leaving it behind loses
    nothing; and a daemon thread neither holds the interpreter's exit nor the default executor's shutdown,
    which is what kept the process alive after the window had closed.
    """

    def __init__(self, name: str = "keychain") -> None:
        self.name = name
        self._jobs: set[asyncio.Future] = set()

    def __len__(self) -> int:
        return len(self._jobs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        job: asyncio.Future = loop.create_future()

        def settle(setter: Callable[[Any], None], value: Any) -> None:
            if not job.done():  # abandoned (cancelled) meanwhile: the answer is moot
                setter(value)

        def work() -> None:
            try:
                outcome: tuple[Callable[[Any], None], Any] = (job.set_result, fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                outcome = (job.set_exception, exc)
            try:
                loop.call_soon_threadsafe(settle, *outcome)
            except RuntimeError:  # the loop has closed: nobody waits for this answer any more
                pass

        self._jobs.add(job)
        job.add_done_callback(self._finished)
        threading.Thread(target=work, name=f"{self.name}: {getattr(fn, '__name__', 'call')}", daemon=True).start()
        # Shielded: a cancelled caller stops waiting; the job stays tracked until its thread answers.
        return await asyncio.shield(job)

    def _finished(self, job: asyncio.Future) -> None:
        self._jobs.discard(job)
        if not job.cancelled():
            job.exception()  # retrieved: the caller (if still waiting) got it; else it is moot

    async def wait_idle(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the running jobs; abandon the rest. How many were abandoned."""
        jobs = set(self._jobs)
        if not jobs:
            return 0
        _done, pending = await asyncio.wait(jobs, timeout=timeout)
        for job in pending:
            job.cancel()  # its thread runs on, a daemon; its answer finds the job done and is dropped
        return len(pending)


MAX_FINALIZER_ROUNDS = 16


async def finish_async_generator_finalizers() -> None:
    """Let asyncio finish closing the async generators a finished request left suspended.

    httpx and httpcore hand a response body through nested async generators; a read that stops early
    (the size cap) or a chunked body leaves the inner ones suspended, and asyncio closes each with a
    task of its own once it is collected (its async-generator finalizer hook). Collect them now and
    await those tasks, so nothing of a finished request is still pending when the loop stops.
    """
    current = asyncio.current_task()
    loop = asyncio.get_running_loop()
    # Closing an outer generator frees the one it was iterating, which gets a task of its own: go on
    # until a round finds none (the nesting is a handful deep; the bound only guards against a cycle).
    for _round in range(MAX_FINALIZER_ROUNDS):
        if _may_hold_async_generators(loop):
            gc.collect()
        await asyncio.sleep(0)  # the hook schedules each task with call_soon: let it be created
        closing = [t for t in asyncio.all_tasks() if t is not current
                   and type(t.get_coro()).__name__ == "async_generator_athrow"]
        if not closing:
            return
        await asyncio.gather(*closing, return_exceptions=True)


def _may_hold_async_generators(loop: asyncio.AbstractEventLoop) -> bool:
    """False only when no async generator of ``loop`` is alive, so none can be finalized later and the full
    collection (tens of milliseconds in a process that imported much: most of a `moments info`'s close) is
    not needed. Known when the loop's own hooks are installed (``asyncio.run``; qasync installs none): asyncio
    then keeps every generator first iterated on the loop in a weak set until it is finalized. Otherwise,
    and on a loop without that set, assume there are some."""
    finalizer = sys.get_asyncgen_hooks().finalizer
    if getattr(finalizer, "__self__", None) is not loop:
        return True
    tracked = getattr(loop, "_asyncgens", None)
    return tracked is None or len(tracked) > 0
