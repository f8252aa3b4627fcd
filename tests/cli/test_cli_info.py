"""``moments info``: the CLI as a subprocess against the real sandbox, every exit code it can give, driven by
the sandbox's catalog and faults; the --json documents against golden files; the key in no output."""

from __future__ import annotations

import os
import pty
import subprocess

import pytest
from cli_helpers import (
    CLI_TIMEOUT_S,
    assert_secret_absent,
    check_golden,
    cli_command,
    cli_env,
    free_port,
    journal_entries,
    json_output,
)

pytestmark = pytest.mark.secret_service

WRONG_KEY = "cli-wrong-key-0001-SECRET"


def info(run_cli, profile, *extra):
    return run_cli("info", "--profile", profile.name, *extra)


def test_a_reward_prints_the_customer_texts_count_end_date_and_image(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    result = info(run_cli, profile)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Congratulations! You've earned Wireless Headphones" in out
    assert "100 rewards left" in out
    assert "31 Dec 2030" in out
    assert f"{sandbox.base_url}/images/headphones.png" in out
    assert "rewardTitle:" in out and "Wireless Headphones" in out  # the sandbox's extra text field
    assert result.stderr == ""  # piped: no progress, nothing decorative
    [row] = journal_entries(cli_home)  # journaled as the window's preview is
    assert (row.endpoint, row.outcome.value, row.profile_id) == ("GetRewardInfo", "success", profile.id)
    assert sandbox.admin.ledger() == []  # the free call: nothing claimed
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_json_success_document(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    result = info(run_cli, profile, "--json")
    assert result.returncode == 0, result.stderr
    document = json_output(result)
    assert document["endpoint"] == f"{sandbox.base_url}/GetRewardInfo"
    assert document["reward"]["remaining_count"] == 100
    check_golden("info_success", document, profile_ids=[profile.id])
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_endpoint_url_overrides_the_profile_for_one_call(run_cli, add_profile, store_key, sandbox, cli_home):
    profile = add_profile("Elsewhere", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    store_key(profile.id, sandbox.demo_key)
    result = info(run_cli, profile, "--endpoint-url", sandbox.base_url, "--json")
    assert result.returncode == 0, result.stderr
    assert json_output(result)["endpoint"] == f"{sandbox.base_url}/GetRewardInfo"
    # ...for that call only: the profile still points where it did.
    again = info(run_cli, profile)
    assert again.returncode == 7
    assert_secret_absent(sandbox.demo_key, result, again, home=cli_home)


@pytest.mark.parametrize(("case", "fields", "fault"), [
    ("empty_list", {"momentId": "NO_SUCH_MOMENT"}, None),
    ("no_reward_fields", {}, {"kind": "status", "status": 200, "body": {"unrelated": 1}}),
], ids=["[]", "200-without-reward-fields"])
def test_no_reward_exits_3(run_cli, sandbox_profile, sandbox, cli_home, case, fields, fault):
    profile = sandbox_profile(**fields)
    if fault:
        sandbox.admin.add_fault("GetRewardInfo", **fault)
    result = info(run_cli, profile, "--json")
    assert result.returncode == 3, result.stderr
    document = json_output(result)
    assert (document["ok"], document["verdict"], document["exit_code"]) == (False, "no_reward", 3)
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("moments: ")
    check_golden(f"info_{case}", document, profile_ids=[profile.id])
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


@pytest.mark.parametrize(("case", "fault", "title"), [
    ("forbidden", None, "The API key was refused (403 Forbidden)"),
    ("throttled", {"kind": "status", "status": 429, "body": {"message": "Too Many Requests"}}, "Too many requests"),
    ("quota", {"kind": "status", "status": 429, "body": {"message": "Limit Exceeded"}}, "quota is used up"),
    ("server_error", {"kind": "status", "status": 500, "body": {"message": "Internal server error"}},
     "The server reported an error"),
])
def test_the_api_refusing_exits_4(run_cli, sandbox_profile, sandbox, cli_home, case, fault, title):
    profile = sandbox_profile(key=WRONG_KEY if case == "forbidden" else None)
    if fault:
        sandbox.admin.add_fault("GetRewardInfo", **fault)
    result = info(run_cli, profile, "--json")
    assert result.returncode == 4, result.stderr
    document = json_output(result)
    assert document["verdict"] == "refused" and title in document["error"]["title"]
    assert title in result.stderr and len(result.stderr.splitlines()) == 1
    check_golden(f"info_{case}", document, profile_ids=[profile.id])
    assert_secret_absent(WRONG_KEY if case == "forbidden" else sandbox.demo_key, result, home=cli_home)


def test_a_port_nothing_listens_on_exits_7(run_cli, add_profile, store_key, cli_home):
    profile = add_profile("Nobody home", f"http://127.0.0.1:{free_port()}")
    key = store_key(profile.id, "cli-key-nobody-0001")
    result = info(run_cli, profile, "--json")
    assert result.returncode == 7, result.stderr
    document = json_output(result)
    assert (document["verdict"], document["sent"], document["outcome"]) == ("network", False, "not_sent")
    assert "Could not reach the endpoint" in result.stderr
    assert "Traceback" not in result.stderr
    check_golden("info_network", document, profile_ids=[profile.id])
    assert_secret_absent(key, result, home=cli_home)


def test_a_dropped_connection_exits_7(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    sandbox.admin.add_fault("GetRewardInfo", "drop_after_read")
    result = info(run_cli, profile)
    assert result.returncode == 7, result.stderr
    assert "connection was closed" in result.stderr
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_no_key_in_the_keyring_exits_6(run_cli, add_profile, sandbox, cli_home):
    profile = add_profile("Keyless", sandbox.base_url)
    result = info(run_cli, profile, "--json")
    assert result.returncode == 6, result.stderr
    assert result.stderr.startswith("moments: No API key for this profile.")
    document = json_output(result)
    assert (document["verdict"], document["sent"]) == ("local", False)
    check_golden("info_no_key", document, profile_ids=[profile.id])
    assert sandbox.admin.ledger() == []


def test_an_invalid_endpoint_exits_6_sending_nothing(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    result = info(run_cli, profile, "--endpoint-url", "not a url")
    assert result.returncode == 6, result.stderr
    assert result.stderr.startswith("moments: The request is not valid")
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_an_unknown_profile_is_a_usage_error(run_cli):
    result = run_cli("info", "--profile", "No such profile")
    assert result.returncode == 2
    assert "no profile named 'No such profile'" in result.stderr and "Sandbox demo" in result.stderr


@pytest.mark.parametrize("keychain", [True, False], ids=["with-keychain", "no-keychain"])
def test_sandbox_on_a_fresh_home_previews_the_demo(run_cli, cli_home, keychain):
    """The demo's key is the embedded sandbox's, in memory: no keychain needed (none on a bare CI runner)."""
    result = run_cli("info", "--profile", "Sandbox demo", "--sandbox",
                     env=None if keychain else {"DBUS_SESSION_BUS_ADDRESS": None})
    assert result.returncode == 0, result.stderr
    assert "Wireless Headphones" in result.stdout and "100 rewards left" in result.stdout
    [row] = journal_entries(cli_home)
    assert (row.profile_name, row.outcome.value) == ("Sandbox demo", "success")


def test_the_demo_without_sandbox_says_to_add_it(run_cli):
    result = run_cli("info", "--profile", "Sandbox demo")
    assert result.returncode == 6
    assert "--sandbox" in result.stderr and len(result.stderr.splitlines()) == 1


def test_progress_goes_to_a_terminal_only(sandbox_profile, sandbox, cli_home):
    """With stderr a terminal, a note says where the call goes; piped (the other tests), stderr stays empty."""
    profile = sandbox_profile()
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(cli_command("info", "--profile", profile.name), env=cli_env(cli_home),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, text=True)
        os.close(terminal)
        stdout, _ = proc.communicate(timeout=CLI_TIMEOUT_S)
        written = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal's other side is closed and everything was read
                break
            if not chunk:
                break
            written += chunk
    finally:
        os.close(controller)
    assert proc.returncode == 0
    assert f"Sending getRewardInfo to {sandbox.base_url}/GetRewardInfo" in written.decode()
    assert "Wireless Headphones" in stdout and "Sending" not in stdout


def test_a_key_the_server_echoes_back_is_in_no_output(run_cli, sandbox_profile, sandbox, cli_home):
    """A careless gateway quotes the request's x-api-key in its answer (body and header): the Session redacts
    it before anything shows it, so neither the text, the --json document nor the journal holds it."""
    key = "cli-echoed-key-0001-SECRET"
    profile = sandbox_profile(key=key)
    sandbox.admin.add_fault("GetRewardInfo", "status", status=403, echo_key=True)
    text = info(run_cli, profile)
    document = info(run_cli, profile, "--json")
    assert (text.returncode, document.returncode) == (4, 4)
    assert "[redacted]" in json_output(document)["error"]["message"]
    assert_secret_absent(key, text, document, home=cli_home)
