"""``moments sweep`` against an endpoint that does not answer: a sweep that stops by itself (the endpoint
stopped answering) prints what came back, then its one line, and exits 7; a finished sweep with no answer at
all is a network problem (7), not a failed campaign check (8)."""

from __future__ import annotations

import socket

import pytest
from cli_helpers import assert_secret_absent

pytestmark = pytest.mark.secret_service


def dead_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def dead_profile(sandbox, add_profile, store_key):
    profile = add_profile("Dead endpoint", dead_endpoint(), **sandbox.demo_body)
    store_key(profile.id, sandbox.demo_key)
    return profile


def moments_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("moments:")]


def test_a_sweep_whose_endpoint_stops_answering_stops_and_exits_7_after_its_summary(
        run_cli, sandbox, add_profile, store_key, tmp_path):
    profile = dead_profile(sandbox, add_profile, store_key)
    baseline = tmp_path / "baseline.json"
    result = run_cli("sweep", "--profile", profile.name, "--field", "rewardGroupId=US,JP,DE",
                     "--field", "deviceType=Android,iOS", "--field", "momentId=GAME_COMPLETE,LEVEL_UP",
                     "--save-baseline", str(baseline))
    assert result.returncode == 7, result.stderr
    assert "Traceback" not in result.stderr
    [line] = moments_lines(result.stderr)
    assert line == result.stderr.splitlines()[-1]
    assert "The sweep stopped: the endpoint stopped answering" in line and "after 10 of 12 combinations" in line
    assert "10 of 12 combinations (interrupted)" in result.stdout  # the summary of the cards that came back
    assert not baseline.exists()
    assert_secret_absent(sandbox.demo_key, result.stdout, result.stderr, home=tmp_path)


def test_a_finished_sweep_where_nothing_answered_is_exit_7_not_8(run_cli, sandbox, add_profile, store_key):
    profile = dead_profile(sandbox, add_profile, store_key)
    result = run_cli("sweep", "--profile", profile.name, "--field", "deviceType=Android,iOS")
    assert result.returncode == 7, result.stderr
    assert "Traceback" not in result.stderr


def test_sweep_help_names_the_network_exit_code(run_cli):
    result = run_cli("sweep", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "7 when the endpoint answered none, or stopped answering" in text
