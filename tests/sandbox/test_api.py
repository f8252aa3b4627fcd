"""The two Moments endpoints, over real HTTP, as the contract in moments-api.md describes them."""

import time

import pytest
from sandbox_ids import DEMO_KEY_2, FIT_APP, FIT_KEY, LIVE

from moments_desktop.sandbox.catalog import load_default_catalog
from moments_desktop.sandbox.messages import OUT_OF_STOCK, STATE_MESSAGES
from moments_desktop.sandbox.state import SandboxState


def test_demo_reward_info_has_every_contract_field_and_an_unknown_one(api, sandbox):
    response = api.info()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["rewardNotificationText"] == (
        "Congratulations! You've earned Wireless Headphones for completing this moment."
    )
    assert data["rewardImageUrl"] == f"{sandbox.base_url}/images/headphones.png"
    assert data["remainingRewardCount"] == 100
    assert data["campaignEndDate"] == "2030-12-31"
    assert data["rewardTitle"] == "Wireless Headphones"  # not in the contract: the app must keep it
    assert "rewardNotificationUrl" not in data


@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
@pytest.mark.parametrize("key", [None, "", "not-a-key", "SANDBOX-DEMO-KEY-0001"])
def test_missing_or_unknown_key_is_forbidden(api, sandbox, endpoint, key):
    response = api.post(endpoint, key=key)
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/getreward"),
        ("POST", "/GETREWARDINFO"),
        ("POST", "/GetReward/"),
        ("POST", "/PROD/GetReward"),  # /prod/GetReward is the stage prefix: served (test_gateway.py)
        ("POST", "/"),
        ("GET", "/GetReward"),
        ("PUT", "/GetRewardInfo"),
        ("DELETE", "/GetReward"),
        ("GET", "/nothing-here"),
    ],
)
def test_unknown_path_or_method_is_missing_authentication_token(api, sandbox, method, path):
    response = api.client.request(
        method, path, headers={"x-api-key": sandbox.demo_key}, json=sandbox.demo_body
    )
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"appId": ',
        b"[]",
        b'"DEMO1"',
        b"null",
        "missing-field",
        "number-field",
        "null-field",
        "nested-field",
    ],
)
def test_malformed_body_is_400(api, sandbox, endpoint, body):
    good = dict(sandbox.demo_body)
    if body == "missing-field":
        del good["rewardGroupId"]
        body = good
    elif body == "number-field":
        body = {**good, "appId": 1}
    elif body == "null-field":
        body = {**good, "deviceType": None}
    elif body == "nested-field":
        body = {**good, "campaignId": {"id": "DEMOCAMP1"}}
    response = api.post(endpoint, body=body)
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid request body"}


def test_extra_body_fields_are_ignored(api, sandbox):
    response = api.info(body={**sandbox.demo_body, "locale": "fr-FR"})
    assert response.status_code == 200
    assert response.json()["remainingRewardCount"] == 100


@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
@pytest.mark.parametrize(
    ("key", "fields"),
    [
        (None, {"appId": FIT_APP}),  # the demo key belongs to DEMO1, not to this app
        (None, {"appId": "demo1"}),
        (None, {"campaignId": "NOPE"}),
        (None, {"campaignId": "FITLIVE1"}),  # another app's campaign
        (None, {"rewardGroupId": "FR"}),
        (None, {"rewardGroupId": "us"}),
        (None, {"momentId": "NOT_A_MOMENT"}),
        (None, {"momentId": "DAILY_STREAK"}),  # DEMO1 has it, DEMOCAMP1 does not
        (None, {"deviceType": "Windows"}),
        (None, {"deviceType": "android"}),
        (None, {"deviceType": ""}),
        (
            FIT_KEY,
            {
                "appId": FIT_APP,
                "campaignId": "FITLIVE1",
                "rewardGroupId": "amz1yprime",
                "momentId": "WORKOUT_DONE",
                "deviceType": "Web",
            },
        ),  # campaign is mobile-only
        (FIT_KEY, {}),  # right body for DEMO1, but the key is Fit Quest's
    ],
)
def test_reward_that_does_not_exist_is_an_empty_list(api, sandbox, endpoint, key, fields):
    response = api.post(endpoint, key=key or sandbox.demo_key, **fields)
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("device", ["Android", "iOS", "FireOS", "Web"])
def test_every_documented_device_type_is_accepted(api, device):
    response = api.info(deviceType=device)
    assert response.status_code == 200
    assert response.json()["remainingRewardCount"] == 100


