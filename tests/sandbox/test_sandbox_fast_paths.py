"""The sandbox's request path after the Step 14 speed-ups behaves as before: every answer is computed per
request (nothing stale), the lookups and the cached base URL agree with what they replace, and the protocol's
fast paths (a body already received, one deadline timer per connection) keep the limits and deadlines."""

import dataclasses
import json
import socket
import time

import pytest
from sandbox_ids import DEMO_KEY_2, LIVE, post
from starlette.requests import Request

from moments_desktop.sandbox import app as sandbox_app
from moments_desktop.sandbox.catalog import load_default_catalog
from moments_desktop.sandbox.protocol import HEAD_TIMEOUT
from moments_desktop.sandbox.state import SandboxState, fixed_test_mode_code

SLACK = 2.5  # how late past a deadline the sandbox may close a connection (a loaded 2-core machine)


def _address(base_url: str) -> tuple[str, int]:
    host, port = base_url.split("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def _request_head(sandbox, path: str = "/GetRewardInfo", **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"x-api-key: {sandbox.demo_key}",
             "Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


# --- the base URL, computed once per Host --------------------------------------------------------------


@pytest.mark.parametrize("scope", [
    {"scheme": "http", "server": ("127.0.0.1", 8080), "root_path": "", "headers": [(b"host", b"127.0.0.1:8080")]},
    {"scheme": "http", "server": ("127.0.0.1", 8080), "root_path": "", "headers": [(b"host", b"localhost")]},
    {"scheme": "http", "server": ("::1", 8080), "root_path": "", "headers": [(b"host", b"[::1]:8080")]},
    {"scheme": "http", "server": ("::1", 8080), "root_path": "", "headers": []},
    {"scheme": "http", "server": ("127.0.0.1", 80), "root_path": "", "headers": []},
    {"scheme": "https", "server": ("10.0.0.1", 443), "root_path": "", "headers": []},
    {"scheme": "http", "server": None, "root_path": "", "headers": []},
    {"scheme": "http", "server": ("127.0.0.1", 8080), "root_path": "/stage", "headers": [(b"host", b"example.test")]},
    {"scheme": "http", "server": ("127.0.0.1", 8080), "root_path": "/x", "app_root_path": "/top/",
     "headers": [(b"host", b"example.test")]},
    # A Host header Starlette does not take (a bad port): the server's address instead.
    {"scheme": "http", "server": ("127.0.0.1", 8080), "root_path": "", "headers": [(b"host", b"evil:99999")]},
    {"scheme": "http", "server": ("127.0.0.1", 8080), "root_path": "", "headers": [(b"host", "bäd".encode("latin-1"))]},
])
def test_the_base_url_is_the_one_starlette_computes(scope):
    scope = {"type": "http", "path": "/GetRewardInfo", "query_string": b"", "method": "POST", **scope}
    assert sandbox_app.base_url(scope) == str(Request(scope).base_url)
    assert sandbox_app.base_url(scope) == str(Request(scope).base_url)  # and again, from the cache


def test_each_answer_uses_the_host_its_request_names(sandbox):
    port = _address(sandbox.base_url)[1]
    urls = []
    for host in ("127.0.0.1", "localhost", "127.0.0.1"):
        response = post(f"{sandbox.base_url}/GetRewardInfo", json=sandbox.demo_body,
                        headers={"x-api-key": sandbox.demo_key, "Host": f"{host}:{port}"})
        urls.append(response.json()["rewardImageUrl"])
    assert urls == [f"http://{host}:{port}/images/headphones.png" for host in ("127.0.0.1", "localhost", "127.0.0.1")]


# --- nothing stale: state, clock, faults and the ledger per request ------------------------------------


def test_remaining_count_and_clock_changes_show_in_the_next_answer(sandbox, api):
    before = api.info(**LIVE).json()["remainingRewardCount"]
    assert api.claim(**LIVE).status_code == 200
    assert api.info(**LIVE).json()["remainingRewardCount"] == before - 1
    sandbox.admin.set_clock("2100-01-02T00:00:00Z")  # past the Live campaign's end date: Finished
    after_end = api.info(**LIVE).json()
    assert "rewardImageUrl" not in after_end and after_end["rewardNotificationText"]
    sandbox.admin.reset()  # real time again, inventory back
    assert api.info(**LIVE).json()["remainingRewardCount"] == before


def test_a_fault_added_after_fault_free_calls_applies_to_the_very_next_one(sandbox, api):
    # Two of the demo app's keys: each has its 5 calls a second.
    for _ in range(2):
        assert api.info().status_code == 200  # the "no fault" fast path, taken again and again
    sandbox.admin.add_fault("GetRewardInfo", "status", status=503, times=2)
    assert [api.info().status_code for _ in range(3)] == [503, 503, 200]
    sandbox.admin.add_fault("GetRewardInfo", "status", status=502, match={"rewardGroupId": "JP"})
    assert api.info(key=DEMO_KEY_2, rewardGroupId="JP").status_code == 502
    assert api.info(key=DEMO_KEY_2).status_code == 200  # the match reads the body: another body is not faulted
    sandbox.admin.clear_faults()
    assert api.info(key=DEMO_KEY_2, rewardGroupId="JP").status_code == 200


def test_the_ledger_records_every_getreward_with_its_body_read_once(sandbox, api):
    sent = [
        api.claim(),  # 200, test mode
        api.claim(body=b"not json at all"),  # 400, the bytes kept as an excerpt
        api.claim(body=b"[1, 2]"),  # 400, JSON but not an object: the bytes too
        api.claim(key="no-such-key"),  # 403, in the unknown-key ring
        api.claim(body={**sandbox.demo_body, "extra": "x" * 50}),  # the five fields only
    ]
    sandbox.admin.add_fault("GetReward", "status", status=500, times=1)
    sent.append(api.claim(key=DEMO_KEY_2))  # the first key has made its 5 calls this second
    entries = sandbox.admin.ledger()
    assert [e["status"] for e in entries] == [r.status_code for r in sent] == [200, 400, 400, 403, 200, 500]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0]["request"] == sandbox.demo_body
    assert entries[1]["request"] == "not json at all"
    assert entries[2]["request"] == "[1, 2]"
    assert entries[3]["app_id"] is None
    assert entries[4]["request"] == sandbox.demo_body
    assert entries[5]["fault"] == "status"


