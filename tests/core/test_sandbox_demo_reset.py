"""Session.reset_sandbox_for_demo: presenter mode's "Reset sandbox for the next demo", against the real sandbox.

The reset restores the embedded sandbox's inventory after real claims and keeps its ledger (read back through the
sandbox's own admin API); it is refused, sending nothing, for a profile or an endpoint that is not the built-in
sandbox and while a claim waits for its answer; a sandbox that does not answer in time, answers an error or cannot
be reached gives a SandboxResetError in words, never a traceback; stale previews of the sandbox do not feed the
next claim's confirmation; a sweep of the sandbox is refused while a reset is in flight (its answers would mix the
stock before and after the reset).
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from session_helpers import run_session
from slow_drip import SlowDripServer

from moments_desktop.api_schema import SANDBOX_ADMIN_TOKEN_HEADER, Outcome
from moments_desktop.core.errors import MomentsError, SandboxNotRunningError
from moments_desktop.core.profiles import DEMO_PROFILE_ID, EMBEDDED_SANDBOX_URL, Profile
from moments_desktop.core.session import (
    SANDBOX_RESET_PATH,
    EmbeddedSandbox,
    SandboxReset,
    SandboxResetError,
    SandboxResetUnavailableError,
)
from moments_desktop.core.sweep import SweepRun

LIVE = {"campaignId": "LIVECAMP1", "rewardGroupId": "US"}  # Live in the sandbox's catalog: a claim consumes one


def live_fields(sandbox) -> dict[str, str]:
    return {**sandbox.demo_body, **LIVE}


async def claim_one(session, sandbox, profile_id=DEMO_PROFILE_ID):
    plan = session.plan_claim(profile_id, fields=live_fields(sandbox))
    result = await session.claim(plan, plan.typed_confirmation if plan.live else None)
    assert result.call.outcome is Outcome.SUCCESS, result.call.error
    return result


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_reset_restores_inventory_and_keeps_the_ledger(sandbox, tmp_path):
    start = sandbox.admin.remaining("LIVECAMP1", "US")

    async def scenario(session):
        await claim_one(session, sandbox)
        await claim_one(session, sandbox)
        assert sandbox.admin.remaining("LIVECAMP1", "US") == start - 2
        ledger_before = sandbox.admin.ledger()
        assert len(ledger_before) == 2

        done = await session.reset_sandbox_for_demo(DEMO_PROFILE_ID)

        assert isinstance(done, SandboxReset)
        assert sandbox.admin.remaining("LIVECAMP1", "US") == start  # the inventory is back
        assert sandbox.admin.ledger() == ledger_before  # and the ledger is kept, entry for entry
        # The journal is the app's own record: untouched too.
        assert len(session.journal.query({"endpoint": "GetReward"})) == 2
        # The next demo can claim again, and its claim joins the kept ledger.
        await claim_one(session, sandbox)
        assert len(sandbox.admin.ledger()) == 3
        assert sandbox.admin.remaining("LIVECAMP1", "US") == start - 1

    run_session(sandbox, tmp_path, scenario)


def test_reset_sends_one_json_write_with_ledger_false_and_the_admin_token(tmp_path):
    # A server that records what arrived (and answers 404: not the sandbox's reset answer).
    with SlowDripServer(drip=()) as server:
        fake = type("Fake", (), {"base_url": server.base_url, "demo_key": "sandbox-demo-key-0001"})()

        async def scenario(session):
            session.sandbox = EmbeddedSandbox(server.base_url, "sandbox-demo-key-0001", admin_token="token-123")
            with pytest.raises(SandboxResetError) as raised:
                await session.reset_sandbox_for_demo(DEMO_PROFILE_ID)
            assert "HTTP 404" in raised.value.message

        run_session(fake, tmp_path, scenario)
        arrivals = [a for a in server.ledger if a.path == SANDBOX_RESET_PATH]
        assert len(arrivals) == 1 and len(server.ledger) == 1  # one call, never retried
        arrival = arrivals[0]
        assert arrival.method == "POST"
        assert json.loads(arrival.body) == {"ledger": False}
        headers = {name.lower(): value for name, value in arrival.headers.items()}
        assert headers["content-type"].startswith("application/json")
        assert headers[SANDBOX_ADMIN_TOKEN_HEADER] == "token-123"


def test_stale_previews_of_the_sandbox_do_not_feed_the_next_claim_plan(sandbox, tmp_path):
    async def scenario(session):
        fields = live_fields(sandbox)
        preview = await session.preview(DEMO_PROFILE_ID, fields=fields)
        assert preview.ok
        await claim_one(session, sandbox)
        before = session.plan_claim(DEMO_PROFILE_ID, fields=fields)
        assert before.last_preview is not None and before.claims_since_preview == 1
        await session.catalog(sandbox.base_url)
        assert session.cached_catalog(sandbox.base_url)[0]  # cached, fresh

        done = await session.reset_sandbox_for_demo(DEMO_PROFILE_ID)

        assert done.previews_forgotten == 1
        after = session.plan_claim(DEMO_PROFILE_ID, fields=fields)
        assert after.last_preview is None  # the confirmation says there was no preview: press Preview again
        assert not session.cached_catalog(sandbox.base_url)[0]  # the form's stock counts are asked again
        again = await session.preview(DEMO_PROFILE_ID, fields=fields)
        assert session.plan_claim(DEMO_PROFILE_ID, fields=fields).last_preview.reward.remaining_count == \
            again.reward.remaining_count == sandbox.admin.remaining("LIVECAMP1", "US")

    run_session(sandbox, tmp_path, scenario)


def test_refused_for_a_profile_not_on_the_built_in_sandbox_and_nothing_is_reset(sandbox, tmp_path):
    async def scenario(session):
        await claim_one(session, sandbox)
        consumed = sandbox.admin.remaining("LIVECAMP1", "US")
        # The same sandbox, reached at its address by a profile of its own: not the built-in sandbox's profile.
        other = session.profiles.add(Profile(name="QA on a local sandbox", base_url=sandbox.base_url,
                                             **sandbox.demo_body))
        cases = [
            (other.id, None, "this profile does not use the built-in sandbox"),
            (DEMO_PROFILE_ID, "https://moments.example.com/prod", "the form's endpoint is not the built-in sandbox's"),
            (None, None, "no profile is chosen"),
        ]
        for profile_id, base_url, why in cases:
            assert isinstance(session.sandbox_reset_blocker(profile_id, base_url), SandboxResetUnavailableError)
            with pytest.raises(SandboxResetUnavailableError) as raised:
                await session.reset_sandbox_for_demo(profile_id, base_url)
            assert why in raised.value.message
            assert "QA on a local sandbox" not in raised.value.message  # words for a shared screen
        assert sandbox.admin.remaining("LIVECAMP1", "US") == consumed  # nothing was reset
        # The built-in sandbox's own profile, with the form showing its endpoint: allowed.
        assert session.sandbox_reset_blocker(DEMO_PROFILE_ID, sandbox.base_url + "/") is None
        duplicate, _warning = await session.duplicate_profile(DEMO_PROFILE_ID)
        assert duplicate.base_url == EMBEDDED_SANDBOX_URL
        assert session.sandbox_reset_blocker(duplicate.id) is None

    run_session(sandbox, tmp_path, scenario)


def test_refused_without_the_embedded_sandbox(sandbox, tmp_path):
    async def scenario(session):
        assert isinstance(session.sandbox_reset_blocker(DEMO_PROFILE_ID), SandboxNotRunningError)
        with pytest.raises(SandboxNotRunningError):
            await session.reset_sandbox_for_demo(DEMO_PROFILE_ID)

    run_session(sandbox, tmp_path, scenario, embedded=False)


def test_refused_while_a_claim_waits_for_its_answer(tmp_path):
    # The built-in sandbox replaced by one that drips its getReward answer: the claim is in flight for a while.
    with SlowDripServer(interval=0.01, drip=("GetReward",)) as server:
        fake = type("Fake", (), {"base_url": server.base_url, "demo_key": "sandbox-demo-key-0001"})()

        async def scenario(session):
            plan = session.plan_claim(DEMO_PROFILE_ID)
            claim = asyncio.ensure_future(session.claim(plan))
            while server.count("POST", "/GetReward") == 0:  # sent, its answer still coming
                await asyncio.sleep(0.01)
            blocker = session.sandbox_reset_blocker(DEMO_PROFILE_ID)
            assert isinstance(blocker, SandboxResetError) and "a claim is waiting" in blocker.message
            with pytest.raises(SandboxResetError):
                await session.reset_sandbox_for_demo(DEMO_PROFILE_ID)
            result = await claim
            assert result.call.outcome is Outcome.SUCCESS
            assert session.sandbox_reset_blocker(DEMO_PROFILE_ID) is None  # once it has ended

        run_session(fake, tmp_path, scenario)
        assert server.count("POST", SANDBOX_RESET_PATH) == 0


def test_a_sandbox_that_does_not_answer_in_time_ends_at_the_deadline(tmp_path):
    # Headers at once, then one byte a second: only the reset's overall deadline ends the call.
    with SlowDripServer(interval=1.0, drip=("__sandbox",)) as server:
        fake = type("Fake", (), {"base_url": server.base_url, "demo_key": "sandbox-demo-key-0001"})()

        async def scenario(session):
            with pytest.raises(SandboxResetError) as raised:
                await session.reset_sandbox_for_demo(DEMO_PROFILE_ID, deadline=0.3)
            assert "did not answer within 0.3 s" in raised.value.message
            assert raised.value.advice  # what to do next

        run_session(fake, tmp_path, scenario)
        assert server.count("POST", SANDBOX_RESET_PATH) == 1


def test_an_unreachable_sandbox_is_said_in_words(tmp_path):
    url = f"http://127.0.0.1:{_unused_port()}"
    fake = type("Fake", (), {"base_url": url, "demo_key": "sandbox-demo-key-0001"})()

    async def scenario(session):
        with pytest.raises(SandboxResetError) as raised:
            await session.reset_sandbox_for_demo(DEMO_PROFILE_ID)
        assert "could not be reached" in raised.value.message

    run_session(fake, tmp_path, scenario)


def test_refused_once_the_session_is_closing(sandbox, tmp_path):
    async def scenario(session):
        await session.aclose()
        assert isinstance(session.sandbox_reset_blocker(DEMO_PROFILE_ID), SandboxResetError)
        with pytest.raises(SandboxResetError):
            await session.reset_sandbox_for_demo(DEMO_PROFILE_ID)

    run_session(sandbox, tmp_path, scenario)


def test_a_sweep_of_the_sandbox_is_refused_while_a_reset_is_in_flight_and_runs_once_it_has_ended(tmp_path):
    # The built-in sandbox replaced by one that drips its reset answer: the reset is in flight for a while.
    with SlowDripServer(interval=0.05, drip=("__sandbox",)) as server:
        fake = type("Fake", (), {"base_url": server.base_url, "demo_key": "sandbox-demo-key-0001"})()

        async def scenario(session):
            plan = session.plan_sweep(DEMO_PROFILE_ID, {})
            reset = asyncio.ensure_future(session.reset_sandbox_for_demo(DEMO_PROFILE_ID, deadline=60))
            while server.count("POST", SANDBOX_RESET_PATH) == 0:  # sent, its answer still coming
                await asyncio.sleep(0.01)
            with pytest.raises(MomentsError) as refused:
                await session.run_sweep(SweepRun(plan))
            assert refused.value.message == ("The sandbox is being reset for the next demo. "
                                             "Run the sweep when it is done."), refused.value.message
            assert server.count("POST", "/GetRewardInfo") == 0  # nothing of the sweep went out
            reset.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reset
            result = await session.run_sweep(SweepRun(plan))  # the reset has ended (however): the sweep runs
            assert len(result.cards) == 1 and server.count("POST", "/GetRewardInfo") == 1

        run_session(fake, tmp_path, scenario)
