"""Overall deadlines, against a real server that drips its answer (tests/slow_drip.py).

httpx's read timeout counts only the silence between two bytes, so a server sending one byte every
50 ms never trips it: without an overall deadline a preview or a claim would wait for the whole body
(minutes at one byte a second). Deadlines are passed in short (1 s) so the suite stays fast; each call
must end within the deadline plus a small slack, close its connection (the server sees it go), and a
claim must end as UNKNOWN with exactly one getReward in the server's own ledger.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace

import httpx
import pytest
from client_helpers import Sleeps, demo_request, run, with_client
from slow_drip import SlowDripServer

from moments_desktop.api_schema import Outcome
from moments_desktop.core import errors
from moments_desktop.core.client import Deadlines, MomentsClient, RateLimiter
from moments_desktop.core.operations import Operations, ProfileRef
from moments_desktop.core.request import RewardRequest
from moments_desktop.core.tasks import finish_async_generator_finalizers

DEADLINE = 1.0
SLACK = 1.0  # scheduling on a shared 2-core machine; the body would take ~13 s to arrive
KEY = "slow-drip-key-0001"
BODY = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android", "campaignId": "DEMOCAMP1",
        "rewardGroupId": "US"}


@pytest.fixture
def drip():
    with SlowDripServer(interval=0.05) as server:
        yield server


def request_for(server) -> RewardRequest:
    return RewardRequest(base_url=server.base_url, **BODY)


def timed(coro_fn):
    started = time.monotonic()
    result = run(coro_fn())
    return result, time.monotonic() - started


def wait_until_server_idle(server, timeout: float = 3.0) -> None:
    """The server's handler sees the client's close at its next byte: no connection left open on its side."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with server._lock:  # noqa: SLF001 - the fixture's own bookkeeping
            if not server._connections:  # noqa: SLF001
                return
        time.sleep(0.02)
    raise AssertionError("the server is still sending: the client did not close the connection")


def test_a_dripping_preview_ends_at_its_deadline_with_a_clear_error(drip):
    result, elapsed = timed(lambda: with_client(
        lambda c: c.get_reward_info(request_for(drip), KEY, deadline=DEADLINE), sleep=Sleeps()))
    assert DEADLINE <= elapsed < DEADLINE + SLACK
    assert type(result.error) is errors.PreviewDeadlineError and result.outcome is Outcome.ERROR
    assert result.error.title == "The preview took longer than 1 s"
    assert "Nothing was spent" in result.error.advice
    ex = result.exchange
    assert ex.status == 200 and ex.attempts == 1 and ex.error_message == result.error.message
    # What had arrived is kept for the Raw tab, marked as cut off.
    assert ex.response_body.startswith('{"reward') and ex.response_truncated
    assert 0 < len(ex.response_body) < 100
    assert drip.count("POST", "/GetRewardInfo") == 1  # a deadline is not retried
    wait_until_server_idle(drip)


def test_a_dripping_claim_ends_as_unknown_at_its_deadline_and_is_sent_once(drip):
    result, elapsed = timed(lambda: with_client(
        lambda c: c.get_reward(request_for(drip), KEY, deadline=DEADLINE)))
    assert DEADLINE <= elapsed < DEADLINE + SLACK
    assert isinstance(result.error, errors.OutcomeUnknownError) and type(result.error) is errors.ClaimDeadlineError
    assert result.outcome is Outcome.UNKNOWN and result.reward is None
    assert "within 1 s" in result.error.message and "will not send it again" in result.error.advice
    wait_until_server_idle(drip)
    assert drip.count("POST", "/GetReward") == 1
    assert len(drip.ledger) == 1


def test_the_default_deadlines_come_from_the_client(drip):
    short = Deadlines(preview=DEADLINE, image=DEADLINE, claim=DEADLINE)
    preview, elapsed = timed(lambda: with_client(
        lambda c: c.get_reward_info(request_for(drip), KEY), deadlines=short, sleep=Sleeps()))
    assert type(preview.error) is errors.PreviewDeadlineError and elapsed < DEADLINE + SLACK
    claim, elapsed = timed(lambda: with_client(lambda c: c.get_reward(request_for(drip), KEY), deadlines=short))
    assert type(claim.error) is errors.ClaimDeadlineError and elapsed < DEADLINE + SLACK
    assert Deadlines() == Deadlines(preview=30.0, image=20.0, claim=30.0)


