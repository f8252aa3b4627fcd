"""A real forward HTTP proxy on 127.0.0.1 for the network tests (core, CLI, window), importable as
``forward_proxy`` from any test.

- A request in absolute form (``POST http://moments.test/prod/getRewardInfo``) is passed on to where ``hosts``
  maps its host name (``{"moments.test": ("127.0.0.1", sandbox_port)}``: the proxy resolves the test's names,
  as a company's proxy resolves for the computers behind it), and the answer relayed back.
- ``CONNECT host:port`` opens a tunnel (https through the proxy), also through ``hosts``.
- ``credentials=(user, password)``: anything without that Proxy-Authorization is answered 407.
- ``refuse_connect=True``: every CONNECT is answered 403 (a proxy whose policy blocks the site).

``seen`` lists every request line it received (``POST http://moments.test/prod/getRewardInfo``, ``CONNECT
moments.test:443``), ``authorizations`` the Proxy-Authorization headers (None when absent).
"""

from __future__ import annotations

import base64
import http.client
import selectors
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "proxy-connection", "proxy-authorization", "keep-alive", "transfer-encoding", "te",
               "trailer", "upgrade"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
        pass

    def _authorized(self) -> bool:
        given = self.headers.get("Proxy-Authorization")
        self.server.owner.authorizations.append(given)
        wanted = self.server.owner.credentials
        if wanted is None:
            return True
        token = base64.b64encode(f"{wanted[0]}:{wanted[1]}".encode()).decode()
        if given == f"Basic {token}":
            return True
        self._answer(407, b"proxy authentication required",
                     [("Proxy-Authenticate", 'Basic realm="test proxy"')])
        return False

    def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _where(self, host: str, port: int) -> tuple[str, int]:
        mapped = self.server.owner.hosts.get(host)
        if mapped is None:
            return host, port
        return mapped if isinstance(mapped, tuple) else (mapped, port)

    def _forward(self) -> None:
        self.server.owner.seen.append(f"{self.command} {self.path}")
        if not self._authorized():
            return
        target = urlsplit(self.path)
        if not target.scheme or not target.hostname:
            self._answer(400, b"not a proxy request")
            return
        host, port = self._where(target.hostname, target.port or 80)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(host, port, timeout=10)
        try:
            upstream.request(self.command, (target.path or "/") + (f"?{target.query}" if target.query else ""),
                             body=body, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
            relayed = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP | {"content-length"}]
            self._answer(answer.status, content, relayed)
        except OSError as exc:
            self._answer(502, f"bad gateway: {exc}".encode())
        finally:
            upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815 - http.server's names

    def do_CONNECT(self) -> None:  # noqa: N802
        self.server.owner.seen.append(f"CONNECT {self.path}")
        if not self._authorized():
            return
        if self.server.owner.refuse_connect:
            self._answer(403, b"blocked by policy")
            return
        name, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection(self._where(name, int(port)), timeout=10)
        except OSError:
            self._answer(502, b"cannot connect")
            return
        try:
            self.send_response(200, "Connection established")
            self.end_headers()
            with selectors.DefaultSelector() as selector:
                selector.register(self.connection, selectors.EVENT_READ, upstream)
                selector.register(upstream, selectors.EVENT_READ, self.connection)
                while True:
                    ready = selector.select(timeout=10)
                    if not ready:
                        return
                    for key, _ in ready:
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        key.data.sendall(data)
        finally:
            upstream.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ForwardProxy


class ForwardProxy:
    def __init__(self, hosts: dict | None = None, *, credentials: tuple[str, str] | None = None,
                 refuse_connect: bool = False):
        self.hosts = dict(hosts or {})
        self.credentials = credentials
        self.refuse_connect = refuse_connect
        self.seen: list[str] = []
        self.authorizations: list[str | None] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
