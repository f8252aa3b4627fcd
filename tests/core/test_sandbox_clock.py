"""The app against a sandbox whose clock has moved a Live campaign past its end date: the Session
shows the sandbox's own text and no reward URL, and the form's catalog says Finished."""

import asyncio

import httpx
from session_helpers import run_session as run

from moments_desktop.api_schema import Endpoint, Outcome
from moments_desktop.core.catalog_choices import fetch_catalog
from moments_desktop.core.errors import BusinessError
from moments_desktop.core.profiles import Profile

# LIVECAMP1's end_date in the shipped catalog is 4102444799, 2099-12-31T23:59:59Z.
ENDED_TEXT = "This reward campaign has ended. Thanks for playing!"


def _live_profile(session, sandbox) -> Profile:
    values = {"name": "Live", "base_url": sandbox.base_url, **sandbox.demo_body, "campaignId": "LIVECAMP1"}
    return session.profiles.add(Profile(**values, live=True))


def test_a_campaign_the_clock_finished_shows_the_sandbox_text_and_no_url(sandbox, tmp_path):
    sandbox.admin.set_clock("2099-12-31T23:59:58Z")

    async def scenario(s):
        live = _live_profile(s, sandbox)
        await s.store_key(live.id, sandbox.demo_key)
        before = await s.preview(live.id)
        assert before.ok and before.reward.remaining_count == 25

        sandbox.admin.advance_clock("PT1S")  # 23:59:59Z: Finished from that second
        after = await s.preview(live.id)
        assert after.reward.notification_text == ENDED_TEXT and after.reward.remaining_count is None
        result = await s.claim(s.plan_claim(live.id), typed="LIVECAMP1")
        assert result.reward_url is None and result.call.outcome is Outcome.NO_REWARD
        assert isinstance(result.call.error, BusinessError) and result.call.error.message == ENDED_TEXT
        assert result.call.reward.notification_text == ENDED_TEXT and result.call.reward.reward_url is None
        assert s.journal.count({"endpoint": Endpoint.GET_REWARD}) == 1
        row = s.journal.get(result.journal_id)
        assert row.outcome == "no_reward" and row.reward_url is None and row.error_message == ENDED_TEXT

    run(sandbox, tmp_path, scenario)
    [sent] = sandbox.admin.ledger()
    assert (sent["consumed"], sent["reward_url"], sent["time"]) == (False, None, "2099-12-31T23:59:59.000Z")
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 25


def test_the_forms_catalog_shows_the_state_the_clock_gives(sandbox):
    async def labels():
        async with httpx.AsyncClient() as http:
            catalog = await fetch_catalog(http, sandbox.base_url, timeout=2)
        return {c.value: c.label for c in catalog.campaign_choices("DEMO1")}

    assert asyncio.run(labels())["LIVECAMP1"].startswith("LIVECAMP1 — Live")
    sandbox.admin.set_clock("2100-01-01")
    assert asyncio.run(labels())["LIVECAMP1"].startswith("LIVECAMP1 — Finished")


def test_the_forms_counts_are_what_a_customer_would_be_told_this_month(sandbox):
    """The monthly allowance and the budget cap the count, as getRewardInfo's remainingRewardCount
    does, not the inventory alone."""
    fit_app, fit_key = "3f6c2a8e-5b1d-4e7f-9a0c-7d2e4b6f8a10", "sandbox-fit-key-0001"

    async def group_labels(campaign_id):
        async with httpx.AsyncClient() as http:
            catalog = await fetch_catalog(http, sandbox.base_url, timeout=2)
        return [c.label for c in catalog.reward_group_choices(fit_app, campaign_id)]

    def claim(campaign_id, moment):
        body = {"appId": fit_app, "momentId": moment, "deviceType": "Android", "campaignId": campaign_id,
                "rewardGroupId": "US"}
        return httpx.post(f"{sandbox.base_url}/GetReward", json=body, headers={"x-api-key": fit_key})

    assert asyncio.run(group_labels("FITBUDGET1")) == ["US — en-US, 30 left"]
    for _ in range(4):  # $50 at $12.50: the fifth would go over the budget
        assert claim("FITBUDGET1", "WORKOUT_DONE").json()["rewardNotificationUrl"]
    assert asyncio.run(group_labels("FITBUDGET1")) == ["US — en-US, none left"]

    sandbox.admin.set_clock("2035-03-01T12:00:00Z")  # FITSPRING1 is Live, 5 rewards a month
    assert asyncio.run(group_labels("FITSPRING1"))[0].endswith(", 5 left")
