"""Session.plan_sweep / run_sweep against the real sandbox: every combination previewed (getRewardInfo
only, never getReward), journaled, counted per status; a key problem stops it before any call; cancel
stops it at once and keeps the cards that came back."""

from __future__ import annotations

import asyncio
import heapq
import json
import random
import time
from collections import deque

import pytest
from session_helpers import run_session

from moments_desktop.api_schema import BODY_FIELDS, Endpoint
from moments_desktop.core.client import RateLimiter
from moments_desktop.core.deadlines import Deadlines
from moments_desktop.core.errors import MissingKeyError, SandboxNotRunningError, ValidationError
from moments_desktop.core.journal import CANCELLED_PREVIEW
from moments_desktop.core.profiles import DEMO_PROFILE_ID, Profile
from moments_desktop.core.sweep import (
    MAX_SWEEP_COMBINATIONS,
    Combination,
    SweepCard,
    SweepPlan,
    SweepRun,
    SweepStatus,
    parse_value_list,
)

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


def test_session_aclose_stops_a_running_sweep_without_a_leak(sandbox, tmp_path):
    """The window closing mid-sweep: the Session's close stops the workers before it closes the client,
    and the sweep ends with the cards so far, marked cancelled."""
    sandbox.admin.add_fault(GET_REWARD_INFO, "latency", seconds=3, match={"deviceType": "iOS"}, times=COUNTED)
    reached = request_counter(sandbox)
    outcome = {}

    async def scenario(s):
        plan = s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": ["Android", "iOS"], "rewardGroupId": ["US", "JP", "DE"]})
        first = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(s.run_sweep(SweepRun(plan), lambda card, progress: first.done()
                                                 or first.set_result(None)))
        await first
        await s.aclose()
        outcome["result"] = await task
        outcome["at_close"] = reached()

    started = time.monotonic()
    run_session(sandbox, tmp_path, scenario)
    assert time.monotonic() - started < 2.5  # not held by the iOS answers, three seconds late
    result = outcome["result"]
    assert result.cancelled and 1 <= len(result.cards) < 6
    assert {c.combination.fields()["deviceType"] for c in result.cards} == {"Android"}
    assert reached() == outcome["at_close"] and sandbox.admin.ledger() == []


def test_the_choices_are_every_value_of_the_sandbox_catalog(sandbox, tmp_path):
    async def scenario(s):
        return await s.sweep_choices(sandbox.base_url), await s.sweep_choices("http://127.0.0.1:9/")

    choices, none = run_session(sandbox, tmp_path, scenario)
    assert none is None  # nothing answers there: no sandbox, no choices
    values = {name: [c.value for c in found] for name, found in choices.by_field.items()}
    assert values["appId"] == ["DEMO1", "3f6c2a8e-5b1d-4e7f-9a0c-7d2e4b6f8a10"]
    assert {"GAME_COMPLETE", "LEVEL_UP", "DAILY_STREAK", "WORKOUT_DONE"} <= set(values["momentId"])
    assert values["deviceType"] == ["Android", "iOS", "FireOS", "Web"]
    assert {"DEMOCAMP1", "LIVECAMP1", "FITLIVE1"} <= set(values["campaignId"])
    assert {"US", "JP", "DE", "UK", "amz1yprime"} == set(values["rewardGroupId"])
    labels = {c.value: c.label for c in choices.by_field["campaignId"]}
    assert labels["LIVECAMP1"].startswith("LIVECAMP1 \u2014 Live")  # as the form labels it
    us = next(c for c in choices.by_field["rewardGroupId"] if c.value == "US")
    assert "DEMOCAMP1" in us.label and "LIVECAMP1" in us.label


# --- the plan's estimate and the run's ETA (a fake clock) ------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def plan_of(count: int, calls: int = 5, window: float = 1.1) -> SweepPlan:
    values = {name: ("x",) for name in BODY_FIELDS}
    values["rewardGroupId"] = tuple(f"G{i}" for i in range(count))
    return SweepPlan("p", "P", "http://127.0.0.1:1", values, calls, window)


def arrivals(count: int, calls: int, window: float, workers: int, latency) -> list[float]:
    """When each answer comes back: ``workers`` calls at a time through a sliding window of ``calls`` per
    ``window`` taken in turn (the client's RateLimiter), each answered ``latency(k)`` after it went out."""
    sent: deque[float] = deque()
    free = [(0.0, w) for w in range(workers)]
    back = []
    for k in range(count):
        t, w = heapq.heappop(free)
        t = max(t, sent[-1]) if sent else t
        while True:
            while sent and t - sent[0] >= window:
                sent.popleft()
            if len(sent) < calls:
                break
            t = sent[0] + window + 1e-9
        sent.append(t)
        heapq.heappush(free, (t + latency(k), w))
        back.append(t + latency(k))
    return sorted(back)


