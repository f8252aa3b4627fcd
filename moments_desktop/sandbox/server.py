"""Run the sandbox on a background thread, for the Qt app and for tests.

    with SandboxServer() as server:        # or: url = server.start(); ...; server.stop()
        httpx.post(server.base_url + "/GetRewardInfo", ...)

The server binds its socket itself (port 0 picks a free port), then runs uvicorn on a
daemon thread with its own asyncio loop: no signal handlers, lifespan off, access log
off, and no change to the process's logging configuration. Its protocol bounds bodies,
connections and their idle time (see protocol.py); running out of file handles anyway is
logged once per interval, not once per failed accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import secrets
import socket
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn

from moments_desktop.sandbox.app import create_app
from moments_desktop.sandbox.catalog import Catalog, load_catalog, load_default_catalog
from moments_desktop.sandbox.protocol import Limits, SandboxH11Protocol, ThrottledLog

STARTUP_TIMEOUT = 5.0
STOP_TIMEOUT = 10.0
# How long stop() lets in-flight requests (e.g. a latency fault) finish before cancelling them.
GRACEFUL_SECONDS = 1
# asyncio logs these from accept() with a traceback, up to a backlog's worth per turn of the loop
# (75,530 lines in seconds at 256 file handles): the sandbox logs them once per interval.
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class SandboxStartError(RuntimeError):
    """The sandbox could not start (port in use, bad address, ...)."""


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event):
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Latency and slow-drip faults drop their connections now instead of being
        # cancelled by uvicorn after the grace period (which would log an error and send 500).
        stopping = getattr(getattr(self.config.app, "state", None), "stopping", None)
        if stopping is not None:
            stopping.set()
        await super().shutdown(sockets=sockets)


class SandboxServer:
    def __init__(
        self,
        catalog_path: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        catalog: Catalog | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
        limits: Limits | None = None,
        admin_token: str | None = None,
        sock: socket.socket | None = None,
    ):
        self.catalog_path = Path(catalog_path) if catalog_path is not None else None
        self.host = host
        self.port = port
        self._catalog = catalog
        self.startup_timeout = startup_timeout
        self.limits = limits if limits is not None else Limits()
        self.resource_log = ThrottledLog()
        # The local admin token: whoever presents it (x-sandbox-admin-token) sees the catalog's API keys.
        # Made here, fresh for each server unless given; printed by moments-sandbox, held by the app.
        self.admin_token = admin_token if admin_token is not None else secrets.token_urlsafe(24)
        # A socket bound (and possibly listening) already, e.g. by the app before its window (its URL known at
        # once, calls waiting in its backlog until the server accepts): served instead of binding one; once.
        self._sock = sock
        if sock is not None:
            self.host, self.port = sock.getsockname()[:2]
        self._thread: threading.Thread | None = None
        self._server: _Server | None = None
        self._base_url: str | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("The sandbox is not running; call start() first.")
        return self._base_url

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> str:
        """Start serving; return the base URL, e.g. ``http://127.0.0.1:54321``.

        Raises CatalogError for a bad catalog file and SandboxStartError if the server
        cannot listen or does not become ready within ``startup_timeout`` seconds.
        """
        if self._thread is not None:
            raise RuntimeError("The sandbox is already running.")
        catalog = self._catalog
        if catalog is None:
            catalog = load_catalog(self.catalog_path) if self.catalog_path else load_default_catalog()
        sock, self._sock = (self._sock, None) if self._sock is not None else (self._bind(), None)
        port = sock.getsockname()[1]
        host = self.host
        url_host = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::"):
            url_host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"

        config = uvicorn.Config(
            create_app(catalog, admin_token=self.admin_token, bind_host=host),
            host=host,
            port=port,
            http=functools.partial(SandboxH11Protocol, limits=self.limits, resource_log=self.resource_log),
            ws="none",
            lifespan="off",
            access_log=False,
            log_level="warning",  # no "Started server process" chatter from a thread
            log_config=None,  # leave the host application's logging alone
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            backlog=self.limits.accept_backlog,
        )
        ready = threading.Event()
        self._error = None
        self._server = _Server(config, ready)
        self._thread = threading.Thread(
            target=self._run, args=(self._server, sock), name=f"moments-sandbox-{port}", daemon=True
        )
        self._thread.start()
        if not ready.wait(self.startup_timeout) or self._error is not None or not self._server.started:
            error = self._error
            self.stop()
            sock.close()
            detail = f": {error}" if error else f" within {self.startup_timeout:g} seconds"
            raise SandboxStartError(f"The sandbox did not start on {host}:{port}{detail}") from error
        self._base_url = f"http://{url_host}:{port}"
        return self._base_url

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when
        # proto == IPPROTO_TCP. With proto 0, Nagle + delayed ACK add ~40 ms to every
        # keep-alive response (headers and body are written separately).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            if sys.platform != "win32":  # on Windows SO_REUSEADDR lets another process steal the port
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise SandboxStartError(
                f"Cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from exc
        sock.set_inheritable(False)
        return sock

    def _run(self, server: _Server, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self._loop_exception)
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        except BaseException as exc:  # noqa: BLE001 - reported by start(); a thread must not die silently
            self._error = exc
        finally:
            server._ready.set()  # wake start() if serving never began
            try:
                self._close_leftovers(loop, server)
            finally:
                asyncio.set_event_loop(None)
                loop.close()
                sock.close()

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in RESOURCE_ERRNOS:
            self.resource_log.warning(
                "resources", f"The sandbox is short of a system resource ({error.strerror or error}): "
                "new connections wait until some close"
            )
            return
        loop.default_exception_handler(context)

    @staticmethod
    def _close_leftovers(loop: asyncio.AbstractEventLoop, server: _Server) -> None:
        """Abort connections uvicorn's graceful shutdown left open, cancel leftover tasks."""
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.abort()
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(asyncio.sleep(0))  # let connection_lost callbacks run
        loop.run_until_complete(loop.shutdown_asyncgens())

    def stop(self) -> None:
        """Stop serving and join the thread. Safe to call more than once."""
        thread, server = self._thread, self._server
        if thread is None or server is None:
            return
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():  # pragma: no cover - only if a handler blocks the loop
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        self._thread = None
        self._server = None
        self._base_url = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __del__(self) -> None:  # a forgotten server should not keep a port busy forever
        with contextlib.suppress(Exception):
            if self._server is not None:
                self._server.should_exit = True
