"""API Gateway's own answers, over real HTTP on 127.0.0.1: the stage prefix /prod, 403 Missing
Authentication Token, the per-key quota (429 Limit Exceeded), the Retry-After switch, and the
sandbox-extension switch (rewardTitle / rewardLocale left out)."""

from __future__ import annotations

import time

import pytest
from sandbox_ids import DEMO_KEY_2, LIVE, client, get
from sandbox_variants import shipped_catalog_json, variant_sandbox

from moments_desktop.api_schema import SANDBOX_EXTENSION_FIELDS
from moments_desktop.sandbox.catalog import CatalogError, parse_catalog

MISSING_TOKEN = {"message": "Missing Authentication Token"}
LIMIT_EXCEEDED = {"message": "Limit Exceeded"}
TOO_MANY = {"message": "Too Many Requests"}


def call(http, sandbox, endpoint, key=None, prefix="", **fields):
    return http.post(f"{prefix}/{endpoint}", json={**sandbox.demo_body, **fields},
                     headers={"x-api-key": key or sandbox.demo_key})


# --- the stage prefix ------------------------------------------------------------------------------


def test_the_api_is_served_under_the_stage_prefix_with_working_urls(api, sandbox):
    info = api.client.post("/prod/GetRewardInfo", json=sandbox.demo_body, headers={"x-api-key": sandbox.demo_key})
    assert info.status_code == 200
    assert info.json() == api.info().json()
    assert get(info.json()["rewardImageUrl"]).headers["content-type"] == "image/png"
    live = api.client.post("/prod/GetReward", json={**sandbox.demo_body, **LIVE},
                           headers={"x-api-key": sandbox.demo_key})
    assert live.status_code == 200 and live.json()["remainingRewardCount"] == 24
    page = get(live.json()["rewardNotificationUrl"])
    assert page.status_code == 200 and "LIVE-" in page.text
    assert get(f"{sandbox.base_url}/prod/images/headphones.png").status_code == 200
    assert [e["status"] for e in sandbox.admin.ledger()] == [200]


def test_the_stage_prefix_shares_the_rate_limit_and_the_ledger(api, sandbox):
    for path in ("/GetRewardInfo", "/prod/GetRewardInfo") * 2 + ("/prod/GetReward",):
        assert api.client.post(path, json=sandbox.demo_body, headers={"x-api-key": sandbox.demo_key}).status_code == 200
    throttled = api.client.post("/prod/GetReward", json=sandbox.demo_body, headers={"x-api-key": sandbox.demo_key})
    assert throttled.status_code == 429 and throttled.json() == TOO_MANY
    assert len(sandbox.admin.ledger()) == 2


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/GetReward", "/GetRewardInfo", "/prod/GetReward", "/prod/GetRewardInfo"])
def test_another_method_on_an_api_path_is_missing_authentication_token(api, sandbox, method, path):
    response = api.client.request(method, path, headers={"x-api-key": sandbox.demo_key}, json=sandbox.demo_body)
    assert (response.status_code, response.json()) == (403, MISSING_TOKEN)


@pytest.mark.parametrize("path", ["/prod/GetReward/", "/prod/GetRewardInfo/", "/GetRewardInfo/", "/prod",
                                  "/prod/", "/prod/prod/GetReward", "/prod/getreward", "/Prod/GetReward",
                                  "/production/GetReward", "/prod//GetReward", "/prod/GetReward/x"])
def test_an_unknown_path_under_the_stage_prefix_is_missing_authentication_token(api, sandbox, path):
    response = api.client.post(path, headers={"x-api-key": sandbox.demo_key}, json=sandbox.demo_body)
    assert (response.status_code, response.json()) == (403, MISSING_TOKEN), path
    assert sandbox.admin.ledger() == []


@pytest.mark.parametrize("path", ["/GetReward", "/prod/GetReward", "/prod/GetRewardInfo/"])
def test_head_on_an_api_path_is_a_403_without_a_body(api, sandbox, path):
    response = api.client.head(path, headers={"x-api-key": sandbox.demo_key})
    assert response.status_code == 403 and response.content == b""


