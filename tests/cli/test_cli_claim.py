"""``moments claim``: the confirmation rule of the Session, one getReward at most, the outcome journaled, every
exit code driven by the real sandbox (catalog states and faults), --json goldens, Ctrl+C in flight, the
answer kept when the history cannot take it; the key in no output or file."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest
from cli_helpers import (
    CLI_TIMEOUT_S,
    GOLDEN,
    assert_secret_absent,
    check_golden,
    free_port,
    journal_entries,
    journal_path,
    json_output,
    make_unwritable,
    wait_for,
)
from journal_lock import JournalLock  # tests/journal_lock.py

import moments_desktop.cli

pytestmark = pytest.mark.secret_service

LIVE = {"campaignId": "LIVECAMP1"}  # a Live campaign of the demo app: unique URLs, consumes inventory
WRONG_KEY = "cli-wrong-claim-key-0001-SECRET"


def claim(run_cli, profile, *extra):
    return run_cli("claim", "--profile", profile.name, *extra)


def claims_sent(sandbox) -> int:
    return len(sandbox.admin.ledger())


# --- the confirmation rule -------------------------------------------------------------------------


def test_test_mode_without_yes_prints_what_would_be_sent_and_sends_nothing(run_cli, sandbox_profile, sandbox,
                                                                             cli_home):
    profile = sandbox_profile(cost_per_action="0.25")
    result = claim(run_cli, profile)
    assert result.returncode == 2
    out = result.stdout
    assert f"POST {sandbox.base_url}/GetReward" in out
    assert "x-api-key: ••••••••" in out
    for name, value in sandbox.demo_body.items():
        assert name in out and value in out
    assert "Cost per claim: 0.25 USD" in out and "--yes" in out
    assert result.stderr == ("moments: The claim was not confirmed: the profile is in test mode: confirm with --yes. "
                             "Nothing was sent.\n")
    assert claims_sent(sandbox) == 0 and journal_entries(cli_home) == []
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_not_confirmed_json_document(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile(live=True, cost_per_action="1.50", **LIVE)
    result = claim(run_cli, profile, "--json")
    assert result.returncode == 2
    document = json_output(result)
    assert (document["verdict"], document["sent"], document["confirmation"]) == ("not_confirmed", False, "--confirm")
    assert document["would_send"]["headers"]["x-api-key"] == "••••••••"
    check_golden("claim_not_confirmed", document, profile_ids=[profile.id])
    assert claims_sent(sandbox) == 0
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_test_mode_with_yes_claims_once_and_prints_the_url_and_journal_id(run_cli, sandbox_profile, sandbox,
                                                                           cli_home):
    profile = sandbox_profile()
    result = claim(run_cli, profile, "--yes")
    assert result.returncode == 0, result.stderr
    [sent] = sandbox.admin.ledger()
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert f"Reward claimed: {sent['reward_url']}" in result.stdout
    assert f"Journal entry #{row.id} (success)" in result.stdout
    assert (row.outcome.value, row.reward_url, row.profile_id) == ("success", sent["reward_url"], profile.id)
    assert result.stderr == ""
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_json_success_document(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    result = claim(run_cli, profile, "--yes", "--json")
    assert result.returncode == 0, result.stderr
    document = json_output(result)
    [sent] = sandbox.admin.ledger()
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert (document["reward_url"], document["journal_id"]) == (sent["reward_url"], row.id)
    assert document["answer_journaled"] is True
    check_golden("claim_success", document, profile_ids=[profile.id])
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_live_needs_the_campaign_id_typed_exactly(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile(live=True, **LIVE)
    before = sandbox.admin.remaining("LIVECAMP1", "US")
    refused = {
        "nothing": claim(run_cli, profile),
        "--yes alone": claim(run_cli, profile, "--yes"),
        "a near miss": claim(run_cli, profile, "--confirm", "livecamp1"),
        "with a space": claim(run_cli, profile, "--confirm", "LIVECAMP1 "),
    }
    for why, result in refused.items():
        assert result.returncode == 2, why
        assert "--confirm" in result.stderr and "profile is live" in result.stderr, why
    assert "does not match" in refused["a near miss"].stderr
    assert claims_sent(sandbox) == 0 and journal_entries(cli_home) == []
    result = claim(run_cli, profile, "--confirm", "LIVECAMP1")
    assert result.returncode == 0, result.stderr
    assert sandbox.admin.remaining("LIVECAMP1", "US") == before - 1  # one reward, consumed once
    assert claims_sent(sandbox) == 1
    assert_secret_absent(sandbox.demo_key, result, *refused.values(), home=cli_home)


def test_a_wrong_confirm_on_a_test_mode_profile_is_refused(run_cli, sandbox_profile, sandbox):
    profile = sandbox_profile()
    result = claim(run_cli, profile, "--yes", "--confirm", "SOMETHING-ELSE")
    assert result.returncode == 2 and "does not match" in result.stderr
    assert claims_sent(sandbox) == 0
    assert_secret_absent(sandbox.demo_key, result)


def test_an_endpoint_url_other_than_the_saved_one_counts_as_live(run_cli, add_profile, store_key, sandbox, cli_home):
    profile = add_profile("Test mode elsewhere", f"http://127.0.0.1:{free_port()}")
    store_key(profile.id, sandbox.demo_key)
    result = claim(run_cli, profile, "--endpoint-url", sandbox.base_url, "--yes")
    assert result.returncode == 2
    assert "not the profile's saved one" in result.stderr and "--confirm" in result.stderr
    assert claims_sent(sandbox) == 0
    refused = result
    result = claim(run_cli, profile, "--endpoint-url", sandbox.base_url, "--confirm", "DEMOCAMP1")
    assert result.returncode == 0, result.stderr
    assert claims_sent(sandbox) == 1
    assert_secret_absent(sandbox.demo_key, refused, result, home=cli_home)


# --- what the service answered ----------------------------------------------------------------------


def test_empty_list_exits_3(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile(momentId="NO_SUCH_MOMENT")
    result = claim(run_cli, profile, "--yes", "--json")
    assert result.returncode == 3, result.stderr
    document = json_output(result)
    assert (document["verdict"], document["outcome"]) == ("no_reward", "no_reward")
    check_golden("claim_empty_list", document, profile_ids=[profile.id])
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


@pytest.mark.parametrize(("fields", "text"), [
    ({"campaignId": "FINCAMP1"}, "ended"),
    ({"campaignId": "LIVECAMP1", "rewardGroupId": "UK"}, None),  # zero inventory
], ids=["finished-campaign", "zero-inventory"])
def test_a_decline_text_exits_4_with_the_apis_own_words(run_cli, sandbox_profile, sandbox, cli_home, fields, text):
    profile = sandbox_profile(**fields)
    result = claim(run_cli, profile, "--yes", "--json")
    assert result.returncode == 4, result.stderr
    document = json_output(result)
    notification = document["error"]["notification_text"]
    assert notification and document["reward"]["reward_url"] is None
    assert result.stderr == f"moments: {notification}\n"  # verbatim, as the docs ask
    if text:
        assert text in notification.lower()
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert row.outcome.value == "no_reward" and document["journal_id"] == row.id
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


@pytest.mark.parametrize(("case", "fault"), [
    ("forbidden", None),
    ("throttled", {"kind": "status", "status": 429, "body": {"message": "Too Many Requests"}}),
    ("quota", {"kind": "status", "status": 429, "body": {"message": "Limit Exceeded"}}),
])
def test_the_api_refusing_exits_4_and_is_never_retried(run_cli, sandbox_profile, sandbox, cli_home, case, fault):
    key = WRONG_KEY if case == "forbidden" else sandbox.demo_key
    profile = sandbox_profile(key=key)
    if fault:
        sandbox.admin.add_fault("GetReward", **fault)
    result = claim(run_cli, profile, "--yes", "--json")
    assert result.returncode == 4, result.stderr
    assert json_output(result)["verdict"] == "refused"
    assert claims_sent(sandbox) == 1  # one request reached the sandbox, and no second
    if case == "forbidden":
        check_golden("claim_forbidden", json_output(result), profile_ids=[profile.id])
    assert_secret_absent(key, result, home=cli_home)


def test_200_without_reward_fields_is_unknown_exit_5(run_cli, sandbox_profile, sandbox, cli_home):
    """For getReward an empty 200 may have consumed the reward it does not show: unknown, not "no reward"."""
    profile = sandbox_profile()
    sandbox.admin.add_fault("GetReward", "status", status=200, body={})
    result = claim(run_cli, profile, "--yes")
    assert result.returncode == 5, result.stderr
    assert "whether a reward was consumed is unknown" in result.stderr
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_connection_dropped_after_sending_is_unknown_exit_5(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile(live=True, **LIVE)
    sandbox.admin.add_fault("GetReward", "drop_after_read")
    result = claim(run_cli, profile, "--confirm", "LIVECAMP1", "--json")
    assert result.returncode == 5, result.stderr
    document = json_output(result)
    assert (document["verdict"], document["outcome"], document["sent"]) == ("unknown", "unknown", True)
    [sent] = sandbox.admin.ledger()
    assert sent["consumed"] and sent["status"] is None  # paid for, URL lost
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert row.outcome.value == "unknown" and document["journal_id"] == row.id
    assert "moments history --unresolved" in result.stderr and len(result.stderr.splitlines()) == 1
    check_golden("claim_unknown", document, profile_ids=[profile.id])
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


# --- nothing sent -----------------------------------------------------------------------------------


def test_a_port_nothing_listens_on_exits_7(run_cli, add_profile, store_key, cli_home):
    profile = add_profile("Nobody home", f"http://127.0.0.1:{free_port()}")
    key = store_key(profile.id, "cli-key-nobody-claim-0001")
    result = claim(run_cli, profile, "--yes", "--json")
    assert result.returncode == 7, result.stderr
    document = json_output(result)
    assert (document["verdict"], document["sent"]) == ("network", False)
    check_golden("claim_network", document, profile_ids=[profile.id])
    assert_secret_absent(key, result, home=cli_home)


def test_no_key_in_the_keyring_exits_6(run_cli, add_profile, sandbox, cli_home):
    profile = add_profile("Keyless", sandbox.base_url)
    result = claim(run_cli, profile, "--yes", "--json")
    assert result.returncode == 6, result.stderr
    document = json_output(result)
    assert (document["verdict"], document["sent"]) == ("local", False)
    assert "moments key set" in result.stderr
    check_golden("claim_no_key", document, profile_ids=[profile.id])
    assert claims_sent(sandbox) == 0


def test_an_invalid_field_exits_6(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    result = claim(run_cli, profile, "--yes", "--endpoint-url", "ftp://127.0.0.1/x")
    assert result.returncode == 6, result.stderr
    assert result.stderr.startswith("moments: The request is not valid")
    assert claims_sent(sandbox) == 0
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


def test_a_read_only_history_refuses_the_claim_exit_6(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    undo = make_unwritable(cli_home / "data")
    try:
        result = claim(run_cli, profile, "--yes")
        preview = run_cli("info", "--profile", profile.name)  # a preview still works, with a warning
    finally:
        undo()
    assert result.returncode == 6, result.stderr
    assert "cannot be written" in result.stderr and "Nothing was sent" in result.stderr
    assert claims_sent(sandbox) == 0
    assert preview.returncode == 0, preview.stderr
    assert_secret_absent(sandbox.demo_key, result, preview, home=cli_home)


def test_a_history_locked_by_another_program_refuses_the_claim_exit_6(run_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    assert run_cli("info", "--profile", profile.name).returncode == 0  # the journal exists
    with JournalLock(journal_path(cli_home)):
        result = claim(run_cli, profile, "--yes")
    assert result.returncode == 6, result.stderr
    assert "locked by another program" in result.stderr
    assert claims_sent(sandbox) == 0
    assert_secret_absent(sandbox.demo_key, result, home=cli_home)


# --- in flight -------------------------------------------------------------------------------------


def test_ctrl_c_in_flight_exits_130_and_the_journal_says_unknown(start_cli, sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile(live=True, **LIVE)
    sandbox.admin.add_fault("GetReward", "latency", seconds=15)
    proc = start_cli("claim", "--profile", profile.name, "--confirm", "LIVECAMP1")
    wait_for(lambda: sandbox.admin.ledger(), what="the claim reaching the sandbox")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT_S)
    assert proc.returncode == 130, stderr
    assert "outcome is unknown" in stderr and "moments history --unresolved" in stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert row.outcome.value == "unknown" and "cancelled after it was sent" in row.error_message
    assert len(sandbox.admin.ledger()) == 1  # never sent again
    assert_secret_absent(sandbox.demo_key, stdout, stderr, home=cli_home)


def test_ctrl_c_during_the_tls_handshake_says_nothing_was_sent_and_journals_not_sent(start_cli, sandbox_profile,
                                                                                      sandbox, cli_home):
    """A listener that accepts the TCP connection and never answers the TLS handshake: the claim's intent is
    written, but no byte of the request can have left. Ctrl+C then: journaled not sent, and said so."""
    import socket

    profile = sandbox_profile(live=True, **LIVE)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(CLI_TIMEOUT_S)
        port = listener.getsockname()[1]
        proc = start_cli("claim", "--profile", profile.name, "--endpoint-url", f"https://127.0.0.1:{port}",
                         "--confirm", "LIVECAMP1")
        connection, _ = listener.accept()  # the client is in its handshake (or about to send its hello)
        with connection:
            wait_for(lambda: journal_entries(cli_home, endpoint="GetReward"), what="the claim's intent")
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT_S)
    assert proc.returncode == 130, stderr
    assert "nothing was sent" in stderr and "unknown" not in stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert row.outcome.value == "not_sent" and "cancelled before it was sent" in row.error_message
    assert sandbox.admin.ledger() == []
    assert_secret_absent(sandbox.demo_key, stdout, stderr, home=cli_home)


class _AnswerHeld:
    """A TCP relay to the sandbox that passes the request on at once and holds the answer back until
    ``release`` is set: a claim kept in flight for exactly as long as the test needs, whatever the machine."""

    def __init__(self, upstream_url: str):
        import socket
        import threading
        from urllib.parse import urlsplit

        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname, parts.port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}{parts.path}"
        self.release = threading.Event()
        self._threads = [threading.Thread(target=self._serve, daemon=True)]
        self._sockets = []

    def __enter__(self):
        self._threads[0].start()
        return self

    def __exit__(self, *exc_info):
        self.release.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=CLI_TIMEOUT_S)
        for sock in self._sockets:
            sock.close()

    def _serve(self) -> None:
        import socket
        import threading

        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        upstream = socket.create_connection(self._upstream)
        self._sockets += [client, upstream]
        forward = threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True)
        self._threads.append(forward)
        forward.start()
        self._pipe(upstream, client, True)

    def _pipe(self, source, target, held: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if held:
                    self.release.wait()
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            try:
                target.shutdown(1)  # SHUT_WR: the other side sees the end
            except OSError:
                pass


def test_an_answer_the_history_cannot_take_still_prints_the_url(start_cli, sandbox_profile, sandbox, cli_home):
    """The history is locked by another program after the intent was written: the answer goes to the rescue
    file, and the URL is printed all the same (exit 0), with a warning saying where it is kept."""
    profile = sandbox_profile(live=True, **LIVE)
    assert start_cli("info", "--profile", profile.name).wait(timeout=CLI_TIMEOUT_S) == 0  # the journal exists
    with _AnswerHeld(sandbox.base_url) as proxy:  # the answer waits until the history is locked: no race
        proc = start_cli("claim", "--profile", profile.name, "--endpoint-url", proxy.url, "--confirm",
                         "LIVECAMP1", "--json")
        wait_for(lambda: sandbox.admin.ledger(), what="the claim reaching the sandbox")
        with JournalLock(journal_path(cli_home)):
            proxy.release.set()
            stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT_S)
    assert proc.returncode == 0, stderr
    document = json.loads(stdout)
    [sent] = sandbox.admin.ledger()
    assert document["reward_url"] == sent["reward_url"] and document["answer_journaled"] is False
    assert document["rescue_path"] and document["rescue_path"] in stderr
    assert stderr.startswith("moments: warning: the history could not record this answer")
    assert_secret_absent(sandbox.demo_key, stdout, stderr, home=cli_home)


# --- the built-in sandbox ----------------------------------------------------------------------------


def test_the_sandbox_demo_on_a_fresh_home_claims_with_yes(run_cli, cli_home):
    refused = run_cli("claim", "--profile", "Sandbox demo", "--sandbox")
    assert refused.returncode == 2 and "test mode" in refused.stderr
    result = run_cli("claim", "--profile", "Sandbox demo", "--sandbox", "--yes")
    assert result.returncode == 0, result.stderr
    assert "Reward claimed: http://127.0.0.1:" in result.stdout
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert row.outcome.value == "success" and row.reward_url in result.stdout


def test_the_demo_without_sandbox_says_to_add_it(run_cli):
    result = run_cli("claim", "--profile", "Sandbox demo", "--yes")
    assert result.returncode == 6
    assert "--sandbox" in result.stderr and len(result.stderr.splitlines()) == 1


# --- documentation -------------------------------------------------------------------------------------


def test_help_says_what_confirms_a_claim(run_cli):
    result = run_cli("claim", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--yes alone never confirms a live claim" in text
    assert "counts as live whatever the profile says: it needs --confirm" in text


def test_schema_md_documents_every_key_of_the_info_and_claim_documents():
    schema = (Path(moments_desktop.cli.__file__).parent / "SCHEMA.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", schema, flags=re.MULTILINE))
    goldens = sorted(GOLDEN.glob("info_*.json")) + sorted(GOLDEN.glob("claim_*.json"))
    assert len(goldens) >= 10
    for path in goldens:
        document = json.loads(path.read_text(encoding="utf-8"))
        keys = set(document) | set(document.get("error") or {}) | set(document.get("reward") or {})
        assert keys - {"schema", "command"} <= documented, (path.name, keys - documented)


def test_a_key_the_server_echoes_back_is_in_no_output(run_cli, sandbox_profile, sandbox, cli_home):
    key = "cli-echoed-claim-key-0001-SECRET"
    profile = sandbox_profile(key=key)
    sandbox.admin.add_fault("GetReward", "status", status=400, echo_key=True)
    result = claim(run_cli, profile, "--yes", "--json")
    assert result.returncode == 4, result.stderr
    assert "[redacted]" in json_output(result)["error"]["message"]
    assert_secret_absent(key, result, home=cli_home)