def test_restricted_campaign_accepts_its_device_types(api):
    response = api.info(
        key=FIT_KEY,
        appId=FIT_APP,
        campaignId="FITLIVE1",
        rewardGroupId="amz1yprime",
        momentId="MomentsReward",
        deviceType="FireOS",
    )
    assert response.status_code == 200
    assert response.json()["remainingRewardCount"] == 5


def test_test_mode_returns_the_same_url_and_consumes_nothing(api, sandbox):
    bodies = [api.claim().json() for _ in range(3)]
    urls = {b["rewardNotificationUrl"] for b in bodies}
    assert len(urls) == 1
    (url,) = urls
    assert url.startswith(f"{sandbox.base_url}/redeem/TEST-")
    assert [b["remainingRewardCount"] for b in bodies] == [100, 100, 100]
    assert bodies[0]["rewardNotificationText"] == (
        "Your Wireless Headphones are on the way. Tap Redeem now to claim them."
    )
    assert sandbox.admin.remaining("DEMOCAMP1", "US") == 100
    ledger = sandbox.admin.ledger()
    assert [(e["consumed"], e["reward_url"], e["status"]) for e in ledger] == [(False, url, 200)] * 3


def test_test_mode_url_survives_a_reset(api, sandbox):
    before = api.claim().json()["rewardNotificationUrl"]
    sandbox.admin.reset()
    assert api.claim().json()["rewardNotificationUrl"] == before


def test_live_claims_consume_and_return_unique_urls(api, sandbox):
    bodies = [api.claim(**LIVE).json() for _ in range(3)]
    urls = [b["rewardNotificationUrl"] for b in bodies]
    assert len(set(urls)) == 3
    assert all(u.startswith(f"{sandbox.base_url}/redeem/LIVE-") for u in urls)
    assert [b["remainingRewardCount"] for b in bodies] == [24, 23, 22]
    assert (
        bodies[0]["rewardNotificationText"]
        == "Your $25 Gift Card is ready. Tap Redeem now to add it to your account."
    )
    assert bodies[0]["rewardImageUrl"] == f"{sandbox.base_url}/images/gift-card.png"
    assert api.info(**LIVE).json()["remainingRewardCount"] == 22
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 22
    ledger = sandbox.admin.ledger()
    assert [e["reward_url"] for e in ledger] == urls
    assert all(e["consumed"] and e["status"] == 200 and e["fault"] is None for e in ledger)
    assert ledger[0]["request"] == {**sandbox.demo_body, **LIVE}
    assert ledger[0]["app_id"] == "DEMO1"


def test_reward_info_never_consumes(api, sandbox):
    counts = [api.info(**LIVE).json()["remainingRewardCount"] for _ in range(4)]
    assert counts == [25, 25, 25, 25]
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25
    assert sandbox.admin.ledger() == []  # the ledger is for GetReward only


@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
def test_zero_inventory_explains_and_gives_no_url(api, sandbox, endpoint):
    response = api.post(endpoint, campaignId="LIVECAMP1", rewardGroupId="UK")
    assert response.status_code == 200
    data = response.json()
    assert data["rewardNotificationText"] == STATE_MESSAGES["en-US"][OUT_OF_STOCK]
    assert data["remainingRewardCount"] == 0
    assert "rewardNotificationUrl" not in data
    assert sandbox.admin.remaining("LIVECAMP1", "UK") == 0
    if endpoint == "GetReward":
        (entry,) = sandbox.admin.ledger()
        assert (entry["consumed"], entry["reward_url"], entry["status"]) == (False, None, 200)


@pytest.mark.parametrize(
    ("key", "fields", "state", "locale"),
    [
        (None, {"campaignId": "FINCAMP1"}, "Finished", "en-US"),
        (None, {"campaignId": "FINCAMP1", "rewardGroupId": "JP"}, "Finished", "ja-JP"),
        (None, {"campaignId": "SUSPCAMP1"}, "Suspended", "en-US"),
        (None, {"campaignId": "SUSPCAMP1", "rewardGroupId": "DE"}, "Suspended", "de-DE"),
        (FIT_KEY, {"campaignId": "FITPEND1", "momentId": "WORKOUT_DONE"}, "Pending Approval", "en-US"),
        (FIT_KEY, {"campaignId": "FITDRAFT1", "momentId": "WORKOUT_DONE"}, "Draft", "en-US"),
        (FIT_KEY, {"campaignId": "FITREJ1", "momentId": "MomentsReward"}, "Rejected", "en-US"),
    ],
)
@pytest.mark.parametrize("endpoint", ["GetRewardInfo", "GetReward"])
def test_campaigns_not_serving_explain_in_the_group_locale(
    api, sandbox, key, fields, state, locale, endpoint
):
    if key == FIT_KEY:
        fields = {"appId": FIT_APP, **fields}
    response = api.post(endpoint, key=key or sandbox.demo_key, **fields)
    assert response.status_code == 200
    data = response.json()
    assert data["rewardNotificationText"] == STATE_MESSAGES[locale][state]
    assert "rewardNotificationUrl" not in data
    assert "rewardImageUrl" not in data
    campaign = load_default_catalog().campaign(fields["campaignId"])
    group = campaign.group(fields.get("rewardGroupId", "US"))
    assert sandbox.admin.remaining(campaign.id, group.id) == group.inventory


