"""Bounded attacks on the sandbox over loopback: huge and deep bodies, slow and idle connections,
too few file handles, memory. Each ends by checking that the sandbox still answers a valid request.

Each test takes a few seconds at most: the deadlines are the sandbox's defaults (protocol.py)."""

import json
import logging
import os
import selectors
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sandbox_ids import client as http_client
from sandbox_ids import post

from moments_desktop.sandbox import protocol
from moments_desktop.sandbox.catalog import load_default_catalog
from moments_desktop.sandbox.admin import SandboxAdmin
from moments_desktop.sandbox.protocol import HEAD_TIMEOUT, MAX_BODY_BYTES, Limits, ThrottledLog
from moments_desktop.sandbox.server import SandboxServer
from moments_desktop.sandbox.state import LEDGER_LIMIT, LEDGER_TEXT_CHARS, UNKNOWN_KEY_LEDGER_LIMIT, SandboxState

REPO = Path(__file__).resolve().parents[2]
WRONG_KEY = {"x-api-key": "not-a-key"}
TOO_LARGE = {"message": "Request Entity Too Large"}
INVALID_BODY = {"message": "Invalid request body"}
# How late past a deadline the sandbox may close a connection (a loaded 2-core machine).
SLACK = 2.5


def answers_a_valid_request(base_url: str, timeout: float = 5) -> bool:
    demo = load_default_catalog().demo()
    response = post(f"{base_url}/GetRewardInfo", json=demo.body(), headers={"x-api-key": demo.api_key},
                    timeout=timeout)
    return response.status_code == 200 and "rewardImageUrl" in response.json()


def address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname, parts.port


def _chunks(data: bytes, size: int = 4096):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def padded_demo_body(sandbox, size: int) -> bytes:
    """The demo body as JSON of exactly ``size`` bytes (an extra member carries the padding)."""
    bare = json.dumps({**sandbox.demo_body, "pad": ""}, separators=(",", ":")).encode()
    body = json.dumps({**sandbox.demo_body, "pad": "x" * (size - len(bare))}, separators=(",", ":")).encode()
    assert len(body) == size
    return body


# --- bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/GetRewardInfo", "/GetReward", "/__sandbox/faults", "/no/such/path"])
def test_a_declared_body_one_byte_over_the_limit_is_refused_with_413(sandbox, path):
    response = post(sandbox.base_url + path, content=b"x" * (MAX_BODY_BYTES + 1), headers=WRONG_KEY)
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert sandbox.admin.ledger() == []  # refused before any handler saw it
    assert answers_a_valid_request(sandbox.base_url)


def test_a_chunked_body_is_counted_while_read_and_refused_past_the_limit(sandbox):
    with http_client(sandbox.base_url, timeout=10) as client:
        # A generator makes httpx send it chunked: no Content-Length to refuse it by.
        response = client.post("/GetReward", content=_chunks(b"x" * (MAX_BODY_BYTES + 1)), headers=WRONG_KEY)
        assert "content-length" not in response.request.headers
        assert response.status_code == 413 and response.json() == TOO_LARGE
        # The connection stays usable: the rest of the body was read and dropped.
        assert client.post("/GetRewardInfo", json=sandbox.demo_body,
                           headers={"x-api-key": sandbox.demo_key}).status_code == 200
    assert sandbox.admin.ledger() == []


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_of_exactly_the_limit_is_accepted(sandbox, chunked):
    body = padded_demo_body(sandbox, MAX_BODY_BYTES)
    content = _chunks(body) if chunked else body
    with http_client(sandbox.base_url, timeout=10) as client:
        response = client.post("/GetReward", content=content, headers={"x-api-key": sandbox.demo_key})
        assert response.status_code == 200, response.text  # a valid body with an extra member
        junk = client.post("/GetReward", content=_chunks(b"x" * MAX_BODY_BYTES) if chunked else b"x" * MAX_BODY_BYTES,
                           headers={"x-api-key": sandbox.demo_key})
        assert junk.status_code == 400 and junk.json() == INVALID_BODY
        wrong_key = client.post("/GetRewardInfo", content=body, headers=WRONG_KEY)
        assert wrong_key.status_code == 403
    first, second = sandbox.admin.ledger()
    assert first["request"] == sandbox.demo_body  # the padding member is not kept
    assert second["request"] == "x" * LEDGER_TEXT_CHARS + "…"