def eta_errors(count, calls, window, workers, latency):
    """The ETA's error against the real time left, after each card from 5 % of the run on while at least
    10 % of the run's time is left (nearer the end the limiter's one-window steps are most of it)."""
    clock = FakeClock()
    run = SweepRun(plan_of(count, calls, window), clock=clock)
    run.workers = workers
    run.start()
    times = arrivals(count, calls, window, workers, latency)
    end, errors = times[-1], []
    for index, at in enumerate(times):
        clock.now = at
        progress = run.record(SweepCard(index, Combination(("x",) * 5), SweepStatus.REWARD))
        left = end - at
        if index >= count // 20 and left >= end / 10:
            errors.append(abs(progress.eta_s - left) / left)
    return errors


def test_the_estimate_follows_the_limiters_sliding_window():
    assert plan_of(1).estimated_seconds == 0  # one call goes at once
    assert plan_of(5).estimated_seconds == 0
    assert plan_of(6).estimated_seconds == pytest.approx(1.1)
    assert plan_of(20).estimated_seconds == pytest.approx(3.3)  # 5 now, then 5 after each 1.1 s
    assert plan_of(1000).estimated_seconds == pytest.approx(199 * 1.1)
    clock = FakeClock()
    run = SweepRun(plan_of(20), clock=clock)
    assert run.progress().eta_s == pytest.approx(3.3) and run.progress().done == 0
    clock.now = 1.0
    assert run.progress().eta_s == pytest.approx(2.3) and run.progress().elapsed_s == pytest.approx(1.0)


def test_the_eta_is_within_ten_percent_over_a_thousand_combinations():
    rnd = random.Random(15)
    # Fast answers: the limiter sets the pace, in bursts of five.
    assert max(eta_errors(1000, 5, 1.1, 5, lambda k: 0.02 + rnd.random() * 0.05)) <= 0.10
    # Answers in about half a window: still the limiter's pace.
    assert max(eta_errors(1000, 5, 1.1, 5, lambda k: 0.3 + rnd.random() * 0.5)) <= 0.10
    # A slow endpoint (2-3 s an answer): five workers cannot keep up with the limit; the observed rate rules.
    assert max(eta_errors(1000, 5, 1.1, 5, lambda k: 2.0 + rnd.random())) <= 0.10
    # Every tenth answer slow: the workers fall behind now and then.
    assert max(eta_errors(1000, 5, 1.1, 5, lambda k: 1.5 if k % 10 == 0 else 0.05)) <= 0.10
    # A raised limiter (the benchmark's): 50 a second through 32 workers.
    assert max(eta_errors(1000, 50, 1.0, 32, lambda k: 0.02 + rnd.random() * 0.05)) <= 0.10


def test_the_eta_of_a_run_without_cards_yet_and_of_a_finished_one():
    clock = FakeClock()
    run = SweepRun(plan_of(3), clock=clock)
    for index in range(3):
        progress = run.record(SweepCard(index, Combination(("x",) * 5), SweepStatus.ERROR))
    assert progress.eta_s == 0 and progress.done == progress.total == 3
    assert progress.counts == {SweepStatus.REWARD: 0, SweepStatus.NO_REWARD: 0, SweepStatus.DECLINED: 0,
                               SweepStatus.ERROR: 3}
    assert [c.index for c in run.result().cards] == [0, 1, 2]


# --- small pieces ----------------------------------------------------------------------------------


def test_a_combinations_key_is_json_of_its_fields_in_order():
    combination = Combination(("DEMO1", "GAME_COMPLETE", "Android", "DEMOCAMP1", "US"))
    assert json.loads(combination.key) == combination.fields()
    assert list(json.loads(combination.key)) == list(BODY_FIELDS)
    assert combination.key == Combination(("DEMO1", "GAME_COMPLETE", "Android", "DEMOCAMP1", "US")).key
    assert combination.key != Combination(("DEMO1", "GAME_COMPLETE", "iOS", "DEMOCAMP1", "US")).key
    assert "Ü" in Combination(("Ü", "m", "d", "c", "r")).key  # readable in a baseline file


def test_a_typed_value_list():
    assert parse_value_list("Android\n iOS \n\nFireOS, Web,Android\r\n") == ["Android", "iOS", "FireOS", "Web"]
    assert parse_value_list("") == [] and parse_value_list(" , \n") == []


