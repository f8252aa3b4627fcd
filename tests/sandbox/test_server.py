"""SandboxServer's lifecycle, the moments-sandbox command, and the sandbox's import boundary."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sandbox_ids import get, post

from moments_desktop.sandbox import server as server_module
from moments_desktop.sandbox.server import SandboxServer, SandboxStartError

DEMO_HEADERS = {"x-api-key": "sandbox-demo-key-0001"}
DEMO_BODY = {
    "appId": "DEMO1",
    "momentId": "GAME_COMPLETE",
    "deviceType": "Web",
    "campaignId": "DEMOCAMP1",
    "rewardGroupId": "US",
}


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # SO_REUSEADDR ignores TIME_WAIT leftovers but still fails if anything is listening.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_start_returns_a_real_port_and_stop_frees_it():
    threads_before = threading.active_count()
    server = SandboxServer()
    url = server.start()
    try:
        port = int(url.rsplit(":", 1)[1])
        assert url == f"http://127.0.0.1:{port}" == server.base_url
        assert port > 0 and server.running
        assert not _port_is_free(port)
        assert post(f"{url}/GetRewardInfo", json=DEMO_BODY, headers=DEMO_HEADERS).status_code == 200
    finally:
        server.stop()
    assert not server.running
    assert _port_is_free(port)
    with pytest.raises(httpx.ConnectError):
        get(f"{url}/__sandbox/catalog")
    server.stop()  # idempotent
    assert threading.active_count() == threads_before
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url


def test_listening_socket_is_tcp_so_responses_are_not_nagled():
    # asyncio sets TCP_NODELAY on accepted sockets only for proto == IPPROTO_TCP; with proto 0
    # every keep-alive response waited ~40 ms for a delayed ACK.
    sock = SandboxServer()._bind()
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_context_manager_and_restart():
    server = SandboxServer()
    with server as running:
        assert running is server
        first = server.base_url
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
    assert not server.running
    with server:
        assert get(f"{server.base_url}/__sandbox/catalog").status_code == 200
    assert first.startswith("http://127.0.0.1:")


def test_stop_while_a_request_is_in_flight():
    with SandboxServer() as server:
        post(
            f"{server.base_url}/__sandbox/faults",
            json={"endpoint": "GetRewardInfo", "kind": "latency", "seconds": 30},
        )
        errors = []

        def slow_call():
            try:
                post(f"{server.base_url}/GetRewardInfo", json=DEMO_BODY, headers=DEMO_HEADERS, timeout=20)
            except httpx.HTTPError as exc:
                errors.append(exc)

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(0.3)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 5
        caller.join(10)
        assert not caller.is_alive()
        assert errors  # the client saw its connection go, rather than hanging


def test_port_in_use_is_a_clear_error():
    with SandboxServer() as first:
        port = int(first.base_url.rsplit(":", 1)[1])
        with pytest.raises(SandboxStartError, match=f"Cannot listen on 127.0.0.1:{port}"):
            SandboxServer(port=port).start()


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("hang", r"did not start on 127\.0\.0\.1:\d+ within 0\.3 seconds"),
        ("fail", r"did not start .*: no luck"),
    ],
)
def test_startup_that_hangs_or_fails_is_a_clear_error(monkeypatch, behaviour, message):
    async def broken_startup(self, sockets=None):
        if behaviour == "hang":
            await asyncio.sleep(1)
        else:
            raise OSError("no luck")

    monkeypatch.setattr(server_module._Server, "startup", broken_startup)
    threads_before = threading.active_count()
    server = SandboxServer(startup_timeout=0.3)
    with pytest.raises(SandboxStartError, match=message):
        server.start()
    assert not server.running
    assert threading.active_count() == threads_before


def test_stop_without_start_is_harmless():
    SandboxServer().stop()


# --- the command line ---------------------------------------------------------------------------


def _launch(*args: str, command: list[str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        (command or [sys.executable, "-m", "moments_desktop.sandbox"]) + list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _read_url(process: subprocess.Popen) -> str:
    line = process.stdout.readline()
    prefix = "Moments sandbox listening on "
    assert line.startswith(prefix), line + process.stderr.read()
    return line[len(prefix) :].strip()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_python_dash_m_serves_until_signalled(stop_signal):
    process = _launch("--host", "127.0.0.1", "--port", "0")
    try:
        url = _read_url(process)
        assert url.startswith("http://127.0.0.1:")
        response = post(f"{url}/GetRewardInfo", json=DEMO_BODY, headers=DEMO_HEADERS)
        assert response.status_code == 200
        assert response.json()["rewardTitle"] == "Wireless Headphones"
        process.send_signal(stop_signal)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_moments_sandbox_console_script(tmp_path):
    script = Path(sys.executable).with_name("moments-sandbox" + (".exe" if os.name == "nt" else ""))
    if not script.exists():
        pytest.skip("the package is not installed (pip install -e .), so there is no moments-sandbox script")
    catalog = tmp_path / "mine.json"
    data = json.loads(
        Path(__file__).resolve().parents[2].joinpath("resources", "catalog.json").read_text("utf-8")
    )
    data["campaigns"][0]["state"] = "Suspended"
    catalog.write_text(json.dumps(data), encoding="utf-8")
    process = _launch("--catalog", str(catalog), command=[str(script)])
    try:
        url = _read_url(process)
        body = post(f"{url}/GetRewardInfo", json=DEMO_BODY, headers=DEMO_HEADERS).json()
        assert (
            body["rewardNotificationText"]
            == "This reward campaign is paused right now. Please try again later."
        )
        process.terminate()
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_cli_reports_a_bad_catalog(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1}', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "moments_desktop.sandbox", "--catalog", str(bad)],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "missing required field 'apps'" in result.stderr
    assert result.stdout == ""


def test_sandbox_never_imports_the_gui_or_the_client():
    code = (
        "import sys\n"
        "import moments_desktop.sandbox.server, moments_desktop.sandbox.__main__, moments_desktop.sandbox.admin\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('moments_desktop.ui', 'moments_desktop.core.client',"
        " 'PySide6', 'qasync')))\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
