"""Fault shapes the client's money-path tests need, seen from a raw httpx client: answers that
are not JSON, status faults with their own headers, and oversized bodies framed three ways."""

import json
import zlib

import httpx
import pytest
from sandbox_ids import LIVE, client, get, post

from moments_desktop.sandbox.faults import DEFAULT_TEXT_TYPE

GATEWAY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


def _post(sandbox, endpoint="GetReward", **fields):
    return post(
        f"{sandbox.base_url}/{endpoint}",
        json={**sandbox.demo_body, **fields},
        headers={"x-api-key": sandbox.demo_key},
        timeout=10,
    )


@pytest.mark.parametrize("consume", [False, True])
def test_status_fault_sends_its_headers_with_or_without_consume(sandbox, consume):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, headers={"Retry-After": "7"},
                            consume=consume, times=1)
    response = _post(sandbox, "GetRewardInfo")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"message": "Too Many Requests"}


def test_status_fault_can_redirect(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=301, headers={"Location": "https://elsewhere.example/prod"},
                            times=1)
    with client(sandbox.base_url, timeout=10) as http:  # httpx does not follow redirects unless asked
        response = http.post("/GetReward", json={**sandbox.demo_body, **LIVE},
                             headers={"x-api-key": sandbox.demo_key})
    assert response.status_code == 301 and response.headers["location"] == "https://elsewhere.example/prod"
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25  # a gateway answer: nothing consumed


@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
def test_status_fault_text_is_sent_as_it_is(sandbox, endpoint):
    sandbox.admin.add_fault(endpoint, "status", status=502, text=GATEWAY_PAGE, times=1)
    response = _post(sandbox, endpoint)
    assert response.status_code == 502
    assert response.headers["content-type"] == DEFAULT_TEXT_TYPE
    assert response.text == GATEWAY_PAGE
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_status_fault_text_with_its_own_content_type(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=503, text="upstream connect error", consume=True,
                            content_type="text/plain; charset=utf-8", times=1)
    response = _post(sandbox, **LIVE)
    assert (response.status_code, response.text) == (503, "upstream connect error")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24  # consume=true still consumes


def test_image_status_fault_text(sandbox):
    sandbox.admin.add_fault("images", "status", status=404, text="<html>gone</html>", times=1)
    response = get(f"{sandbox.base_url}/images/headphones.png")
    assert (response.status_code, response.text) == (404, "<html>gone</html>")


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        ({"kind": "status", "status": 502, "text": "<html>", "body": {"message": "x"}}, "not both"),
        ({"kind": "status", "status": 502, "content_type": "text/plain"}, "goes with 'text'"),
        ({"kind": "status", "status": 502, "text": ["not", "text"]}, "'text' must be a string"),
        ({"kind": "oversized", "framing": "zip"}, "'framing' must be one of length, chunked, gzip"),
        ({"kind": "oversized", "framing": 1}, "'framing' must be a string"),
    ],
)
def test_bad_shapes_are_rejected(sandbox, definition, fragment):
    response = post(f"{sandbox.base_url}/__sandbox/faults", json={"endpoint": "GetReward", **definition})
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert sandbox.admin.faults() == []


def test_oversized_chunked_declares_no_length(sandbox):
    size = 300 * 1024
    sandbox.admin.add_fault("GetRewardInfo", "oversized", bytes=size, framing="chunked", times=1)
    response = _post(sandbox, "GetRewardInfo")
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert len(response.content) == size
    assert response.json()["remainingRewardCount"] == 100


def test_oversized_gzip_understates_the_decoded_size(sandbox):
    size = 2 * 1024 * 1024
    sandbox.admin.add_fault("GetReward", "oversized", bytes=size, framing="gzip", times=1)
    with client(sandbox.base_url, timeout=10) as http:
        with http.stream("POST", "/GetReward", json={**sandbox.demo_body, **LIVE},
                         headers={"x-api-key": sandbox.demo_key}) as response:
            raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    declared = int(response.headers["content-length"])
    assert declared == len(raw) and declared < size // 100
    body = zlib.decompress(raw, 31)
    assert len(body) == size and json.loads(body)["rewardNotificationUrl"]
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24


def test_oversized_length_framing_is_the_default(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "oversized", bytes=100_000, framing="length", times=1)
    response = _post(sandbox, "GetRewardInfo")
    assert int(response.headers["content-length"]) == 100_000 == len(response.content)
    assert "content-encoding" not in response.headers


def test_oversized_image_chunked(sandbox):
    good = get(f"{sandbox.base_url}/images/headphones.png").content
    sandbox.admin.add_fault("images", "oversized", bytes=1024 * 1024, framing="chunked", times=1)
    response = get(f"{sandbox.base_url}/images/headphones.png")
    assert "content-length" not in response.headers
    assert len(response.content) == 1024 * 1024 and response.content.startswith(good)


def test_oversized_gzip_decodes_transparently_in_httpx(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "oversized", bytes=500_000, framing="gzip", times=1)
    response = _post(sandbox, "GetRewardInfo")
    assert len(response.content) == 500_000  # httpx decodes Content-Encoding for the caller
    assert isinstance(response, httpx.Response) and response.json()["remainingRewardCount"] == 100
