"""Form choices from a sandbox catalog: fetching, recognising a sandbox, filtering, labels."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from moments_desktop.core.catalog_choices import (
    CatalogFormatError,
    NotASandbox,
    SandboxCatalog,
    default_choices,
    fetch_catalog,
)


def fetch(base_url: str) -> SandboxCatalog:
    async def run():
        async with httpx.AsyncClient() as http:
            return await fetch_catalog(http, base_url, timeout=2)

    return asyncio.run(run())


@pytest.fixture
def catalog(sandbox) -> SandboxCatalog:
    return fetch(sandbox.base_url)


def values(choices):
    return [c.value for c in choices]


def test_fetches_the_sandbox_catalog_without_its_api_keys(catalog, sandbox):
    assert values(catalog.app_choices())[0] == "DEMO1"
    assert sandbox.demo_key not in repr(catalog)


def test_campaigns_follow_app_and_moment(catalog):
    assert values(catalog.campaign_choices("DEMO1")) == ["DEMOCAMP1", "LIVECAMP1", "FINCAMP1", "SUSPCAMP1"]
    labels = {c.value: c.label for c in catalog.campaign_choices("DEMO1", "LEVEL_UP")}
    assert labels["LIVECAMP1"] == "LIVECAMP1 — Live, 35 left · Launch week (live) · not for LEVEL_UP"
    assert labels["FINCAMP1"] == "FINCAMP1 — Finished, 35 left · Spring promotion (finished) · not for LEVEL_UP"
    assert "not for" not in labels["DEMOCAMP1"]
    # an unknown app: every campaign, each naming its app
    unknown = {c.value: c.label for c in catalog.campaign_choices("NOPE")}
    assert len(unknown) == 10 and unknown["FITLIVE1"].endswith("· Fit Quest")


def test_reward_groups_show_stock_after_a_claim(catalog, sandbox):
    assert {c.value: c.label for c in catalog.reward_group_choices("DEMO1", "LIVECAMP1")} == {
        "US": "US — en-US, 25 left", "JP": "JP — ja-JP, 10 left", "UK": "UK — en-GB, none left"}
    response = httpx.post(f"{sandbox.base_url}/GetReward", headers={"x-api-key": sandbox.demo_key},
                          json=dict(sandbox.demo_body, campaignId="LIVECAMP1"))
    assert response.status_code == 200
    again = fetch(sandbox.base_url)
    assert again.reward_group_choices("DEMO1", "LIVECAMP1")[0].label == "US — en-US, 24 left"


def test_moments_of_an_unknown_app_are_all_listed_with_their_app(catalog):
    assert values(catalog.moment_choices("DEMO1")) == ["GAME_COMPLETE", "LEVEL_UP", "DAILY_STREAK"]
    labels = [c.label for c in catalog.moment_choices("")]
    assert "WORKOUT_DONE — Finished a workout · Fit Quest" in labels and len(labels) == 5


def test_endpoint_without_a_catalog_is_not_a_sandbox(sandbox):
    with pytest.raises(NotASandbox):
        fetch(sandbox.base_url + "/beta")  # answers 403 Missing Authentication Token


def test_the_stage_prefix_serves_the_catalog_too(sandbox):
    # A production-shaped endpoint (…/prod) on the sandbox still gets the form's choices.
    assert values(fetch(sandbox.base_url + "/prod").app_choices())[0] == "DEMO1"


def test_unreachable_endpoint_raises_a_transport_error():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(httpx.TransportError):
        fetch(f"http://127.0.0.1:{port}")


def test_the_fetch_runs_in_its_callers_task_and_has_an_overall_deadline():
    """No second task to outlive the caller (asyncio.wait_for made one); a server that drips
    its answer is cut off by the deadline of the whole fetch, not only per read."""
    tasks_seen = []

    async def dripping(request: httpx.Request) -> httpx.Response:
        tasks_seen.append(len(asyncio.all_tasks()))

        async def drip():
            yield b'{"schema_version": 1, '
            await asyncio.sleep(30)
            yield b'"apps": [], "campaigns": []}'

        return httpx.Response(200, headers={"content-type": "application/json"}, content=drip())

    async def run():
        async with httpx.AsyncClient(transport=httpx.MockTransport(dripping)) as http:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(TimeoutError):
                await fetch_catalog(http, "http://127.0.0.1:9", timeout=0.3)
            return loop.time() - started

    assert asyncio.run(run()) < 5
    assert tasks_seen == [1]  # only the caller's


@pytest.mark.parametrize("document", [[], {"schema_version": 2, "apps": [], "campaigns": []},
                                      {"schema_version": 1, "apps": "x", "campaigns": []},
                                      {"schema_version": 1, "apps": [{"id": 5}], "campaigns": []}])
def test_other_json_is_not_a_catalog(document):
    with pytest.raises(CatalogFormatError):
        SandboxCatalog.from_json(document)


def test_without_a_catalog_only_device_types_are_known():
    assert values(default_choices()["deviceType"]) == ["Android", "iOS", "FireOS", "Web"]
    assert set(default_choices()) == {"deviceType"}
