"""The app's one way to make an ``httpx.AsyncClient``: a connect that a cancellation cannot leak.

httpx connects through httpcore's anyio backend, and ``anyio.connect_tcp`` leaks the socket it has
just connected when the calling task is cancelled between the connect and the return (its task
group unwinds with the cancellation and the connected stream is dropped unclosed: a "unclosed
transport" ResourceWarning, and an open socket until the garbage collector finds it). A request is
cancelled exactly then whenever the user presses Cancel, or closes the window, while it connects.

So every connect runs in a task of its own that no caller's cancellation reaches: the caller stops
waiting at once for a cancellation it can honour, and otherwise (it was cancelled) the connect is
allowed to finish — bounded by the connect timeout — and whatever it opened is closed before the
cancellation goes on. Everything else is httpx's own client, environment proxies included.
"""

from __future__ import annotations

import asyncio
import typing
from typing import Any

import httpx
import httpcore


class CancelSafeBackend(httpcore.AsyncNetworkBackend):
    """Wraps httpcore's network backend so a cancelled connect never leaves a socket open."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend):
        self.inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        connecting = asyncio.ensure_future(self.inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options))
        try:
            return await asyncio.shield(connecting)
        except asyncio.CancelledError:
            await _close_when_connected(connecting)
            raise

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - not used on TCP
        return await self.inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def _close_when_connected(connecting: asyncio.Future) -> None:
    """Wait for the connect to end (it has its own timeout) however often we are cancelled meanwhile,
    then close what it opened. Nothing of it is left pending or open."""
    while not connecting.done():
        try:
            await asyncio.shield(connecting)
        except asyncio.CancelledError:
            continue
        except Exception:  # noqa: BLE001 - the connect failed: nothing was opened
            return
    if connecting.cancelled() or connecting.exception() is not None:
        return
    stream = connecting.result()
    try:
        await asyncio.shield(stream.aclose())
    except asyncio.CancelledError:
        pass


def _pools(client: httpx.AsyncClient) -> list[Any]:
    transports = [client._transport, *client._mounts.values()]  # noqa: SLF001 - see make_client
    return [t._pool for t in transports if t is not None and hasattr(t, "_pool")]  # noqa: SLF001


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` (``kwargs`` as for it) whose connects are cancel-safe.

    The backend is set on each of the client's connection pools (httpx has no public option for it);
    ``is_cancel_safe`` checks that it took, and a test runs it on every httpx the lock allows."""
    client = httpx.AsyncClient(**kwargs)
    for pool in _pools(client):
        pool._network_backend = CancelSafeBackend(pool._network_backend)  # noqa: SLF001
    return client


def is_cancel_safe(client: httpx.AsyncClient) -> bool:
    pools = _pools(client)
    return bool(pools) and all(isinstance(p._network_backend, CancelSafeBackend) for p in pools)  # noqa: SLF001
