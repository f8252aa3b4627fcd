"""Fault injection, seen from a raw httpx client: each kind does to the wire what it says."""

import json
import time

import httpx
import pytest
from sandbox_ids import LIVE, get, post, stream

from moments_desktop.sandbox.faults import DEFAULT_OVERSIZED_BYTES

DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


def _post(sandbox, endpoint="GetReward", timeout=10.0, **fields):
    # A fresh connection per call, so a dropped one never poisons a pool.
    return post(
        f"{sandbox.base_url}/{endpoint}",
        json={**sandbox.demo_body, **fields},
        headers={"x-api-key": sandbox.demo_key},
        timeout=timeout,
    )


def _image(sandbox, name="headphones.png", **kwargs):
    return get(f"{sandbox.base_url}/images/{name}", **kwargs)


# --- the admin API for faults ---------------------------------------------------------------


def test_add_list_and_clear_faults(sandbox):
    admin = sandbox.admin
    first = admin.add_fault("GetReward", "status", status=502, times=2)
    assert first["id"] and first["kind"] == "status" and first["times"] == 2 and first["remaining"] == 2
    second = admin.add_fault("images", "latency", seconds=0.1)
    assert second["times"] is None and second["params"] == {"seconds": 0.1}
    assert [f["id"] for f in admin.faults()] == [first["id"], second["id"]]
    admin.remove_fault(first["id"])
    assert [f["id"] for f in admin.faults()] == [second["id"]]
    assert admin.clear_faults() == 1
    assert admin.faults() == []


def test_defaults_are_filled_in(sandbox):
    assert sandbox.admin.add_fault("GetReward", "oversized")["params"] == {"bytes": DEFAULT_OVERSIZED_BYTES}
    assert sandbox.admin.add_fault("GetReward", "slow_drip")["params"] == {"seconds": 3.0, "chunk_bytes": 4}


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        ({"endpoint": "getreward", "kind": "latency"}, "'endpoint' must be one of"),
        ({"endpoint": "GetReward", "kind": "explode"}, "'kind' must be one of"),
        ({"endpoint": "GetReward", "kind": "wrong_type"}, "images endpoint only"),
        ({"endpoint": "GetReward", "kind": "status"}, "need a 'status' code"),
        ({"endpoint": "GetReward", "kind": "status", "status": 700}, "between 100 and 599"),
        ({"endpoint": "GetReward", "kind": "latency", "seconds": -1}, "'seconds' must be"),
        ({"endpoint": "GetReward", "kind": "latency", "secs": 1}, "unknown parameter(s) secs"),
        ({"endpoint": "GetReward", "kind": "latency", "times": 0}, "'times' must be"),
        ({"endpoint": "GetReward", "kind": "oversized", "bytes": 0}, "'bytes' must be"),
        ([], "must be a JSON object"),
    ],
)
def test_bad_fault_definitions_are_rejected(sandbox, definition, fragment):
    response = post(f"{sandbox.base_url}/__sandbox/faults", json=definition)
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert sandbox.admin.faults() == []


def test_times_counts_requests_then_the_fault_is_gone(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=503, times=2)
    assert [_post(sandbox, "GetRewardInfo").status_code for _ in range(3)] == [503, 503, 200]
    assert sandbox.admin.faults() == []


def test_fault_without_times_lasts_until_cleared(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=500)
    assert [_post(sandbox, "GetRewardInfo").status_code for _ in range(3)] == [500, 500, 500]
    assert sandbox.admin.faults()[0]["applied"] == 3
    sandbox.admin.clear_faults()
    assert _post(sandbox, "GetRewardInfo").status_code == 200


def test_faults_apply_to_their_endpoint_only_and_in_order(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=502, times=1)
    sandbox.admin.add_fault("GetReward", "status", status=504, times=1)
    assert _post(sandbox, "GetRewardInfo").status_code == 200
    assert _image(sandbox).status_code == 200
    assert [_post(sandbox).status_code, _post(sandbox).status_code, _post(sandbox).status_code] == [
        502,
        504,
        200,
    ]


def test_reset_clears_faults(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=502)
    sandbox.admin.reset()
    assert sandbox.admin.faults() == []
    assert _post(sandbox).status_code == 200


# --- GetReward / GetRewardInfo ----------------------------------------------------------------


