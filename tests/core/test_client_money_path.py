"""The client on the money path, against the real sandbox: which answers to a claim mean "outcome
unknown", error bodies that are not a JSON object, what actually goes out on the wire, and the
details an exchange keeps (messages, statuses, redirects, timestamps, durations)."""

import asyncio
import json
import socket

import pytest
from client_helpers import FIXED_NOW, StepClock, Wire, claim, demo_request, info, live_request

from moments_desktop.core import errors
from moments_desktop.core.client import USER_AGENT, default_timeout
from moments_desktop.core.exchange import REDACTED, Outcome

GATEWAY_PAGE = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")


# --- a gateway error on getReward is "outcome unknown", never "failed" -----------------------------


@pytest.mark.parametrize("status", [502, 504])
@pytest.mark.parametrize("consume", [True, False])
def test_a_gateway_error_on_a_claim_is_outcome_unknown_and_sent_once(sandbox, status, consume):
    # consume=False is the gateway failing before the backend saw the claim, consume=True after it
    # took a reward: the client cannot tell the two apart, so both are unknown.
    sandbox.admin.add_fault("GetReward", "status", status=status, consume=consume, times=1)
    seen = []
    result = claim(sandbox, live_request(sandbox), before_send=seen.append)
    assert result.outcome is Outcome.UNKNOWN and not result.ok
    assert isinstance(result.error, errors.OutcomeUnknownError)
    assert f"HTTP {status}" in result.error.message and "Check before claiming again" in result.error.message
    assert result.exchange.status == status
    assert result.exchange.error_message == result.error.message
    assert len(seen) == 1
    [entry] = sandbox.admin.ledger()
    assert entry["status"] == status and entry["consumed"] is consume


@pytest.mark.parametrize("status", [500, 503])
def test_other_server_errors_on_a_claim_are_errors_with_the_servers_message(sandbox, status):
    sandbox.admin.add_fault("GetReward", "status", status=status, body={"message": "Internal server error"},
                            times=1)
    result = claim(sandbox, live_request(sandbox))
    assert result.outcome is Outcome.ERROR
    assert type(result.error) is errors.ServerError and result.error.status == status
    assert f"HTTP {status}, Internal server error" in result.error.message
    assert len(sandbox.admin.ledger()) == 1


def test_a_gateway_error_on_a_preview_is_a_plain_error(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=502)
    result = info(sandbox, info_retries=0)
    assert result.outcome is Outcome.ERROR and type(result.error) is errors.ServerError
    assert "HTTP 502, Bad Gateway" in result.error.message


# --- error bodies that are not a JSON object ----------------------------------------------------------

NOT_AN_OBJECT = {
    "html page": {"text": GATEWAY_PAGE},
    "plain text": {"text": "upstream request timeout", "content_type": "text/plain"},
    "empty": {"text": ""},
    "json list": {"body": ["Forbidden"]},
    "json string": {"body": "Forbidden"},
    "json null": {"body": None},
    "deep nesting": {"text": "[" * 50_000},  # far past any parser's depth, within the sandbox's 64 KiB body limit
}


@pytest.mark.parametrize("shape", NOT_AN_OBJECT)
def test_claim_with_a_gateway_answer_that_is_not_json_stays_unknown(sandbox, shape):
    sandbox.admin.add_fault("GetReward", "status", status=502, times=1, **NOT_AN_OBJECT[shape])
    result = claim(sandbox, live_request(sandbox))
    assert result.outcome is Outcome.UNKNOWN and isinstance(result.error, errors.OutcomeUnknownError)
    fault = NOT_AN_OBJECT[shape]
    if "text" in fault:  # the raw answer is kept as it came
        assert result.exchange.response_body == fault["text"]
    else:
        assert json.loads(result.exchange.response_body) == fault["body"]
    assert len(sandbox.admin.ledger()) == 1


@pytest.mark.parametrize("shape", NOT_AN_OBJECT)
@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
def test_a_refusal_whose_body_is_not_an_object_keeps_its_type(sandbox, shape, endpoint):
    sandbox.admin.add_fault(endpoint, "status", status=403, times=1, **NOT_AN_OBJECT[shape])
    call = info if endpoint == "GetRewardInfo" else claim
    result = call(sandbox)
    assert type(result.error) is errors.ForbiddenError and result.outcome is Outcome.ERROR
    assert result.error.detail == "" and result.error.notification_text is None
    assert result.error.message == f"{errors.ForbiddenError.title}. {errors.ForbiddenError.advice}"


