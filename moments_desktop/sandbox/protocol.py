"""The sandbox's uvicorn h11 protocol: the app reaches the TCP transport, and no client can
exhaust the process (memory, file handles, the log).

Fault injection needs to close a connection *without any HTTP response*: if an ASGI app
raises or returns before responding, uvicorn answers 500 instead. With the transport
in the scope (``scope["extensions"][TRANSPORT_KEY]``) the app can close the socket
itself, then wait for uvicorn to notice the disconnect so it sends nothing.

What a client can no longer do (each found by probing the sandbox on loopback):
- send a huge body: a declared length over ``max_body_bytes`` is answered 413 before any of it
  is read; a chunked body is counted while it is read and refused as soon as it passes the
  limit. The app only ever sees a complete body of at most ``max_body_bytes``.
- hold a connection without a request: a connection must deliver a complete request head
  within ``head_timeout`` of opening or of its previous response (uvicorn's own keep-alive
  timeout starts only after a first response, and a single byte cancels it); the body must
  follow within ``body_timeout``. A deliberately slow *response* (latency, slow-drip faults)
  has no deadline: that is the server being slow, not the client.
- open connections without bound: beyond ``max_connections`` (derived from the file-handle
  limit) a new connection first displaces the longest-idle one (no request in progress), and is
  closed at once when there is none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

TRANSPORT_KEY = "moments_desktop.sandbox.transport"

# [assumed] API Gateway's own payload limit is 10 MB and its 413 text is not public. A Moments
# body is five short strings (< 1 KiB); 64 KiB leaves room for any honest client.
MAX_BODY_BYTES = 64 * 1024
TOO_LARGE = {"message": "Request Entity Too Large"}  # [assumed]
REQUEST_TIMEOUT = {"message": "Request Timeout"}  # [assumed]
HEAD_TIMEOUT = 5.0  # [assumed] seconds for a request head, from connect or the previous response
BODY_TIMEOUT = 5.0  # [assumed] seconds for the whole body once the head is in (64 KiB at most)
# After an early answer (413) the rest of the body is read and dropped, so the client sees the
# answer rather than a reset; for at most this long, then the connection is closed.
LINGER_SECONDS = 5.0  # [assumed]
RESOURCE_LOG_INTERVAL = 10.0  # one log line per kind of resource problem per this many seconds
# File handles kept free for everything else in the process (the desktop app's files, sockets,
# Qt); half of the rest may be connections: in the app each loopback call costs two handles.
FD_RESERVE = 64
MIN_CONNECTIONS, MAX_CONNECTIONS = 16, 4096

logger = logging.getLogger("moments_desktop.sandbox")


def default_max_connections() -> int:
    """How many connections the sandbox keeps at once, from RLIMIT_NOFILE (512 where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return 512
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return MAX_CONNECTIONS
    return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, (soft - FD_RESERVE) // 2))


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = MAX_BODY_BYTES
    head_timeout: float = HEAD_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    linger_seconds: float = LINGER_SECONDS
    max_connections: int = field(default_factory=default_max_connections)

    @property
    def accept_backlog(self) -> int:
        """Connections accepted per event-loop turn (and the listen backlog): a closed connection
        frees its handle only on a later turn, so a burst must fit in the handles left."""
        return max(MIN_CONNECTIONS, min(2048, self.max_connections // 2))


class ThrottledLog:
    """Log a recurring problem at most once per ``interval`` per key, counting what it held back."""

    def __init__(self, log: logging.Logger = logger, interval: float = RESOURCE_LOG_INTERVAL,
                 clock: Any = time.monotonic):
        self._log = log
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, key: str, message: str) -> bool:
        """Log ``message`` unless ``key`` was logged within the interval; True when it was logged."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            message += f" ({held} more like this since the last report, not logged)"
        self._log.warning("%s", message)
        return True


class SandboxH11Protocol(H11Protocol):
    def __init__(self, *args: Any, limits: Limits | None = None, resource_log: ThrottledLog | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits if limits is not None else Limits()
        self.resource_log = resource_log if resource_log is not None else ThrottledLog()
        # The deadline the connection's state calls for ("head" or "linger", None: none), and when it is due.
        # The timer (_deadline) may be armed for an earlier time than that (see _start_wait).
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_kind: str | None = None
        self._deadline_at = 0.0
        self._idle_since = 0.0
        self._refused = False
        inner = self.app

        async def sandbox_app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[TRANSPORT_KEY] = self.transport
            if scope["type"] == "http":
                declared = _content_length(scope["headers"])
                if (declared is None or declared > self.limits.max_body_bytes
                        or self.conn.their_state not in _REQUEST_RECEIVED):
                    await self._with_bounded_body(inner, scope, receive, send, declared)
                    return
                # The usual case: head and body came in one segment. h11 has the whole body, exactly the
                # declared length (within the limit): the app reads it without waiting for the client, so
                # there is nothing to bound and no deadline to arm.
            await inner(scope, receive, send)

        self.app = sandbox_app

    # --- connections: bounded in number, closed when they send nothing --------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections and not self._make_room():
            self._refused = True
            self.transport = transport
            transport.close()
            self.resource_log.warning(
                "connections",
                f"The sandbox refused a connection: {self.limits.max_connections} connections are open "
                "and none is idle",
            )
            return
        super().connection_made(transport)
        self._idle_since = self.loop.time()
        self._start_wait()

    def _make_room(self) -> bool:
        """Close the longest-idle connection if the limit is reached; False if every one is busy."""
        open_ones = [c for c in self.connections if not c.transport.is_closing()]
        if len(open_ones) < self.limits.max_connections:
            return True  # some are closing already and free their handles on the next turn
        idle = [c for c in open_ones if isinstance(c, SandboxH11Protocol) and c._waiting_for_head()]
        if not idle:
            return False
        min(idle, key=lambda c: c._idle_since)._close("displaced")
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        # Bytes never extend a deadline (a byte a second is no head), and one that a request's head ended
        # is found out by the timer itself; only the end of lingering starts a new wait: for the next head.
        if self._deadline_kind == "linger" and self._wait_kind() != "linger":
            self._start_wait()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._idle_since = self.loop.time()
        self._start_wait()

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete)

    def _wait_kind(self) -> str | None:
        """What the connection waits for from the client, with a deadline: "head" (nothing yet, part of a
        head, or idle between keep-alive requests), "linger" (answered early, 413: the rest of the body
        is being dropped), or None (a request is being answered: no deadline, however slow)."""
        if self._waiting_for_head():
            return "head"
        if self.conn.their_state is h11.SEND_BODY and self.conn.our_state in (h11.DONE, h11.MUST_CLOSE):
            return "linger"
        return None

    def _start_wait(self) -> None:
        """A wait may start (the connection opened, an answer was sent, lingering ended): its deadline runs
        from now.

        Every keep-alive request goes from waiting for a head to being answered and back, so the timer is
        not cancelled and re-armed per request (a heap push and a cancelled handle each): one armed for an
        earlier time is kept, and when it fires (_deadline_due) it closes the connection only if the
        deadline is due and the connection still waits as it did, else re-arms itself for the due time."""
        if self.transport is None or self.transport.is_closing():
            self._cancel_deadline()
            return
        kind = self._wait_kind()
        self._deadline_kind = kind
        if kind is None:
            return  # a timer still armed finds nothing to enforce when it fires
        seconds = self.limits.head_timeout if kind == "head" else self.limits.linger_seconds
        self._deadline_at = self.loop.time() + seconds
        timer = self._deadline
        if timer is not None and timer.when() <= self._deadline_at:
            return  # fires first, then re-arms for _deadline_at
        if timer is not None:
            timer.cancel()
        self._deadline = self.loop.call_at(self._deadline_at, self._deadline_due)

    def _deadline_due(self) -> None:
        timer, self._deadline = self._deadline, None
        kind = self._deadline_kind
        if kind is None or timer is None:
            return
        if self._deadline_at > timer.when():  # armed for an earlier wait: this one is due later
            self._deadline = self.loop.call_at(self._deadline_at, self._deadline_due)
        elif self._wait_kind() == kind:
            self._close(kind)
        else:
            self._deadline_kind = None  # that wait ended in time (a head came); the next one re-arms

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._deadline_kind = None

    def _close(self, why: str) -> None:
        self._cancel_deadline()
        if self.transport.is_closing():
            return
        logger.debug("closing a connection: %s", why)
        with contextlib.suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()

    # --- the request body: bounded in size and in time -----------------------------------------

    async def _with_bounded_body(self, inner: Any, scope: Any, receive: Any, send: Any,
                                 declared: int | None) -> None:
        """Read the body (``declared``: its Content-Length, None when chunked) within the size limit and the
        body deadline, then run the app with it."""
        limit = self.limits.max_body_bytes
        if declared is not None and declared > limit:
            await _send_json(send, 413, TOO_LARGE)  # before reading any of it (and no 100 Continue)
            return
        try:
            # Not asyncio.wait_for, which runs the read as a task of its own.
            async with asyncio.timeout(self.limits.body_timeout):
                body = await _read_body(receive, limit)
        except TimeoutError:
            await _send_json(send, 408, REQUEST_TIMEOUT, close=True)
            return
        if body is None:
            return  # the client left: nobody to answer
        if body is _OVER_LIMIT:
            await _send_json(send, 413, TOO_LARGE)
            return
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: http.disconnect when the client leaves

        await inner(scope, replay, send)


_OVER_LIMIT = object()
# h11's states of the client once its whole request (head, body, end of message) has been parsed.
_REQUEST_RECEIVED = (h11.DONE, h11.MUST_CLOSE)


async def _read_body(receive: Any, limit: int) -> Any:
    """The whole body; ``_OVER_LIMIT`` as soon as it passes ``limit``; None if the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _OVER_LIMIT
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)  # h11 has already refused a malformed one
            except ValueError:
                return None
    return None


async def _send_json(send: Any, status: int, payload: Any, close: bool = False) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def transport_of(scope: dict) -> asyncio.Transport | None:
    return (scope.get("extensions") or {}).get(TRANSPORT_KEY)