def test_an_answer_that_completes_before_the_deadline_is_a_reward():
    with SlowDripServer(interval=0.002) as quick:  # ~300 bytes in ~0.6 s: slower than any read gap, in time
        result = run(with_client(lambda c: c.get_reward_info(request_for(quick), KEY, deadline=5), sleep=Sleeps()))
    assert result.ok, result.error
    assert result.reward.reward_url == "https://rewards.example/redeem/slow-drip-0001"


def test_a_claim_past_its_deadline_is_journaled_unknown_and_never_sent_again(drip, journal):
    async def scenario():
        async with httpx.AsyncClient() as http:
            ops = Operations(MomentsClient(http), journal)
            outcome = await ops.claim(ProfileRef("p1", "Slow"), request_for(drip), KEY, deadline=DEADLINE)
        await finish_async_generator_finalizers()
        return outcome

    claimed, elapsed = timed(scenario)
    assert elapsed < DEADLINE + SLACK
    assert claimed.call.outcome is Outcome.UNKNOWN and claimed.reward_url is None
    (row,) = journal.query()
    assert row.id == claimed.journal_id
    assert row.outcome is Outcome.UNKNOWN and row.status == 200
    assert "Outcome unknown: no complete answer arrived within 1 s" in row.error_message
    assert row.reward_url is None
    wait_until_server_idle(drip)
    assert drip.count("POST", "/GetReward") == 1


def test_preview_retries_and_their_waits_stay_within_the_deadline(sandbox):
    # Three 429s each asking for 10 s: with a 30 s deadline the client waits (capped at 10 s) and retries;
    # with a 5 s deadline no wait fits, so the 429 stands at once.
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, headers={"Retry-After": "10"},
                            body={"message": "Too Many Requests"}, times=3)
    sleeps = Sleeps()
    result = run(with_client(lambda c: c.get_reward_info(demo_request(sandbox), sandbox.demo_key, deadline=5),
                             sleep=sleeps))
    assert type(result.error) is errors.ThrottledError and result.exchange.attempts == 1
    assert sleeps.delays == []
    sleeps = Sleeps()
    result = run(with_client(lambda c: c.get_reward_info(demo_request(sandbox), sandbox.demo_key, deadline=30),
                             sleep=sleeps))
    assert sleeps.delays == [10.0, 10.0] and result.exchange.attempts == 3


def test_real_retry_waits_stop_at_the_deadline(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=502)  # until cleared
    try:
        result, elapsed = timed(lambda: with_client(
            lambda c: c.get_reward_info(demo_request(sandbox), sandbox.demo_key, deadline=DEADLINE),
            info_retries=10, retry_backoff=0.4))
    finally:
        sandbox.admin.clear_faults()
    # attempt 1 at 0 s, waits 0.4 s, attempt 2, would wait 0.8 s more: past the 1 s deadline, so it stops.
    assert result.exchange.attempts == 2 and type(result.error) is errors.ServerError
    assert elapsed < DEADLINE + SLACK


def test_a_preview_that_spends_its_deadline_waiting_for_the_rate_limiter_sends_nothing(drip):
    limiter = RateLimiter(calls=1, window=30)

    async def scenario(client):
        await limiter.acquire(KEY)  # the one call of the window is used up
        return await client.get_reward_info(request_for(drip), KEY, deadline=0.3)

    result = run(with_client(scenario, limiter=limiter, sleep=Sleeps()))
    assert result.outcome is Outcome.NOT_SENT and type(result.error) is errors.PreviewDeadlineError
    assert drip.ledger == []


def test_a_claim_stopped_while_still_connecting_was_not_sent():
    # A listening socket whose accept queue is full: the kernel drops the SYN, the connect hangs.
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        request = replace(RewardRequest(base_url=f"http://127.0.0.1:{port}", **BODY))
        result, elapsed = timed(lambda: with_client(lambda c: c.get_reward(request, KEY, deadline=0.5)))
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert result.outcome is Outcome.NOT_SENT and type(result.error) is errors.NotSentError, result.error
    assert "could not be made within 0.5 s" in result.error.message
    assert elapsed < 0.5 + SLACK


