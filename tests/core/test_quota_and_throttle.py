"""The app's client against API Gateway's own answers from a real sandbox on 127.0.0.1: a throttled
preview without Retry-After, a used-up quota (429 Limit Exceeded: its own error, never retried), and
a production-shaped endpoint (…/prod) for preview and claim."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from client_helpers import Sleeps, Wire, claim, demo_request, info, live_request
from sandbox_variants import get, http_client, variant_sandbox
from session_helpers import run_session

from moments_desktop.api_schema import Outcome
from moments_desktop.core import errors
from moments_desktop.core.profiles import Profile
from moments_desktop.core.request import RewardRequest

THROTTLED_TITLE = "Too many requests (429)"


@pytest.fixture(scope="module")
def headerless():
    """The shipped catalog, its 429s without Retry-After (API Gateway's defaults)."""
    with variant_sandbox(retry_after_header=False, long_lived=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def quota_sandboxes():
    """Two calls a UTC day per key; with and without Retry-After."""
    with variant_sandbox(quota={"per_day": 2}, long_lived=True) as with_header, \
            variant_sandbox(quota={"per_day": 2}, retry_after_header=False, long_lived=True) as without:
        yield {"header": with_header, "no header": without}


def fill_the_rate_window(sandbox) -> None:
    """Five calls with the demo key from another client: the next one within the second is throttled."""
    with http_client(sandbox.base_url, timeout=10) as http:
        answers = [http.post("/GetRewardInfo", json=sandbox.demo_body, headers={"x-api-key": sandbox.demo_key})
                   for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert "retry-after" not in answers[-1].headers


def use_up_the_quota(sandbox) -> None:
    with http_client(sandbox.base_url, timeout=10) as http:
        answers = [http.post("/GetRewardInfo", json=sandbox.demo_body, headers={"x-api-key": sandbox.demo_key})
                   for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].json() == {"message": "Limit Exceeded"}


# --- throttled, without Retry-After ----------------------------------------------------------------


def test_a_throttled_preview_without_retry_after_backs_off_and_is_answered_within_its_deadline(headerless):
    headerless.admin.reset(ledger=True)
    fill_the_rate_window(headerless)
    wire = Wire()
    result = info(headerless, wire=wire, sleep=asyncio.sleep)  # real waits: the sandbox's window is real time
    assert result.ok, result.error
    assert result.outcome is Outcome.SUCCESS and "Wireless Headphones" in result.reward.notification_text
    assert 2 <= result.exchange.attempts == len(wire.requests) <= 3


def test_a_preview_throttled_throughout_ends_with_the_throttled_message(headerless):
    headerless.admin.reset(ledger=True)
    fill_the_rate_window(headerless)
    sleeps = Sleeps()  # no time passes: every attempt falls in the same window
    result = info(headerless, sleep=sleeps)
    assert type(result.error) is errors.ThrottledError and result.error.retry_after is None
    assert result.exchange.attempts == 3 and sleeps.delays == [0.5, 1.0]  # the backoff, with no header to read
    assert result.error.message.startswith(THROTTLED_TITLE)
    assert "Wait a moment and try again" in result.error.message
    assert result.outcome is Outcome.ERROR


def test_a_throttled_claim_is_not_retried_without_retry_after(headerless):
    headerless.admin.reset(ledger=True)
    fill_the_rate_window(headerless)
    sleeps = Sleeps()
    result = claim(headerless, live_request(headerless), sleep=sleeps)
    assert type(result.error) is errors.ThrottledError and sleeps.delays == []
    ledger = headerless.admin.ledger()
    assert [(e["status"], e["consumed"]) for e in ledger] == [(429, False)]


# --- quota used up: 429 Limit Exceeded -------------------------------------------------------------


@pytest.mark.parametrize("variant", ["header", "no header"])
def test_a_used_up_quota_is_its_own_error_and_the_preview_is_not_retried(quota_sandboxes, variant):
    sandbox = quota_sandboxes[variant]
    sandbox.admin.reset(ledger=True)
    use_up_the_quota(sandbox)
    sleeps, wire = Sleeps(), Wire()
    result = info(sandbox, sleep=sleeps, wire=wire)
    error = result.error
    assert type(error) is errors.QuotaExceededError and not isinstance(error, errors.ThrottledError)
    assert len(wire.requests) == 1 and result.exchange.attempts == 1 and sleeps.delays == []
    assert result.outcome is Outcome.ERROR and error.status == 429
    assert error.title == "This API key's quota is used up (429 Limit Exceeded)"
    assert "Waiting a few seconds will not help and the app will not retry" in error.message
    assert THROTTLED_TITLE not in error.message
    if variant == "header":
        assert 0 < error.retry_after <= 86400
        assert "the endpoint says it resets in" in error.detail
    else:
        assert error.retry_after is None and error.detail == ""


def test_a_claim_over_the_quota_is_sent_once_and_consumes_nothing(quota_sandboxes):
    sandbox = quota_sandboxes["header"]
    sandbox.admin.reset(ledger=True)
    use_up_the_quota(sandbox)
    sleeps = Sleeps()
    result = claim(sandbox, live_request(sandbox), sleep=sleeps)
    assert type(result.error) is errors.QuotaExceededError
    assert result.outcome is Outcome.ERROR and sleeps.delays == []
    assert [(e["status"], e["consumed"]) for e in sandbox.admin.ledger()] == [(429, False)]
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25


def test_limit_exceeded_is_recognised_whatever_its_case(sandbox):
    # Another gateway (or a replica) may spell the body's message differently.
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, times=1, body={"message": "LIMIT EXCEEDED"})
    sleeps = Sleeps()
    result = info(sandbox, sleep=sleeps)
    assert type(result.error) is errors.QuotaExceededError and sleeps.delays == []


def test_too_many_requests_is_still_throttling(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, times=1, body={"message": "Too Many Requests"})
    result = info(sandbox)
    assert result.ok and result.exchange.attempts == 2


def test_the_quota_error_through_the_session(quota_sandboxes, tmp_path):
    sandbox = quota_sandboxes["header"]
    sandbox.admin.reset(ledger=True)
    use_up_the_quota(sandbox)

    async def scenario(session):
        result = await session.preview("sandbox-demo")
        assert type(result.error) is errors.QuotaExceededError
        [row] = session.journal.query()
        assert row.status == 429 and row.outcome == Outcome.ERROR
        return result

    run_session(sandbox, tmp_path, scenario)


# --- the stage prefix: a production-shaped endpoint ------------------------------------------------


def prod(request: RewardRequest, sandbox) -> RewardRequest:
    return replace(request, base_url=sandbox.base_url + "/prod")


def test_preview_and_claim_through_the_client_at_the_stage_prefix(sandbox):
    preview = info(sandbox, prod(demo_request(sandbox), sandbox))
    assert preview.ok and preview.exchange.url == f"{sandbox.base_url}/prod/GetRewardInfo"
    assert get(preview.reward.image_url).status_code == 200
    first = claim(sandbox, prod(demo_request(sandbox), sandbox))
    second = claim(sandbox, prod(demo_request(sandbox), sandbox))
    assert first.ok and first.reward.reward_url == second.reward.reward_url  # test mode: the same URL
    live = [claim(sandbox, prod(live_request(sandbox), sandbox)) for _ in range(2)]
    urls = [c.reward.reward_url for c in live]
    assert all(c.outcome is Outcome.SUCCESS for c in live) and len(set(urls)) == 2
    for url in [first.reward.reward_url, *urls]:
        assert get(url).status_code == 200
    assert [e["consumed"] for e in sandbox.admin.ledger()] == [False, False, True, True]
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 23


def test_a_profile_with_a_prod_endpoint_previews_and_claims_through_the_session(sandbox, tmp_path):
    async def scenario(session):
        profile = session.profiles.add(Profile(name="Production-shaped", base_url=sandbox.base_url + "/prod",
                                               **sandbox.demo_body))
        await session.store_key(profile.id, sandbox.demo_key)
        preview = await session.preview(profile.id)
        assert preview.ok and preview.reward.remaining_count == 100
        plan = session.plan_claim(profile.id)
        assert plan.request.base_url == sandbox.base_url + "/prod"
        claimed = await session.claim(plan)
        assert claimed.reward_url and get(claimed.reward_url).status_code == 200
        catalog = await session.catalog(sandbox.base_url + "/prod")  # the form's choices, keys withheld
        assert catalog is not None and [c.value for c in catalog.app_choices()][0] == "DEMO1"
        return claimed

    claimed = run_session(sandbox, tmp_path, scenario)
    [entry] = sandbox.admin.ledger()
    assert entry["reward_url"] == claimed.reward_url and entry["request"] == sandbox.demo_body
