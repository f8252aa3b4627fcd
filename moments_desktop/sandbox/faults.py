"""Fault injection: what a fault is, how one is parsed, and the responses that misbehave.

Faults are added through ``POST /__sandbox/faults`` and apply to the next ``times``
requests to one endpoint (``GetReward``, ``GetRewardInfo`` or ``images``), or to every
request until cleared when ``times`` is absent. The first active fault for an endpoint
wins. A fault with ``match`` (request body field -> exact value) applies only to requests whose
body holds those values, so a tool can fault its own call without hitting anyone else's. See
CATALOG.md for the table of kinds.
"""

from __future__ import annotations

import asyncio
import json
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

from moments_desktop.api_schema import BODY_FIELDS, Endpoint
from moments_desktop.sandbox.protocol import transport_of

# What a fault can target: the two API endpoints (by their names, e.g. "GetReward") or the
# sandbox's reward images.
ENDPOINT_IMAGES = "images"
ENDPOINTS: tuple[str, ...] = (Endpoint.GET_REWARD, Endpoint.GET_REWARD_INFO, ENDPOINT_IMAGES)

LATENCY = "latency"
STATUS = "status"
MALFORMED = "malformed"
TRUNCATED = "truncated"
DROP_BEFORE_READ = "drop_before_read"
DROP_AFTER_READ = "drop_after_read"
SLOW_DRIP = "slow_drip"
OVERSIZED = "oversized"
WRONG_TYPE = "wrong_type"
KINDS = (
    LATENCY,
    STATUS,
    MALFORMED,
    TRUNCATED,
    DROP_BEFORE_READ,
    DROP_AFTER_READ,
    SLOW_DRIP,
    OVERSIZED,
    WRONG_TYPE,
)

DEFAULT_OVERSIZED_BYTES = 5 * 1024 * 1024
MAX_OVERSIZED_BYTES = 512 * 1024 * 1024
MAX_SECONDS = 600.0
# How an oversized body is framed on the wire:
# - length: an exact Content-Length (the client can refuse before reading);
# - chunked: no Content-Length at all (the client only finds out by counting);
# - gzip: Content-Encoding gzip with the Content-Length of the compressed bytes, which
#   understates the decoded size a thousandfold (a "zip bomb").
FRAMINGS = ("length", "chunked", "gzip")
# A `status` fault's raw `text` body (a gateway's HTML page, plain text) is sent as this
# content type unless `content_type` says otherwise.
DEFAULT_TEXT_TYPE = "text/html; charset=utf-8"

# kind -> {param: (validator, default)}; a default of None means "optional, no default".
_Number = "number"
_Int = "int"
_Bool = "bool"
_Json = "json"
_Text = "text"
_Headers = "headers"
_PARAMS: dict[str, dict[str, tuple[str, Any]]] = {
    LATENCY: {"seconds": (_Number, 2.0)},
    STATUS: {
        "status": (_Int, None),
        "body": (_Json, None),
        "text": (_Text, None),
        "content_type": (_Text, None),
        "headers": (_Headers, None),
        "consume": (_Bool, False),
        # A careless gateway that quotes the request's x-api-key back in its error (message and a header).
        "echo_key": (_Bool, False),
    },
    MALFORMED: {},
    TRUNCATED: {},
    DROP_BEFORE_READ: {},
    DROP_AFTER_READ: {},
    SLOW_DRIP: {"seconds": (_Number, 3.0), "chunk_bytes": (_Int, 4)},
    OVERSIZED: {"bytes": (_Int, DEFAULT_OVERSIZED_BYTES), "framing": (_Text, None)},
    WRONG_TYPE: {},
}


class FaultError(ValueError):
    """A fault request that cannot be honoured; the message says why."""


@dataclass
class Fault:
    id: str
    endpoint: str
    kind: str
    times: int | None  # None: until cleared
    params: dict[str, Any] = field(default_factory=dict)
    applied: int = 0
    match: dict[str, str] | None = None  # body field -> value a request must hold; None: every request

    def matches(self, body: Any) -> bool:
        """Whether a request with this parsed body (None: not read, or not an object) is one this
        fault applies to."""
        if self.match is None:
            return True
        return isinstance(body, dict) and all(body.get(k) == v for k, v in self.match.items())

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else self.times - self.applied

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.applied >= self.times

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "kind": self.kind,
            "times": self.times,
            "remaining": self.remaining,
            "applied": self.applied,
            "params": dict(self.params),
            "match": dict(self.match) if self.match is not None else None,
        }


