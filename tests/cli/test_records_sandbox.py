"""``moments sandbox``: the server ``moments-sandbox`` runs, as a subprocess: its URL, a real call, SIGTERM."""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys

import socket

import httpx
from records_helpers import cli_env

from moments_desktop.sandbox.catalog import default_catalog_path, load_default_catalog

LISTENING = re.compile(r"Moments sandbox listening on (http://127\.0\.0\.1:\d+)")


def start(tmp_path, *args):
    return subprocess.Popen([sys.executable, "-m", "moments_desktop.cli", "sandbox", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env(tmp_path), cwd=tmp_path)


def read_banner(process) -> tuple[str, list[str]]:
    """(the URL it listens on, the three lines it printed first: URL, admin API, admin token)."""
    # Wait (bounded) for its first output; the three lines are printed together, and once one is read the
    # others may sit in the pipe's Python buffer, where select() does not see them: read them directly.
    assert select.select([process.stdout], [], [], 60)[0], "the sandbox printed nothing within 60 s"
    lines = [process.stdout.readline() for _ in range(3)]
    assert all(lines), (lines, process.stderr.read())
    match = LISTENING.search(lines[0]) if lines else None
    assert match and len(lines) == 3, lines
    return match.group(1), lines


def stop(process) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    try:
        stdout, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, stdout, stderr


def test_moments_sandbox_serves_the_api_until_sigterm(tmp_path):
    process = start(tmp_path)
    try:
        url, banner = read_banner(process)
        demo = load_default_catalog().demo()
        with httpx.Client(timeout=30, trust_env=False) as client:
            answer = client.post(f"{url}/GetRewardInfo", json=demo.body(), headers={"x-api-key": demo.api_key})
        assert answer.status_code == 200 and answer.json()["rewardNotificationText"]
    finally:
        code, stdout, stderr = stop(process)
    assert code == 0, stderr
    assert banner[2].startswith("Admin token (header ") and stderr == ""


def test_moments_sandbox_on_a_given_port_with_a_catalog_file(tmp_path):
    """--port and --catalog reach the server: a catalog whose demo key was changed answers to that key only."""
    source = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    demo = load_default_catalog().demo()
    text = json.dumps(source).replace(demo.api_key, "changed-demo-key-0042")
    assert text != json.dumps(source)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(text, encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = start(tmp_path, "--port", str(port), "--catalog", str(catalog))
    try:
        url, _ = read_banner(process)
        assert url == f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=30, trust_env=False) as client:
            old = client.post(f"{url}/GetRewardInfo", json=demo.body(), headers={"x-api-key": demo.api_key})
            new = client.post(f"{url}/GetRewardInfo", json=demo.body(),
                              headers={"x-api-key": "changed-demo-key-0042"})
        assert (old.status_code, new.status_code) == (403, 200)
    finally:
        code, _stdout, stderr = stop(process)
    assert code == 0, stderr


def test_a_catalog_that_cannot_be_used_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "catalog.json"
    bad.write_text("{not json", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "moments_desktop.cli", "sandbox", "--catalog", str(bad)],
                          capture_output=True, text=True, env=cli_env(tmp_path), timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("moments: the catalog cannot be used: ") and done.stderr.count("\n") == 1