def test_ten_bodies_of_10_mb_are_answered_quickly_without_being_kept(sandbox):
    started = time.monotonic()
    with http_client(sandbox.base_url, timeout=10) as client:
        for _ in range(10):
            response = client.post("/GetReward", content=b"x" * (10 * 1024 * 1024), headers=WRONG_KEY)
            assert response.status_code == 413
    assert sandbox.admin.ledger_page() == {"entries": [], "dropped": 0, "limit": LEDGER_LIMIT,
                                           "unknown_key_limit": UNKNOWN_KEY_LEDGER_LIMIT}
    print(f"10 x 10 MB refused in {time.monotonic() - started:.2f} s")
    assert answers_a_valid_request(sandbox.base_url)


DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_a_body_nested_10000_deep_is_an_invalid_body_and_logs_nothing(sandbox, caplog, body):
    caplog.set_level(logging.DEBUG)
    key = {"x-api-key": sandbox.demo_key}
    for endpoint in ("/GetRewardInfo", "/GetReward"):
        response = post(sandbox.base_url + endpoint, content=body, headers=key)
        assert (response.status_code, response.json()) == (400, INVALID_BODY)
    for admin_write in ("/__sandbox/faults", "/__sandbox/clock"):
        response = post(sandbox.base_url + admin_write, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400 and "message" in response.json(), admin_write
    (entry,) = sandbox.admin.ledger()  # the ledger can still be read, and holds an excerpt
    assert entry["status"] == 400 and entry["request"] == body[:LEDGER_TEXT_CHARS].decode() + "…"
    assert answers_a_valid_request(sandbox.base_url)
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert problems == [], [r.getMessage() for r in problems]


# --- slow and idle connections --------------------------------------------------------------------


def _open(base_url: str, count: int) -> list[socket.socket]:
    sockets = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection(address(base_url), timeout=5))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    for sock in sockets:
        sock.setblocking(False)
    return sockets


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when the sandbox closed ``sock`` (EOF or reset); whatever it sent first is read and dropped."""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionError:
        return True


def _wait_until_all_closed(sockets, deadline: float, drip: bytes | None = None, every: float = 0.5,
                           meanwhile=None) -> float:
    """Wait until the sandbox has closed every socket, dripping ``drip`` on the open ones every
    ``every`` seconds; return when the last one closed (monotonic). Fails at ``deadline``."""
    open_ones = set(sockets)
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        next_drip = time.monotonic()
        while open_ones:
            now = time.monotonic()
            assert now < deadline, f"{len(open_ones)} of {len(sockets)} connections still open"
            if drip is not None and now >= next_drip:
                for sock in list(open_ones):
                    try:
                        sock.send(drip)
                    except (BlockingIOError, ConnectionError):
                        pass
                next_drip = now + every
            if meanwhile is not None:
                meanwhile()
                meanwhile = None
            for key, _ in selector.select(timeout=0.1):
                if key.fileobj in open_ones and _closed_by_peer(key.fileobj):
                    open_ones.discard(key.fileobj)
                    selector.unregister(key.fileobj)
    return time.monotonic()


def test_200_slowloris_connections_are_closed_within_the_head_deadline(sandbox):
    started = time.monotonic()
    sockets = _open(sandbox.base_url, 200)
    try:
        for sock in sockets:
            sock.send(b"POST /GetRewardInfo HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answered = []
        last_closed = _wait_until_all_closed(
            sockets, started + HEAD_TIMEOUT + SLACK, drip=b"X", every=0.5,
            meanwhile=lambda: answered.append(answers_a_valid_request(sandbox.base_url)),
        )
    finally:
        for sock in sockets:
            sock.close()
    assert answered == [True]  # a valid request was answered while they dripped
    assert last_closed - started >= HEAD_TIMEOUT - 0.5  # closed by the deadline, not by accident
    assert answers_a_valid_request(sandbox.base_url)


def test_a_slow_body_is_answered_408_and_closed_within_the_body_deadline(sandbox):
    sockets = _open(sandbox.base_url, 20)
    started = time.monotonic()
    try:
        for sock in sockets:
            sock.send(b"POST /GetRewardInfo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{")
        seen = bytearray()

        def read_first():
            sockets[0].setblocking(True)
            sockets[0].settimeout(protocol.BODY_TIMEOUT + SLACK)
            while chunk := sockets[0].recv(4096):
                seen.extend(chunk)
            sockets[0].setblocking(False)

        _wait_until_all_closed(sockets[1:], started + protocol.BODY_TIMEOUT + SLACK, drip=b" ", every=0.5,
                               meanwhile=read_first)
    finally:
        for sock in sockets:
            sock.close()
    assert seen.startswith(b"HTTP/1.1 408 ")
    assert seen.endswith(b'{"message":"Request Timeout"}')
    assert answers_a_valid_request(sandbox.base_url)


def test_1000_idle_connections_are_closed_within_the_head_deadline(sandbox):
    started = time.monotonic()
    sockets = _open(sandbox.base_url, 1000)
    try:
        _wait_until_all_closed(sockets, started + HEAD_TIMEOUT + SLACK,
                               meanwhile=lambda: answers_a_valid_request(sandbox.base_url))
    finally:
        for sock in sockets:
            sock.close()
    assert answers_a_valid_request(sandbox.base_url)


def _read_response(sock: socket.socket) -> bytes:
    """One whole response with a Content-Length (head and body may come in separate reads)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return data


