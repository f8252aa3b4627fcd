"""The admin API (/__sandbox/) against web pages on the same machine, over real HTTP on 127.0.0.1.

A page the user opens can make the browser send "simple requests" to the sandbox's port (POST with
``Content-Type: text/plain``, no preflight) and, with DNS rebinding (``evil.example`` resolving to
127.0.0.1), read the answers. Each probe checks the refusal and that nothing changed; the Moments
endpoints stay reachable with any Host (a tunnel for Braze testing), since they need a key anyway.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
import pytest
from sandbox_ids import DEMO_KEY_2, FIT_KEY, LIVE, TLS, delete, get, post

from moments_desktop.sandbox.app import create_app
from moments_desktop.sandbox.catalog import load_default_catalog
from moments_desktop.sandbox.server import SandboxServer

JSON = {"Content-Type": "application/json"}
FAULT = {"endpoint": "GetRewardInfo", "kind": "status", "status": 500}
ALL_KEYS = [key for app in load_default_catalog().apps for key in app.api_keys]


def port_of(sandbox) -> int:
    return httpx.URL(sandbox.base_url).port


# --- Host: DNS rebinding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "localhost.evil.example:{port}", "127.0.0.1.nip.io:{port}",
     "192.0.2.7:{port}", "[2001:db8::1]:{port}", "localhost:http", "::1", ""],
)
def test_a_foreign_host_is_misdirected_and_changes_nothing(api, sandbox, host):
    host = host.format(port=port_of(sandbox))
    api.claim(**LIVE)  # something the reset would undo
    headers = {"Host": host, **JSON}
    for method, path, body in [("POST", "/faults", FAULT), ("POST", "/reset", {"ledger": True}),
                               ("DELETE", "/faults", None), ("GET", "/catalog", None), ("GET", "/ledger", None),
                               ("GET", "/openapi.json", None)]:
        response = httpx.request(method, f"{sandbox.base_url}/__sandbox{path}", headers=headers,
                                 content=json.dumps(body) if body else None, verify=TLS)
        assert response.status_code == 421, (method, path, response.text)
        assert "localhost" in response.json()["message"]
        assert "sandbox-" not in response.text  # no key, no catalog
    assert sandbox.admin.faults() == []
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24  # not reset
    assert len(sandbox.admin.ledger()) == 1


def test_the_issues_probe_is_refused(api, sandbox):
    # Exactly what succeeded before: a foreign Host and Origin, a text/plain body.
    probe = {"Host": "evil.example", "Origin": "http://evil.example", "Content-Type": "text/plain"}
    for path in ("/__sandbox/faults", "/__sandbox/reset"):
        response = post(f"{sandbox.base_url}{path}", content=json.dumps(FAULT), headers=probe)
        assert response.status_code == 421
    assert get(f"{sandbox.base_url}/__sandbox/catalog", headers={"Host": "evil.example"}).status_code == 421
    assert sandbox.admin.faults() == []
    assert api.info().status_code == 200  # and the sandbox still answers a valid request


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "localhost",
                                  "127.8.9.10:{port}", "[::1]:{port}", "[::1]"])
def test_loopback_hosts_are_served(sandbox, host):
    response = get(f"{sandbox.base_url}/__sandbox/faults", headers={"Host": host.format(port=port_of(sandbox))})
    assert response.status_code == 200, response.text
    added = post(f"{sandbox.base_url}/__sandbox/faults", json=FAULT,
                 headers={"Host": host.format(port=port_of(sandbox))})
    assert added.status_code == 201


@pytest.mark.parametrize("host", ["evil.example", "tunnel.example.com:443"])
def test_the_moments_endpoints_answer_any_host(api, sandbox, host):
    for path in ("/GetRewardInfo", "/prod/GetRewardInfo"):
        response = api.client.post(path, json=sandbox.demo_body,
                                   headers={"Host": host, "x-api-key": sandbox.demo_key})
        assert response.status_code == 200, response.text
        assert response.json()["rewardImageUrl"].startswith(f"http://{host}/images/")


async def _admin_statuses(bind_host: str, hosts: list[str]) -> dict[str, int]:
    # Through the ASGI app, so no test listens on every interface or needs a second address.
    transport = httpx.ASGITransport(app=create_app(load_default_catalog(), bind_host=bind_host))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        return {host: (await client.get("/__sandbox/faults", headers={"Host": host})).status_code
                for host in hosts}


def test_a_wildcard_bind_accepts_any_ip_literal_but_no_name():
    # Bound to 0.0.0.0 the sandbox is reached at the machine's addresses; DNS rebinding needs a name.
    hosts = ["192.0.2.7:8080", "[2001:db8::1]:8080", "10.1.2.3", "evil.example", "localhost"]
    assert asyncio.run(_admin_statuses("0.0.0.0", hosts)) == {
        "192.0.2.7:8080": 200, "[2001:db8::1]:8080": 200, "10.1.2.3": 200, "evil.example": 421, "localhost": 200}
    assert asyncio.run(_admin_statuses("::", ["[2001:db8::1]", "evil.example"])) == {
        "[2001:db8::1]": 200, "evil.example": 421}


def test_a_specific_bind_address_is_accepted_besides_loopback():
    hosts = ["192.0.2.7:8080", "192.0.2.8:8080", "127.0.0.1:8080", "evil.example"]
    assert asyncio.run(_admin_statuses("192.0.2.7", hosts)) == {
        "192.0.2.7:8080": 200, "192.0.2.8:8080": 421, "127.0.0.1:8080": 200, "evil.example": 421}
    with SandboxServer(host="127.0.0.2") as server:  # and over real HTTP, on a second loopback address
        assert get(f"{server.base_url}/__sandbox/faults").status_code == 200
        assert get(f"{server.base_url}/__sandbox/faults", headers={"Host": "192.0.2.7"}).status_code == 421


# --- Origin ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["http://evil.example", "https://evil.example:8443", "null",
                                    "http://127.0.0.1.evil.example", "file://", "http://[::1", "evil"])
def test_a_foreign_origin_is_forbidden_and_changes_nothing(api, sandbox, origin):
    api.claim(**LIVE)
    headers = {"Origin": origin}
    added = post(f"{sandbox.base_url}/__sandbox/faults", json=FAULT, headers=headers)
    assert added.status_code == 403 and "web pages" in added.json()["message"]
    reset = post(f"{sandbox.base_url}/__sandbox/reset", json={"ledger": True}, headers=headers)
    assert reset.status_code == 403
    read = get(f"{sandbox.base_url}/__sandbox/catalog", headers=headers)
    assert read.status_code == 403 and "sandbox-" not in read.text
    assert sandbox.admin.faults() == []
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24
    assert len(sandbox.admin.ledger()) == 1


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:3000", "https://[::1]:{port}"])
def test_a_loopback_origin_is_served(sandbox, origin):
    response = post(f"{sandbox.base_url}/__sandbox/faults", json=FAULT,
                    headers={"Origin": origin.format(port=port_of(sandbox))})
    assert response.status_code == 201


# --- Content-Type on writes ------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonp", None])
def test_an_admin_write_that_is_not_json_is_unsupported_and_adds_no_fault(api, sandbox, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps(FAULT).encode()
    response = post(f"{sandbox.base_url}/__sandbox/faults", content=body, headers=headers)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["message"]
    assert sandbox.admin.faults() == []
    api.claim(**LIVE)
    assert post(f"{sandbox.base_url}/__sandbox/reset", content=b'{"ledger": true}',
                headers=headers).status_code == 415
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=1)
    assert delete(f"{sandbox.base_url}/__sandbox/faults", headers=headers).status_code == 415
    assert len(sandbox.admin.faults()) == 1


def test_json_with_a_charset_is_accepted(sandbox):
    response = post(f"{sandbox.base_url}/__sandbox/faults", content=json.dumps(FAULT).encode(),
                    headers={"Content-Type": "Application/JSON; charset=utf-8"})
    assert response.status_code == 201


def test_reads_need_no_content_type(sandbox):
    for path in ("/catalog", "/ledger", "/faults", "/openapi.json"):
        assert get(f"{sandbox.base_url}/__sandbox{path}").status_code == 200


def test_the_guard_covers_the_admin_api_under_the_stage_prefix(sandbox):
    assert get(f"{sandbox.base_url}/prod/__sandbox/catalog", headers={"Host": "evil.example"}).status_code == 421
    assert post(f"{sandbox.base_url}/prod/__sandbox/faults", content=json.dumps(FAULT),
                headers={"Content-Type": "text/plain"}).status_code == 415
    assert sandbox.admin.faults() == []


# --- the API keys need the admin token -------------------------------------------------------------


def test_the_catalog_without_the_token_holds_no_key(sandbox):
    for headers in ({}, {"x-sandbox-admin-token": "guessed"}, {"x-sandbox-admin-token": ""}):
        response = get(f"{sandbox.base_url}/__sandbox/catalog", headers=headers)
        assert response.status_code == 200
        for key in ALL_KEYS:
            assert key not in response.text, (headers, key)
        catalog = response.json()
        assert catalog["api_keys_shown"] is False
        assert "api_key" not in catalog["demo"] and all("api_keys" not in app for app in catalog["apps"])
        assert catalog["demo"]["app_id"] == "DEMO1"  # the rest is all there


def test_the_catalog_with_the_token_shows_the_keys(sandbox, sandbox_server):
    response = get(f"{sandbox.base_url}/__sandbox/catalog",
                   headers={"x-sandbox-admin-token": sandbox_server.admin_token})
    catalog = response.json()
    assert catalog["api_keys_shown"] is True
    assert catalog["demo"]["api_key"] == sandbox.demo_key
    assert [key for app in catalog["apps"] for key in app["api_keys"]] == ALL_KEYS
    assert {DEMO_KEY_2, FIT_KEY} <= set(ALL_KEYS)
    assert sandbox.admin.catalog()["demo"]["api_key"] == sandbox.demo_key  # the fixture's admin holds it


def test_each_server_makes_its_own_token_unless_given_one():
    first, second = SandboxServer(), SandboxServer()
    assert first.admin_token and second.admin_token and first.admin_token != second.admin_token
    assert len(first.admin_token) >= 32
    with SandboxServer(admin_token="fixed-token-for-a-test") as server:
        shown = get(f"{server.base_url}/__sandbox/catalog", headers={"x-sandbox-admin-token": "fixed-token-for-a-test"})
        assert "api_keys" in shown.json()["apps"][0]


def test_moments_sandbox_prints_its_admin_token(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "moments_desktop.sandbox", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        base_url = lines[0].rsplit("listening on ", 1)[1].strip()
        assert lines[2].startswith("Admin token (header x-sandbox-admin-token): ")
        token = lines[2].rsplit(": ", 1)[1].strip()
        without = get(f"{base_url}/__sandbox/catalog").json()
        shown = get(f"{base_url}/__sandbox/catalog", headers={"x-sandbox-admin-token": token}).json()
        assert "api_key" not in without["demo"]
        assert shown["demo"]["api_key"] == "sandbox-demo-key-0001"
    finally:
        process.terminate()
        process.wait(timeout=15)
        process.stdout.close()
        process.stderr.close()


# --- reset keeps the ledger unless asked -----------------------------------------------------------


def test_reset_keeps_the_ledger_and_clears_it_when_asked(api, sandbox):
    api.claim(**LIVE)
    api.claim()
    kept = sandbox.admin.ledger()
    assert len(kept) == 2
    sandbox.admin.reset()
    assert sandbox.admin.ledger() == kept
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25
    answer = post(f"{sandbox.base_url}/__sandbox/reset", json={})
    assert answer.json() == {"reset": True, "ledger_cleared": False}
    assert sandbox.admin.ledger() == kept
    api.claim(**LIVE)
    assert [e["seq"] for e in sandbox.admin.ledger()] == [1, 2, 3]  # numbering goes on
    sandbox.admin.reset(ledger=True)
    assert sandbox.admin.ledger() == []


def test_a_reset_with_an_empty_body_keeps_the_ledger(api, sandbox):
    api.claim()
    assert post(f"{sandbox.base_url}/__sandbox/reset", headers=JSON).status_code == 200
    assert len(sandbox.admin.ledger()) == 1


@pytest.mark.parametrize("body", [b'{"ledger": "yes"}', b"[true]", b"{broken", b'"ledger"'])
def test_a_reset_with_another_body_is_refused_and_resets_nothing(api, sandbox, body):
    api.claim(**LIVE)
    response = post(f"{sandbox.base_url}/__sandbox/reset", content=body, headers=JSON)
    assert response.status_code == 400 and "ledger" in response.json()["message"]
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24
    assert len(sandbox.admin.ledger()) == 1