def test_answers_are_compact_utf8_json_as_before(api):
    response = api.info(rewardGroupId="JP")
    payload = response.json()
    assert payload["rewardLocale"] == "ja-JP"
    assert response.content == json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)


# --- the catalog's lookups --------------------------------------------------------------------------


def test_catalog_lookups_by_id_agree_with_a_search_in_order():
    catalog = load_default_catalog()
    for campaign in catalog.campaigns:
        assert catalog.campaign(campaign.id) is next(c for c in catalog.campaigns if c.id == campaign.id)
        for group in campaign.reward_groups:
            assert campaign.group(group.id) is group
        assert campaign.group("no-such-group") is None
    for reward in catalog.rewards:
        assert catalog.reward(reward.id) is reward
        assert catalog.reward_by_image(reward.image) is reward
    for app in catalog.apps:
        assert catalog.app(app.id) is app
    assert catalog.campaign("nope") is None and catalog.reward("nope") is None
    assert catalog.reward_by_image("nope.png") is None and catalog.app("nope") is None


def test_catalog_lookups_follow_a_replaced_catalog_and_keep_the_first_of_an_id():
    catalog = load_default_catalog()
    first, second = catalog.campaigns[:2]
    twin = dataclasses.replace(second, id=first.id, name="a second campaign with the first one's id")
    replaced = dataclasses.replace(catalog, campaigns=(first, twin))
    assert replaced.campaign(first.id) is first  # a search in order finds the first
    assert replaced.campaign(second.id) is None  # not kept over from the catalog it was made from
    group = first.reward_groups[0]
    renamed = dataclasses.replace(first, reward_groups=(dataclasses.replace(group, id="NEW"),))
    assert renamed.group("NEW").locale == group.locale and renamed.group(group.id) is None


def test_the_test_mode_code_is_derived_from_the_ids_alone():
    catalog = load_default_catalog()
    demo = catalog.demo()
    code = fixed_test_mode_code(demo.campaign_id, demo.reward_group_id)
    assert code == fixed_test_mode_code(demo.campaign_id, demo.reward_group_id)
    assert code != fixed_test_mode_code(demo.campaign_id, "JP")
    state = SandboxState(catalog)
    assert state.lookup_code(code).campaign_id == demo.campaign_id


# --- the protocol's fast paths ---------------------------------------------------------------------


def test_a_body_sent_after_its_head_is_still_read_and_answered(sandbox):
    body = json.dumps(sandbox.demo_body).encode()
    with socket.create_connection(_address(sandbox.base_url), timeout=10) as sock:
        sock.sendall(_request_head(sandbox, **{"Content-Length": str(len(body))}))
        time.sleep(0.3)  # the app starts with the head only: the body is read under the body deadline
        sock.sendall(body[:10])
        time.sleep(0.2)
        sock.sendall(body[10:])
        head, answer = _read_response(sock)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert json.loads(answer)["rewardImageUrl"].endswith("/images/headphones.png")


def test_a_chunked_body_is_answered_like_a_declared_one(sandbox):
    body = json.dumps(sandbox.demo_body).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:20], body[20:])) + b"0\r\n\r\n"
    with socket.create_connection(_address(sandbox.base_url), timeout=10) as sock:
        sock.sendall(_request_head(sandbox, **{"Transfer-Encoding": "chunked"}) + chunks)
        head, answer = _read_response(sock)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert "rewardImageUrl" in json.loads(answer)


def test_many_requests_on_one_keep_alive_connection_are_each_answered(sandbox):
    body = json.dumps(sandbox.demo_body).encode()
    request = _request_head(sandbox, **{"Content-Length": str(len(body))}) + body
    with socket.create_connection(_address(sandbox.base_url), timeout=10) as sock:
        statuses = []
        for _ in range(5):  # the key's 5 calls a second
            sock.sendall(request)
            head, _ = _read_response(sock)
            statuses.append(head.split(b" ", 2)[1])
    assert statuses == [b"200"] * 5


def test_the_head_deadline_runs_from_the_last_answer_not_from_the_connection(sandbox):
    # One timer per connection, armed when it opened, outlives the request: it must not close the
    # connection at the first deadline, only a full HEAD_TIMEOUT after the answer.
    body = json.dumps(sandbox.demo_body).encode()
    with socket.create_connection(_address(sandbox.base_url), timeout=10) as sock:
        time.sleep(HEAD_TIMEOUT * 0.6)
        sock.sendall(_request_head(sandbox, **{"Content-Length": str(len(body))}) + body)
        head, _ = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 200 ")
        answered = time.monotonic()
        sock.sendall(b"P")  # one byte of a next head: uvicorn's own keep-alive timeout no longer applies
        sock.settimeout(HEAD_TIMEOUT + SLACK)
        assert sock.recv(65536) == b""
        assert time.monotonic() - answered >= HEAD_TIMEOUT - 0.5
