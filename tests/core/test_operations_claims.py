"""Claims through Operations against the real sandbox and a real journal: one after another on the
same Operations, what the journal keeps of each answer, and cancellation before and after sending."""

import asyncio

import httpx
import pytest
from client_helpers import live_request

from moments_desktop.core import errors
from moments_desktop.core.client import MomentsClient, RateLimiter
from moments_desktop.core.exchange import Outcome
from moments_desktop.core.operations import (
    CANCELLED_AFTER_SEND,
    CANCELLED_BEFORE_SEND,
    ClaimInProgressError,
    Operations,
    ProfileRef,
)

PROFILE = ProfileRef("p1", "QA live")


async def _ops(journal, fn, *, run_blocking=asyncio.to_thread, **client_kw):
    async with httpx.AsyncClient() as http:
        return await fn(Operations(MomentsClient(http, **client_kw), journal, run_blocking=run_blocking))


def test_claims_one_after_another_on_one_operations_all_go_through(sandbox, journal):
    async def three(ops):
        return [await ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key) for _ in range(3)]

    results = asyncio.run(_ops(journal, three))
    urls = [r.reward_url for r in results]
    assert all(urls) and len(set(urls)) == 3
    assert [r["reward_url"] for r in sandbox.admin.ledger()] == urls
    assert [journal.get(r.journal_id).reward_url for r in results] == urls


def test_a_claim_refused_before_sending_does_not_block_the_next(sandbox, journal):
    async def refused_then_sent(ops):
        refused = await ops.claim(PROFILE, live_request(sandbox, appId=" "), sandbox.demo_key)
        no_key = await ops.claim(PROFILE, live_request(sandbox), "")
        sent = await ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key)
        return refused, no_key, sent

    refused, no_key, sent = asyncio.run(_ops(journal, refused_then_sent))
    assert refused.call.outcome is Outcome.NOT_SENT and no_key.call.outcome is Outcome.NOT_SENT
    assert sent.reward_url and len(sandbox.admin.ledger()) == 1
    rows = {r.id: r for r in journal.query(None, 0, 10)}
    assert rows[no_key.journal_id].outcome == "not_sent"
    assert rows[no_key.journal_id].error_message == no_key.call.error.message
    assert "no API key" in rows[no_key.journal_id].error_message


def test_a_second_claim_while_one_waits_is_refused_and_the_flag_clears_after(sandbox, journal):
    async def overlapping(ops):
        first = asyncio.ensure_future(ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key))
        await asyncio.sleep(0)  # let the first claim start: it holds the slot until its answer
        with pytest.raises(ClaimInProgressError):
            await ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key)
        done = await first
        again = await ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key)
        return done, again

    done, again = asyncio.run(_ops(journal, overlapping))
    assert done.reward_url and again.reward_url and done.reward_url != again.reward_url
    assert len(sandbox.admin.ledger()) == 2


def test_the_journal_keeps_the_error_of_a_failed_claim(sandbox, journal):
    sandbox.admin.add_fault("GetReward", "status", status=503, times=1, body={"message": "Service Unavailable"})
    result = asyncio.run(_ops(journal, lambda o: o.claim(PROFILE, live_request(sandbox), sandbox.demo_key)))
    assert result.call.outcome is Outcome.ERROR and result.reward_url is None
    row = journal.get(result.journal_id)
    assert (row.outcome, row.status) == ("error", 503)
    assert row.error_message == result.call.error.message and "HTTP 503, Service Unavailable" in row.error_message
    assert row.response_body == result.call.exchange.response_body and row.duration_ms is not None
    assert row.response_headers["content-type"] == "application/json"
    assert journal.count(None) == 1  # the intent row was completed, not a second row added


def test_the_journal_keeps_an_unknown_outcome_with_its_reason(sandbox, journal):
    sandbox.admin.add_fault("GetReward", "status", status=502, times=1)
    result = asyncio.run(_ops(journal, lambda o: o.claim(PROFILE, live_request(sandbox), sandbox.demo_key)))
    row = journal.get(result.journal_id)
    assert row.outcome == "unknown" and row.status == 502 and row.reward_url is None
    assert row.error_message == result.call.error.message and "HTTP 502" in row.error_message


def test_an_empty_reward_url_is_no_reward_and_is_not_journaled_as_one(sandbox, journal):
    sandbox.admin.add_fault("GetReward", "status", status=200, times=1,
                            body={"rewardNotificationText": "Out of codes", "rewardNotificationUrl": ""})
    result = asyncio.run(_ops(journal, lambda o: o.claim(PROFILE, live_request(sandbox), sandbox.demo_key)))
    assert result.call.outcome is Outcome.NO_REWARD and isinstance(result.call.error, errors.BusinessError)
    assert result.reward_url is None
    row = journal.get(result.journal_id)
    assert row.outcome == "no_reward" and row.reward_url is None and row.error_message == "Out of codes"


