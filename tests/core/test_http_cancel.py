"""make_client: a request cancelled at any moment of its connect leaves no socket open.

httpx's own client leaks the socket when the cancellation lands between anyio's connect and its
return (see core/http.py); the app cancels requests exactly then (Cancel, closing the window)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings

import httpx

from moments_desktop.core.http import is_cancel_safe, make_client

# Cancel after 0, 1, 2, ... turns of the loop: sweeps every point of connect, send and read.
TURNS = range(0, 40)


def cancelled_at_every_turn(factory, url: str) -> list[str]:
    """Run the sweep on a fresh loop; the ResourceWarnings it left (unclosed sockets, transports)."""
    async def sweep() -> None:
        async with factory() as http:
            for turns in TURNS:
                task = asyncio.ensure_future(http.get(url))
                for _ in range(turns):
                    await asyncio.sleep(0)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await asyncio.sleep(0)  # the closed transports' connection_lost callbacks

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(sweep())
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_every_pool_of_the_client_gets_the_cancel_safe_backend():
    async def check() -> None:
        async with make_client() as http:
            assert is_cancel_safe(http)
        async with httpx.AsyncClient() as plain:
            assert not is_cancel_safe(plain)

    asyncio.run(check())


def test_a_request_cancelled_anywhere_in_its_connect_leaves_nothing_open(sandbox):
    assert cancelled_at_every_turn(make_client, sandbox.base_url + "/__sandbox/catalog") == []


def test_a_cancelled_request_still_completes_after_the_sweep(sandbox):
    async def after_cancel() -> int:
        async with make_client() as http:
            task = asyncio.ensure_future(http.get(sandbox.base_url + "/__sandbox/catalog"))
            await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return (await http.get(sandbox.base_url + "/__sandbox/catalog")).status_code

    assert asyncio.run(after_cancel()) == 200
