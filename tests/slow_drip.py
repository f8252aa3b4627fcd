"""Real HTTP/1.1 servers on 127.0.0.1 that misbehave in time, for the deadline and retry tests.

``SlowDripServer`` answers every request at once with its status line and headers (a complete,
honest Content-Length), then sends the body one byte every ``interval`` seconds: httpx's read
timeout never trips (bytes keep coming), only an overall deadline ends the call. It serves
``POST /GetRewardInfo``, ``POST /GetReward`` (a reward as JSON) and ``GET /images/<name>`` (a PNG), and
keeps its own ledger of every request that arrived, so a test can assert that exactly one getReward
reached it.

``StaleKeepAliveServer`` answers with ``Connection: keep-alive`` and then, on the next request that
arrives on the same connection, reads it and closes the socket without a word: what a server that
times out idle connections does when a pooled connection's request meets its close. The client
sees httpx.RemoteProtocolError ("Server disconnected without sending a response").

Both run in threads of this process (socketserver), stop promptly (a dripping answer notices
``close()`` within one interval) and leave no socket open once closed.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field

REWARD = {
    "rewardNotificationText": "You earned a pair of headphones! Tap to redeem.",
    "rewardNotificationUrl": "https://rewards.example/redeem/slow-drip-0001",
    "rewardImageUrl": "",  # set to the server's own image URL when it starts
    "remainingRewardCount": 41,
    "campaignEndDate": "2031-12-31",
}


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A valid, decodable PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x1f\x6f\xb4" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


@dataclass(frozen=True)
class Arrival:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int  # the server's number for the TCP connection it came on
    at: float = field(default_factory=time.monotonic)


def _read_request(rfile) -> tuple[str, str, dict[str, str], bytes] | None:
    """One HTTP/1.1 request off the stream; None when the peer closed the connection first."""
    line = rfile.readline(65537)
    if not line:
        return None
    method, path, _version = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        header = rfile.readline(65537)
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = rfile.read(length) if length else b""
    return method, path, headers, body


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = False  # server_close() joins every handler: nothing of it outlives the test
    block_on_close = True
    allow_reuse_address = True


class _BaseServer:
    """Start in ``__enter__`` (or ``start()``), stop in ``__exit__`` (or ``close()``)."""

    def __init__(self) -> None:
        self.ledger: list[Arrival] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connection_ids = 0
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._serve_connection(self.request)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return sum(1 for a in self.ledger if a.method == method and a.path == path)

    def start(self):
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # wake a handler blocked reading the next request
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- per connection --------------------------------------------------------------

    def _serve_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
            self._connection_ids += 1
            number = self._connection_ids
        rfile = conn.makefile("rb")
        try:
            served = 0
            while not self._stopping.is_set():
                request = _read_request(rfile)
                if request is None:
                    return
                method, path, headers, body = request
                with self._lock:
                    self.ledger.append(Arrival(method, path, headers, body, number))
                if not self._answer(conn, method, path, served):
                    return
                served += 1
        except OSError:  # the client went away (its deadline passed): nothing more to send
            return
        finally:
            rfile.close()
            with self._lock:
                self._connections.discard(conn)

    def _answer(self, conn: socket.socket, method: str, path: str, served: int) -> bool:
        """Answer one request; False closes the connection."""
        raise NotImplementedError

    def _content(self, method: str, path: str) -> tuple[int, str, bytes]:
        if method == "POST" and path.rstrip("/").endswith(("/GetRewardInfo", "/GetReward")):
            return 200, "application/json", json.dumps(self.reward).encode()
        if method == "GET" and path.startswith("/images/"):
            return 200, "image/png", self.image
        return 404, "application/json", b'{"message":"Not Found"}'

    @staticmethod
    def _head(status: int, content_type: str, length: int, keep_alive: bool) -> bytes:
        reason = {200: "OK", 404: "Not Found"}.get(status, "Status")
        return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n"
                f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n").encode("latin-1")


class SlowDripServer(_BaseServer):
    """Headers at once, then the body one byte every ``interval`` seconds (see the module's docstring)."""

    def __init__(self, interval: float = 0.05, *, reward: dict | None = None,
                 drip: tuple[str, ...] = ("GetRewardInfo", "GetReward", "images")):
        """``drip`` names what is dripped (the two endpoints, "images"); the rest is answered at once."""
        super().__init__()
        self.interval = interval
        self.drip = drip
        self.image = tiny_png()
        self.reward = dict(reward if reward is not None else REWARD)
        if "rewardImageUrl" in self.reward and not self.reward["rewardImageUrl"]:
            self.reward["rewardImageUrl"] = f"{self.base_url}/images/slow.png"

    def _answer(self, conn: socket.socket, method: str, path: str, served: int) -> bool:
        status, content_type, body = self._content(method, path)
        conn.sendall(self._head(status, content_type, len(body), keep_alive=False))
        if not any(path.startswith(f"/{name}") for name in self.drip):
            conn.sendall(body)
            return False
        for i in range(len(body)):
            if self._stopping.wait(self.interval):
                return False
            conn.sendall(body[i:i + 1])
        return False


class StaleKeepAliveServer(_BaseServer):
    """Each connection gets one answer, advertised keep-alive; the next request on it finds it closed."""

    def __init__(self, answers_per_connection: int = 1) -> None:
        """``answers_per_connection=0``: it never answers, even a fresh connection's first request."""
        super().__init__()
        self.answers_per_connection = answers_per_connection
        self.image = tiny_png()
        self.reward = dict(REWARD, rewardImageUrl=f"{self.base_url}/images/stale.png")

    def _answer(self, conn: socket.socket, method: str, path: str, served: int) -> bool:
        if served >= self.answers_per_connection:
            return False  # the request arrived on a connection this server had already let go of
        status, content_type, body = self._content(method, path)
        conn.sendall(self._head(status, content_type, len(body), keep_alive=True) + body)
        return True

    def connections_used(self) -> int:
        with self._lock:
            return len({a.connection for a in self.ledger})
