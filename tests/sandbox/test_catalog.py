"""Loading catalogs: the shipped one, and a user's own with clear errors."""

import copy
import json
import shutil

import pytest
from sandbox_ids import client as http_client

from moments_desktop.core.resources import resource_path
from moments_desktop.sandbox.catalog import (
    CatalogError,
    default_catalog_path,
    load_catalog,
    load_default_catalog,
)
from moments_desktop.sandbox.server import SandboxServer

SHIPPED = json.loads(default_catalog_path().read_text(encoding="utf-8"))


def test_shipped_catalog_loads():
    catalog = load_default_catalog()
    assert catalog.apps[0].id == "DEMO1"
    demo = catalog.demo()
    assert (demo.app_id, demo.api_key, demo.moment_id, demo.campaign_id, demo.reward_group_id) == (
        "DEMO1",
        "sandbox-demo-key-0001",
        "GAME_COMPLETE",
        "DEMOCAMP1",
        "US",
    )
    states = {c.state for c in catalog.campaigns}
    assert {"Approved", "Live", "Finished", "Suspended"} <= states
    assert any(g.inventory == 0 for c in catalog.campaigns for g in c.reward_groups)
    assert isinstance(catalog.campaign("LIVECAMP1").end_date, int)
    assert isinstance(catalog.campaign("DEMOCAMP1").end_date, str)
    for reward in catalog.rewards:
        assert reward.image_path == resource_path("rewards", reward.image)


def _write(tmp_path, data, name="catalog.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def _mutated(change):
    data = copy.deepcopy(SHIPPED)
    change(data)
    return data


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


@pytest.mark.parametrize(
    ("change", "json_path", "fragment"),
    [
        (_set(["schema_version"], 2), "$.schema_version", "unsupported schema_version 2"),
        (_delete(["schema_version"]), "$", "missing required field 'schema_version'"),
        (_set(["apps"], []), "$.apps", "must not be empty"),
        (_set(["apps", 0, "api_keys"], "sandbox-demo-key-0001"), "$.apps[0].api_keys", "expected an array"),
        (
            _set(["apps", 1, "api_keys"], ["sandbox-demo-key-0001"]),
            "$.apps[1].api_keys",
            "also used by app 'DEMO1'",
        ),
        (
            _set(["apps", 0, "moments", 1, "id"], "GAME_COMPLETE"),
            "$.apps[0].moments[1]",
            "duplicate moment id",
        ),
        (_set(["campaigns", 0, "inventroy"], 5), "$.campaigns[0]", "unknown field 'inventroy'"),
        (_set(["campaigns", 1, "app_id"], "NOAPP"), "$.campaigns[1].app_id", "no app with id 'NOAPP'"),
        (_set(["campaigns", 2, "state"], "Paused"), "$.campaigns[2].state", "unknown state 'Paused'"),
        (_set(["campaigns", 0, "moments", 0], "WORKOUT_DONE"), "$.campaigns[0].moments[0]", "has no moment"),
        (
            _set(["campaigns", 4, "device_types"], ["Windows"]),
            "$.campaigns[4].device_types[0]",
            "unknown device type",
        ),
        (
            _set(["campaigns", 0, "end_date"], {"y": 2030}),
            "$.campaigns[0].end_date",
            "expected a date string",
        ),
        (_set(["campaigns", 0, "end_date"], True), "$.campaigns[0].end_date", "expected a date string"),
        (
            _set(["campaigns", 1, "reward_groups", 2, "inventory"], -1),
            "$.campaigns[1].reward_groups[2].inventory",
            "expected a whole number",
        ),
        (
            _set(["campaigns", 1, "reward_groups", 2, "inventory"], True),
            "$.campaigns[1].reward_groups[2].inventory",
            "found true",
        ),
        (
            _set(["campaigns", 1, "reward_groups", 0, "reward"], "yacht"),
            "$.campaigns[1].reward_groups[0].reward",
            "no reward with id 'yacht'",
        ),
        (
            _set(["campaigns", 1, "reward_groups", 0, "locale"], "english"),
            "$.campaigns[1].reward_groups[0].locale",
            "not a locale",
        ),
        (
            _delete(["campaigns", 0, "reward_groups", 0, "locale"]),
            "$.campaigns[0].reward_groups[0]",
            "missing required field 'locale'",
        ),
        (_set(["campaigns", 1, "id"], "DEMOCAMP1"), "$.campaigns[1]", "duplicate campaign id 'DEMOCAMP1'"),
        (
            _set(["rewards", 0, "image"], "missing.png"),
            "$.rewards[0].image",
            "image file 'missing.png' not found",
        ),
        (_set(["rewards", 0, "image"], "../catalog.json"), "$.rewards[0].image", "plain file name"),
        (_set(["rewards", 0, "image"], "prize.bmp"), "$.rewards[0].image", "unsupported image type"),
        (_set(["rewards", 0, "messages"], {}), "$.rewards[0].messages", "at least one locale"),
        (
            _delete(["rewards", 0, "messages", "ja-JP", "redemption"]),
            '$.rewards[0].messages["ja-JP"]',
            "missing required field 'redemption'",
        ),
        (
            _set(["rewards", 0, "messages", "ja-JP", "announcement"], ""),
            '$.rewards[0].messages["ja-JP"].announcement',
            "must not be empty",
        ),
        (_set(["rate_limit_per_second"], 0), "$.rate_limit_per_second", "at least 1"),
    ],
)
def test_bad_catalog_names_the_json_path(tmp_path, change, json_path, fragment):
    path = _write(tmp_path, _mutated(change))
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert info.value.json_path == json_path
    assert fragment in info.value.reason
    assert str(path) in str(info.value) and json_path in str(info.value)


def test_catalog_that_is_not_json(tmp_path):
    path = _write(tmp_path, '{\n  "schema_version": 1,\n  "apps": [,]\n}')
    with pytest.raises(CatalogError, match=r"not valid JSON: .* line 3, column"):
        load_catalog(path)


def test_catalog_that_is_not_an_object(tmp_path):
    with pytest.raises(CatalogError, match=r"\$: expected an object, found an array"):
        load_catalog(_write(tmp_path, []))


def test_missing_catalog_file(tmp_path):
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "nope.json")