@pytest.mark.parametrize("then_send", [b"", b"P"], ids=["idle", "one-byte-of-a-next-request"])
def test_a_keep_alive_connection_is_closed_a_few_seconds_after_its_response(sandbox, then_send):
    # uvicorn's keep-alive timeout starts only after a response and one byte cancels it for good.
    request = (b"POST /GetRewardInfo HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + sandbox.demo_key.encode()
               + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n")
    body = json.dumps(sandbox.demo_body).encode()
    with socket.create_connection(address(sandbox.base_url), timeout=5) as sock:
        sock.sendall(request % len(body) + body)
        response = _read_response(sock)
        assert response.startswith(b"HTTP/1.1 200 ")
        answered = time.monotonic()
        sock.sendall(then_send)
        sock.settimeout(HEAD_TIMEOUT + SLACK)
        assert sock.recv(65536) == b""
        assert time.monotonic() - answered >= HEAD_TIMEOUT - 0.5
    assert answers_a_valid_request(sandbox.base_url)


def test_a_slow_response_fault_is_not_cut_by_the_deadlines(sandbox):
    # The deadlines are for clients; the sandbox's own slowness (a latency fault) is not one.
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=HEAD_TIMEOUT + 1, times=1)
    started = time.monotonic()
    assert answers_a_valid_request(sandbox.base_url, timeout=HEAD_TIMEOUT + 5)
    assert time.monotonic() - started >= HEAD_TIMEOUT + 1


def test_beyond_the_connection_limit_an_idle_connection_makes_room_and_a_busy_one_does_not(caplog):
    caplog.set_level(logging.WARNING)
    demo = load_default_catalog().demo()
    request = json.dumps(demo.body()).encode()
    head = (b"POST /GetRewardInfo HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n") % (demo.api_key.encode(), len(request))
    with SandboxServer(limits=Limits(max_connections=16)) as server:
        idle = _open(server.base_url, 16)
        try:
            assert answers_a_valid_request(server.base_url)  # the longest-idle one was closed for it
            time.sleep(0.3)
            assert sum(_closed_by_peer(sock) for sock in idle) == 1
        finally:
            for sock in idle:
                sock.close()
        with SandboxAdmin(server.base_url) as admin:
            admin.add_fault("GetRewardInfo", "latency", seconds=3, times=16)
        busy = _open(server.base_url, 16)
        try:
            for sock in busy:
                sock.sendall(head + request)
            time.sleep(0.5)  # all 16 are in the latency fault now
            with socket.create_connection(address(server.base_url), timeout=5) as extra:
                extra.settimeout(2)
                assert extra.recv(100) == b""  # closed at once, nothing sent
            for sock in busy:
                sock.setblocking(True)
                sock.settimeout(10)
                # Answered in full after the latency (200, or 429: 5 calls a second): the busy ones were not cut.
                assert _read_response(sock).split(b" ")[1] in (b"200", b"429")
        finally:
            for sock in busy:
                sock.close()
        assert answers_a_valid_request(server.base_url)
    refusals = [r.getMessage() for r in caplog.records if "refused a connection" in r.getMessage()]
    assert refusals == ["The sandbox refused a connection: 16 connections are open and none is idle"]


def test_the_connection_limit_follows_the_file_handle_limit(monkeypatch):
    import resource

    for soft, expected in [(256, 96), (1024, 480), (20_000, 4096), (70, 16)]:
        monkeypatch.setattr(resource, "getrlimit", lambda which, soft=soft: (soft, resource.RLIM_INFINITY))
        assert protocol.default_max_connections() == expected
        assert Limits().max_connections == expected