def test_latency_consumes_first_then_answers_late(sandbox):
    sandbox.admin.add_fault("GetReward", "latency", seconds=0.6, times=1)
    started = time.monotonic()
    response = _post(sandbox, **LIVE)
    assert time.monotonic() - started >= 0.55
    assert response.status_code == 200
    assert response.json()["remainingRewardCount"] == 24
    (entry,) = sandbox.admin.ledger()
    assert entry["consumed"] and entry["fault"] == "latency" and entry["status"] == 200
    assert entry["reward_url"] == response.json()["rewardNotificationUrl"]


def test_latency_past_the_client_timeout_is_paid_but_unseen(sandbox):
    sandbox.admin.add_fault("GetReward", "latency", seconds=1.5, times=1)
    with pytest.raises(httpx.ReadTimeout):
        _post(sandbox, timeout=0.3, **LIVE)
    # The reward was consumed before the delay: the client never saw the URL, the ledger did.
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24
    (entry,) = sandbox.admin.ledger()
    assert entry["consumed"] is True and entry["reward_url"].startswith(f"{sandbox.base_url}/redeem/LIVE-")


def test_latency_on_reward_info(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=0.4, times=1)
    started = time.monotonic()
    assert _post(sandbox, "GetRewardInfo").status_code == 200
    assert time.monotonic() - started >= 0.35


def test_status_fault_is_a_gateway_error_that_consumes_nothing(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=502, times=1)
    response = _post(sandbox, **LIVE)
    assert response.status_code == 502
    assert response.json() == {"message": "Bad Gateway"}
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25
    (entry,) = sandbox.admin.ledger()
    assert (entry["status"], entry["consumed"], entry["reward_url"], entry["fault"]) == (
        502,
        False,
        None,
        "status",
    )


def test_status_fault_with_body_headers_and_consume(sandbox):
    sandbox.admin.add_fault(
        "GetReward",
        "status",
        status=504,
        body={"message": "Endpoint request timed out"},
        headers={"x-amzn-ErrorType": "IntegrationTimeout"},
        consume=True,
        times=1,
    )
    response = _post(sandbox, **LIVE)
    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}
    assert response.headers["x-amzn-errortype"] == "IntegrationTimeout"
    # consume=true: the backend did its work before the gateway failed.
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24
    (entry,) = sandbox.admin.ledger()
    assert entry["consumed"] is True and entry["status"] == 504


