"""Session.plan_sweep / run_sweep against the real sandbox: every combination previewed (getRewardInfo
only, never getReward), journaled, counted per status; a key problem stops it before any call; cancel
stops it at once and keeps the cards that came back."""

from __future__ import annotations

import asyncio
import time

import pytest
from session_helpers import run_session

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.client import MomentsClient, RateLimiter
from moments_desktop.core.deadlines import Deadlines
from moments_desktop.core.errors import MissingKeyError, SandboxNotRunningError, ValidationError
from moments_desktop.core.journal import CANCELLED_PREVIEW
from moments_desktop.core.profiles import DEMO_PROFILE_ID, Profile
from moments_desktop.core.sweep import MAX_SWEEP_COMBINATIONS, SweepRun, SweepStatus

GET_REWARD_INFO = Endpoint.GET_REWARD_INFO.value


COUNTED = 10_000


def request_counter(sandbox):
    """How many getRewardInfo reached the sandbox: a last fault that changes nothing counts down for every
    request no fault before it took, and each fault added with ``times=COUNTED`` for those it took."""
    sandbox.admin.add_fault(GET_REWARD_INFO, "latency", seconds=0, times=COUNTED)

    def reached() -> int:
        faults = sandbox.admin.faults()
        assert all(f["remaining"] > 0 for f in faults)  # none exhausted (and gone from the list)
        return sum(f["times"] - f["remaining"] for f in faults if f["times"] == COUNTED)
    return reached


async def journal_rows(session):
    return await session.history(limit=10_000)


def test_a_sweep_counts_every_status_journals_every_call_and_never_claims(sandbox, tmp_path):
    # Eight combinations: DEMOCAMP1 and LIVECAMP1 × US, JP, DE, XX (no such group: []).
    sandbox.admin.add_fault(GET_REWARD_INFO, "status", status=403, match={"campaignId": "LIVECAMP1",
                                                                          "rewardGroupId": "JP"})
    sandbox.admin.add_fault(GET_REWARD_INFO, "latency", seconds=8, match={"campaignId": "LIVECAMP1",
                                                                          "rewardGroupId": "UK"})
    seen = []

    async def scenario(s):
        plan = s.plan_sweep(DEMO_PROFILE_ID, {"campaignId": ["DEMOCAMP1", "LIVECAMP1"],
                                              "rewardGroupId": ["US", "JP", "UK", "XX"]})
        assert plan.count == 8 and plan.swept_fields == ("campaignId", "rewardGroupId")
        run = SweepRun(plan)
        result = await s.run_sweep(run, lambda card, progress: seen.append((card, progress)))
        return plan, run, result, await journal_rows(s)

    # A short preview deadline, so the late answer is an error within the test; the limiter's waits stay
    # well inside it (five workers, five calls per window).
    plan, run, result, rows = run_session(sandbox, tmp_path, scenario, deadlines=Deadlines(preview=2.5))
    status = {(c.combination.fields()["campaignId"], c.combination.fields()["rewardGroupId"]): c.status
              for c in result.cards}
    assert status == {
        ("DEMOCAMP1", "US"): SweepStatus.REWARD, ("DEMOCAMP1", "JP"): SweepStatus.REWARD,
        ("DEMOCAMP1", "UK"): SweepStatus.NO_REWARD, ("DEMOCAMP1", "XX"): SweepStatus.NO_REWARD,
        ("LIVECAMP1", "US"): SweepStatus.REWARD, ("LIVECAMP1", "JP"): SweepStatus.DECLINED,
        ("LIVECAMP1", "UK"): SweepStatus.ERROR, ("LIVECAMP1", "XX"): SweepStatus.NO_REWARD,
    }
    assert result.counts == {SweepStatus.REWARD: 3, SweepStatus.NO_REWARD: 3, SweepStatus.DECLINED: 1,
                             SweepStatus.ERROR: 1}
    assert not result.cancelled and [c.index for c in result.cards] == list(range(8))
    by_key = {(c.combination.fields()["campaignId"], c.combination.fields()["rewardGroupId"]): c
              for c in result.cards}
    reward = by_key[("LIVECAMP1", "US")]
    assert reward.notification_text and reward.image_url.endswith(".png") and reward.remaining_count == 25
    assert reward.problem is None and reward.http_status == 200
    assert by_key[("LIVECAMP1", "JP")].http_status == 403 and by_key[("LIVECAMP1", "JP")].problem
    error = by_key[("LIVECAMP1", "UK")]
    assert error.http_status is None and error.problem.startswith("The preview took longer than 2.5")
    # on_card saw each card once, after the run recorded it; the last progress says all done.
    assert sorted(c.index for c, _ in seen) == list(range(8))
    assert [p.done for _, p in seen] == list(range(1, 9)) and seen[-1][1].eta_s == 0
    assert seen[-1][1].counts == result.counts
    # Every call journaled as a preview: one row per combination, none a claim; the sandbox paid nothing.
    assert len(rows) == 8 and {r.endpoint for r in rows} == {GET_REWARD_INFO}
    assert sorted(r.request_body["rewardGroupId"] + r.request_body["campaignId"] for r in rows) == sorted(
        g + c for c in ("DEMOCAMP1", "LIVECAMP1") for g in ("US", "JP", "UK", "XX"))
    assert sandbox.admin.ledger() == []


