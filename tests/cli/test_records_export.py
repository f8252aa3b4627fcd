"""``moments export FORMAT --profile NAME``: the window's "Copy as…", on stdout, with the key as a placeholder.

The printed snippet is the golden export of the same request (tests/core/golden/exports) byte for byte, and
the Session's own Export text; the cURL snippet it prints, run with MOMENTS_API_KEY, is answered by the sandbox.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from records_helpers import SECRET_MARK, forget_key, import_profiles, moments, profile_entry

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.exports import ExportFormat
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import Profile, ProfileStore
from moments_desktop.core.session import Session

GOLDEN_EXPORTS = Path(__file__).resolve().parents[1] / "core" / "golden" / "exports"
# The request of tests/core/test_exports_golden.py's "demo" case, as a saved profile.
GOLDEN_BASE_URL = "https://dnxr7vm27d.execute-api.us-east-1.amazonaws.com/prod"
GOLDEN_DEMO = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android", "campaignId": "DEMOCAMP1",
               "rewardGroupId": "amz1yprime"}
ENDPOINT_OF = {"info": Endpoint.GET_REWARD_INFO, "reward": Endpoint.GET_REWARD}


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    import_profiles(home, tmp_path, profile_entry("Golden", GOLDEN_BASE_URL, GOLDEN_DEMO, live=True,
                                                  cost_per_action="2.50", currency="USD", profile_id="golden"))
    return home


@pytest.mark.parametrize("endpoint", ["info", "reward"])
@pytest.mark.parametrize("fmt", [f.value for f in ExportFormat])
def test_the_printed_snippet_is_the_golden_export(home, fmt, endpoint):
    ran = moments(home, "export", fmt, "--profile", "Golden", "--endpoint", endpoint)
    assert ran.code == 0, ran.stderr
    golden = (GOLDEN_EXPORTS / f"demo.{ENDPOINT_OF[endpoint].value}.{fmt}.txt").read_bytes().decode("utf-8")
    assert ran.stdout == (golden if golden.endswith("\n") else golden + "\n")


@pytest.mark.parametrize("fmt", [f.value for f in ExportFormat])
def test_the_printed_snippet_is_the_sessions_export_and_its_warnings_go_to_stderr(home, fmt):
    async def session_export():
        profiles = ProfileStore(home / "scratch-profiles.json")  # not the CLI's: a second store of the same request
        profiles.add(Profile(name="Same", base_url=GOLDEN_BASE_URL, live=True, cost_per_action=Decimal("2.50"),
                             **GOLDEN_DEMO))
        session = Session(profiles, CredentialStore(), Journal(home / "scratch.sqlite3"), make_client())
        try:
            return await session.export(profiles.find_by_name("Same").id, Endpoint.GET_REWARD, fmt)
        finally:
            await session.aclose()
    expected = asyncio.run(session_export())
    ran = moments(home, "export", fmt, "--profile", "Golden", "--endpoint", "reward")
    assert ran.code == 0
    assert ran.stdout.rstrip("\n") == expected.text.rstrip("\n")
    assert expected.warnings  # getReward is billed: every format warns of it
    assert ran.stderr.splitlines() == [f"moments: warning: {' '.join(w.split())}" for w in expected.warnings]


def test_the_default_endpoint_is_get_reward_info_with_no_warning(home):
    ran = moments(home, "export", "curl", "--profile", "Golden")
    assert ran.code == 0 and ran.stderr == ""
    assert "/GetRewardInfo" in ran.stdout and "$MOMENTS_API_KEY" in ran.stdout


def test_the_printed_curl_snippet_runs_against_the_sandbox(tmp_path, sandbox):
    import_profiles(tmp_path, tmp_path, profile_entry("Local", "https://unused.example.test", sandbox.demo_body))
    ran = moments(tmp_path, "export", "curl", "--profile", "Local", "--endpoint-url", sandbox.base_url)
    assert ran.code == 0, ran.stderr
    assert sandbox.base_url + "/GetRewardInfo" in ran.stdout and sandbox.demo_key not in ran.stdout
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    answer = subprocess.run(["sh", "-c", ran.stdout], env={**env, "MOMENTS_API_KEY": sandbox.demo_key},
                            capture_output=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    reward = json.loads(answer.stdout)
    assert reward["rewardNotificationText"]
    refused = subprocess.run(["sh", "-c", ran.stdout], env={**env, "MOMENTS_API_KEY": "not-the-key"},
                             capture_output=True, timeout=60)
    assert json.loads(refused.stdout) == {"message": "Forbidden"}


@pytest.mark.secret_service
def test_a_stored_key_never_reaches_the_snippet(home):
    """The key is stored for the profile; the export still carries only the placeholder."""
    assert moments(home, "key", "set", "--profile", "Golden", stdin=f"key-{SECRET_MARK}\n").code == 0
    try:
        for fmt in ExportFormat:
            ran = moments(home, "export", fmt.value, "--profile", "Golden", "--endpoint", "reward")
            assert ran.code == 0 and SECRET_MARK not in ran.output
    finally:
        forget_key("golden")


def test_the_built_in_profile_needs_an_endpoint_url(tmp_path, sandbox):
    ran = moments(tmp_path, "export", "curl", "--profile", "Sandbox demo")
    assert ran.code == 2 and "uses the built-in sandbox, which has no address" in ran.stderr
    ran = moments(tmp_path, "export", "curl", "--profile", "Sandbox demo", "--endpoint-url", sandbox.base_url)
    assert ran.code == 0 and sandbox.base_url in ran.stdout


@pytest.mark.parametrize(("args", "code", "words"), [
    (["export", "curl", "--profile", "Nobody"], 2, "no profile named 'Nobody'"),
    (["export", "wget", "--profile", "Golden"], 2, "invalid choice: 'wget'"),
    (["export", "curl", "--profile", "Golden", "--endpoint-url", "ftp://x"], 6, "The request is not valid: base_url"),
])
def test_export_errors_are_one_line(home, args, code, words):
    ran = moments(home, *args)
    assert ran.code == code and ran.stdout == "" and words in ran.stderr and ran.stderr.count("\n") == 1, ran.stderr
