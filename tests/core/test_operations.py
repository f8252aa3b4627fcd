"""Preview and claim operations over the real sandbox and a real journal file."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import httpx
import pytest
from client_helpers import live_request

from moments_desktop.core.client import MomentsClient
from moments_desktop.core.exchange import Outcome
from moments_desktop.core.operations import ClaimInProgressError, Operations, ProfileRef

PROFILE = ProfileRef("p1", "QA live")


async def _ops(journal, fn, **client_kw):
    async with httpx.AsyncClient() as http:
        return await fn(Operations(MomentsClient(http, **client_kw), journal))


def test_preview_is_journaled_without_the_key(sandbox, journal):
    result = asyncio.run(_ops(journal, lambda o: o.preview(PROFILE, live_request(sandbox), sandbox.demo_key)))
    assert result.ok
    [row] = journal.query(None, 0, 10)
    assert row.outcome == "success" and row.endpoint == "GetRewardInfo" and row.profile_id == "p1"
    assert sandbox.demo_key not in json.dumps(row.to_dict(), default=str)


def test_claim_journals_the_url_before_returning_it(sandbox, journal):
    result = asyncio.run(_ops(journal, lambda o: o.claim(PROFILE, live_request(sandbox), sandbox.demo_key)))
    assert result.reward_url and result.call.outcome is Outcome.SUCCESS
    row = journal.get(result.journal_id)
    assert row.outcome == "success" and row.reward_url == result.reward_url
    assert [r["reward_url"] for r in sandbox.admin.ledger()] == [result.reward_url]


def test_concurrent_claims_send_one_request(sandbox, journal):
    async def twice(ops):
        req = live_request(sandbox)
        return await asyncio.gather(ops.claim(PROFILE, req, sandbox.demo_key),
                                    ops.claim(PROFILE, req, sandbox.demo_key), return_exceptions=True)

    first, second = asyncio.run(_ops(journal, twice))
    assert first.reward_url and isinstance(second, ClaimInProgressError)
    assert len(sandbox.admin.ledger()) == 1
    assert journal.count(None) == 1


def test_unknown_outcome_is_journaled_as_unknown(sandbox, journal):
    sandbox.admin.add_fault("GetReward", "drop_after_read")
    result = asyncio.run(_ops(journal, lambda o: o.claim(PROFILE, live_request(sandbox), sandbox.demo_key)))
    assert result.call.outcome is Outcome.UNKNOWN and result.reward_url is None
    assert journal.get(result.journal_id).outcome == "unknown"
    assert len(sandbox.admin.ledger()) == 1


def test_cancelled_claim_is_left_unknown(sandbox, journal):
    sandbox.admin.add_fault("GetReward", "latency", seconds=5)

    async def cancel_midway(ops):
        task = asyncio.ensure_future(ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key))
        while journal.count(None) == 0:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(_ops(journal, cancel_midway))
    [row] = journal.query(None, 0, 10)
    assert row.outcome == "unknown" and "cancelled" in row.error_message


def test_invalid_claim_is_journaled_as_not_sent(sandbox, journal):
    result = asyncio.run(_ops(journal, lambda o: o.claim(PROFILE, live_request(sandbox, appId=""), "k")))
    assert journal.get(result.journal_id).outcome == "not_sent"
    assert sandbox.admin.ledger() == []


CHILD = textwrap.dedent("""
    import asyncio, sys, httpx
    from moments_desktop.core.client import MomentsClient
    from moments_desktop.core.journal import Journal
    from moments_desktop.core.operations import Operations, ProfileRef
    from moments_desktop.core.request import RewardRequest

    base, key, path = sys.argv[1:4]
    async def main():
        async with httpx.AsyncClient() as http:
            ops = Operations(MomentsClient(http), Journal(path))
            req = RewardRequest(base_url=base, appId="DEMO1", momentId="GAME_COMPLETE", deviceType="Android",
                                campaignId="LIVECAMP1", rewardGroupId="US")
            await ops.claim(ProfileRef("p1", "QA live"), req, key)
    asyncio.run(main())
""")

RECOVER = textwrap.dedent("""
    import json, sys
    from moments_desktop.core.journal import Journal
    j = Journal(sys.argv[1], recover=True)
    print(json.dumps([{"id": e.id, "outcome": e.outcome, "endpoint": e.endpoint} for e in j.recovered]))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_mid_claim_leaves_an_unknown_intent(sandbox, tmp_path):
    path = tmp_path / "journal.sqlite3"
    sandbox.admin.add_fault("GetReward", "latency", seconds=30)
    child = subprocess.Popen([sys.executable, "-c", CHILD, sandbox.base_url, sandbox.demo_key, str(path)])
    try:
        deadline = time.monotonic() + 20
        while not sandbox.admin.ledger():  # the request reached the server: it is in flight
            assert child.poll() is None, "child ended early"
            assert time.monotonic() < deadline, "the claim never reached the sandbox"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    out = subprocess.run([sys.executable, "-c", RECOVER, str(path)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [{"id": 1, "outcome": "unknown", "endpoint": "GetReward"}]
    assert len(sandbox.admin.ledger()) == 1  # nothing re-sent by the recovering process