# --- the quota -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quota_sandbox():
    """Three calls a UTC day per key, ten a month; the Fit Quest app has its own quota of one a day.
    The rate limit is raised out of the way: these tests make many calls within a second."""
    data = shipped_catalog_json(quota={"per_day": 3, "per_month": 10}, rate_limit_per_second=1000)
    data["apps"][1]["quota"] = {"per_day": 1}
    with variant_sandbox(data, long_lived=True) as sandbox:
        yield sandbox


@pytest.fixture
def quota(quota_sandbox):
    quota_sandbox.admin.reset(ledger=True)
    with client(quota_sandbox.base_url, timeout=10) as http:
        yield quota_sandbox, http


def test_a_used_up_day_is_limit_exceeded_with_the_seconds_to_utc_midnight(quota):
    sandbox, http = quota
    sandbox.freeze_clock("2031-03-04T23:59:00Z")
    for endpoint in ("GetRewardInfo", "GetReward", "GetRewardInfo"):  # both endpoints count
        assert call(http, sandbox, endpoint).status_code == 200
    for endpoint, fields in (("GetRewardInfo", {}), ("GetReward", LIVE)):
        refused = call(http, sandbox, endpoint, prefix="/prod", **fields)
        assert (refused.status_code, refused.json()) == (429, LIMIT_EXCEEDED)
        assert refused.headers["retry-after"] == "60"
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25  # nothing consumed
    assert [e["status"] for e in sandbox.admin.ledger()] == [200, 429]
    # per key: the app's second key has its own quota
    assert call(http, sandbox, "GetRewardInfo", key=DEMO_KEY_2).status_code == 200
    # the next UTC day starts afresh
    sandbox.freeze_clock("2031-03-05T00:00:00Z")
    assert call(http, sandbox, "GetRewardInfo").status_code == 200


def test_a_used_up_month_waits_for_the_next_month(quota):
    sandbox, http = quota
    # ten calls over four days (three, three, three, one), then the month is spent
    for day, calls in (("01", 3), ("02", 3), ("03", 3), ("30", 1)):
        sandbox.freeze_clock(f"2031-12-{day}T12:00:00Z")
        for _ in range(calls):
            assert call(http, sandbox, "GetRewardInfo").status_code == 200
    sandbox.freeze_clock("2031-12-31T23:00:00Z")
    refused = call(http, sandbox, "GetRewardInfo")
    assert (refused.status_code, refused.json()) == (429, LIMIT_EXCEEDED)
    assert refused.headers["retry-after"] == "3600"  # to 2032-01-01T00:00Z
    sandbox.freeze_clock("2032-01-01T00:00:01Z")
    assert call(http, sandbox, "GetRewardInfo").status_code == 200


def test_when_day_and_month_are_both_used_up_retry_after_is_the_later_end(quota):
    sandbox, http = quota
    for day, calls in (("01", 3), ("02", 3), ("03", 1), ("04", 3)):
        sandbox.freeze_clock(f"2031-05-{day}T08:00:00Z")
        for _ in range(calls):
            assert call(http, sandbox, "GetRewardInfo").status_code == 200
    sandbox.freeze_clock("2031-05-04T23:00:00Z")  # the day (3 of 3) and the month (10 of 10) are used up
    refused = call(http, sandbox, "GetRewardInfo")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(27 * 86400 + 3600)  # to 1 June, not to 5 May


def test_an_apps_own_quota_overrides_the_catalogs(quota):
    sandbox, http = quota
    fit = {"appId": "3f6c2a8e-5b1d-4e7f-9a0c-7d2e4b6f8a10", "momentId": "WORKOUT_DONE", "campaignId": "FITLIVE1",
           "rewardGroupId": "amz1yprime"}
    assert call(http, sandbox, "GetRewardInfo", key="sandbox-fit-key-0001", **fit).status_code == 200
    refused = call(http, sandbox, "GetRewardInfo", key="sandbox-fit-key-0001", **fit)
    assert (refused.status_code, refused.json()) == (429, LIMIT_EXCEEDED)