def test_finished_campaign_reports_its_end_date(api):
    assert api.info(campaignId="FINCAMP1").json()["campaignEndDate"] == "2024-06-30T23:59:59Z"


def test_end_dates_come_as_iso_strings_and_epoch_numbers(api):
    assert api.info().json()["campaignEndDate"] == "2030-12-31"
    epoch = api.info(**LIVE).json()["campaignEndDate"]
    assert epoch == 4102444799 and isinstance(epoch, int)


@pytest.mark.parametrize(
    ("group", "announcement", "title", "locale"),
    [
        (
            "US",
            "Congratulations! You've earned Wireless Headphones for completing this moment.",
            "Wireless Headphones",
            "en-US",
        ),
        ("JP", "おめでとうございます！スマートスピーカーを獲得しました。", "スマートスピーカー", "ja-JP"),
        ("DE", "Glückwunsch! Du hast einen E-Reader gewonnen.", "E-Reader", "de-DE"),
    ],
)
def test_messages_follow_the_reward_group_locale(api, group, announcement, title, locale):
    data = api.info(rewardGroupId=group).json()
    assert data["rewardNotificationText"] == announcement
    assert data["rewardTitle"] == title
    assert data["rewardLocale"] == locale


def test_japanese_redemption_message_survives_the_wire(api):
    response = api.claim(campaignId="LIVECAMP1", rewardGroupId="JP")
    assert "charset" not in response.headers["content-type"] or "utf-8" in response.headers["content-type"]
    text = response.content.decode("utf-8")
    assert "ワイヤレスヘッドホンの準備ができました。" in text  # raw UTF-8, not \u escapes
    assert response.json()["rewardNotificationText"].startswith("ワイヤレスヘッドホンの準備ができました。")


def test_locale_without_messages_falls_back_to_same_language(api):
    # LIVECAMP1/UK is en-GB with no inventory; the rewards have no en-GB text, so en-US is used.
    data = api.info(campaignId="LIVECAMP1", rewardGroupId="UK").json()
    assert data["rewardNotificationText"] == STATE_MESSAGES["en-US"][OUT_OF_STOCK]


def test_more_than_five_calls_a_second_per_key_is_throttled(api, sandbox):
    # Both endpoints share the budget [doc].
    statuses = [
        api.info().status_code,
        api.claim().status_code,
        api.info().status_code,
        api.claim().status_code,
        api.info().status_code,
    ]
    assert statuses == [200] * 5
    throttled = api.claim()
    assert throttled.status_code == 429
    assert throttled.json() == {"message": "Too Many Requests"}
    retry_after = int(throttled.headers["Retry-After"])
    assert retry_after >= 1
    assert api.info().status_code == 429
    # Another key of the same app has its own budget.
    assert api.info(key=DEMO_KEY_2).status_code == 200
    # A throttled GetReward is in the ledger, not consumed.
    assert sandbox.admin.ledger()[-1]["status"] == 429
    assert sandbox.admin.ledger()[-1]["consumed"] is False
    time.sleep(retry_after + 0.05)
    assert api.info().status_code == 200


def test_forbidden_calls_are_not_throttled(api):
    statuses = {api.info(key="wrong").status_code for _ in range(8)}
    assert statuses == {403}


def test_rate_window_slides(sandbox):
    now = [100.0]
    state = SandboxState(load_default_catalog(), clock=lambda: now[0])
    for offset in (0.0, 0.1, 0.2, 0.3, 0.4):
        now[0] = 100.0 + offset
        assert state.throttle("k") is None
    now[0] = 100.9
    assert state.throttle("k") == 1  # the call at 100.0 is still inside the window
    now[0] = 101.0
    assert state.throttle("k") is None  # 100.0 slid out; this call takes its place
    assert state.throttle("k") == 1
    assert state.throttle("other") is None
