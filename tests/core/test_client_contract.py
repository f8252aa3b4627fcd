"""The client against the real sandbox over 127.0.0.1, for every behaviour of the contract."""

import asyncio
from dataclasses import replace

import httpx
import pytest

from moments_desktop.core import errors
from moments_desktop.core.client import MomentsClient, RateLimiter, default_timeout
from moments_desktop.core.exchange import REDACTED, Outcome
from moments_desktop.core.request import RewardRequest


def run(coro):
    return asyncio.run(coro)


def demo_request(sandbox, **changes) -> RewardRequest:
    return replace(RewardRequest(base_url=sandbox.base_url, **sandbox.demo_body), **changes)


async def _with_client(fn, **client_kw):
    async with httpx.AsyncClient() as http:
        return await fn(MomentsClient(http, **client_kw))


def info(sandbox, request=None, key=None, **client_kw):
    request = request or demo_request(sandbox)
    return run(_with_client(lambda c: c.get_reward_info(request, key or sandbox.demo_key), **client_kw))


def claim(sandbox, request=None, key=None, before_send=None, **client_kw):
    request = request or demo_request(sandbox)
    return run(_with_client(lambda c: c.get_reward(request, key or sandbox.demo_key, before_send=before_send),
                            **client_kw))


def test_preview_returns_the_reward_and_keeps_unknown_fields(sandbox):
    result = info(sandbox)
    assert result.ok and result.outcome is Outcome.SUCCESS
    reward = result.reward
    assert reward.notification_text
    assert reward.image_url.startswith(sandbox.base_url)
    assert reward.remaining_count == 100
    assert reward.campaign_end_text == "31 Dec 2030"
    assert "rewardTitle" in reward.extra  # not in the contract, must be kept
    ex = result.exchange
    assert ex.url == f"{sandbox.base_url}/GetRewardInfo"
    assert ex.request_body == sandbox.demo_body
    assert ex.request_headers["x-api-key"] == REDACTED
    assert sandbox.demo_key not in repr(ex.to_dict())
    assert ex.status == 200 and ex.duration_ms > 0 and '"rewardNotificationText"' in ex.response_body


def test_epoch_end_date_is_readable(sandbox):
    result = info(sandbox, demo_request(sandbox, campaignId="LIVECAMP1"))
    assert result.ok
    assert result.reward.campaign_end is not None and "20" in result.reward.campaign_end_text


def test_preview_consumes_nothing(sandbox):
    req = demo_request(sandbox, campaignId="LIVECAMP1")
    before = sandbox.admin.remaining("LIVECAMP1", "US")
    for _ in range(3):
        assert info(sandbox, req).ok
    assert sandbox.admin.remaining("LIVECAMP1", "US") == before
    assert sandbox.admin.ledger() == []


def test_japanese_reward_group_message(sandbox):
    result = info(sandbox, demo_request(sandbox, rewardGroupId="JP"))
    assert result.ok
    assert any("\u3040" <= ch <= "\u9fff" for ch in result.reward.notification_text)


def test_wrong_key_is_forbidden(sandbox):
    result = info(sandbox, key="not-a-key")
    assert isinstance(result.error, errors.ForbiddenError)
    assert result.exchange.status == 403 and result.outcome is Outcome.ERROR
    assert "API key" in result.error.message


def test_missing_key_is_not_sent(sandbox):
    result = info(sandbox, key="  ")
    assert result.outcome is Outcome.NOT_SENT and result.exchange.status is None


def test_unknown_campaign_is_no_reward(sandbox):
    result = info(sandbox, demo_request(sandbox, campaignId="NOPE"))
    assert isinstance(result.error, errors.NoRewardError)
    assert result.outcome is Outcome.NO_REWARD and result.exchange.response_body.strip() == "[]"


def test_wrong_path_case_is_explained(sandbox):
    # /prod is served (the stage prefix); a stage that does not exist answers Missing Authentication Token.
    result = info(sandbox, demo_request(sandbox, base_url=sandbox.base_url + "/beta"))
    assert isinstance(result.error, errors.RequestRejectedError)
    assert "base URL" in result.error.message


def test_invalid_request_is_not_sent(sandbox):
    result = info(sandbox, demo_request(sandbox, appId=" ", momentId="a\x00b"))
    assert result.outcome is Outcome.NOT_SENT
    assert set(result.error.field_errors) == {"appId", "momentId"}
    assert sandbox.admin.ledger() == []


def test_test_mode_claim_returns_the_same_url_and_consumes_nothing(sandbox):
    first, second = claim(sandbox), claim(sandbox)
    assert first.ok and second.ok
    assert first.reward.reward_url == second.reward.reward_url
    assert sandbox.admin.remaining("DEMOCAMP1", "US") == 100
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 2 and not any(row["consumed"] for row in ledger)


def test_live_claim_consumes_one_with_unique_urls(sandbox):
    req = demo_request(sandbox, campaignId="LIVECAMP1")
    before = info(sandbox, req).reward.remaining_count
    urls = {claim(sandbox, req).reward.reward_url for _ in range(3)}
    assert len(urls) == 3
    assert info(sandbox, req).reward.remaining_count == before - 3
    assert [row["consumed"] for row in sandbox.admin.ledger()] == [True, True, True]
    page = httpx.get(next(iter(urls)))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


