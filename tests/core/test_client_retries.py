"""The preview's retry policy against the real sandbox, with an injected sleep: what is retried
(429, 502-504, nothing reached the server), what is not, how long it waits (Retry-After in
seconds or as an HTTP date, capped; otherwise a growing backoff), and that it does wait."""

import socket
from datetime import timedelta
from email.utils import format_datetime

import pytest
from client_helpers import FIXED_NOW, Sleeps, claim, demo_request, info

from moments_desktop.core import errors
from moments_desktop.core.client import default_timeout
from moments_desktop.core.exchange import Outcome


def _throttle_once(sandbox, retry_after: str | None = None, times: int = 1):
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, times=times, headers=headers,
                            body={"message": "Too Many Requests"})


def _http_date(seconds_from_now: float) -> str:
    return format_datetime(FIXED_NOW + timedelta(seconds=seconds_from_now), usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "waited"),
    [
        ("3", 3.0),
        ("0.25", 0.25),
        ("0", 0.0),
        ("-4", 0.0),  # nonsense from the server: no negative wait
        ("60", 10.0),  # honoured up to a cap: a preview never hangs for minutes
        (_http_date(4), 4.0),
        (_http_date(-30), 0.0),  # a date in the past: go now
        (_http_date(3600), 10.0),
    ],
)
def test_throttled_preview_waits_as_retry_after_says_then_retries(sandbox, retry_after, waited):
    _throttle_once(sandbox, retry_after)
    sleeps = Sleeps()
    result = info(sandbox, sleep=sleeps, now=lambda: FIXED_NOW)
    assert result.ok and result.exchange.attempts == 2
    assert sleeps.delays == [waited]


@pytest.mark.parametrize(("retry_after", "parsed"),
                         [("7", 7.0), (_http_date(9), 9.0), (_http_date(-1), 0.0), ("soon", None), (None, None)])
def test_retry_after_is_reported_on_the_error(sandbox, retry_after, parsed):
    _throttle_once(sandbox, retry_after)
    result = info(sandbox, info_retries=0, now=lambda: FIXED_NOW)
    assert type(result.error) is errors.ThrottledError and result.error.retry_after == parsed
    assert result.exchange.attempts == 1


@pytest.mark.parametrize("retry_after", [None, "soon", "Wed, 99 Foo 2031 00:00:00 GMT"])
def test_throttled_without_a_usable_retry_after_backs_off(sandbox, retry_after):
    _throttle_once(sandbox, retry_after, times=2)
    sleeps = Sleeps()
    result = info(sandbox, sleep=sleeps, now=lambda: FIXED_NOW)
    assert result.ok and result.exchange.attempts == 3
    assert sleeps.delays == [0.5, 1.0]  # the default backoff, growing with each attempt


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_with_backoff(sandbox, status):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=status, times=1)
    sleeps = Sleeps()
    result = info(sandbox, sleep=sleeps, retry_backoff=2.0)
    assert result.ok and result.exchange.attempts == 2 and sleeps.delays == [2.0]


def test_retries_stop_after_the_default_two(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=504)
    sleeps = Sleeps()
    result = info(sandbox, sleep=sleeps)
    assert type(result.error) is errors.ServerError and result.exchange.attempts == 3
    assert sleeps.delays == [0.5, 1.0]


def test_no_retries_when_asked_for_none(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=503, times=1)
    sleeps = Sleeps()
    result = info(sandbox, sleep=sleeps, info_retries=0)
    assert type(result.error) is errors.ServerError and result.exchange.attempts == 1 and sleeps.delays == []


def test_nothing_reached_the_server_is_retried(sandbox):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    result = info(sandbox, demo_request(sandbox, base_url=f"http://127.0.0.1:{port}"), sleep=sleeps,
                  retry_backoff=0.1)
    assert isinstance(result.error, errors.NotSentError) and result.outcome is Outcome.NOT_SENT
    assert result.exchange.attempts == 3 and sleeps.delays == [0.1, 0.2]


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ({"kind": "status", "status": 500}, errors.ServerError),
        ({"kind": "status", "status": 403}, errors.ForbiddenError),
        ({"kind": "status", "status": 400}, errors.RequestRejectedError),
        ({"kind": "malformed"}, errors.InvalidResponseError),
        ({"kind": "drop_after_read"}, errors.ConnectionDroppedError),
        ({"kind": "truncated"}, errors.ConnectionDroppedError),
    ],
)
def test_answers_a_retry_cannot_fix_are_not_retried(sandbox, fault, error_type):
    sandbox.admin.add_fault("GetRewardInfo", times=1, **fault)
    sleeps = Sleeps()
    result = info(sandbox, sleep=sleeps)
    assert type(result.error) is error_type and result.exchange.attempts == 1 and sleeps.delays == []


def test_a_preview_timeout_is_not_retried(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=3, times=1)
    sleeps = Sleeps()
    result = info(sandbox, sleep=sleeps, timeout=default_timeout(read=0.2))
    assert type(result.error) is errors.PreviewTimeoutError and result.outcome is Outcome.ERROR
    assert result.exchange.attempts == 1 and sleeps.delays == []


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_claim_is_never_retried(sandbox, status):
    sandbox.admin.add_fault("GetReward", "status", status=status, times=1, headers={"Retry-After": "1"})
    sleeps = Sleeps()
    result = claim(sandbox, sleep=sleeps)
    assert not result.ok and result.exchange.attempts == 1 and sleeps.delays == []
    assert len(sandbox.admin.ledger()) == 1