def parse_fault(data: Any, fault_id: str) -> Fault:
    if not isinstance(data, dict):
        raise FaultError("the body must be a JSON object with 'endpoint' and 'kind'")
    data = dict(data)
    endpoint = data.pop("endpoint", None)
    kind = data.pop("kind", None)
    times = data.pop("times", None)
    match = data.pop("match", None)
    if endpoint not in ENDPOINTS:
        raise FaultError(f"'endpoint' must be one of {', '.join(ENDPOINTS)}")
    if kind not in KINDS:
        raise FaultError(f"'kind' must be one of {', '.join(KINDS)}")
    if kind == WRONG_TYPE and endpoint != ENDPOINT_IMAGES:
        raise FaultError("'wrong_type' applies to the images endpoint only")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise FaultError("'times' must be a whole number, at least 1 (leave it out for 'until cleared')")
    if match is not None:
        match = _check_match(match, endpoint, kind)
    spec = _PARAMS[kind]
    unknown = sorted(set(data) - set(spec))
    if unknown:
        allowed = ", ".join(sorted(spec)) or "none"
        raise FaultError(f"unknown parameter(s) {', '.join(unknown)} for {kind!r} (allowed: {allowed})")
    params: dict[str, Any] = {}
    for name, (kind_of_value, default) in spec.items():
        if name not in data:
            if default is not None:
                params[name] = default
            continue
        params[name] = _check_param(name, kind_of_value, data[name])
    if kind == STATUS:
        if "status" not in params:
            raise FaultError("'status' faults need a 'status' code, e.g. 502")
        if not 100 <= params["status"] <= 599:
            raise FaultError("'status' must be an HTTP status code between 100 and 599")
        if "text" in params and "body" in params:
            raise FaultError("give either 'body' (sent as JSON) or 'text' (sent as it is), not both")
        if params.get("echo_key") and ("text" in params or "body" in params):
            raise FaultError("'echo_key' writes the body itself; leave out 'body' and 'text'")
        if "content_type" in params and "text" not in params:
            raise FaultError("'content_type' goes with 'text' ('body' is always application/json)")
    if kind == SLOW_DRIP and not 1 <= params["chunk_bytes"] <= 65536:
        raise FaultError("'chunk_bytes' must be between 1 and 65536")
    if kind == OVERSIZED and not 1 <= params["bytes"] <= MAX_OVERSIZED_BYTES:
        raise FaultError(f"'bytes' must be between 1 and {MAX_OVERSIZED_BYTES}")
    if kind == OVERSIZED and params.get("framing", "length") not in FRAMINGS:
        raise FaultError(f"'framing' must be one of {', '.join(FRAMINGS)}")
    return Fault(fault_id, endpoint, kind, times, params, match=match)


def _check_match(match: Any, endpoint: str, kind: str) -> dict[str, str]:
    if endpoint == ENDPOINT_IMAGES:
        raise FaultError("'match' applies to GetReward and GetRewardInfo only (images have no body)")
    if kind == DROP_BEFORE_READ:
        raise FaultError("'match' needs the request body, which 'drop_before_read' never reads")
    if not isinstance(match, dict) or not match:
        raise FaultError("'match' must be an object of request body field -> value, e.g. {\"momentId\": \"X\"}")
    for name, value in match.items():
        if name not in BODY_FIELDS:
            raise FaultError(f"'match' fields must be request body fields ({', '.join(BODY_FIELDS)})")
        if not isinstance(value, str):
            raise FaultError(f"'match' value for {name!r} must be a string")
    return dict(match)


def _check_param(name: str, kind: str, value: Any) -> Any:
    if kind == _Number:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS:
            raise FaultError(f"'{name}' must be a number of seconds between 0 and {MAX_SECONDS:g}")
        return float(value)
    if kind == _Int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FaultError(f"'{name}' must be a whole number")
        return value
    if kind == _Bool:
        if not isinstance(value, bool):
            raise FaultError(f"'{name}' must be true or false")
        return value
    if kind == _Text:
        if not isinstance(value, str):
            raise FaultError(f"'{name}' must be a string")
        return value
    if kind == _Headers:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise FaultError(f"'{name}' must be an object of header name -> string value")
        return dict(value)
    return value  # _Json: any JSON value


# --- responses that misbehave -------------------------------------------------------------
#
# Each is an ASGI callable, returned by a Starlette endpoint in place of a Response.

Headers = list[tuple[bytes, bytes]]


def _headers(content_type: str, length: int, extra: dict[str, str] | None = None) -> Headers:
    headers = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(length).encode())]
    for name, value in (extra or {}).items():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return headers


async def pause(seconds: float, stopping: asyncio.Event | None) -> bool:
    """Sleep ``seconds``; return False early if the server starts shutting down."""
    if stopping is None:
        await asyncio.sleep(seconds)
        return True
    try:
        async with asyncio.timeout(seconds):
            await stopping.wait()
    except TimeoutError:
        return True
    return False


async def abandon(scope: dict, receive: Any) -> None:
    """The server is stopping in the middle of a deliberately slow response: drop the connection."""
    await _close_and_wait(scope, receive)


async def _close_and_wait(scope: dict, receive: Any) -> bool:
    """Close the TCP connection and wait until uvicorn has seen it, so it sends nothing more."""
    transport = transport_of(scope)
    if transport is None:
        return False
    transport.close()
    try:
        async with asyncio.timeout(5):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:  # pragma: no cover - connection_lost always follows close()
        pass
    return True