def test_cancelling_a_sweep_stops_it_at_once_and_keeps_its_cards(sandbox, tmp_path):
    # The first five calls go out at once: three Android ones answered at once, two iOS ones that take a
    # while, so they are in flight when the third answer cancels the sweep.
    sandbox.admin.add_fault(GET_REWARD_INFO, "latency", seconds=1.0, match={"deviceType": "iOS"},
                            times=COUNTED)
    reached = request_counter(sandbox)

    async def scenario(s):
        plan = s.plan_sweep(DEMO_PROFILE_ID, {"rewardGroupId": ["US", "JP", "DE"],
                                              "deviceType": ["Android", "iOS"],
                                              "momentId": ["GAME_COMPLETE", "LEVEL_UP"]})
        assert plan.count == 12
        run = SweepRun(plan)
        task = None

        def on_card(card, progress):
            if progress.done == 3:
                task.cancel()

        task = asyncio.ensure_future(s.run_sweep(run, on_card))
        with pytest.raises(asyncio.CancelledError):
            await task
        at_cancel = reached()
        kept = run.result(cancelled=True)
        await asyncio.sleep(1.5)  # longer than a limiter window and an answer: nothing more goes out
        return at_cancel, reached(), kept, await journal_rows(s)

    at_cancel, later, kept, rows = run_session(sandbox, tmp_path, scenario)
    assert later == at_cancel == 5  # the first window's calls; none after the cancel
    assert kept.cancelled and len(kept.cards) == 3 and kept.counts[SweepStatus.REWARD] == 3
    assert {c.combination.fields()["deviceType"] for c in kept.cards} == {"Android"}
    # Every call that went out is in the history: the two in flight as cancelled, the rest as answered.
    cancelled = [r for r in rows if r.error_message == CANCELLED_PREVIEW]
    assert len(rows) == 5 and len(cancelled) == 2
    assert {r.request_body["deviceType"] for r in cancelled} == {"iOS"}
    assert sandbox.admin.ledger() == []


def test_a_key_problem_stops_the_sweep_before_any_call(sandbox, tmp_path):
    reached = request_counter(sandbox)

    async def scenario(s):
        profile = s.profiles.add(Profile(name="No key", base_url=sandbox.base_url, **sandbox.demo_body))
        plan = s.plan_sweep(profile.id, {"deviceType": ["Android", "iOS"]})
        run = SweepRun(plan)
        with pytest.raises(MissingKeyError):
            await s.run_sweep(run)
        return run, await journal_rows(s)

    run, rows = run_session(sandbox, tmp_path, scenario)
    assert run.cards == [] and rows == [] and reached() == 0


def test_the_built_in_sandbox_not_running_is_said_by_the_plan(sandbox, tmp_path):
    async def scenario(s):
        with pytest.raises(SandboxNotRunningError):
            s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": ["Android", "iOS"]})

    run_session(sandbox, tmp_path, scenario, embedded=False)


def test_the_plan_checks_each_value_as_the_client_would(sandbox, tmp_path):
    async def scenario(s):
        with pytest.raises(ValidationError) as bad_value:
            s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": ["Android", "i\u200bOS"]})
        with pytest.raises(ValidationError) as bad_url:
            s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": ["Android"]}, base_url="not a url")
        with pytest.raises(ValidationError) as too_many:
            s.plan_sweep(DEMO_PROFILE_ID, {"momentId": [f"M{i}" for i in range(101)],
                                           "rewardGroupId": [f"G{i}" for i in range(100)]})
        with pytest.raises(ValidationError) as unknown:
            s.plan_sweep(DEMO_PROFILE_ID, {"device": ["Android"]})
        with pytest.raises(ValidationError) as unswept_blank:
            s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": ["Android"]}, fields={**sandbox.demo_body, "appId": " "})
        # Blanks dropped, values trimmed, duplicates once; a field absent or empty keeps the form's value.
        plan = s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": [" Android", "iOS", "Android", ""], "momentId": []},
                            fields={**sandbox.demo_body, "momentId": "LEVEL_UP"})
        return bad_value.value, bad_url.value, too_many.value, unknown.value, unswept_blank.value, plan

    bad_value, bad_url, too_many, unknown, unswept_blank, plan = run_session(sandbox, tmp_path, scenario)
    assert list(bad_value.field_errors) == ["deviceType"] and "“i\u200bOS”" in bad_value.field_errors["deviceType"]
    assert "invisible" in bad_value.field_errors["deviceType"]
    assert list(bad_url.field_errors) == ["base_url"]
    assert "10,100 combinations" in too_many.message and f"{MAX_SWEEP_COMBINATIONS:,}" in too_many.message
    assert list(unknown.field_errors) == ["device"]
    assert list(unswept_blank.field_errors) == ["appId"]
    assert plan.values["deviceType"] == ("Android", "iOS") and plan.values["momentId"] == ("LEVEL_UP",)
    assert plan.values["appId"] == (sandbox.demo_body["appId"],) and plan.count == 2
    assert plan.base_url == sandbox.base_url and (plan.calls, plan.window) == (5, 1.1)


def test_the_plan_takes_the_rate_from_the_clients_limiter(sandbox, tmp_path):
    async def scenario(s):
        return s.plan_sweep(DEMO_PROFILE_ID, {"rewardGroupId": [f"G{i}" for i in range(23)]})

    plan = run_session(sandbox, tmp_path, scenario, limiter=RateLimiter(calls=10, window=0.5))
    assert (plan.calls, plan.window) == (10, 0.5)
    assert plan.estimated_seconds == pytest.approx(1.0)  # 10 at once, 10 after 0.5 s, the last 3 after 1 s