@pytest.mark.parametrize("shape", NOT_AN_OBJECT)
def test_a_preview_error_whose_body_is_not_an_object_names_only_the_status(sandbox, shape):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=503, **NOT_AN_OBJECT[shape])
    result = info(sandbox, info_retries=0)
    assert type(result.error) is errors.ServerError and result.error.detail == "HTTP 503"
    sandbox.admin.clear_faults()
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, **NOT_AN_OBJECT[shape])
    result = info(sandbox, info_retries=0)
    assert type(result.error) is errors.ThrottledError and result.error.detail == ""
    assert result.error.retry_after is None


def test_an_object_with_wrongly_typed_fields_gives_no_message(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=403, times=1,
                            body={"message": 42, "rewardNotificationText": ["not", "text"]})
    result = claim(sandbox)
    assert type(result.error) is errors.ForbiddenError
    assert result.error.detail == "" and result.error.notification_text is None


# --- the server's own words are kept ------------------------------------------------------------------


def test_a_refused_key_keeps_the_servers_message_and_notification(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=403, times=1,
                            body={"message": "User is not authorized to access this resource",
                                  "rewardNotificationText": "This key was revoked"})
    result = claim(sandbox)
    assert type(result.error) is errors.ForbiddenError and result.error.status == 403
    assert result.error.detail == "User is not authorized to access this resource"
    assert result.error.notification_text == "This key was revoked"
    assert "User is not authorized" in result.exchange.error_message


def test_a_throttled_claim_keeps_the_servers_message_and_is_not_retried(sandbox):
    # ("Limit Exceeded", the quota's 429, is its own error: tests/core/test_quota_and_throttle.py.)
    sandbox.admin.add_fault("GetReward", "status", status=429, times=1, body={"message": "Slow down"},
                            headers={"Retry-After": "1"})
    result = claim(sandbox)
    assert type(result.error) is errors.ThrottledError and result.outcome is Outcome.ERROR
    assert result.error.detail == "Slow down" and result.error.retry_after == 1.0
    assert len(sandbox.admin.ledger()) == 1


def test_unknown_path_message_is_not_a_bad_key(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=403, body={"message": "Missing Authentication Token"})
    result = info(sandbox)
    assert type(result.error) is errors.RequestRejectedError
    assert result.error.detail == "Missing Authentication Token" and result.error.status == 403


def test_error_message_is_recorded_on_the_exchange_and_absent_on_success(sandbox):
    failed = info(sandbox, key="not-a-key")
    assert failed.exchange.error_message == failed.error.message and "API key" in failed.exchange.error_message
    ok = info(sandbox)
    assert ok.ok and ok.exchange.error_message is None and ok.error is None


# --- statuses at their boundaries, redirects ------------------------------------------------------------


def test_any_2xx_with_a_reward_is_a_success(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=299, times=1,
                            body={"rewardNotificationText": "Still a reward"})
    result = info(sandbox)
    assert result.ok and result.outcome is Outcome.SUCCESS and result.reward.notification_text == "Still a reward"


@pytest.mark.parametrize("status", [300, 301, 302, 307, 308, 399])
def test_a_redirect_is_not_followed_and_says_where_it_points(sandbox, status):
    target = "https://new-home.example/prod/GetRewardInfo"
    sandbox.admin.add_fault("GetRewardInfo", "status", status=status, times=1, headers={"Location": target})
    result = info(sandbox)
    assert type(result.error) is errors.InvalidResponseError and result.outcome is Outcome.ERROR
    assert result.error.status == status
    assert f"redirects to {target}" in result.error.message and "Use the final URL" in result.error.message
    assert result.exchange.attempts == 1


def test_a_redirect_without_location(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=302, times=1)
    result = claim(sandbox, live_request(sandbox))
    assert type(result.error) is errors.InvalidResponseError and result.outcome is Outcome.ERROR
    assert "redirects to elsewhere" in result.error.message
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25


@pytest.mark.parametrize("status", [400, 404, 418, 499])
def test_other_4xx_are_rejections(sandbox, status):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=status, times=1,
                            body={"message": "Invalid request body", "rewardNotificationText": "Bad"})
    result = info(sandbox)
    assert type(result.error) is errors.RequestRejectedError and result.outcome is Outcome.ERROR
    assert result.error.detail == f"HTTP {status}, Invalid request body" and result.error.notification_text == "Bad"
    assert result.exchange.attempts == 1


def test_a_500_answer_is_a_server_error(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=500, times=1, body={"rewardNotificationText": "Oops"})
    result = info(sandbox)
    assert type(result.error) is errors.ServerError and result.error.detail == "HTTP 500"
    assert result.error.notification_text == "Oops"


# --- other claim answers ---------------------------------------------------------------------------------


