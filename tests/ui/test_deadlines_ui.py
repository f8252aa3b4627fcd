"""Deadlines and the stale-connection retry of the reward image, and the window against a server that
drips its answers (tests/slow_drip.py): each call ends within its deadline plus a small slack, a claim
ends as unknown with ONE getReward in the server's ledger, and the window is usable afterwards."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from PySide6.QtCore import Qt
from slow_drip import SlowDripServer, StaleKeepAliveServer

from moments_desktop.core.client import Deadlines
from moments_desktop.core.profiles import Profile, ProfileStore
from moments_desktop.core.tasks import finish_async_generator_finalizers
from moments_desktop.ui.claim_result import UNKNOWN_TITLE, ClaimKind
from moments_desktop.ui.image_loader import IMAGE_DEADLINE_S, ImageLoadError, fetch_image

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
DEADLINE = 1.0
SLACK = 1.5  # scheduling on a shared machine; every dripped body takes several seconds
SHORT = Deadlines(preview=DEADLINE, image=DEADLINE, claim=DEADLINE)
KEY = "slow-drip-key-0001"


def fetch(url: str, **kw):
    async def run():
        try:
            async with httpx.AsyncClient() as http:
                return await fetch_image(http, url, **kw)
        finally:
            await finish_async_generator_finalizers()
    return asyncio.run(run())


# --- the image GET on its own ------------------------------------------------------------------


def test_a_dripping_image_ends_at_its_deadline(qapp):
    with SlowDripServer(interval=0.05) as server:
        started = time.monotonic()
        with pytest.raises(ImageLoadError, match=r"did not arrive within 1 s"):
            fetch(f"{server.base_url}/images/slow.png", deadline=DEADLINE)
        assert time.monotonic() - started < DEADLINE + SLACK
        assert server.count("GET", "/images/slow.png") == 1
    assert IMAGE_DEADLINE_S == 20.0 == Deadlines().image


def test_an_image_on_a_stale_pooled_connection_is_fetched_again_once(qapp):
    with StaleKeepAliveServer() as server:
        url = f"{server.base_url}/images/stale.png"

        async def run():
            try:
                async with httpx.AsyncClient() as http:
                    first = await fetch_image(http, url)
                    # The pool keeps the first connection (keep-alive); the server lets go of it as the
                    # next request arrives: "Server disconnected without sending a response".
                    second = await fetch_image(http, url)
                    return first, second
            finally:
                await finish_async_generator_finalizers()

        first, second = asyncio.run(run())
        assert not first.isNull() and not second.isNull() and second.width() == 8
        assert [a.connection for a in server.ledger] == [1, 1, 2]  # the stale one, then one retry anew


def test_a_failure_on_a_fresh_connection_is_not_retried(qapp):
    with StaleKeepAliveServer(answers_per_connection=0) as server:
        with pytest.raises(ImageLoadError, match="RemoteProtocolError"):
            fetch(f"{server.base_url}/images/stale.png")
        assert len(server.ledger) == 1


def test_a_preview_post_is_never_retried_on_a_stale_connection(qapp):
    """Only the image GET is sent again: a POST on the same stale pool is reported, not repeated."""
    from moments_desktop.core.client import MomentsClient
    from moments_desktop.core.request import RewardRequest

    with StaleKeepAliveServer() as server:
        request = RewardRequest(base_url=server.base_url, appId="DEMO1", momentId="GAME_COMPLETE",
                                deviceType="Android", campaignId="DEMOCAMP1", rewardGroupId="US")

        async def run():
            try:
                async with httpx.AsyncClient() as http:
                    client = MomentsClient(http, info_retries=0)
                    await client.get_reward_info(request, KEY)
                    return await client.get_reward(request, KEY)
            finally:
                await finish_async_generator_finalizers()

        claim = asyncio.run(run())
        assert claim.outcome.value == "unknown"
        assert server.count("POST", "/GetReward") == 1


# --- the window ---------------------------------------------------------------------------------


def slow_profile(harness, server, **settings):
    body = dict(appId="DEMO1", momentId="GAME_COMPLETE", deviceType="Android", campaignId="DEMOCAMP1",
                rewardGroupId="US")
    profile = harness.profiles.add(Profile(name="Slow server", base_url=server.base_url, **body, **settings))
    harness.credentials.set_key(profile.id, KEY)
    w = harness.window
    w.profile_combo.addItem(profile.name, profile.id)
    w.profile_combo.setCurrentIndex(w.profile_combo.count() - 1)
    return profile


def select_demo(window):
    window.profile_combo.setCurrentIndex(0)


@pytest.fixture
def drip():
    with SlowDripServer(interval=0.05) as server:
        yield server


def test_window_preview_of_a_dripping_server_ends_at_the_deadline_and_stays_usable(
        drip, qtbot, make_harness, in_loop, until):
    harness = make_harness(deadlines=SHORT)
    w = harness.window
    panel = w.preview_panel
    slow_profile(harness, drip)

    async def scenario():
        started = time.monotonic()
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.error_page, int((DEADLINE + SLACK) * 1000))
        elapsed = time.monotonic() - started
        await until(lambda: not harness.bridge.busy)
        # usable: the demo profile previews at once
        select_demo(w)
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)
        return elapsed

    elapsed = in_loop(scenario)
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + SLACK  # qasync's clock counts whole milliseconds
    assert [e.outcome for e in harness.journal.query({"endpoint": "GetRewardInfo"})] == ["success", "error"]
    assert drip.count("POST", "/GetRewardInfo") == 1


def test_window_shows_the_preview_deadline_error(drip, qtbot, make_harness, in_loop, until):
    harness = make_harness(deadlines=SHORT)
    w = harness.window
    panel = w.preview_panel
    slow_profile(harness, drip)

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.error_page and not harness.bridge.busy, 5000)

    in_loop(scenario)
    assert panel.error_title.text() == "The preview took longer than 1 s"
    assert "Nothing was spent" in panel.error_advice.text()
    assert w.preview_button.isEnabled() and not w.cancel_button.isVisible()


def test_window_claim_to_a_dripping_server_ends_unknown_with_one_request(drip, qtbot, make_harness, in_loop,
                                                                          until):
    harness = make_harness(deadlines=SHORT)
    w = harness.window
    panel = w.preview_panel
    slow_profile(harness, drip)

    async def scenario():
        qtbot.mouseClick(w.claim_button, LEFT)
        dialog = w.claim_flow.dialog
        assert dialog is not None and dialog.isVisible()
        started = time.monotonic()
        qtbot.mouseClick(dialog.confirm_button, LEFT)
        assert harness.bridge.claiming
        await until(lambda: not harness.bridge.busy, int((DEADLINE + SLACK) * 1000))
        elapsed = time.monotonic() - started
        # usable afterwards: a preview of the demo profile works
        select_demo(w)
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)
        return elapsed

    elapsed = in_loop(scenario)
    assert elapsed < DEADLINE + SLACK
    (entry,) = harness.journal.query({"endpoint": "GetReward"})
    assert entry.outcome == "unknown" and entry.reward_url is None
    assert "no complete answer arrived within 1 s" in entry.error_message
    assert drip.count("POST", "/GetReward") == 1  # abandoned, never sent again
    assert w.claim_button.isEnabled()


def test_window_claim_outcome_says_the_deadline_passed(drip, qtbot, make_harness, in_loop, until):
    harness = make_harness(deadlines=SHORT)
    w = harness.window
    panel = w.preview_panel
    slow_profile(harness, drip)

    async def scenario():
        qtbot.mouseClick(w.claim_button, LEFT)
        qtbot.mouseClick(w.claim_flow.dialog.confirm_button, LEFT)
        await until(lambda: not harness.bridge.busy, int((DEADLINE + SLACK) * 1000))

    in_loop(scenario)
    view = panel.claim_outcome
    assert panel.currentWidget() is panel.claim_page
    assert view.kind is ClaimKind.UNKNOWN and view.title.text() == UNKNOWN_TITLE
    assert "no complete answer arrived within 1 s" in view.message.text()
    assert drip.count("POST", "/GetReward") == 1


def test_window_image_of_a_dripping_server_ends_at_the_deadline(qtbot, make_harness, in_loop, until):
    with SlowDripServer(interval=0.05, drip=("images",)) as server:
        harness = make_harness(deadlines=SHORT)
        w = harness.window
        panel = w.preview_panel
        slow_profile(harness, server)

        async def scenario():
            qtbot.mouseClick(w.preview_button, LEFT)
            await until(lambda: panel.currentWidget() is panel.card_page)
            assert panel.image_label.text() == "Loading image…"
            started = time.monotonic()
            await until(lambda: "No image" in panel.image_label.text(), int((DEADLINE + SLACK) * 1000))
            return time.monotonic() - started

        elapsed = in_loop(scenario)
        assert elapsed < DEADLINE + SLACK
        assert "did not arrive within 1 s" in panel.image_label.text()
        assert "headphones" in panel.text_label.text()
        w.discard_all_edits()


def test_a_profile_deadline_is_used_instead_of_the_default(qtbot, make_harness, in_loop, until):
    # ~300 bytes at 8 ms each: about 2.5 s, past the 1 s default, within the profile's own 5 s.
    with SlowDripServer(interval=0.008, drip=("GetRewardInfo",)) as server:
        harness = make_harness(deadlines=SHORT)
        w = harness.window
        panel = w.preview_panel
        slow_profile(harness, server, preview_deadline_s=5)

        async def scenario():
            qtbot.mouseClick(w.preview_button, LEFT)
            await until(lambda: panel.currentWidget() in (panel.card_page, panel.error_page)
                        and not harness.bridge.busy, 8000)

        in_loop(scenario)
        assert panel.currentWidget() is panel.card_page, panel.error_title.text()
        assert "headphones" in panel.text_label.text()


# --- `{}`: no reward fields ----------------------------------------------------------------------


def test_window_shows_an_empty_answer_as_an_error_and_the_claim_dialog_warns(qtbot, harness, in_loop, until,
                                                                             sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=200, body={}, times=1)
    w = harness.window
    panel = w.preview_panel
    notes = []

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.error_page and not harness.bridge.busy)
        qtbot.mouseClick(w.claim_button, LEFT)
        dialog = w.claim_flow.dialog
        notes.append((dialog.preview_note.text(), dialog.preview_is_warning))
        dialog.reject()
        await until(lambda: w.claim_flow.dialog is None)

    in_loop(scenario)
    assert panel.error_title.text() == "The answer has no reward fields"
    assert "It is not a reward" in panel.error_advice.text()
    assert "HTTP status 200" in panel.error_detail.text()
    ((note, warning),) = notes
    assert warning and "returned no reward (the answer has no reward fields: the answer is an empty object" in note
    assert [e.outcome for e in harness.journal.query()] == ["error"]
    assert sandbox.admin.ledger() == []  # the dialog was cancelled: nothing was claimed


def test_window_claim_answered_with_an_empty_object_is_unknown(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=200, body={}, consume=True, times=1)
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.claim_button, LEFT)
        qtbot.mouseClick(w.claim_flow.dialog.confirm_button, LEFT)
        await until(lambda: not harness.bridge.busy)

    in_loop(scenario)
    view = panel.claim_outcome
    assert panel.currentWidget() is panel.claim_page
    assert view.kind is ClaimKind.UNKNOWN and view.title.text() == UNKNOWN_TITLE
    assert "the answer is an empty object" in view.message.text()
    (entry,) = harness.journal.query({"endpoint": "GetReward"})
    assert entry.outcome == "unknown" and entry.reward_url is None
    (sent,) = sandbox.admin.ledger()  # one getReward reached the service (the demo campaign is test mode)
    assert sent["status"] == 200


# --- the time limits in the profile's settings ----------------------------------------------------


def test_settings_dialog_sets_and_clears_the_time_limits(qtbot, harness, in_loop, until, sandbox):
    w = harness.window
    profile = slow_profile(harness, sandbox, image_deadline_s=40)  # any endpoint: only the settings matter
    made = []
    original = w.make_settings_dialog
    w.make_settings_dialog = lambda p: made.append(original(p)) or made[-1]
    assert w.settings_button.isEnabled()
    w.settings_button.click()
    (dialog,) = made
    spins = dialog.deadline_spins
    assert spins["preview_deadline_s"].text() == "default (30 s)"
    assert spins["claim_deadline_s"].text() == "default (30 s)"
    assert spins["image_deadline_s"].value() == 40
    assert (spins["preview_deadline_s"].minimum(), spins["preview_deadline_s"].maximum()) == (4, 120)
    spins["preview_deadline_s"].setValue(3)  # below the range: clamped to "default"
    assert spins["preview_deadline_s"].value() == 4
    spins["preview_deadline_s"].setValue(12)
    spins["claim_deadline_s"].setValue(500)  # above: clamped to the most allowed
    spins["image_deadline_s"].setValue(4)  # back to the default

    async def scenario():
        dialog.save_button.click()
        await until(lambda: harness.profiles.get(profile.id).preview_deadline_s == 12)
        await until(lambda: not harness.bridge.profile_write_busy)

    in_loop(scenario)
    stored = harness.profiles.get(profile.id)
    assert (stored.preview_deadline_s, stored.image_deadline_s, stored.claim_deadline_s) == (12, None, 120)
    assert harness.session.image_deadline(profile.id) == 20.0  # None: the app's default
    on_disk = ProfileStore(harness.profiles.path).get(profile.id)
    assert (on_disk.preview_deadline_s, on_disk.image_deadline_s, on_disk.claim_deadline_s) == (12, None, 120)
