"""A stdout that cannot take the result never changes what a command did, nor its exit code: a paid-for
claim whose result cannot be printed still exits 0 and names its journal entry and URL on stderr."""

from __future__ import annotations

import json
import os
import subprocess

from cli_helpers import CLI_TIMEOUT_S, cli_command, cli_env, journal_entries


def _claim_args(profile) -> list[str]:
    return ["claim", "--profile", profile.name, "--yes"]


def test_a_stdout_that_cannot_encode_the_result_still_gets_the_claim_document(sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile(name="Prüfung ✓ 検証")  # the document names it: not ASCII
    done = subprocess.run(cli_command(*_claim_args(profile), "--json"), capture_output=True, timeout=CLI_TIMEOUT_S,
                          env=cli_env(cli_home, {"PYTHONIOENCODING": "ascii"}))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout.decode("ascii"))
    [sent] = sandbox.admin.ledger()
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert (document["profile"]["name"], document["reward_url"]) == ("Prüfung ✓ 検証", sent["reward_url"])
    assert (row.outcome.value, row.reward_url) == ("success", sent["reward_url"])


def test_a_closed_stdout_keeps_the_claims_exit_code_and_names_its_entry_and_url(sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *cli_command(*_claim_args(profile))],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S, env=cli_env(cli_home))
    assert done.returncode == 0, done.stderr
    [sent] = sandbox.admin.ledger()
    [row] = journal_entries(cli_home, endpoint="GetReward")
    assert row.outcome.value == "success"
    assert f"entry #{row.id}" in done.stderr and sent["reward_url"] in done.stderr
    assert "Traceback" not in done.stderr and "Try again" not in done.stderr


def test_a_broken_pipe_keeps_the_commands_own_exit_code(sandbox_profile, sandbox, cli_home):
    """An unconfirmed claim piped into a reader that has gone: still exit 2 (nothing sent), not 0."""
    profile = sandbox_profile()
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes
    try:
        done = subprocess.run(cli_command("claim", "--profile", profile.name, "--json"), stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=CLI_TIMEOUT_S, env=cli_env(cli_home))
    finally:
        os.close(write_end)
    assert done.returncode == 2, done.stderr
    assert "not confirmed" in done.stderr
    assert sandbox.admin.ledger() == []


def test_an_export_to_a_closed_stdout_is_no_internal_error(add_profile, sandbox, cli_home):
    profile = add_profile("Export target", sandbox.base_url)
    done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *cli_command("export", "curl", "--profile", profile.name)],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S, env=cli_env(cli_home))
    assert done.returncode == 0, done.stderr
    assert "unexpected" not in done.stderr.lower() and "Traceback" not in done.stderr
