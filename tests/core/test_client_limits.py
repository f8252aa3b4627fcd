"""The response-size cap, against the real sandbox: each guard on its own (a declared length; a
body counted as it streams: chunked, or gzip whose Content-Length understates what it decodes to),
the exact limit, what is kept of a body that was cut off, and an oversized answer to a claim."""

import pytest
from client_helpers import claim, info, live_request

from moments_desktop.core import errors
from moments_desktop.core.exchange import Outcome

CAP = 4096


def _oversized(sandbox, endpoint, size, framing):
    sandbox.admin.add_fault(endpoint, "oversized", bytes=size, framing=framing, times=1)


@pytest.mark.parametrize("framing", ["length", "chunked", "gzip"])
def test_a_body_of_exactly_the_limit_is_read(sandbox, framing):
    _oversized(sandbox, "GetRewardInfo", CAP, framing)
    result = info(sandbox, max_response_bytes=CAP)
    assert result.ok, result.error
    assert len(result.exchange.response_body) == CAP and not result.exchange.response_truncated
    assert result.reward.extra["padding"].startswith("xxx")


def test_a_declared_length_over_the_limit_is_refused_before_reading(sandbox):
    _oversized(sandbox, "GetRewardInfo", CAP + 1, "length")
    result = info(sandbox, max_response_bytes=CAP)
    assert type(result.error) is errors.ResponseTooLargeError and result.outcome is Outcome.ERROR
    assert "it declares 4,097 bytes" in result.error.message
    ex = result.exchange
    assert ex.response_truncated is True and ex.response_body == "" and ex.status == 200
    assert ex.error_message == result.error.message and ex.attempts == 1


@pytest.mark.parametrize("framing", ["chunked", "gzip"])
def test_a_body_without_an_honest_length_is_counted_and_cut_at_the_limit(sandbox, framing):
    _oversized(sandbox, "GetRewardInfo", CAP + 1, framing)
    result = info(sandbox, max_response_bytes=CAP)
    assert type(result.error) is errors.ResponseTooLargeError and result.outcome is Outcome.ERROR
    assert "more than 4,096 bytes" in result.error.message
    ex = result.exchange
    assert ex.response_truncated is True
    # What arrived up to the limit is kept for the Raw view: exactly CAP bytes of the real answer.
    assert len(ex.response_body) == CAP
    assert ex.response_body.startswith('{"rewardNotificationText":') and ex.response_body.endswith('xx"')  # no "}"


@pytest.mark.parametrize("framing", ["chunked", "gzip"])
def test_a_body_far_over_the_limit_keeps_only_the_limit(sandbox, framing):
    _oversized(sandbox, "GetRewardInfo", 3 * 1024 * 1024, framing)
    result = info(sandbox, max_response_bytes=CAP)
    assert type(result.error) is errors.ResponseTooLargeError
    assert len(result.exchange.response_body) == CAP and result.exchange.response_truncated


def test_a_zero_limit_keeps_nothing(sandbox):
    _oversized(sandbox, "GetRewardInfo", 100, "chunked")
    result = info(sandbox, max_response_bytes=0)
    assert type(result.error) is errors.ResponseTooLargeError
    assert result.exchange.response_body == "" and result.exchange.response_truncated


@pytest.mark.parametrize("framing", ["length", "chunked", "gzip"])
def test_the_default_limit_is_one_mebibyte(sandbox, framing):
    _oversized(sandbox, "GetRewardInfo", 1024 * 1024, framing)
    assert info(sandbox).ok
    _oversized(sandbox, "GetRewardInfo", 1024 * 1024 + 1, framing)
    result = info(sandbox)
    assert type(result.error) is errors.ResponseTooLargeError and result.exchange.response_truncated


@pytest.mark.parametrize("framing", ["length", "chunked", "gzip"])
def test_an_oversized_answer_to_a_claim_is_outcome_unknown(sandbox, framing):
    _oversized(sandbox, "GetReward", 2 * 1024 * 1024, framing)
    seen = []
    result = claim(sandbox, live_request(sandbox), before_send=seen.append)
    # The claim was processed (the reward is gone) but its URL is in the part that was not read.
    assert result.outcome is Outcome.UNKNOWN and type(result.error) is errors.ResponseTooLargeError
    assert result.exchange.response_truncated and result.reward is None
    assert len(seen) == 1
    [entry] = sandbox.admin.ledger()
    assert entry["consumed"] is True and entry["reward_url"]
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24


def test_a_claim_answer_under_the_limit_is_read(sandbox):
    _oversized(sandbox, "GetReward", CAP, "chunked")
    result = claim(sandbox, live_request(sandbox), max_response_bytes=CAP)
    assert result.ok and result.reward.reward_url == sandbox.admin.ledger()[0]["reward_url"]
