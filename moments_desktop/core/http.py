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

The client's TLS context is built when the first https connection is made, not with the client: httpx
builds it in the constructor (loading certifi's CA bundle, ~25 ms, an eighth of a `moments info`), and a
call to a sandbox on this computer is plain http and never needs it. What is built then is exactly what
httpx would have built (``httpx.create_ssl_context`` with the same arguments: verification on, and
SSL_CERT_FILE / SSL_CERT_DIR honoured when ``trust_env``), so https is verified as before.
"""

from __future__ import annotations

import asyncio
import ssl
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


class TLSContextOnFirstUse:
    """Stands for httpx's SSL context until something uses it, then builds it and forwards everything to it.

    Handed to httpx as ``verify``: httpx keeps a context it is given as it is, and so passes this one to each
    of the client's pools, proxies' included. httpcore touches it only to connect over TLS (it sets the ALPN
    protocols on it, then anyio wraps the socket with it): the first such touch builds the real context, with
    httpx's own ``create_ssl_context`` and the arguments it would have been built with. Nothing can use this
    object without going through the real, verifying context."""

    def __init__(self, *, trust_env: bool = True):
        self._trust_env = trust_env
        self._context: ssl.SSLContext | None = None

    @property
    def built(self) -> bool:
        return self._context is not None

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = httpx.create_ssl_context(verify=True, trust_env=self._trust_env)
        return self._context

    def __getattr__(self, name: str) -> Any:  # only for what this class does not define
        if name.startswith("__") or name in ("_context", "_trust_env"):  # copy/pickle probes, a half-built self
            raise AttributeError(name)
        return getattr(self.context(), name)


def _pools(client: httpx.AsyncClient) -> list[Any]:
    transports = [client._transport, *client._mounts.values()]  # noqa: SLF001 - see make_client
    return [t._pool for t in transports if t is not None and hasattr(t, "_pool")]  # noqa: SLF001


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` (``kwargs`` as for it) whose connects are cancel-safe.

    The backend is set on each of the client's connection pools (httpx has no public option for it);
    ``is_cancel_safe`` checks that it took, and a test runs it on every httpx the lock allows.
    With the default ``verify`` (True), the TLS context is built on the first https connection
    (``TLSContextOnFirstUse``); any other ``verify`` or a ``cert`` is httpx's as given."""
    if kwargs.get("verify", True) is True and kwargs.get("cert") is None:
        kwargs["verify"] = TLSContextOnFirstUse(trust_env=kwargs.get("trust_env", True))
    client = httpx.AsyncClient(**kwargs)
    for pool in _pools(client):
        pool._network_backend = CancelSafeBackend(pool._network_backend)  # noqa: SLF001
    return client


def is_cancel_safe(client: httpx.AsyncClient) -> bool:
    pools = _pools(client)
    return bool(pools) and all(isinstance(p._network_backend, CancelSafeBackend) for p in pools)  # noqa: SLF001