@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
def test_malformed_is_invalid_json_with_200(sandbox, endpoint):
    sandbox.admin.add_fault(endpoint, "malformed", times=1)
    response = _post(sandbox, endpoint, **LIVE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content.startswith(b'{"rewardNotificationText"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert sandbox.admin.remaining("LIVECAMP1", "US") == (24 if endpoint == "GetReward" else 25)


def test_malformed_empty_list(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "malformed", times=1)
    response = _post(sandbox, "GetRewardInfo", campaignId="NOPE")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_truncated_body_is_a_protocol_error(sandbox):
    sandbox.admin.add_fault("GetReward", "truncated", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _post(sandbox, **LIVE)
    (entry,) = sandbox.admin.ledger()
    assert entry["consumed"] is True and entry["fault"] == "truncated" and entry["status"] == 200
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24


def test_truncated_headers_arrive_before_the_connection_dies(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "truncated", times=1)
    with stream(
        "POST",
        f"{sandbox.base_url}/GetRewardInfo",
        json=sandbox.demo_body,
        headers={"x-api-key": sandbox.demo_key},
    ) as response:
        assert response.status_code == 200
        announced = int(response.headers["content-length"])
        received = b""
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in response.iter_raw():
                received += chunk
    assert 0 < len(received) < announced


@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
def test_drop_before_read_closes_without_response_and_records_nothing(sandbox, endpoint):
    sandbox.admin.add_fault(endpoint, "drop_before_read", times=1)
    with pytest.raises(DROPPED):
        _post(sandbox, endpoint, **LIVE)
    assert sandbox.admin.ledger() == []
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25
    assert _post(sandbox, endpoint, **LIVE).status_code == 200  # the server itself is fine


def test_drop_after_read_consumes_and_the_ledger_keeps_the_lost_url(sandbox):
    sandbox.admin.add_fault("GetReward", "drop_after_read", times=1)
    with pytest.raises(DROPPED):
        _post(sandbox, **LIVE)
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24  # paid...
    (entry,) = sandbox.admin.ledger()
    assert entry["consumed"] is True
    assert entry["status"] is None  # ...but no HTTP response was sent
    assert entry["fault"] == "drop_after_read"
    assert entry["request"] == {**sandbox.demo_body, **LIVE}
    assert get(entry["reward_url"]).status_code == 200  # the URL was issued and is valid


def test_drop_after_read_in_test_mode_consumes_nothing(sandbox):
    sandbox.admin.add_fault("GetReward", "drop_after_read", times=1)
    with pytest.raises(DROPPED):
        _post(sandbox)
    (entry,) = sandbox.admin.ledger()
    assert entry["consumed"] is False and entry["reward_url"] is not None


def test_drop_after_read_on_reward_info(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "drop_after_read", times=1)
    with pytest.raises(DROPPED):
        _post(sandbox, "GetRewardInfo")
    assert sandbox.admin.ledger() == []


def test_slow_drip_delivers_a_correct_body_slowly(sandbox):
    sandbox.admin.add_fault("GetReward", "slow_drip", seconds=0.6, chunk_bytes=16, times=1)
    started = time.monotonic()
    chunks = []
    with stream(
        "POST",
        f"{sandbox.base_url}/GetReward",
        json={**sandbox.demo_body, **LIVE},
        headers={"x-api-key": sandbox.demo_key},
    ) as response:
        assert response.status_code == 200
        chunks = list(response.iter_raw())
    assert time.monotonic() - started >= 0.5
    body = b"".join(chunks)
    assert len(body) == int(response.headers["content-length"])
    assert len(chunks) > 3
    assert json.loads(body)["remainingRewardCount"] == 24


def test_oversized_is_valid_json_of_the_requested_size(sandbox):
    size = 1024 * 1024
    sandbox.admin.add_fault("GetRewardInfo", "oversized", bytes=size, times=1)
    response = _post(sandbox, "GetRewardInfo")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == size == len(response.content)
    data = response.json()
    assert data["remainingRewardCount"] == 100
    assert len(data["padding"]) > size - 1000


def test_oversized_default_is_five_mib(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "oversized", times=1)
    response = _post(sandbox, "GetRewardInfo", campaignId="NOPE")  # even an empty list grows
    assert len(response.content) == 5 * 1024 * 1024
    assert set(response.json()) == {"padding"}


# --- images -----------------------------------------------------------------------------------


def test_image_wrong_type(sandbox):
    sandbox.admin.add_fault("images", "wrong_type", times=1)
    response = _image(sandbox)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html" in response.content


def test_image_malformed_keeps_type_but_does_not_decode(sandbox, qapp):
    from PySide6.QtGui import QImage

    good = _image(sandbox).content
    sandbox.admin.add_fault("images", "malformed", times=1)
    response = _image(sandbox)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content[:8] == good[:8] and response.content != good
    assert QImage.fromData(response.content).isNull()
    assert not QImage.fromData(good).isNull()


def test_image_oversized_is_the_image_plus_padding(sandbox):
    good = _image(sandbox).content
    sandbox.admin.add_fault("images", "oversized", bytes=2 * 1024 * 1024, times=1)
    response = _image(sandbox)
    assert response.headers["content-type"] == "image/png"
    assert len(response.content) == 2 * 1024 * 1024
    assert response.content.startswith(good)


def test_image_status(sandbox):
    sandbox.admin.add_fault("images", "status", status=503, times=1)
    response = _image(sandbox)
    assert response.status_code == 503
    assert response.json() == {"message": "Service Unavailable"}


@pytest.mark.parametrize("kind", ["drop_before_read", "drop_after_read"])
def test_image_drop(sandbox, kind):
    sandbox.admin.add_fault("images", kind, times=1)
    with pytest.raises(DROPPED):
        _image(sandbox)
    assert _image(sandbox).status_code == 200


def test_image_truncated(sandbox):
    sandbox.admin.add_fault("images", "truncated", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _image(sandbox)


def test_image_latency_and_slow_drip(sandbox):
    good = _image(sandbox).content
    sandbox.admin.add_fault("images", "latency", seconds=0.3, times=1)
    sandbox.admin.add_fault("images", "slow_drip", seconds=0.3, chunk_bytes=4096, times=1)
    for _ in range(2):
        started = time.monotonic()
        response = _image(sandbox)
        assert time.monotonic() - started >= 0.25
        assert response.content == good
