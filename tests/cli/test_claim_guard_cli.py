"""A window's claim and a ``moments claim`` for the same profile are never in flight at once (issue 14): the
window's side is the Session the window uses, in this process, over the same home, its claim held in flight
by a latency fault; the CLI's claim meanwhile is refused before sending, exit 6, with the guard's words."""

from __future__ import annotations

import asyncio

import pytest
from cli_helpers import (
    CLI_TIMEOUT_S,
    assert_secret_absent,
    cli_command,
    cli_env,
    journal_path,
    secret_service_credentials,
)

from moments_desktop.core import journal as journal_module
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import ProfileStore

pytestmark = pytest.mark.secret_service

if not hasattr(journal_module, "ClaimInFlightElsewhereError"):  # pragma: no cover - until the guard is merged
    pytest.skip("the journal's cross-process claim guard (ClaimInFlightElsewhereError) is not in this tree",
                allow_module_level=True)


def test_a_cli_claim_while_the_windows_claim_is_in_flight_is_refused(sandbox_profile, sandbox, cli_home):
    from moments_desktop.core.session import Session

    profile = sandbox_profile(live=True, campaignId="LIVECAMP1")
    # Held far longer than the CLI can take to start, even on a loaded machine; ended below once it returned.
    sandbox.admin.add_fault("GetReward", "latency", seconds=60, times=1)
    outcome = {}

    async def scenario():
        session = Session(ProfileStore(cli_home / "config" / "profiles.json"), secret_service_credentials(),
                          Journal(journal_path(cli_home)), make_client())
        try:
            plan = session.plan_claim(profile.id)
            window_claim = asyncio.ensure_future(session.claim(plan, "LIVECAMP1"))
            while not await asyncio.to_thread(sandbox.admin.ledger):  # the window's claim reached the sandbox
                await asyncio.sleep(0.02)
            cli = await asyncio.create_subprocess_exec(
                *cli_command("claim", "--profile", profile.name, "--confirm", "LIVECAMP1"),
                env=cli_env(cli_home), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            stdout, stderr = await asyncio.wait_for(cli.communicate(), CLI_TIMEOUT_S)
            outcome["cli"] = (cli.returncode, stdout.decode(), stderr.decode())
            outcome["window_done_first"] = window_claim.done()
            window_claim.cancel()  # the hold's work is done: end it (as the window's Cancel would)
            outcome["window"] = (await asyncio.gather(window_claim, return_exceptions=True))[0]
            outcome["window_row"] = await session.interrupted_claim()
        finally:
            await session.aclose()

    asyncio.run(scenario())
    code, stdout, stderr = outcome["cli"]
    assert code == 6, stderr
    assert "already in progress in another window or process" in stderr and len(stderr.splitlines()) == 1
    assert "Nothing was sent" in stderr
    assert not outcome["window_done_first"], "the window's claim ended before the CLI's: the test proves nothing"
    assert isinstance(outcome["window"], asyncio.CancelledError)
    assert outcome["window_row"].outcome.value == "unknown"  # it was sent (the sandbox has it), then cancelled
    assert len(sandbox.admin.ledger()) == 1  # the CLI's never left
    assert_secret_absent(sandbox.demo_key, stdout, stderr, home=cli_home)


def test_the_words_of_an_interrupted_claim_come_from_its_journal_row(tmp_path):
    """Ctrl+C in session.claim: the CLI says what the claim's row says. A success (the answer was in before
    the interrupt took effect) prints its URL and exits 0; no row, or not sent, says nothing was sent; a row
    that is unknown, or could not be read, keeps the unknown words."""
    import io
    from argparse import Namespace

    from moments_desktop.api_schema import Outcome
    from moments_desktop.cli import calls
    from moments_desktop.cli.output import Output

    with Journal(tmp_path / "journal.sqlite3") as journal:
        entry_id = journal.begin_intent("p1", "One", "GetReward", "https://x.example/GetReward", {}, {})
        pending = journal.get(entry_id)
        success = journal.complete(entry_id, 200, {}, "{}", 5.0, Outcome.SUCCESS,
                                   reward_url="https://r.example/claimed")

    def words(interrupted, url=None, json=False):
        out = Output(io.StringIO(), io.StringIO())
        stage = calls._ClaimStage(sending=True, interrupted=interrupted, reward_url_shown=url)
        code = calls._interrupted_claim(Namespace(json=json), out, stage)
        return int(code), out.stdout.getvalue(), out.stderr.getvalue()

    code, stdout, stderr = words(success, "https://r.example/claimed")
    assert code == 0 and "Reward claimed: https://r.example/claimed" in stdout
    assert "interrupted after the answer arrived" in stderr and len(stderr.splitlines()) == 1
    code, stdout, stderr = words(None)
    assert code == 130 and "nothing was sent" in stderr and stdout == ""
    for unknown in (pending, calls.UNKNOWN_ROW):
        code, stdout, stderr = words(unknown)
        assert code == 130 and "outcome is unknown" in stderr and "moments history --unresolved" in stderr
