"""The Sweep tab against the real sandbox: choices from its catalog, the plan's size and time before anything
is sent, a run with faults mixed in (cards per status, filter counts), Cancel that stops at once, a card that
opens in the Preview tab, baseline save and compare, reports, closing mid-sweep; never a getReward."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from moments_desktop.api_schema import DEVICE_TYPES
from moments_desktop.core.sweep import SweepStatus
from moments_desktop.ui.sweep_grid import CardRole, change_marks
from moments_desktop.ui.sweep_tab import duration_text
from moments_desktop.ui.sweep_thumbnails import THUMBNAIL_SIZE

pytestmark = pytest.mark.gui


def previews_journaled(harness) -> int:
    return harness.journal.count()


def record_errors(window) -> list:
    """What the window would show in a message box (tests replace the modal box with a list)."""
    if not isinstance(getattr(window, "errors", None), list):
        window.errors = []
        window.show_error = window.errors.append
    return window.errors


async def open_tab(window, until):
    """The Sweep tab shown, with the demo profile's endpoint's choices loaded."""
    record_errors(window)
    tab = window.sweep_tab
    window.tabs.setCurrentWidget(tab)
    tab.load_choices_now()
    await until(lambda: tab.fields["appId"].has_choices, 10_000)
    return tab


async def run_and_wait(tab, until, timeout_ms: int = 20_000):
    assert tab.run(), tab.plan_label.text()
    await until(lambda: not tab.bridge.sweep_running and tab.result() is not None, timeout_ms)
    return tab.result()


def card_for(tab, **fields):
    for card in tab.model.shown_cards():
        values = card.combination.fields()
        if all(values[name] == value for name, value in fields.items()):
            return card
    raise AssertionError(f"no card shown for {fields}")


def test_the_choices_come_from_the_sandbox_catalog(harness, in_loop, until, sandbox):
    window = harness.window

    async def scenario():
        return await open_tab(window, until)

    tab = in_loop(scenario)
    catalog = sandbox.admin.catalog()
    assert tab.fields["appId"].choice_values() == [app["id"] for app in catalog["apps"]]
    assert set(tab.fields["campaignId"].choice_values()) == {c["id"] for c in catalog["campaigns"]}
    moments = {m["id"] for app in catalog["apps"] for m in app["moments"]}
    assert set(tab.fields["momentId"].choice_values()) <= moments | set()
    assert tab.fields["deviceType"].choice_values() == list(DEVICE_TYPES)
    # "All device types" in one click
    assert tab.fields["deviceType"].checked_values() == []
    tab.fields["deviceType"].all_button.click()
    assert tab.fields["deviceType"].checked_values() == list(DEVICE_TYPES)
    assert tab.plan.count == len(DEVICE_TYPES)
    assert previews_journaled(harness) == 0
    assert sandbox.admin.ledger() == []


def test_the_count_and_time_are_shown_before_anything_is_sent(harness, in_loop, until, sandbox):
    window = harness.window

    async def scenario():
        tab = await open_tab(window, until)
        tab.fields["deviceType"].all_button.click()
        tab.fields["rewardGroupId"].typed.setPlainText("US\nJP\n\nJP, DE")  # duplicates and blanks dropped
        return tab

    tab = in_loop(scenario)
    plan = tab.plan
    assert plan.count == 4 * 3
    assert plan.values["rewardGroupId"] == ("US", "JP", "DE")
    label = tab.plan_label.text()
    assert "12 combinations" in label
    assert duration_text(plan.estimated_seconds) in label
    assert f"{plan.calls} calls per {plan.window:g} s" in label
    assert tab.fields["rewardGroupId"].hint.text() == "3 values"
    assert tab.fields["appId"].hint.text().startswith("None chosen: the form's")
    # A value the client would refuse is named next to its field, and Run is off.
    tab.fields["momentId"].typed.setPlainText("GAME_COMPLETE\nbad\u0007value")
    assert tab.plan is None
    assert tab.fields["momentId"].error_label.isVisibleTo(tab) and tab.fields["momentId"].error_label.text()
    assert not tab.fields["deviceType"].error_label.isVisibleTo(tab)
    assert not tab.run_button.isEnabled()
    tab.fields["momentId"].typed.setPlainText("")
    assert tab.plan is not None and tab.run_button.isEnabled()
    assert not tab.fields["momentId"].error_label.isVisibleTo(tab)
    assert previews_journaled(harness) == 0  # nothing was sent to plan it
    assert sandbox.admin.ledger() == []


def test_a_run_with_faults_mixed_in_gives_a_card_per_status_and_filter_counts(make_harness, in_loop, until,
                                                                               sandbox):
    harness = make_harness(info_retries=0)
    window = harness.window
    admin = sandbox.admin
    admin.add_fault("GetRewardInfo", "status", status=403, match={"deviceType": "iOS"})
    admin.add_fault("GetRewardInfo", "status", status=200, body=[], match={"deviceType": "Web"})
    admin.add_fault("GetRewardInfo", "drop_after_read", match={"deviceType": "FireOS"})

    async def scenario():
        tab = await open_tab(window, until)
        tab.fields["deviceType"].all_button.click()
        return await run_and_wait(tab, until), tab

    result, tab = in_loop(scenario)
    assert not result.cancelled and len(result.cards) == 4
    by_device = {card.combination.fields()["deviceType"]: card.status for card in result.cards}
    assert by_device == {"Android": SweepStatus.REWARD, "iOS": SweepStatus.DECLINED,
                         "Web": SweepStatus.NO_REWARD, "FireOS": SweepStatus.ERROR}
    for status in SweepStatus:
        assert tab.status_buttons[status].text().endswith("(1)"), tab.status_buttons[status].text()
    assert tab.model.rowCount() == 4
    reward = card_for(tab, deviceType="Android")
    assert reward.notification_text and reward.image_url
    tab.status_buttons[SweepStatus.REWARD].click()  # hide the rewards
    assert tab.model.rowCount() == 3
    assert SweepStatus.REWARD not in {card.status for card in tab.model.shown_cards()}
    tab.status_buttons[SweepStatus.DECLINED].click()
    assert [card.status for card in tab.model.shown_cards()] == [SweepStatus.ERROR, SweepStatus.NO_REWARD] or \
        {card.status for card in tab.model.shown_cards()} == {SweepStatus.ERROR, SweepStatus.NO_REWARD}
    assert tab.status_buttons[SweepStatus.REWARD].text() == "Reward (1)"  # counts are of every card
    assert previews_journaled(harness) == 4  # every call journaled (as a preview)
    assert admin.ledger() == []  # no getReward, ever


def test_cancel_stops_at_once_and_no_call_reaches_the_sandbox_after_it(harness, in_loop, until, sandbox):
    window = harness.window
    admin = sandbox.admin
    fault = admin.add_fault("GetRewardInfo", "latency", seconds=3, times=100)

    def reached() -> int:
        return next(f for f in admin.faults() if f["id"] == fault["id"])["applied"]

    async def scenario():
        tab = await open_tab(window, until)
        tab.fields["deviceType"].all_button.click()
        tab.fields["rewardGroupId"].typed.setPlainText("US\nJP\nDE")  # 12 combinations
        assert tab.run()
        await until(lambda: reached() > 0, 10_000)  # calls are in flight, held by the latency
        assert tab.cancel_button.isVisible()
        loop = asyncio.get_running_loop()
        started = loop.time()
        tab.cancel_button.click()
        await until(lambda: not tab.bridge.sweep_running, 2_000)
        stopped_in = loop.time() - started
        count = reached()
        # Not a wait for a result: a window longer than the limiter's (1.1 s) in which a call still
        # queued would have been sent.
        await asyncio.sleep(1.5)
        return tab, stopped_in, count

    tab, stopped_in, count = in_loop(scenario)
    assert stopped_in < 0.5, "Cancel waited for the calls in flight"
    assert reached() == count, "a call reached the sandbox after Cancel"
    result = tab.result()
    assert result is not None and result.cancelled
    assert len(result.cards) < 12
    assert "Cancelled" in tab.status_label.text()
    assert not tab.cancel_button.isVisible() and tab.run_button.isEnabled()
    assert sandbox.admin.ledger() == []


def test_a_click_on_a_card_fills_the_form_and_previews_it(harness, in_loop, until, qtbot, sandbox):
    window = harness.window

    async def scenario():
        tab = await open_tab(window, until)
        tab.fields["deviceType"].all_button.click()
        await run_and_wait(tab, until)
        card = card_for(tab, deviceType="iOS")
        row = tab.model.shown_cards().index(card)
        index = tab.model.index(row)
        assert index.data(CardRole) is card
        tab.grid.scrollTo(index)
        qtbot.mouseClick(tab.grid.viewport(), Qt.MouseButton.LeftButton, pos=tab.grid.visualRect(index).center())
        assert window.tabs.currentWidget() is window.preview_panel
        await until(lambda: not window.bridge.busy
                    and window.preview_panel.currentWidget() is window.preview_panel.card_page, 10_000)
        return tab, card

    tab, card = in_loop(scenario)
    assert window.form.fields() == card.combination.fields()
    assert window.is_dirty()  # unsaved edits of the sweep's profile
    assert window.preview_panel.text_label.text() == card.notification_text
    assert previews_journaled(harness) == 4 + 1
    assert sandbox.admin.ledger() == []


def test_a_baseline_saved_then_compared_marks_what_changed(harness, in_loop, until, tmp_path, sandbox):
    window = harness.window
    baseline_path = tmp_path / "baseline.json"

    async def scenario():
        tab = await open_tab(window, until)
        tab.choose_save_path = lambda *_args: str(baseline_path)
        tab.choose_open_path = lambda *_args: str(baseline_path)
        tab.fields["deviceType"].all_button.click()
        await run_and_wait(tab, until)
        assert not tab.only_changes.isEnabled()
        tab.save_baseline()
        await until(lambda: tab.status_label.text().startswith("Baseline saved"))
        sandbox.admin.add_fault("GetRewardInfo", "status", status=403, match={"deviceType": "iOS"})
        tab.fields["rewardGroupId"].typed.setPlainText(f"{window.form.fields()['rewardGroupId']}\nJP")
        await run_and_wait(tab, until)
        tab.compare_with_baseline()
        await until(lambda: tab.model.diff is not None)
        return tab

    tab = in_loop(scenario)
    assert baseline_path.exists()
    original_group = harness.session.stored_values(window.current_profile_id())[1]["rewardGroupId"]
    ios = card_for(tab, deviceType="iOS", rewardGroupId=original_group)
    kinds = {str(change.kind) for change in tab.model.changes_of(ios)}
    assert "status" in kinds
    assert ios.status is SweepStatus.DECLINED
    android = card_for(tab, deviceType="Android", rewardGroupId=original_group)
    assert tab.model.changes_of(android) == ()
    new = card_for(tab, deviceType="Android", rewardGroupId="JP")
    assert change_marks(tab.model.changes_of(new)) == ["NEW"]
    assert "changed" in tab.status_label.text()
    assert tab.only_changes.isEnabled()
    tab.only_changes.setChecked(True)
    shown = tab.model.shown_cards()
    assert ios in shown and new in shown and android not in shown
    assert all(tab.model.changes_of(card) for card in shown)
    assert tab.model.summary(ios).endswith(", ".join(change_marks(tab.model.changes_of(ios))))
    assert sandbox.admin.ledger() == []


def test_a_baseline_that_cannot_be_read_is_a_message(harness, in_loop, until, tmp_path, sandbox):
    window = harness.window
    shown = record_errors(window)
    broken = tmp_path / "not-a-baseline.json"
    broken.write_text("{ nope", encoding="utf-8")

    async def scenario():
        tab = await open_tab(window, until)
        tab.choose_open_path = lambda *_args: str(broken)
        tab.compare_with_baseline()
        await until(lambda: bool(shown))
        return tab

    tab = in_loop(scenario)
    assert "baseline" in shown[0].message.lower()
    assert tab.status_label.text() == "The baseline could not be used."


@pytest.mark.parametrize("kind", ["html", "csv"])
def test_export_report_writes_the_file(harness, in_loop, until, tmp_path, sandbox, kind):
    window = harness.window
    path = tmp_path / f"report.{kind}"

    async def scenario():
        tab = await open_tab(window, until)
        tab.choose_save_path = lambda *_args: str(path)
        tab.fields["deviceType"].all_button.click()
        await run_and_wait(tab, until)
        tab.export_report(kind)
        await until(lambda: tab.status_label.text().startswith("Report written") or window.errors, 15_000)
        return tab

    in_loop(scenario)
    assert window.errors == []
    text = path.read_text(encoding="utf-8")
    if kind == "html":
        assert "<html" in text.lower()
        for device in DEVICE_TYPES:
            assert device in text
    else:
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == 1 + len(DEVICE_TYPES)
    assert sandbox.admin.ledger() == []


def test_closing_the_window_mid_sweep_leaves_nothing_pending(harness, in_loop, until, sandbox,
                                                              keep_loop_after_last_window):
    window = harness.window
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=5, times=100)

    async def scenario():
        outer = set(asyncio.all_tasks())  # the test's own (the scenario, its wait_for)
        tab = await open_tab(window, until)
        tab.fields["deviceType"].all_button.click()
        assert tab.run()
        await asyncio.sleep(0.3)  # not a wait for a result: the close lands inside the 5 s latency
        assert harness.bridge.sweep_running
        loop = asyncio.get_running_loop()
        started = loop.time()
        window.discard_all_edits()
        window.close()
        await window.aclose()
        assert loop.time() - started < 3, "closing waited for the sweep instead of cancelling it"
        assert len(harness.bridge.tasks) == 0
        assert not harness.bridge.sweep_running
        # Nothing of the sweep is left to run once the close returned (not only once the loop went idle).
        assert [t for t in asyncio.all_tasks() - outer if not t.done()] == []
        assert harness.session.closed and harness.session.http.is_closed

    in_loop(scenario)  # and the leak guard: no task, coroutine or socket left
    assert sandbox.admin.ledger() == []


def test_a_reward_card_paints_its_thumbnail_from_the_image_cache(harness, in_loop, until, sandbox):
    window = harness.window

    async def scenario():
        tab = await open_tab(window, until)
        tab.fields["deviceType"].set_checked(["Android", "iOS"])
        await run_and_wait(tab, until)
        card = card_for(tab, deviceType="Android")
        tab.grid.viewport().repaint()  # painting a card asks for its thumbnail
        await until(lambda: isinstance(tab.model.thumbnails.get(card.image_url), QImage), 10_000)
        return tab, card

    tab, card = in_loop(scenario)
    image = tab.model.thumbnails.get(card.image_url)
    assert not image.isNull()
    assert image.width() <= THUMBNAIL_SIZE.width() and image.height() <= THUMBNAIL_SIZE.height()
    # one download and one decode for the two cards of the same image
    assert len(tab.model.thumbnails) == len({c.image_url for c in tab.model.cards() if c.image_url})
    assert window.errors == []
    assert sandbox.admin.ledger() == []


def test_presenter_masking_reaches_the_choices_and_the_cards(make_harness, in_loop, until, sandbox):
    from moments_desktop.core.render import Renderer

    harness = make_harness(renderer=Renderer(masked=True))
    window = harness.window
    secrets = ("DEMOCAMP1", "LIVECAMP1", "GAME_COMPLETE", "DEMO1")

    async def scenario():
        tab = await open_tab(window, until)
        tab.fields["deviceType"].set_checked(["Android", "iOS"])
        tab.fields["campaignId"].set_checked(["DEMOCAMP1", "LIVECAMP1"])
        await run_and_wait(tab, until)
        return tab

    tab = in_loop(scenario)
    shown = [tab.fields[name].choice_list.item(i).text()
             for name in tab.fields for i in range(tab.fields[name].choice_list.count())]
    shown += [tab.fields[name].hint.text() for name in tab.fields]
    for card in tab.model.cards():
        shown += [tab.model.summary(card), tab.model.details(card), tab.model.combination_text(card)]
    shown.append(tab.status_label.text())
    text = "\n".join(shown)
    for secret in secrets:
        assert secret not in text, f"{secret} in clear in the Sweep tab"
    assert "Android" in text  # the device type is the API's enum, not an identifier
    assert sandbox.admin.ledger() == []


def test_a_sweep_whose_endpoint_stops_answering_shows_why_and_keeps_its_cards(harness, in_loop, until, sandbox):
    import socket

    window = harness.window
    with socket.socket() as probe:  # a loopback port nothing listens on: every call is refused at once
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"

    async def scenario():
        tab = await open_tab(window, until)
        form_values = tab._request_values
        tab._request_values = lambda: (dead, form_values()[1])  # the form pointed at the dead endpoint
        tab.fields["deviceType"].all_button.click()
        tab.fields["rewardGroupId"].typed.setPlainText("US\nJP\nDE")  # 12 combinations
        return tab, await run_and_wait(tab, until)

    tab, result = in_loop(scenario)
    assert result.plan.count == 12 and result.stopped and result.cancelled
    assert len(result.cards) == 10 and len(tab.model.shown_cards()) == 10
    assert "The sweep stopped: the endpoint stopped answering" in tab.status_label.text()
    assert "after 10 of 12 combinations" in tab.status_label.text()
    assert tab.run_button.isEnabled()
    assert sandbox.admin.ledger() == []


def test_a_cancelled_sweep_cannot_be_saved_as_a_baseline(harness, in_loop, until, tmp_path, sandbox):
    window = harness.window
    admin = sandbox.admin
    admin.add_fault("GetRewardInfo", "latency", seconds=3, match={"rewardGroupId": "DE"}, times=100)
    path = tmp_path / "partial.json"

    async def scenario():
        tab = await open_tab(window, until)
        tab.fields["rewardGroupId"].typed.setPlainText("US\nDE")
        assert tab.run()
        await until(lambda: tab.model.rowCount() >= 1, 10_000)  # US came back, DE is held
        tab.cancel_button.click()
        await until(lambda: not tab.bridge.sweep_running and tab.result() is not None, 5_000)
        assert not tab.save_baseline_button.isEnabled()
        tab.choose_save_path = lambda *_: str(path)
        tab.save_baseline()  # what the button would do, were it enabled: the Session refuses it
        await until(lambda: window.errors, 5_000)
        return tab

    tab = in_loop(scenario)
    assert tab.result().cancelled
    [error] = window.errors
    assert error.message.startswith("A sweep that did not finish is not saved as a baseline")
    assert tab.status_label.text() == "The baseline was not saved."
    assert not path.exists()


def test_a_sweep_asked_for_while_the_sandbox_resets_for_the_next_demo_does_not_run_and_says_why(harness, in_loop,
                                                                                                  until, sandbox):
    from moments_desktop.core.profiles import DEMO_PROFILE_ID

    window = harness.window
    finished = []
    harness.bridge.sandbox_reset_finished.connect(finished.append)

    async def scenario():
        tab = await open_tab(window, until)
        journaled = previews_journaled(harness)
        assert harness.bridge.reset_sandbox_for_demo(DEMO_PROFILE_ID)
        assert tab.run()  # asked for in the same moment: the reset's request is on its way, not answered
        await until(lambda: "did not run" in tab.status_label.text() and not harness.bridge.sweep_running)
        assert tab.status_label.text() == ("The sweep did not run: The sandbox is being reset for the next demo. "
                                           "Run the sweep when it is done."), tab.status_label.text()
        assert previews_journaled(harness) == journaled  # nothing of the sweep went out
        await until(lambda: bool(finished))
        assert not isinstance(finished[0], Exception), finished[0]
        return await run_and_wait(tab, until)  # once the reset is done, the sweep runs

    result = in_loop(scenario)
    assert not result.cancelled and len(result.cards) == result.plan.count