def test_a_refused_key_uses_no_quota_and_a_bad_body_uses_some(quota):
    sandbox, http = quota
    sandbox.freeze_clock("2031-05-05T10:00:00Z")
    # a refused key has no usage plan to charge
    for _ in range(4):
        assert call(http, sandbox, "GetRewardInfo", key="not-a-key").status_code == 403
    # a bad body passed the gateway: it counts [assumed]
    assert http.post("/GetRewardInfo", content=b"{broken", headers={"x-api-key": sandbox.demo_key}).status_code == 400
    assert call(http, sandbox, "GetRewardInfo").status_code == 200
    assert call(http, sandbox, "GetRewardInfo").status_code == 200
    assert call(http, sandbox, "GetRewardInfo").json() == LIMIT_EXCEEDED


def test_calls_refused_for_the_quota_use_none_of_it(quota):
    sandbox, http = quota
    sandbox.freeze_clock("2031-07-01T10:00:00Z")
    statuses = [call(http, sandbox, "GetRewardInfo").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    # had the two refusals counted, the month (10) would be spent two calls early
    for day in ("02", "03"):
        sandbox.freeze_clock(f"2031-07-{day}T10:00:00Z")
        assert [call(http, sandbox, "GetRewardInfo").status_code for _ in range(3)] == [200] * 3
    sandbox.freeze_clock("2031-07-04T10:00:00Z")
    assert call(http, sandbox, "GetRewardInfo").status_code == 200  # the tenth
    refused = call(http, sandbox, "GetRewardInfo")
    assert refused.json() == LIMIT_EXCEEDED and int(refused.headers["retry-after"]) > 86400  # the month's end


def test_a_throttled_call_uses_none_of_the_quota():
    # [assumed] the rate limit (5 a second) is checked first: a throttled call never reaches the quota.
    with variant_sandbox(quota={"per_day": 6}) as sandbox, client(sandbox.base_url, timeout=10) as http:
        sandbox.freeze_clock("2031-06-06T06:00:00Z")
        answers = [call(http, sandbox, "GetRewardInfo") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert answers[-1].json() == TOO_MANY
        # The rate window is real (monotonic) time, not the sandbox clock: let it pass.
        time.sleep(float(answers[-1].headers["retry-after"]) + 0.05)
        assert call(http, sandbox, "GetRewardInfo").status_code == 200  # the sixth of six: the 429 did not count
        assert call(http, sandbox, "GetRewardInfo").json() == LIMIT_EXCEEDED


def test_a_reset_clears_the_quota_counters(quota):
    sandbox, http = quota
    for _ in range(3):
        call(http, sandbox, "GetRewardInfo")
    assert call(http, sandbox, "GetRewardInfo").status_code == 429
    sandbox.admin.reset()
    assert call(http, sandbox, "GetRewardInfo").status_code == 200


def test_without_a_quota_there_is_no_limit_exceeded(api, sandbox):
    statuses = set()
    for _ in range(4):
        statuses.add(api.info().status_code)
    assert statuses == {200}
    assert sandbox.admin.catalog()["quota"] is None


def test_the_admin_catalog_shows_the_quota(quota_sandbox):
    catalog = quota_sandbox.admin.catalog()
    assert catalog["quota"] == {"per_day": 3, "per_month": 10}
    assert catalog["apps"][1]["quota"] == {"per_day": 1, "per_month": None}
    assert "quota" not in catalog["apps"][0]
    assert (catalog["retry_after_header"], catalog["sandbox_extensions"]) == (True, True)


# --- Retry-After off -------------------------------------------------------------------------------


def test_retry_after_can_be_switched_off_for_both_429s():
    with variant_sandbox(quota={"per_day": 3}, retry_after_header=False) as sandbox, \
            client(sandbox.base_url, timeout=10) as http:
        answers = [call(http, sandbox, "GetReward" if i % 2 else "GetRewardInfo") for i in range(6)]
        # three served, two over the quota, then the sixth call in the second is throttled
        assert [(a.status_code, a.json().get("message")) for a in answers] == [(200, None)] * 3 + [
            (429, "Limit Exceeded")] * 2 + [(429, "Too Many Requests")]
        for answer in answers[3:]:
            assert "retry-after" not in answer.headers
        assert sandbox.admin.catalog()["retry_after_header"] is False
        # a status fault's own headers are the tester's: still sent
        sandbox.admin.reset()
        sandbox.admin.add_fault("GetRewardInfo", "status", status=429, headers={"Retry-After": "2"}, times=1)
        assert call(http, sandbox, "GetRewardInfo").headers["retry-after"] == "2"


def test_retry_after_is_sent_by_default(api):
    answers = [api.info() for _ in range(6)]
    assert answers[-1].status_code == 429 and answers[-1].headers["retry-after"] == "1"


# --- the sandbox extensions ------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
def test_the_extensions_are_left_out_when_switched_off(api, endpoint):
    on = api.post(endpoint).json()
    with variant_sandbox(sandbox_extensions=False) as sandbox, client(sandbox.base_url, timeout=10) as http:
        off = call(http, sandbox, endpoint).json()
        live = call(http, sandbox, endpoint, **LIVE).json()
        assert sandbox.admin.catalog()["sandbox_extensions"] is False
    assert set(SANDBOX_EXTENSION_FIELDS) <= set(on)
    assert not set(SANDBOX_EXTENSION_FIELDS) & set(off) and not set(SANDBOX_EXTENSION_FIELDS) & set(live)
    base = api.sandbox.base_url
    strip = {k: v.replace(base, "") if isinstance(v, str) else v for k, v in on.items()
             if k not in SANDBOX_EXTENSION_FIELDS}
    assert {k: v.replace(sandbox.base_url, "") if isinstance(v, str) else v for k, v in off.items()} == strip


def test_the_openapi_marks_the_extensions(sandbox):
    properties = sandbox.admin.openapi()["components"]["schemas"]["RewardResponse"]["properties"]
    marked = {name for name, spec in properties.items() if spec.get("x-sandbox-extension")}
    assert marked == set(SANDBOX_EXTENSION_FIELDS)


def test_the_openapi_documents_the_gateway_answers(sandbox):
    doc = sandbox.admin.openapi()
    assert doc["servers"][1]["url"] == f"{sandbox.base_url}/prod"
    for path in doc["paths"].values():
        responses = path["post"]["responses"]
        forbidden = responses["403"]["content"]["application/json"]["examples"]
        assert {e["value"]["message"] for e in forbidden.values()} == {"Forbidden", "Missing Authentication Token"}
        limited = responses["429"]["content"]["application/json"]["examples"]
        assert {e["value"]["message"] for e in limited.values()} == {"Too Many Requests", "Limit Exceeded"}
        assert "[assumed" in responses["429"]["headers"]["Retry-After"]["description"]


# --- the catalog's new root fields -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"quota": {"per_day": 0}}, "$.quota.per_day", "at least 1"),
        ({"quota": {"per_month": 2.5}}, "$.quota.per_month", "whole number"),
        ({"quota": {"per_day": True}}, "$.quota.per_day", "whole number"),
        ({"quota": {"per_week": 5}}, "$.quota", "unknown field 'per_week'"),
        ({"quota": 5}, "$.quota", "expected an object"),
        ({"retry_after_header": "no"}, "$.retry_after_header", "true or false"),
        ({"sandbox_extensions": 0}, "$.sandbox_extensions", "true or false"),
    ],
)
def test_the_catalog_checks_the_gateway_fields(changes, path, message):
    with pytest.raises(CatalogError) as caught:
        parse_catalog(shipped_catalog_json(**changes))
    assert caught.value.json_path == path and message in caught.value.reason


def test_an_apps_quota_is_checked_with_its_path():
    data = shipped_catalog_json()
    data["apps"][1]["quota"] = {"per_day": -1}
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    assert caught.value.json_path == "$.apps[1].quota.per_day"


def test_the_gateway_fields_default_to_no_quota_with_retry_after_and_extensions():
    catalog = parse_catalog(shipped_catalog_json())
    assert (catalog.quota, catalog.retry_after_header, catalog.sandbox_extensions) == (None, True, True)
    both_null = parse_catalog(shipped_catalog_json(quota={"per_day": None}))
    assert both_null.quota is not None and both_null.quota.per_day is None