def test_a_claim_for_a_reward_that_does_not_exist_is_no_reward(sandbox):
    result = claim(sandbox, demo_request(sandbox, campaignId="NOPE"))
    assert result.outcome is Outcome.NO_REWARD and isinstance(result.error, errors.NoRewardError)
    assert result.exchange.response_body.strip() == "[]"


def test_an_unreadable_200_to_a_claim_is_unknown_and_keeps_its_status(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=200, times=1,
                            body={"rewardNotificationUrl": 12345})
    result = claim(sandbox)
    assert result.outcome is Outcome.UNKNOWN and type(result.error) is errors.InvalidResponseError
    assert result.error.status == 200


def test_an_unreadable_200_to_a_preview_is_an_error(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=200, times=1, body={"remainingRewardCount": "many"})
    result = info(sandbox)
    assert result.outcome is Outcome.ERROR and type(result.error) is errors.InvalidResponseError
    assert result.error.status == 200


def test_a_preview_without_a_reward_url_is_still_a_success(sandbox):
    result = info(sandbox)
    assert result.ok and result.reward.reward_url is None and result.error is None


# --- what actually goes out ---------------------------------------------------------------------------


def _padded(sandbox, **changes):
    fields = {name: f" \t{value}  " for name, value in sandbox.demo_body.items()}
    return demo_request(sandbox, base_url=f"  {sandbox.base_url}//  ", **{**fields, **changes})


def test_a_claim_sends_the_trimmed_fields_and_key_to_the_validated_url(sandbox):
    wire = Wire()
    result = claim(sandbox, _padded(sandbox), key=f"  {sandbox.demo_key}\t", wire=wire)
    assert result.ok, result.error
    [entry] = sandbox.admin.ledger()
    assert entry["request"] == sandbox.demo_body and entry["app_id"] == "DEMO1" and entry["status"] == 200
    sent = wire.only
    assert str(sent.url) == f"{sandbox.base_url}/GetReward"
    assert sent.headers["x-api-key"] == sandbox.demo_key
    assert json.loads(sent.content) == sandbox.demo_body
    ex = result.exchange
    assert ex.url == f"{sandbox.base_url}/GetReward" and ex.request_body == sandbox.demo_body
    assert ex.request_headers["x-api-key"] == REDACTED


def test_a_preview_sends_the_trimmed_fields(sandbox):
    wire = Wire()
    result = info(sandbox, _padded(sandbox), key=f"{sandbox.demo_key} ", wire=wire)
    assert result.ok, result.error  # the sandbox matches ids exactly: padding would be "no reward"
    assert json.loads(wire.only.content) == sandbox.demo_body
    assert wire.only.headers["x-api-key"] == sandbox.demo_key


def test_the_body_is_utf8_json_not_ascii_escapes(sandbox):
    wire = Wire()
    result = claim(sandbox, demo_request(sandbox, momentId="NIVEAU_TERMINÉ_初"), wire=wire)
    assert result.outcome is Outcome.NO_REWARD
    content = wire.only.content
    assert "NIVEAU_TERMINÉ_初".encode() in content and b"\\u" not in content
    assert json.loads(content.decode("utf-8")) == {**sandbox.demo_body, "momentId": "NIVEAU_TERMINÉ_初"}
    [entry] = sandbox.admin.ledger()
    assert entry["request"]["momentId"] == "NIVEAU_TERMINÉ_初"


def test_the_headers_that_go_out(sandbox):
    wire = Wire()
    assert info(sandbox, wire=wire).ok
    headers = wire.only.headers
    assert headers["content-type"] == "application/json" and headers["accept"] == "application/json"
    assert headers["user-agent"] == USER_AGENT and wire.only.method == "POST"


def test_default_timeouts_are_used_when_none_is_given(sandbox):
    wire = Wire()
    assert info(sandbox, wire=wire).ok
    assert wire.only.extensions["timeout"] == {"connect": 5.0, "read": 15.0, "write": 15.0, "pool": 5.0}
    wire = Wire()
    assert info(sandbox, wire=wire, timeout=default_timeout(connect=1.5, read=2.5)).ok
    assert wire.only.extensions["timeout"] == {"connect": 1.5, "read": 2.5, "write": 2.5, "pool": 1.5}


def test_plain_http_to_a_remote_host_never_carries_the_key(sandbox):
    wire = Wire()
    result = claim(sandbox, demo_request(sandbox, base_url="http://moments.example.com/prod"), wire=wire)
    assert result.outcome is Outcome.NOT_SENT and isinstance(result.error, errors.ValidationError)
    assert "base_url" in result.error.field_errors
    assert wire.requests == [] and sandbox.admin.ledger() == []


