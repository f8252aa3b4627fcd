"""Session.message_outcomes against the real sandbox: every outcome is the sandbox's real answer, from free
calls only, with one-off faults that hit no one else's call and are gone afterwards, cancelled or not; and
the templates render against those answers."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
from session_helpers import run_session

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.errors import PreviewDeadlineError
from moments_desktop.core.message_outcomes import BRAZE_TIMEOUT_S, OutcomeGatherer
from moments_desktop.core.message_preview import (
    DEFAULT_TEMPLATES,
    PLACEHOLDER_REWARD_URL,
    Channel,
    OutcomeKind,
)
from moments_desktop.core.profiles import DEMO_PROFILE_ID


def run(sandbox, tmp_path, scenario):
    return run_session(sandbox, tmp_path, scenario)


def by_kind(outcomes):
    assert [o.kind for o in outcomes] == list(OutcomeKind)
    return {o.kind: o for o in outcomes}


def test_every_outcome_is_the_sandboxs_real_answer_and_nothing_is_claimed(sandbox, tmp_path):
    async def scenario(s):
        outcomes = by_kind(await s.message_outcomes(DEMO_PROFILE_ID))
        reward = outcomes[OutcomeKind.REWARD]
        assert reward.response["rewardNotificationText"] and reward.response["remainingRewardCount"] == 100
        # GetReward is billed: never called; the URL is a labelled placeholder with no claim journaled.
        assert reward.response["rewardNotificationUrl"] == PLACEHOLDER_REWARD_URL
        assert any("placeholder" in note and "never calls GetReward" in note for note in reward.notes)
        assert outcomes[OutcomeKind.NO_REWARD].response == []
        assert "real answer" in outcomes[OutcomeKind.NO_REWARD].source
        error = outcomes[OutcomeKind.ERROR_TEXT]
        assert error.response["rewardNotificationText"] and "rewardNotificationUrl" not in error.response
        assert "real answer for campaign" in error.source
        assert outcomes[OutcomeKind.TIMEOUT].response is None
        assert "really answered only after" in outcomes[OutcomeKind.TIMEOUT].source
        assert outcomes[OutcomeKind.NOT_FOUND].response is None
        assert outcomes[OutcomeKind.NOT_FOUND].source == "the sandbox really answered 404"

        rows = s.journal.query()
        assert {row.endpoint for row in rows} == {Endpoint.GET_REWARD_INFO.value}
        [late] = [row for row in rows if row.status is None]
        assert late.error_message.startswith(PreviewDeadlineError(BRAZE_TIMEOUT_S).title + ".")  # 2 s, not minutes
        assert [row.status for row in rows if row.status is not None].count(404) == 1

    run(sandbox, tmp_path, scenario)
    assert sandbox.admin.faults() == []
    assert sandbox.admin.ledger() == []  # no GetReward reached the sandbox
    assert sandbox.admin.remaining("DEMOCAMP1", "US") == 100


def test_the_reward_shows_the_url_of_the_last_claim_of_the_same_target(sandbox, tmp_path):
    async def scenario(s):
        claimed = await s.claim(s.plan_claim(DEMO_PROFILE_ID))
        outcomes = by_kind(await s.message_outcomes(DEMO_PROFILE_ID))
        reward = outcomes[OutcomeKind.REWARD]
        assert reward.response["rewardNotificationUrl"] == claimed.reward_url
        assert any("last claim in the journal" in note for note in reward.notes)
        other = by_kind(await s.message_outcomes(DEMO_PROFILE_ID, fields={**sandbox.demo_body, "rewardGroupId": "JP"}))
        assert other[OutcomeKind.REWARD].response["rewardNotificationUrl"] == PLACEHOLDER_REWARD_URL

    run(sandbox, tmp_path, scenario)
    assert len(sandbox.admin.ledger()) == 1  # the test's own claim, and only it


def test_the_faults_hit_no_one_elses_call(sandbox, tmp_path):
    foreign = []

    async def scenario(s):
        real_post = s.http.post

        async def post_then_someone_else_calls(url, **kwargs):
            response = await real_post(url, **kwargs)
            if url.endswith("/__sandbox/faults"):
                # Right after each fault is added, before the preview's own call: another tool's call.
                async with httpx.AsyncClient() as other:
                    answer = await other.post(f"{sandbox.base_url}/GetRewardInfo", json=sandbox.demo_body,
                                              headers={"x-api-key": sandbox.demo_key}, timeout=10)
                foreign.append((answer.status_code, answer.json()))
            return response

        s.http.post = post_then_someone_else_calls
        try:
            outcomes = by_kind(await s.message_outcomes(DEMO_PROFILE_ID))
        finally:
            s.http.post = real_post
        # The preview's own calls still got their faults...
        assert outcomes[OutcomeKind.NOT_FOUND].source == "the sandbox really answered 404"
        assert "really answered only after" in outcomes[OutcomeKind.TIMEOUT].source

    run(sandbox, tmp_path, scenario)
    # ...and the other tool's calls, one after each fault, got the real reward every time.
    assert len(foreign) == 2
    assert all(status == 200 and answer["remainingRewardCount"] == 100 for status, answer in foreign)


def test_a_cancelled_preview_takes_its_faults_away(sandbox, tmp_path):
    async def scenario(s):
        real_post = s.http.post

        async def post_then_cancel(url, **kwargs):
            response = await real_post(url, **kwargs)
            if url.endswith("/__sandbox/faults"):
                asyncio.current_task().cancel()  # the UI closes the tab right after the fault is added
            return response

        s.http.post = post_then_cancel
        task = asyncio.ensure_future(s.message_outcomes(DEMO_PROFILE_ID))
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert task.cancelled()
        s.http.post = real_post

    run(sandbox, tmp_path, scenario)
    assert sandbox.admin.faults() == []


def test_an_endpoint_that_cannot_be_administered_gets_the_documented_shapes(sandbox, tmp_path):
    async def scenario(s):
        request = s.resolve(DEMO_PROFILE_ID)
        key = await s.api_key(s.profile(DEMO_PROFILE_ID))

        async def preview(req, deadline):
            return await s._client.get_reward_info(req, key, deadline=deadline)

        gatherer = OutcomeGatherer(preview=preview, http=s.http, journal=s.journal, run_blocking=s._run_blocking,
                                   catalog=s.catalog, admin_token=None, deadline=None)
        outcomes = by_kind(await gatherer.gather(request, administrable=False))
        assert outcomes[OutcomeKind.REWARD].response["remainingRewardCount"] == 100
        for kind in list(OutcomeKind)[1:]:
            assert "documented shape" in outcomes[kind].source
        assert outcomes[OutcomeKind.NO_REWARD].response == []
        assert outcomes[OutcomeKind.TIMEOUT].response is None

    run(sandbox, tmp_path, scenario)
    assert sandbox.admin.faults() == []


def test_the_templates_render_against_the_real_answers(sandbox, tmp_path):
    async def scenario(s):
        outcomes = await s.message_outcomes(DEMO_PROFILE_ID)
        rendered = s.render_messages(DEFAULT_TEMPLATES, outcomes)
        assert len(rendered) == len(OutcomeKind) * len(Channel)
        reward_push = rendered[0]
        assert reward_push.outcome.kind is OutcomeKind.REWARD and reward_push.channel is Channel.PUSH
        assert reward_push.fields["body"] == outcomes[0].response["rewardNotificationText"]
        assert reward_push.aborted is None and reward_push.problems == ()
        # Every other outcome has no reward URL: the default guard stops each message.
        assert {r.aborted for r in rendered[len(Channel):]} == {"no Moments reward"}

    run(sandbox, tmp_path, scenario)


def test_saved_templates_are_written_through_the_session(sandbox, tmp_path):
    from dataclasses import replace

    own = replace(DEFAULT_TEMPLATES, in_app_button="Claim it")

    async def scenario(s):
        saved = await s.save_message_templates(DEMO_PROFILE_ID, own)
        assert saved.message_templates == own == s.profile(DEMO_PROFILE_ID).message_templates
        # Templates written on the built-in profile travel with an export, as the profile of their own.
        assert [p.id for p in s.exportable_profiles()] == [DEMO_PROFILE_ID]
        assert await s.export_profiles(tmp_path / "export.json") == 1

    run(sandbox, tmp_path, scenario)
    from moments_desktop.core.profiles import ProfileStore
    assert ProfileStore(tmp_path / "profiles.json").get(DEMO_PROFILE_ID).message_templates == own


def test_a_target_without_a_reward_shows_its_real_answer_as_the_reward_column(sandbox, tmp_path):
    async def scenario(s):
        outcomes = by_kind(await s.message_outcomes(DEMO_PROFILE_ID, fields={**sandbox.demo_body,
                                                                             "campaignId": "FINCAMP1"}))
        reward = outcomes[OutcomeKind.REWARD]
        assert reward.response["rewardNotificationText"] and "rewardNotificationUrl" not in reward.response
        assert reward.notes == ("this target gives no reward right now: its real answer is shown",)

    run(sandbox, tmp_path, scenario)


def test_a_refused_key_is_an_error_not_an_outcome(sandbox, tmp_path):
    from moments_desktop.core.errors import ForbiddenError
    from moments_desktop.core.session import EmbeddedSandbox

    async def scenario(s):
        s.sandbox = EmbeddedSandbox(sandbox.base_url, "not-a-key")
        try:
            await s.message_outcomes(DEMO_PROFILE_ID)
        except ForbiddenError:
            return "refused"

    assert run(sandbox, tmp_path, scenario) == "refused"
    assert sandbox.admin.faults() == []


def test_an_admin_api_that_drips_costs_its_deadline_not_a_hang(sandbox, tmp_path, monkeypatch):
    """A loopback endpoint whose admin API drips its answer (a local proxy, a replica): every byte comes
    within httpx's per-read timeout, so only the overall admin deadline ends each call."""
    from slow_drip import SlowDripServer

    from moments_desktop.core import message_outcomes

    monkeypatch.setattr(message_outcomes, "ADMIN_TIMEOUT_S", 0.5)  # per read too: each byte comes sooner
    monkeypatch.setattr(message_outcomes, "CLEANUP_BUDGET_S", 1.0)

    async def scenario(s):
        with SlowDripServer(interval=0.3, drip=("__sandbox",)) as drip:  # its answers: 23 bytes, ~7 s each
            request = replace(s.resolve(DEMO_PROFILE_ID), base_url=drip.base_url)

            async def preview(req, deadline):
                return await s._client.get_reward_info(req, "any-key", deadline=deadline)

            async def no_catalog(url):
                return None

            gatherer = OutcomeGatherer(preview=preview, http=s.http, journal=s.journal,
                                       run_blocking=s._run_blocking, catalog=no_catalog, admin_token=None,
                                       deadline=None)
            # A guard against the hang, not a speed goal: one admin deadline and the removal's budget fit.
            async with asyncio.timeout(10):
                outcomes = by_kind(await gatherer.gather(request))
            asked = drip.count("POST", "/__sandbox/faults")
        assert outcomes[OutcomeKind.REWARD].response["remainingRewardCount"] == 41
        for kind in (OutcomeKind.ERROR_TEXT, OutcomeKind.TIMEOUT, OutcomeKind.NOT_FOUND):
            assert outcomes[kind].source == "the documented shape"
            assert "its admin API did not answer within 0.5 s" in outcomes[kind].notes
        assert asked == 1  # after one admin call ran out of time, no other was asked

    run(sandbox, tmp_path, scenario)