def test_comment_keys_are_allowed(tmp_path):
    data = _mutated(_set(["campaigns", 0, "_note"], "anything"))
    assert load_catalog(_write(tmp_path, data)).campaign("DEMOCAMP1").state == "Approved"


def _own_catalog():
    return {
        "schema_version": 1,
        "rate_limit_per_second": 50,
        "apps": [{"id": "MYAPP", "api_keys": ["my-key"], "moments": [{"id": "WIN"}]}],
        "rewards": [
            {
                "id": "mug",
                "title": "Coffee Mug",
                "image": "mug.png",
                "messages": {
                    "en-US": {"announcement": "A mug for you!", "redemption": "Your mug ships soon."}
                },
            },
            {
                "id": "phones",
                "title": "Headphones",
                "image": "headphones.png",  # not in the user's folder: the shipped image is used
                "messages": {"fr-FR": {"announcement": "Bravo !", "redemption": "Vos écouteurs arrivent."}},
            },
        ],
        "campaigns": [
            {
                "id": "MYCAMP",
                "app_id": "MYAPP",
                "state": "Live",
                "moments": ["WIN"],
                "reward_groups": [
                    {"id": "US", "locale": "en-US", "reward": "mug", "inventory": 2},
                    {"id": "FR", "locale": "fr-FR", "reward": "phones", "inventory": 1},
                ],
            }
        ],
    }


def test_user_catalog_with_its_own_images_end_to_end(tmp_path):
    (tmp_path / "rewards").mkdir()
    mug = tmp_path / "rewards" / "mug.png"
    shutil.copy(resource_path("rewards", "gift-card.png"), mug)
    path = _write(tmp_path, _own_catalog())
    body = {
        "appId": "MYAPP",
        "momentId": "WIN",
        "deviceType": "iOS",
        "campaignId": "MYCAMP",
        "rewardGroupId": "US",
    }
    headers = {"x-api-key": "my-key"}
    with SandboxServer(catalog_path=path) as server, http_client(server.base_url) as client:
        assert (
            client.post(
                "/GetRewardInfo", json=body, headers={"x-api-key": "sandbox-demo-key-0001"}
            ).status_code
            == 403
        )
        claims = [client.post("/GetReward", json=body, headers=headers).json() for _ in range(3)]
        assert [c.get("remainingRewardCount") for c in claims] == [1, 0, 0]
        assert claims[0]["rewardNotificationText"] == "Your mug ships soon."
        assert "rewardNotificationUrl" in claims[1] and "rewardNotificationUrl" not in claims[2]
        assert "all rewards" in claims[2]["rewardNotificationText"]
        assert client.get(claims[0]["rewardImageUrl"]).content == mug.read_bytes()
        french = client.post("/GetRewardInfo", json={**body, "rewardGroupId": "FR"}, headers=headers).json()
        assert french["rewardNotificationText"] == "Bravo !"
        assert (
            client.get(french["rewardImageUrl"]).content
            == resource_path("rewards", "headphones.png").read_bytes()
        )
        assert client.get("/__sandbox/catalog").json()["source"] == str(path)


def test_server_with_a_bad_catalog_fails_to_start_with_the_catalog_error(tmp_path):
    path = _write(tmp_path, _mutated(_set(["campaigns", 0, "state"], "Paused")))
    server = SandboxServer(catalog_path=path)
    with pytest.raises(CatalogError, match=r"\$\.campaigns\[0\]\.state"):
        server.start()
    assert not server.running