@pytest.mark.parametrize("key", ["", "   ", "\t\n"])
def test_no_key_is_not_sent(sandbox, key):
    sent = []
    result = claim(sandbox, key=key, before_send=sent.append)
    assert result.outcome is Outcome.NOT_SENT and type(result.error) is errors.ForbiddenError
    assert "no API key is set" in result.error.message and sent == [] and sandbox.admin.ledger() == []


@pytest.mark.parametrize("key", ["sandbox-demo-key-0001\x7f", "sandbox-demo\x1f-key", "sandbox-demo-key-ü"])
def test_a_key_with_control_or_non_ascii_characters_is_not_sent(sandbox, key):
    sent = []
    result = claim(sandbox, key=key, before_send=sent.append)
    assert result.outcome is Outcome.NOT_SENT and type(result.error) is errors.UnsendableKeyError
    assert sent == [] and sandbox.admin.ledger() == []


# --- timestamps and durations -------------------------------------------------------------------------


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_started_at_is_taken_when_the_request_goes_out(sandbox):
    stamped = []
    result = claim(sandbox, now=lambda: FIXED_NOW, before_send=lambda ex: stamped.append(ex.started_at))
    assert result.ok and result.exchange.started_at == FIXED_NOW
    assert stamped and stamped[0] != FIXED_NOW  # before_send ran before the stamp


@pytest.mark.parametrize("case", ["answered", "dropped", "too large", "refused"])
def test_duration_is_measured_on_every_path(sandbox, case):
    request = demo_request(sandbox)
    if case == "dropped":
        sandbox.admin.add_fault("GetReward", "drop_after_read", times=1)
    elif case == "too large":
        sandbox.admin.add_fault("GetReward", "oversized", bytes=2048, framing="chunked", times=1)
    elif case == "refused":
        request = demo_request(sandbox, base_url=f"http://127.0.0.1:{_unused_port()}")
    result = claim(sandbox, request, clock=StepClock(start=100.0, step=0.25), max_response_bytes=1024)
    assert result.exchange.duration_ms == 250.0
    assert result.outcome is {"answered": Outcome.SUCCESS, "dropped": Outcome.UNKNOWN,
                              "too large": Outcome.UNKNOWN, "refused": Outcome.NOT_SENT}[case]


def test_a_request_refused_before_sending_has_no_duration(sandbox):
    result = claim(sandbox, demo_request(sandbox, appId=""), clock=StepClock())
    assert result.outcome is Outcome.NOT_SENT and result.exchange.duration_ms is None
    assert result.exchange.status is None


# --- transport failures say what happened -------------------------------------------------------------


def test_a_claim_that_timed_out_says_so(sandbox):
    sandbox.admin.add_fault("GetReward", "latency", seconds=3, times=1)
    result = claim(sandbox, live_request(sandbox), timeout=default_timeout(read=0.3))
    assert result.outcome is Outcome.UNKNOWN and type(result.error) is errors.OutcomeUnknownError
    assert "the server did not answer in time" in result.error.message


def test_a_claim_whose_connection_dropped_says_so(sandbox):
    sandbox.admin.add_fault("GetReward", "drop_after_read", times=1)
    result = claim(sandbox, live_request(sandbox))
    assert result.outcome is Outcome.UNKNOWN and type(result.error) is errors.OutcomeUnknownError
    assert "the connection closed before a complete answer arrived" in result.error.message


def test_a_dropped_preview_keeps_the_transports_words(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "drop_after_read", times=1)
    result = info(sandbox)
    assert type(result.error) is errors.ConnectionDroppedError
    assert "disconnected" in result.error.detail.lower()  # httpx's own description, not just a class name


def test_an_unreachable_endpoint_keeps_the_transports_words(sandbox):
    result = claim(sandbox, demo_request(sandbox, base_url=f"http://127.0.0.1:{_unused_port()}"))
    assert type(result.error) is errors.NotSentError
    assert result.error.detail and result.error.detail != "ConnectError"


def test_an_async_before_send_is_awaited_before_the_claim_goes_out(sandbox):
    seen = []

    async def journal_the_intent(exchange):
        await asyncio.sleep(0)  # a real await: the journal writes on a worker thread
        seen.append((exchange.url, len(sandbox.admin.ledger())))  # nothing has reached the server yet

    result = claim(sandbox, live_request(sandbox), before_send=journal_the_intent)
    assert result.ok and seen == [(f"{sandbox.base_url}/GetReward", 0)]
    assert len(sandbox.admin.ledger()) == 1