def test_a_preview_cancelled_during_the_fault_post_takes_that_fault_away(sandbox, tmp_path):
    async def scenario(s):
        real_post = s.http.post

        async def post_cancelled_before_the_answer_arrives(url, **kwargs):
            response = await real_post(url, **kwargs)  # the sandbox has added the fault...
            if url.endswith("/__sandbox/faults"):
                asyncio.current_task().cancel()  # ...and the tab is closed before the answer is read
                await asyncio.sleep(0)  # where the cancellation reaches the POST
            return response

        s.http.post = post_cancelled_before_the_answer_arrives
        task = asyncio.ensure_future(s.message_outcomes(DEMO_PROFILE_ID))
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert task.cancelled()
        s.http.post = real_post

    run(sandbox, tmp_path, scenario)
    assert sandbox.admin.faults() == []


def test_a_second_cancel_during_the_removal_leaves_no_removal_behind(sandbox, tmp_path):
    async def scenario(s):
        real_post, real_delete = s.http.post, s.http.delete
        removing, go_on = asyncio.Event(), asyncio.Event()

        async def post_then_cancel(url, **kwargs):
            response = await real_post(url, **kwargs)
            if url.endswith("/__sandbox/faults"):
                asyncio.current_task().cancel()
            return response

        async def delete_when_let(url, **kwargs):
            removing.set()
            await go_on.wait()
            return await real_delete(url, **kwargs)

        s.http.post, s.http.delete = post_then_cancel, delete_when_let
        task = asyncio.ensure_future(s.message_outcomes(DEMO_PROFILE_ID))
        await removing.wait()
        task.cancel()  # the user closes the window while the fault is being removed
        go_on.set()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert task.cancelled()
        # The removal ended with the preview: nothing runs on, owned by no one, as the client closes.
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
        s.http.post, s.http.delete = real_post, real_delete

    run(sandbox, tmp_path, scenario)
    assert sandbox.admin.faults() == []


def test_an_http_client_closed_under_the_preview_ends_its_admin_calls_quietly(sandbox, tmp_path):
    from moments_desktop.core.http import make_client

    async def scenario(s):
        admin_http = make_client()
        real_post = admin_http.post

        async def post_then_close(url, **kwargs):
            response = await real_post(url, **kwargs)
            await admin_http.aclose()  # the app closes its client while the preview still runs
            return response

        admin_http.post = post_then_close
        key = await s.api_key(s.profile(DEMO_PROFILE_ID))

        async def preview(req, deadline):
            return await s._client.get_reward_info(req, key, deadline=deadline)

        gatherer = OutcomeGatherer(preview=preview, http=admin_http, journal=s.journal,
                                   run_blocking=s._run_blocking, catalog=s.catalog, admin_token=None, deadline=None)
        outcomes = by_kind(await gatherer.gather(s.resolve(DEMO_PROFILE_ID)))
        assert "really answered only after" in outcomes[OutcomeKind.TIMEOUT].source  # its fault was added
        assert outcomes[OutcomeKind.NOT_FOUND].source == "the documented shape"  # then nothing more was asked

    run(sandbox, tmp_path, scenario)
    assert sandbox.admin.faults() == []  # the one-shot fault was used