@pytest.mark.parametrize(("campaign", "group"), [("LIVECAMP1", "UK"), ("FINCAMP1", "US"), ("SUSPCAMP1", "US")])
def test_claims_that_cannot_succeed_show_the_api_text(sandbox, campaign, group):
    result = claim(sandbox, demo_request(sandbox, campaignId=campaign, rewardGroupId=group))
    assert isinstance(result.error, errors.BusinessError)
    assert result.outcome is Outcome.NO_REWARD
    assert not result.ok and result.reward is not None and result.reward.reward_url is None
    assert result.error.message == result.reward.notification_text and result.error.message


def test_limiter_keeps_a_key_under_five_per_second(sandbox):
    async def burst(client):
        req = demo_request(sandbox)
        return await asyncio.gather(*(client.get_reward_info(req, sandbox.demo_key) for _ in range(12)))

    results = run(_with_client(burst, info_retries=0))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]


def test_without_limiter_the_sandbox_throttles(sandbox):
    unlimited = RateLimiter(calls=1000)

    async def burst(client):
        req = demo_request(sandbox)
        return await asyncio.gather(*(client.get_reward_info(req, sandbox.demo_key) for _ in range(8)))

    results = run(_with_client(burst, limiter=unlimited, info_retries=0))
    throttled = [r for r in results if isinstance(r.error, errors.ThrottledError)]
    assert throttled and throttled[0].error.retry_after >= 1


def test_preview_retries_a_gateway_error(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=502, times=1, body={"message": "Bad Gateway"})
    result = info(sandbox, retry_backoff=0.01)
    assert result.ok and result.exchange.attempts == 2


def test_preview_retries_are_bounded(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=503)
    result = info(sandbox, retry_backoff=0.01, info_retries=2)
    assert isinstance(result.error, errors.ServerError) and result.exchange.attempts == 3


@pytest.mark.parametrize(
    ("kind", "params", "error_type"),
    [
        ("malformed", {}, errors.InvalidResponseError),
        ("truncated", {}, errors.ConnectionDroppedError),
        ("oversized", {"bytes": 3 * 1024 * 1024}, errors.ResponseTooLargeError),
        ("drop_after_read", {}, errors.ConnectionDroppedError),
        ("status", {"status": 500}, errors.ServerError),
        ("status", {"status": 418}, errors.RequestRejectedError),
    ],
)
def test_preview_faults_become_typed_errors(sandbox, kind, params, error_type):
    sandbox.admin.add_fault("GetRewardInfo", kind, **params)
    result = info(sandbox, retry_backoff=0.01)
    assert isinstance(result.error, error_type), result.error
    assert result.outcome is Outcome.ERROR and result.error.message


def test_html_answer_is_named(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=200, body="<html><body>proxy login</body></html>")
    result = info(sandbox)
    assert isinstance(result.error, errors.InvalidResponseError)


def test_preview_timeout(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=2)
    result = info(sandbox, timeout=default_timeout(read=0.3))
    assert isinstance(result.error, errors.PreviewTimeoutError)


def test_connection_refused_is_not_sent(sandbox):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = claim(sandbox, demo_request(sandbox, base_url=f"http://127.0.0.1:{port}"))
    assert isinstance(result.error, errors.NotSentError) and result.outcome is Outcome.NOT_SENT
    assert "Nothing was sent" in result.error.message


# --- exactly once ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "client_kw"),
    [
        ("drop_after_read", {}, {}),
        ("latency", {"seconds": 3}, {"timeout": default_timeout(read=0.5)}),
        ("truncated", {}, {}),
        ("status", {"status": 504, "consume": True}, {}),
        ("malformed", {}, {}),
    ],
)
def test_claim_with_lost_answer_is_sent_once_and_unknown(sandbox, kind, params, client_kw):
    sandbox.admin.add_fault("GetReward", kind, **params)
    seen = []
    result = claim(sandbox, demo_request(sandbox, campaignId="LIVECAMP1"), before_send=seen.append, **client_kw)
    assert result.outcome is Outcome.UNKNOWN
    assert isinstance(result.error, (errors.OutcomeUnknownError, errors.InvalidResponseError))
    assert len(seen) == 1
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 1 and ledger[0]["consumed"] is True


def test_claim_is_not_retried_on_gateway_errors(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=503, times=1)
    result = claim(sandbox)
    assert isinstance(result.error, errors.ServerError)
    assert len(sandbox.admin.ledger()) == 1


def test_claim_drop_before_read_is_unknown_not_retried(sandbox):
    sandbox.admin.add_fault("GetReward", "drop_before_read")
    result = claim(sandbox, demo_request(sandbox, campaignId="LIVECAMP1"))
    # The bytes left this machine, so the client cannot know: unknown, and nothing re-sent.
    assert result.outcome is Outcome.UNKNOWN
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25


def test_before_send_failure_prevents_the_claim(sandbox):
    def broken_journal(_exchange):
        raise OSError("disk full")

    with pytest.raises(OSError):
        claim(sandbox, before_send=broken_journal)
    assert sandbox.admin.ledger() == []


def test_a_key_an_http_header_cannot_carry_is_not_sent_and_no_intent_is_written(sandbox):
    # e.g. a typographic dash pasted from a document; httpx would raise only after the intent.
    intents = []
    result = claim(sandbox, key="sandbox\u2013demo-key-0001", before_send=lambda exchange: intents.append(exchange))
    assert result.outcome is Outcome.NOT_SENT and isinstance(result.error, errors.UnsendableKeyError)
    assert "Nothing was sent" in result.error.message
    assert intents == [] and sandbox.admin.ledger() == []