def test_the_deadline_cancels_inside_the_calling_task():
    """No second task is made for the deadline (asyncio.wait_for would be one): the call runs, and is
    cut off, in the caller's own task."""
    async def scenario():
        with SlowDripServer(interval=0.05) as server:
            async with httpx.AsyncClient() as http:
                client = MomentsClient(http, sleep=Sleeps())
                before = asyncio.all_tasks()
                call = asyncio.ensure_future(client.get_reward_info(request_for(server), KEY, deadline=0.5))
                await asyncio.sleep(0.2)
                during = asyncio.all_tasks() - before
                result = await call
            await finish_async_generator_finalizers()
        return during, call, result

    during, call, result = run(scenario())
    assert during == {call}
    assert type(result.error) is errors.PreviewDeadlineError


# --- per profile -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["preview_deadline_s", "image_deadline_s", "claim_deadline_s"])
@pytest.mark.parametrize(("value", "problem"), [
    (None, None), (5, None), (120, None), (42.5, None),
    (4.9, "Between 5 and 120 seconds."), (121, "Between 5 and 120 seconds."), (0, "Between 5 and 120 seconds."),
    (True, "Enter a number of seconds."), ("30", "Enter a number of seconds."),
    (float("nan"), "Enter a number of seconds."), (float("inf"), "Enter a number of seconds."),
])
def test_a_profile_deadline_is_checked_against_its_bounds(name, value, problem):
    from moments_desktop.core.profiles import Profile

    errors_found = Profile(name="P", **{name: value}).field_errors()
    assert errors_found.get(name) == problem


def test_profile_deadlines_survive_the_file_and_an_export(tmp_path):
    from moments_desktop.core.profiles import Profile, ProfileStore, parse_profile

    store = ProfileStore(tmp_path / "profiles.json")
    added = store.add(Profile(name="Slow", base_url="https://moments.example.test/prod", appId="A", momentId="M",
                              campaignId="C", rewardGroupId="US", preview_deadline_s=12, claim_deadline_s=90))
    again = ProfileStore(tmp_path / "profiles.json").get(added.id)
    assert (again.preview_deadline_s, again.image_deadline_s, again.claim_deadline_s) == (12, None, 90)
    data = again.to_dict()
    assert data["preview_deadline_s"] == 12 and data["image_deadline_s"] is None
    parsed, problems = parse_profile(data | {"claim_deadline_s": 500})
    assert parsed is None and problems == {"claim_deadline_s": "Between 5 and 120 seconds."}
    parsed, problems = parse_profile({k: v for k, v in data.items() if not k.endswith("_deadline_s")})
    assert problems == {} and parsed.preview_deadline_s is None  # an older file: the app's defaults


def test_the_session_passes_the_profiles_claim_deadline_per_call(tmp_path, monkeypatch):
    """The client's default is 1 s; the profile's 5 s lets a claim whose answer takes ~2.5 s complete."""
    from memory_keyring import MemoryKeyring

    from moments_desktop.core.credentials import CredentialStore
    from moments_desktop.core.http import make_client
    from moments_desktop.core.journal import Journal
    from moments_desktop.core.profiles import Profile, ProfileStore
    from moments_desktop.core.session import Session

    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))
    with SlowDripServer(interval=0.008, drip=("GetReward",)) as server:
        async def main():
            http = make_client()
            profiles = ProfileStore(tmp_path / "profiles.json")
            session = Session(profiles, CredentialStore(MemoryKeyring()), Journal(tmp_path / "journal.sqlite3"),
                              http, client=MomentsClient(http, deadlines=Deadlines(1, 1, 1)))
            try:
                own = profiles.add(Profile(name="Slow", base_url=server.base_url, **BODY, claim_deadline_s=5))
                default = profiles.add(Profile(name="Default", base_url=server.base_url, **BODY))
                for profile in (own, default):
                    session.credentials.set_key(profile.id, KEY)
                claimed = await session.claim(session.plan_claim(own.id), "DEMOCAMP1")
                started = time.monotonic()
                cut_off = await session.claim(session.plan_claim(default.id), "DEMOCAMP1")
                return claimed, cut_off, time.monotonic() - started, session.image_deadline(own.id)
            finally:
                await session.aclose()

        claimed, cut_off, elapsed, image_deadline = run(main())
        assert claimed.call.outcome is Outcome.SUCCESS, claimed.call.error
        assert claimed.reward_url == "https://rewards.example/redeem/slow-drip-0001"
        assert type(cut_off.call.error) is errors.ClaimDeadlineError and elapsed < 1 + SLACK
        assert image_deadline == 1
        assert server.count("POST", "/GetReward") == 2