_NO_TRANSPORT = (
    b'{"message":"This fault needs a real socket: run the sandbox with SandboxServer '
    b'or moments-sandbox, not an in-process ASGI transport."}'
)


class DropConnection:
    """Close the socket without any HTTP response: the client sees a dropped connection."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if not await _close_and_wait(scope, receive):
            await _send_simple(send, 500, "application/json", _NO_TRANSPORT)


class TruncatedResponse:
    """Announce ``len(body) + missing`` bytes, send half the body, then close."""

    def __init__(
        self, status: int, content_type: str, body: bytes, extra_headers: dict[str, str] | None = None
    ):
        self.status = status
        self.content_type = content_type
        self.body = body
        self.extra_headers = extra_headers

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        announced = len(self.body) + max(64, len(self.body))
        sent = self.body[: len(self.body) // 2]
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": _headers(self.content_type, announced, self.extra_headers),
            }
        )
        await send({"type": "http.response.body", "body": sent, "more_body": True})
        await _close_and_wait(scope, receive)


class SlowDripResponse:
    """A complete, correct response whose body arrives ``chunk_bytes`` at a time over ``seconds``."""

    def __init__(
        self,
        status: int,
        content_type: str,
        body: bytes,
        seconds: float,
        chunk_bytes: int,
        extra_headers: dict[str, str] | None = None,
        stopping: asyncio.Event | None = None,
    ):
        self.stopping = stopping
        self.status = status
        self.content_type = content_type
        self.body = body
        self.seconds = seconds
        self.chunk_bytes = chunk_bytes
        self.extra_headers = extra_headers

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": _headers(self.content_type, len(self.body), self.extra_headers),
            }
        )
        chunks = [
            self.body[i : i + self.chunk_bytes] for i in range(0, len(self.body), self.chunk_bytes)
        ] or [b""]
        delay = self.seconds / len(chunks)
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if not await pause(delay, self.stopping):
                await abandon(scope, receive)
                return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class StreamedBody:
    """A correct response with a large body, sent in 64 KiB pieces, framed as ``framing`` says (FRAMINGS)."""

    CHUNK = 64 * 1024

    def __init__(
        self,
        status: int,
        content_type: str,
        prefix: bytes,
        fill: int,
        suffix: bytes,
        fill_byte: bytes,
        framing: str = "length",
    ):
        self.status = status
        self.content_type = content_type
        self.prefix = prefix
        self.fill = fill
        self.suffix = suffix
        self.fill_byte = fill_byte
        self.framing = framing

    def _pieces(self):
        yield self.prefix
        remaining = self.fill
        block = self.fill_byte * self.CHUNK
        while remaining > 0:
            piece = block[: min(remaining, self.CHUNK)]
            remaining -= len(piece)
            yield piece
        yield self.suffix

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        total = len(self.prefix) + self.fill + len(self.suffix)
        pieces: Any = self._pieces()
        if self.framing == "gzip":
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
            packed = [packer.compress(piece) for piece in pieces] + [packer.flush()]
            pieces = [b"".join(packed)]
            headers = _headers(self.content_type, len(pieces[0]), {"Content-Encoding": "gzip"})
        elif self.framing == "chunked":
            # No Content-Length: the server frames the body with Transfer-Encoding: chunked.
            headers = [(b"content-type", self.content_type.encode("latin-1"))]
        else:
            headers = _headers(self.content_type, total)
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        for piece in pieces:
            if piece:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def oversized_json(payload: Any, size: int, status: int = 200, framing: str = "length") -> StreamedBody:
    """A valid JSON object of exactly ``size`` bytes (or the smallest possible): the real payload + padding."""
    base = dict(payload) if isinstance(payload, dict) else {}
    encoded = json.dumps(base, ensure_ascii=False, separators=(",", ":")).encode()
    prefix = encoded[:-1] + (b"," if base else b"") + b'"padding":"'
    suffix = b'"}'
    fill = max(0, size - len(prefix) - len(suffix))
    return StreamedBody(status, "application/json", prefix, fill, suffix, b"x", framing)


def oversized_image(image: bytes, content_type: str, size: int, framing: str = "length") -> StreamedBody:
    """The real image followed by zero bytes up to ``size``: decodable, but far too big."""
    return StreamedBody(200, content_type, image, max(0, size - len(image)), b"", b"\0", framing)


def malformed_json(body: bytes) -> bytes:
    """Cut a JSON document in half: always invalid JSON ('[' for '[]')."""
    return body[: max(1, math.ceil(len(body) / 2))]


def corrupt_image(image: bytes) -> bytes:
    """Right magic number, garbage afterwards: no decoder can make an image of it."""
    return image[:12] + b"\x00\x13\x37 corrupted image data \x00" * 64


WRONG_TYPE_BODY = (
    b"<!doctype html><html><head><title>Sign in</title></head><body>"
    b"<h1>Sign in to continue</h1><p>This network requires you to sign in.</p></body></html>"
)


async def _send_simple(send: Any, status: int, content_type: str, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": _headers(content_type, len(body))}
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