def dead_endpoint() -> str:
    """A loopback URL nothing listens on: every call is refused at once (nothing sent, verdict NETWORK)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_sweep_stops_when_the_endpoint_stops_answering_and_keeps_its_cards(sandbox, tmp_path):
    from moments_desktop.core.sweep import SweepStoppedError, unanswered_limit

    async def scenario(s):
        plan = s.plan_sweep(DEMO_PROFILE_ID, {"rewardGroupId": ["US", "JP", "DE"],
                                              "deviceType": ["Android", "iOS"],
                                              "momentId": ["GAME_COMPLETE", "LEVEL_UP"]},
                            base_url=dead_endpoint())
        assert plan.count == 12
        run = SweepRun(plan)
        with pytest.raises(SweepStoppedError) as stopped:
            await s.run_sweep(run)
        return run, stopped.value

    run, error = run_session(sandbox, tmp_path, scenario)
    limit = unanswered_limit(run.workers)
    assert limit == 10  # five workers: max(10, 2 × 5)
    assert len(run.cards) == limit and all(card.unanswered for card in run.cards)
    assert error.title == "The sweep stopped: the endpoint stopped answering"
    assert "after 10 of 12 combinations" in error.message
    assert error.result.cancelled and error.result.stopped == error.message and len(error.result.cards) == 10
    assert sandbox.admin.ledger() == []


def test_a_finished_sweep_with_no_answer_at_all_is_unanswered(sandbox, tmp_path):
    async def scenario(s):
        dead = s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": ["Android", "iOS"]}, base_url=dead_endpoint())
        alive = s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": ["Android", "iOS"]})
        return await s.run_sweep(SweepRun(dead)), await s.run_sweep(SweepRun(alive))

    dead, alive = run_session(sandbox, tmp_path, scenario)
    assert not dead.cancelled and dead.stopped is None and len(dead.cards) == 2
    assert dead.unanswered and {card.status for card in dead.cards} == {SweepStatus.ERROR}
    assert not alive.unanswered


def test_throttled_and_over_quota_are_errors_and_a_refused_key_is_declined(sandbox, tmp_path):
    # A 429 is when the call was made, not what the combination is: an error; a 403 is declined.
    for group, status, body in (("JP", 429, {"message": "Too Many Requests"}),
                                ("DE", 429, {"message": "Limit Exceeded"}),
                                ("UK", 403, {"message": "Forbidden"})):
        sandbox.admin.add_fault(GET_REWARD_INFO, "status", status=status, body=body, times=COUNTED,
                                match={"rewardGroupId": group})

    async def scenario(s):
        plan = s.plan_sweep(DEMO_PROFILE_ID, {"rewardGroupId": ["US", "JP", "DE", "UK"]})
        return await s.run_sweep(SweepRun(plan))

    result = run_session(sandbox, tmp_path, scenario, deadlines=Deadlines(preview=5))
    status = {c.combination.fields()["rewardGroupId"]: (c.status, c.http_status) for c in result.cards}
    assert status == {"US": (SweepStatus.REWARD, 200), "JP": (SweepStatus.ERROR, 429),
                      "DE": (SweepStatus.ERROR, 429), "UK": (SweepStatus.DECLINED, 403)}
    problems = {c.combination.fields()["rewardGroupId"]: c.problem for c in result.cards}
    assert "Too many requests" in problems["JP"] and "quota" in problems["DE"]


def test_a_session_closed_while_the_key_is_read_starts_no_worker(sandbox, tmp_path):
    from moments_desktop.core.errors import UnexpectedError

    reached = request_counter(sandbox)

    async def scenario(s):
        plan = s.plan_sweep(DEMO_PROFILE_ID, {"deviceType": ["Android", "iOS"]})
        run = SweepRun(plan)
        read_key, reading, release = s.api_key, asyncio.Event(), asyncio.Event()

        async def slow_key(profile):  # a keychain prompt the user has not answered yet
            reading.set()
            await release.wait()
            return await read_key(profile)
        s.api_key = slow_key
        sweep = asyncio.ensure_future(s.run_sweep(run))
        await reading.wait()
        closing = asyncio.ensure_future(s.aclose())
        await asyncio.sleep(0)  # aclose() has begun: the Session is closed
        assert s.closed
        release.set()
        with pytest.raises(UnexpectedError) as caught:
            await sweep
        await closing
        return run, caught.value, len(s._sweeps)

    run, error, owners = run_session(sandbox, tmp_path, scenario)
    assert "the session is closing" in error.message
    assert run.cards == [] and reached() == 0 and owners == 0


def test_the_previews_remembered_for_claims_are_capped_oldest_first(sandbox, tmp_path, monkeypatch):
    from dataclasses import replace

    from moments_desktop.core import session as session_module

    monkeypatch.setattr(session_module, "MAX_REMEMBERED_PREVIEWS", 4)

    async def scenario(s):
        plan = s.plan_sweep(DEMO_PROFILE_ID, {"rewardGroupId": ["US", "JP", "DE"], "deviceType": ["Android", "iOS"]})
        run = SweepRun(plan)
        await s.run_sweep(run)
        again = SweepRun(plan)
        await s.run_sweep(again)  # a second sweep does not grow it either
        base = s.resolve(DEMO_PROFILE_ID)
        remembered = [s.last_preview(replace(base, **card.combination.fields())) is not None for card in again.cards]
        return len(s._previews), remembered

    count, remembered = run_session(sandbox, tmp_path, scenario)
    assert count == 4
    assert remembered == [False, False, True, True, True, True]  # the last four to arrive are the ones kept