def test_the_throttled_log_says_how_many_it_held_back(caplog):
    now = [0.0]
    log = ThrottledLog(logging.getLogger("test.throttled"), interval=10, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, "test.throttled")
    assert log.warning("accept", "out of handles")
    for _ in range(1000):
        now[0] += 0.001
        assert not log.warning("accept", "out of handles")
    assert log.warning("other", "another problem")  # each kind has its own interval
    now[0] = 10.5
    assert log.warning("accept", "out of handles")
    assert [r.getMessage() for r in caplog.records] == [
        "out of handles", "another problem",
        "out of handles (1000 more like this since the last report, not logged)",
    ]


# --- few file handles -----------------------------------------------------------------------------

LOW_FD_SANDBOX = textwrap.dedent("""
    import resource, sys
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    from moments_desktop.sandbox.server import SandboxServer
    with SandboxServer() as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # serve until the test closes stdin
""")


def test_400_idle_connections_with_256_file_handles_do_not_shut_valid_requests_out(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", LOW_FD_SANDBOX], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    sockets: list[socket.socket] = []
    try:
        url = process.stdout.readline().strip()
        started = time.monotonic()
        # Connect without waiting: the sandbox's backlog is short on purpose.
        for _ in range(400):
            sock = socket.socket()
            sockets.append(sock)
            sock.setblocking(False)
            sock.connect_ex(address(url))
        answered = []
        while time.monotonic() < started + HEAD_TIMEOUT + SLACK and len(answered) < 5:
            try:
                if answers_a_valid_request(url, timeout=2):
                    answered.append(time.monotonic() - started)
            except httpx.HTTPError:
                pass
        assert len(answered) == 5, "valid requests were not answered while 400 connections were held"
        print(f"valid answers at {[f'{t:.2f}' for t in answered]} s")
    finally:
        err = _close_and_end(process, sockets)
    lines = _clean_log_lines(process, err)
    assert len(lines) <= 4, lines  # one line per kind of problem per 10 s at most


def _close_and_end(process: subprocess.Popen, sockets: list[socket.socket]) -> str:
    """Close the test's sockets and let the sandbox subprocess end; its stderr."""
    for sock in sockets:
        sock.close()
    _out, err = process.communicate("", timeout=15)
    return err


def _clean_log_lines(process: subprocess.Popen, err: str) -> list[str]:
    """The subprocess's stderr lines, once it is known to have ended well with no traceback logged."""
    assert process.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return err.splitlines()


FD_HOARDING_SANDBOX = textwrap.dedent("""
    import os, resource, sys
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    from moments_desktop.sandbox.server import SandboxServer
    with SandboxServer() as server:
        hoard = []  # the rest of the process takes every handle left (as a busy desktop app might)
        try:
            while True:
                hoard.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        print(server.base_url, flush=True)
        sys.stdin.readline()  # the test has tried to connect for a while
        for fd in hoard:
            os.close(fd)
        print("freed", flush=True)
        sys.stdin.read()
""")


def test_running_out_of_file_handles_is_logged_once_per_interval_not_per_accept():
    process = subprocess.Popen([sys.executable, "-c", FD_HOARDING_SANDBOX], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    sockets: list[socket.socket] = []
    try:
        url = process.stdout.readline().strip()
        for _ in range(100):
            sock = socket.socket()
            sockets.append(sock)
            sock.setblocking(False)
            sock.connect_ex(address(url))
        time.sleep(3.5)  # asyncio retries accept() every second: three or four rounds of failures
        for sock in sockets:
            sock.close()
        process.stdin.write("\n")
        process.stdin.flush()
        assert process.stdout.readline() == "freed\n"
        assert answers_a_valid_request(url)
    finally:
        err = _close_and_end(process, sockets)
    lines = _clean_log_lines(process, err)
    assert len(lines) == 1, lines
    assert "short of a system resource (Too many open files)" in lines[0]


# --- the ledger -----------------------------------------------------------------------------------


def test_the_ledger_keeps_the_newest_10000_entries_and_counts_the_dropped_ones():
    state = SandboxState(load_default_catalog())
    for number in range(LEDGER_LIMIT + 50):
        state.record({"appId": f"A{number}"}, "DEMO1")
    page = state.ledger_page()
    assert page["limit"] == LEDGER_LIMIT and page["dropped"] == 50
    entries = page["entries"]
    assert len(entries) == LEDGER_LIMIT
    assert (entries[0]["seq"], entries[0]["request"]) == (51, {"appId": "A50"})
    assert entries[-1]["seq"] == LEDGER_LIMIT + 50


def test_the_ledger_keeps_only_the_five_fields_bounded(sandbox):
    body = {**sandbox.demo_body, "appId": "A" * 5000, "momentId": 12, "deviceType": {"deep": [1, 2]},
            "campaignId": ["x"] * 5000, "extra": "y" * 30000}
    response = post(sandbox.base_url + "/GetReward", json=body, headers={"x-api-key": sandbox.demo_key})
    assert response.status_code == 400
    page = sandbox.admin.ledger_page()
    assert (page["dropped"], page["limit"]) == (0, LEDGER_LIMIT)
    (entry,) = page["entries"]
    assert entry["request"] == {
        "appId": "A" * LEDGER_TEXT_CHARS + "…",
        "momentId": 12,
        "deviceType": "<object of 1 members>",
        "campaignId": "<array of 5000 items>",
        "rewardGroupId": sandbox.demo_body["rewardGroupId"],
    }
    assert len(json.dumps(page)) < 2000


# --- memory ---------------------------------------------------------------------------------------

MEMORY_GROWTH_BOUND_MB = 10  # one 10 MB body kept would pass it; the issue measured +119 MB (standalone) and +166 MB (the app)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _send_ten_10_mb_bodies(base_url: str) -> tuple[list[int], int]:
    """The statuses of 10 POSTs of 10 MB with a wrong key, and the size of the ledger's answer after."""
    with http_client(base_url, timeout=30) as client:
        # A JSON document: the ledger once kept a GetReward's parsed body whole.
        body = b'{"appId":"' + b"x" * (10 * 1024 * 1024 - 12) + b'"}'
        statuses = [client.post(path, content=body, headers=WRONG_KEY).status_code
                    for path in ["/GetReward", "/GetRewardInfo"] * 5]
        return statuses, len(client.get("/__sandbox/ledger").content)


def _wait_until_serving(base_url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()[-3000:]
        try:
            if answers_a_valid_request(base_url, timeout=2):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"nothing answered at {base_url}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _assert_ten_10_mb_bodies_leave_memory_alone(url: str, pid: int, what: str) -> None:
    """Ten 10 MB bodies to the sandbox at ``url``: each refused 413, the process (``pid``) grows by less
    than the bound, the ledger stays small, and a valid request is still answered."""
    before = rss_mb(pid)
    statuses, ledger_bytes = _send_ten_10_mb_bodies(url)
    after = rss_mb(pid)
    print(f"{what} RSS {before:.1f} -> {after:.1f} MB")
    assert after - before < MEMORY_GROWTH_BOUND_MB
    assert statuses == [413] * 10 and ledger_bytes < 1000
    assert answers_a_valid_request(url)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_the_standalone_sandbox_memory_stays_bounded_under_10_bodies_of_10_mb():
    process = subprocess.Popen([sys.executable, "-m", "moments_desktop.sandbox", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        _wait_until_serving(url, process)
        _assert_ten_10_mb_bodies_leave_memory_alone(url, process.pid, "standalone sandbox")
    finally:
        process.terminate()
        process.communicate(timeout=15)


@pytest.mark.gui
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_the_embedded_sandbox_memory_stays_bounded_under_10_bodies_of_10_mb(tmp_path):
    """The real app, started as a person starts it (offscreen, a fresh home, a private keyring)."""
    port = _free_port()
    env = {**os.environ, "MOMENTS_DESKTOP_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen",
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
           "XDG_DATA_HOME": str(tmp_path / "xdg-data"), "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
           "PYTHON_KEYRING_BACKEND": "memory_keyring.MemoryKeyring",
           "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO)])}
    app = subprocess.Popen([sys.executable, "-m", "moments_desktop", "--sandbox-port", str(port)], env=env,
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(url, app)
        time.sleep(1)  # let the window finish starting, so its own growth is not counted
        _assert_ten_10_mb_bodies_leave_memory_alone(url, app.pid, "desktop app")
    finally:
        app.terminate()
        _out, err = app.communicate(timeout=30)
    assert "Traceback" not in err, err[-3000:]
