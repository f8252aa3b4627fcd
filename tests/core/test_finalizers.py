"""finish_async_generator_finalizers (Session.aclose): the suspended async generators of a finished request
are collected and closed before the loop stops, and no full collection is paid when none is alive (it was most
of a `moments info`'s close)."""

from __future__ import annotations

import asyncio
import gc
import sys

import pytest

from moments_desktop.core import tasks
from moments_desktop.core.tasks import finish_async_generator_finalizers


@pytest.fixture
def collections(monkeypatch) -> list[int]:
    done: list[int] = []
    real = gc.collect

    def counting(*args: int) -> int:
        done.append(1)
        return real(*args)

    monkeypatch.setattr(tasks.gc, "collect", counting)
    return done


def test_no_collection_when_the_loop_holds_no_async_generator(collections):
    async def close() -> None:
        async def finished():
            yield 1

        assert [item async for item in finished()] == [1]  # ran to its end: freed, nothing to finalize
        await finish_async_generator_finalizers()

    asyncio.run(close())
    assert collections == []


def test_a_suspended_generator_left_in_a_cycle_is_collected_and_closed(collections):
    closed: list[str] = []

    async def close() -> None:
        async def body(holder: list):
            try:
                yield b"first chunk"
            finally:
                await asyncio.sleep(0)  # closing it needs the loop: asyncio's finalizer gives it a task
                closed.append("closed")

        holder: list = []
        stream = body(holder)
        holder.append(stream)  # a reference cycle: only a collection frees it
        assert await stream.__anext__() == b"first chunk"
        del stream, holder
        await finish_async_generator_finalizers()
        assert closed == ["closed"]
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(close())
    assert collections  # it was collected, not left for later


def test_a_loop_whose_hooks_are_not_installed_is_always_collected(collections):
    """qasync's loop installs no async-generator hooks, so its generators are not tracked: collect as before."""
    async def close() -> None:
        hooks = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(firstiter=None, finalizer=None)
        try:
            await finish_async_generator_finalizers()
        finally:
            sys.set_asyncgen_hooks(*hooks)

    asyncio.run(close())
    assert collections