def test_a_preview_is_journaled_with_its_error(sandbox, journal):
    result = asyncio.run(_ops(journal, lambda o: o.preview(PROFILE, live_request(sandbox), "not-a-key")))
    [row] = journal.query(None, 0, 10)
    assert (row.endpoint, row.outcome, row.status, row.profile_name) == ("GetRewardInfo", "error", 403, "QA live")
    assert row.error_message == result.error.message


class _Blocked:
    """A limiter sleep that never ends: the claim waits before sending until it is cancelled."""

    def __init__(self):
        self.waiting = asyncio.Event()

    async def __call__(self, delay):
        self.waiting.set()
        await asyncio.Event().wait()


def test_a_claim_cancelled_before_sending_leaves_no_row_and_sends_nothing(sandbox, journal):
    async def cancel_while_rate_limited():
        blocked = _Blocked()
        limiter = RateLimiter(calls=1, window=60.0, sleep=blocked)
        await limiter.acquire(sandbox.demo_key)  # the key's budget is spent: the claim must wait

        async def claim_then_again(ops):
            task = asyncio.ensure_future(ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key))
            await blocked.waiting.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return ops

        return await _ops(journal, claim_then_again, limiter=limiter)

    asyncio.run(cancel_while_rate_limited())
    assert journal.count(None) == 0 and sandbox.admin.ledger() == []


def test_a_claim_cancelled_after_it_was_sent_is_unknown_and_the_next_claim_goes_through(sandbox, journal):
    sandbox.admin.add_fault("GetReward", "latency", seconds=60, times=1)

    async def cancel_then_claim(ops):
        task = asyncio.ensure_future(ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key))
        while not await asyncio.to_thread(sandbox.admin.ledger):  # the request is at the sandbox: it was sent
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        first_id = ops.last_claim_entry_id
        return first_id, await ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key)

    first_id, second = asyncio.run(_ops(journal, cancel_then_claim))
    assert second.reward_url
    first, other = sorted(journal.query(None, 0, 10), key=lambda r: r.id)
    assert first.id == first_id
    assert first.outcome == "unknown" and first.error_message == CANCELLED_AFTER_SEND
    assert other.id == second.journal_id and other.outcome == "success"


class _HeldJob:
    """A run_blocking that holds the journal call named ``name`` until released (``reached`` set first)."""

    def __init__(self, name: str):
        self.name = name
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, fn, *args, **kwargs):
        if getattr(fn, "__name__", "") == self.name and not self.reached.is_set():
            self.reached.set()
            await self.release.wait()
        return await asyncio.to_thread(fn, *args, **kwargs)


def test_a_claim_cancelled_while_its_intent_is_written_is_journaled_not_sent(sandbox, journal):
    async def go():
        held = _HeldJob("begin_intent")

        async def cancel_in_the_write(ops):
            task = asyncio.ensure_future(ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key))
            await held.reached.wait()
            task.cancel()
            await asyncio.sleep(0)
            held.release.set()  # the write finishes in its thread all the same
            with pytest.raises(asyncio.CancelledError):
                await task
            return ops.last_claim_entry_id

        return await _ops(journal, cancel_in_the_write, run_blocking=held)

    entry_id = asyncio.run(go())
    [row] = journal.query(None, 0, 10)
    assert row.id == entry_id and row.outcome == "not_sent" and row.error_message == CANCELLED_BEFORE_SEND
    assert sandbox.admin.ledger() == []


def test_a_claim_cancelled_once_its_answer_is_in_is_journaled_with_its_url(sandbox, journal):
    """The cancel lands while the answer is being committed: the commit finishes, the cancellation goes on,
    and the row (which the caller finds by last_claim_entry_id) is the success with the URL."""
    async def go():
        held = _HeldJob("complete")

        async def cancel_in_the_commit(ops):
            task = asyncio.ensure_future(ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key))
            await held.reached.wait()
            task.cancel()
            await asyncio.sleep(0)
            held.release.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            return ops.last_claim_entry_id

        return await _ops(journal, cancel_in_the_commit, run_blocking=held)

    entry_id = asyncio.run(go())
    [sent] = sandbox.admin.ledger()
    row = journal.get(entry_id)
    assert row.outcome == "success" and row.reward_url == sent["reward_url"]
