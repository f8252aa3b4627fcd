"""The admin API under /__sandbox/: catalog, reset, ledger, OpenAPI document."""

import re

from sandbox_ids import FIT_APP, FIT_KEY, LIVE, delete, get

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_catalog_lists_what_the_form_needs(sandbox):
    catalog = sandbox.admin.catalog()
    assert catalog["schema_version"] == 1
    assert catalog["demo"] == {
        "app_id": "DEMO1",
        "api_key": "sandbox-demo-key-0001",
        "moment_id": "GAME_COMPLETE",
        "campaign_id": "DEMOCAMP1",
        "reward_group_id": "US",
        "device_type": "Android",
    }
    assert catalog["device_types"] == ["Android", "iOS", "FireOS", "Web"]
    apps = {a["id"]: a for a in catalog["apps"]}
    assert apps["DEMO1"]["api_keys"] == ["sandbox-demo-key-0001", "sandbox-demo-key-0002"]
    assert [m["id"] for m in apps["DEMO1"]["moments"]] == ["GAME_COMPLETE", "LEVEL_UP", "DAILY_STREAK"]
    assert apps[FIT_APP]["api_keys"] == [FIT_KEY]
    states = {c["id"]: c["state"] for c in catalog["campaigns"]}
    assert states == {
        "DEMOCAMP1": "Approved",
        "LIVECAMP1": "Live",
        "FINCAMP1": "Finished",
        "SUSPCAMP1": "Suspended",
        "FITLIVE1": "Live",
        "FITPEND1": "Pending Approval",
        "FITDRAFT1": "Draft",
        "FITREJ1": "Rejected",
        "FITSPRING1": "Approved",
        "FITBUDGET1": "Live",
    }
    demo = next(c for c in catalog["campaigns"] if c["id"] == "DEMOCAMP1")
    assert demo["test_mode"] is True
    assert demo["reward_groups"][0] == {
        "id": "US",
        "locale": "en-US",
        "reward_id": "headphones",
        "inventory": 100,
        "remaining": 100,
        "monthly_allowance": None,
        "claimed_this_month": 0,
        "available_this_month": 100,
    }
    fit = next(c for c in catalog["campaigns"] if c["id"] == "FITLIVE1")
    assert fit["device_types"] == ["Android", "iOS", "FireOS"]
    rewards = {r["id"]: r for r in catalog["rewards"]}
    assert rewards["headphones"]["image_url"] == f"{sandbox.base_url}/images/headphones.png"
    assert {"en-US", "ja-JP", "de-DE"} <= set(rewards["headphones"]["locales"])


def test_catalog_shows_current_inventory(api, sandbox):
    api.claim(**LIVE)
    api.claim(**LIVE)
    live = next(c for c in sandbox.admin.catalog()["campaigns"] if c["id"] == "LIVECAMP1")
    us = next(g for g in live["reward_groups"] if g["id"] == "US")
    assert (us["inventory"], us["remaining"]) == (25, 23)


def test_reset_restores_inventory_and_clears_rate_windows_and_faults_but_keeps_the_ledger(api, sandbox):
    for _ in range(5):
        assert api.claim(**LIVE).status_code == 200
    assert api.claim(**LIVE).status_code == 429
    sandbox.admin.add_fault("GetRewardInfo", "status", status=500)
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 20
    before = sandbox.admin.ledger()
    assert len(before) == 6

    sandbox.admin.reset()

    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25
    assert sandbox.admin.ledger() == before  # what was claimed stays on record
    assert sandbox.admin.faults() == []
    assert api.info().status_code == 200  # neither throttled nor faulted


def test_ledger_entry_fields(api, sandbox):
    api.claim(**LIVE)
    api.claim(key="nope")
    api.claim(body=b"{broken")
    api.claim(body={"appId": "DEMO1"})
    api.claim(campaignId="NOPE")
    entries = sandbox.admin.ledger()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    for entry in entries:
        assert set(entry) == {"seq", "time", "request", "app_id", "status", "reward_url", "consumed", "fault"}
        assert ISO_UTC.match(entry["time"]), entry["time"]
    live, forbidden, broken, partial, missing = entries
    assert live["consumed"] is True and live["reward_url"] and live["status"] == 200
    assert (forbidden["status"], forbidden["app_id"], forbidden["consumed"]) == (403, None, False)
    assert (broken["status"], broken["request"]) == (400, "{broken")
    assert (partial["status"], partial["request"], partial["app_id"]) == (400, {"appId": "DEMO1"}, "DEMO1")
    assert (missing["status"], missing["reward_url"], missing["consumed"]) == (200, None, False)
    assert entries[0]["time"] <= entries[-1]["time"]


def test_admin_unknown_path_is_missing_token(sandbox):
    response = get(f"{sandbox.base_url}/__sandbox/nothing")
    assert response.status_code == 403
    missing = delete(f"{sandbox.base_url}/__sandbox/faults/f999", headers={"Content-Type": "application/json"})
    assert missing.status_code == 404


def test_openapi_document(sandbox):
    doc = sandbox.admin.openapi()
    assert doc["openapi"].startswith("3.0")
    assert [s["url"] for s in doc["servers"]] == [sandbox.base_url, f"{sandbox.base_url}/prod"]
    assert set(doc["paths"]) == {"/GetRewardInfo", "/GetReward"}
    assert doc["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    request = doc["components"]["schemas"]["RewardRequest"]
    assert request["required"] == ["appId", "momentId", "deviceType", "campaignId", "rewardGroupId"]
    for path in doc["paths"].values():
        responses = path["post"]["responses"]
        assert set(responses) == {"200", "400", "403", "413", "429"}
        assert "Retry-After" in responses["429"]["headers"]
        assert len(responses["200"]["content"]["application/json"]["schema"]["oneOf"]) == 2
