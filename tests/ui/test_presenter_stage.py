"""Presenter mode's customer stage in the real window, against the real sandbox.

The Stage tab comes (first, current) and goes with presenter mode; it shows the preview's announcement and image
in the phone, email and in-app frames; "Redeem now" opens the normal claim confirmation and nothing reaches the
sandbox's ledger unless it is confirmed; after a claim the reward URL is masked; "Reset sandbox for the next
demo" restores the inventory after a live claim and keeps the ledger, and is disabled (with a tooltip) for a
profile that is not on the built-in sandbox; no reward, errors and a changed form each get their own state.
"""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QTextBrowser

from moments_desktop.core.errors import MissingKeyError
from moments_desktop.core.profiles import Profile
from moments_desktop.sandbox.messages import OUT_OF_STOCK, STATE_MESSAGES
from moments_desktop.ui.presenter_stage import (
    EMPTY_TEXT,
    UNAVAILABLE_HEADING,
    REDEMPTION_PENDING,
    RESET_DONE_TEXT,
    STAGE_FONT_SCALE,
    STAGE_TAB_TEXT,
    STALE_TIP,
)

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
SETTLE_S = 0.4  # long enough for a wrongly sent claim to reach the local sandbox and be answered
LIVE = {"campaignId": "LIVECAMP1", "rewardGroupId": "US"}  # Live in the sandbox's catalog: a claim consumes one


def tab_texts(window):
    return [window.tabs.tabText(i) for i in range(window.tabs.count())]


def set_fields(window, **values):
    for name, value in values.items():
        window.form.editors[name].setText(value)


async def preview_on_stage(qtbot, harness, until):
    w, stage = harness.window, harness.window.stage
    qtbot.mouseClick(w.preview_button, LEFT)
    await until(lambda: not harness.bridge.busy and stage.pages.currentWidget() is not stage.message_page)


async def preview_with_image(qtbot, harness, until):
    stage = harness.window.stage
    await preview_on_stage(qtbot, harness, until)
    assert stage.pages.currentWidget() is stage.content_page
    await until(lambda: stage.push_frame.image.has_image() and stage.in_app_frame.image.has_image())


def open_confirmation(qtbot, harness):
    stage = harness.window.stage
    assert stage.redeem_button.isEnabled(), stage.redeem_button.toolTip()
    qtbot.mouseClick(stage.redeem_button, LEFT)
    dialog = harness.window.claim_flow.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


async def confirm(qtbot, harness, until, dialog):
    qtbot.mouseClick(dialog.confirm_button, LEFT)
    assert harness.bridge.claiming
    await until(lambda: not harness.bridge.busy)


def stage_texts(stage):
    """Every text the stage draws or announces: labels, buttons, fields, the email body, tooltips."""
    texts = []
    for widget in stage.findChildren(QLabel) + stage.findChildren(QAbstractButton) + stage.findChildren(QLineEdit):
        if widget.isVisibleTo(stage):
            texts += [widget.text(), widget.toolTip(), widget.accessibleName(), widget.accessibleDescription()]
    texts += [browser.toPlainText() for browser in stage.findChildren(QTextBrowser)]
    return "\n".join(texts)


def test_the_stage_comes_and_goes_with_presenter_mode(qtbot, harness, in_loop, until):
    w = harness.window

    async def scenario():
        assert STAGE_TAB_TEXT not in tab_texts(w)
        w.menu_actions.presenter.trigger()  # View > Presenter mode
        assert harness.bridge.presenter
        assert tab_texts(w)[0] == STAGE_TAB_TEXT and w.tabs.currentWidget() is w.stage
        assert w.stage.isVisible()
        # Before any preview: what to do, and nothing to redeem.
        assert w.stage.pages.currentWidget() is w.stage.message_page
        assert w.stage.message_page.text() == EMPTY_TEXT
        assert not w.stage.redeem_button.isEnabled()
        # Larger type than the window's, in the frames too.
        assert w.stage.push_frame.title_label.font().pointSizeF() > w.preview_panel.font().pointSizeF()
        assert w.stage.font().pointSizeF() == pytest.approx(w.font().pointSizeF() * STAGE_FONT_SCALE)
        w.menu_actions.presenter.trigger()
        assert not harness.bridge.presenter
        assert STAGE_TAB_TEXT not in tab_texts(w) and not w.stage.isVisible()
        harness.bridge.set_presenter(True)  # Ctrl+Shift+P / --presenter go through the same switch
        assert tab_texts(w).count(STAGE_TAB_TEXT) == 1 and w.tabs.currentIndex() == 0
        harness.bridge.set_presenter(False)

    in_loop(scenario)


def test_the_frames_show_the_previews_announcement_and_image(qtbot, harness, in_loop, until, sandbox):
    w, stage = harness.window, harness.window.stage

    async def scenario():
        harness.bridge.set_presenter(True)
        await preview_with_image(qtbot, harness, until)
        assert w.tabs.currentWidget() is stage  # pressing Preview keeps the stage in sight
        announcement = w.preview_panel.text_label.text()
        assert announcement and "Wireless Headphones" in announcement  # the sandbox's demo reward
        assert stage.announcement_label.text() == announcement
        for frame in (stage.push_frame, stage.email_frame, stage.in_app_frame):
            assert frame.state() == "message"
            assert announcement in frame.visible_text()
        # The reward's own image, as the preview downloaded it, in the phone and in-app frames and the email.
        shown = w.preview_panel.image_label.pixmap()
        assert not shown.isNull()
        image = stage.push_frame.image.image()
        assert image.size() == stage.in_app_frame.image.image().size() and image.width() >= shown.width()
        email_images = stage.email_frame.body.image_sizes()
        assert len(email_images) == 1 and email_images[0][1] > 0
        assert stage.redemption_label.text() == REDEMPTION_PENDING
        assert stage.redeem_button.isEnabled()
        harness.bridge.set_presenter(False)

    in_loop(scenario)


def test_the_profiles_own_message_templates_fill_the_frames(qtbot, harness, in_loop, until, sandbox):
    w, stage = harness.window, harness.window.stage
    from dataclasses import replace

    from moments_desktop.core.message_templates import MessageTemplates
    from moments_desktop.core.profiles import DEMO_PROFILE_ID

    async def scenario():
        own = replace(MessageTemplates.defaults(), push_title="Nice one, {{${first_name}}}!",
                      in_app_button="Grab it",
                      email_subject="{% abort_message('no email in this demo') %}")
        harness.profiles.edit(DEMO_PROFILE_ID, message_templates=own)
        harness.bridge.set_presenter(True)
        await preview_with_image(qtbot, harness, until)
        assert stage.push_frame.title_label.text() == "Nice one, Ana!"
        assert stage.in_app_frame.button.text() == "Grab it"
        assert stage.email_frame.state() == "not_sent"
        assert "no email in this demo" in stage.email_frame.visible_text()
        harness.bridge.set_presenter(False)

    in_loop(scenario)


def test_redeem_opens_the_confirmation_and_sends_nothing_without_it(qtbot, harness, in_loop, until, sandbox):
    w, stage = harness.window, harness.window.stage

    async def scenario():
        harness.bridge.set_presenter(True)
        await preview_with_image(qtbot, harness, until)
        dialog = open_confirmation(qtbot, harness)
        assert not stage.redeem_button.isEnabled()  # no second confirmation while one is open
        qtbot.mouseClick(dialog.cancel_button, LEFT)
        await asyncio.sleep(SETTLE_S)
        await until(lambda: w.claim_flow.dialog is None and not harness.bridge.busy)
        assert sandbox.admin.ledger() == []
        assert harness.journal.query({"endpoint": "GetReward"}) == []
        assert stage.redeem_button.isEnabled()

        dialog = open_confirmation(qtbot, harness)
        await confirm(qtbot, harness, until, dialog)
        ledger = sandbox.admin.ledger()
        assert len(ledger) == 1  # exactly one getReward, sent after the confirmation
        assert w.tabs.currentWidget() is stage  # the claim's outcome is shown where it was asked for
        await until(lambda: stage.claim_view.isVisible())
        reward_url = stage.claim_view.reward_url
        assert reward_url and reward_url.startswith(sandbox.base_url)
        code = reward_url.rsplit("/", 1)[-1]
        # Masked on a shared screen: the URL field shows neither the code nor the path in clear.
        assert stage.claim_view.url_edit.text() == harness.bridge.renderer.url(reward_url) != reward_url
        assert code not in stage_texts(stage)
        # The redemption message is the claim's own text; the reward cannot be redeemed twice from the stage.
        redemption = stage.redemption_label.text()
        assert redemption not in ("", REDEMPTION_PENDING, stage.announcement_label.text())
        assert redemption == w.preview_panel.text_label.text()  # the getReward answer's rewardNotificationText
        assert not stage.redeem_button.isEnabled() and stage.redeem_button.text() == "Redeemed"
        # Off and on again: the stage comes back with its outcome, still drawn through the (masked) renderer.
        harness.bridge.set_presenter(False)
        assert not stage.isVisible()
        harness.bridge.set_presenter(True)
        assert stage.claim_view.isVisible() and code not in stage.claim_view.url_edit.text()
        harness.bridge.set_presenter(False)

    in_loop(scenario)


def test_reset_restores_the_inventory_after_a_live_claim_and_keeps_the_ledger(qtbot, harness, in_loop, until,
                                                                              sandbox):
    w, stage = harness.window, harness.window.stage

    async def scenario():
        start = sandbox.admin.remaining("LIVECAMP1", "US")
        set_fields(w, **LIVE)  # the built-in sandbox's Live campaign, on the demo profile
        harness.bridge.set_presenter(True)
        await preview_with_image(qtbot, harness, until)
        await confirm(qtbot, harness, until, open_confirmation(qtbot, harness))
        assert sandbox.admin.remaining("LIVECAMP1", "US") == start - 1
        ledger = sandbox.admin.ledger()
        assert len(ledger) == 1

        assert stage.reset_button.isEnabled(), stage.reset_button.toolTip()
        qtbot.mouseClick(stage.reset_button, LEFT)
        assert harness.bridge.busy and not stage.reset_button.isEnabled()  # one call at a time
        await until(lambda: not harness.bridge.busy)
        assert "inventory restored, ledger kept" in stage.reset_status.text()
        assert sandbox.admin.remaining("LIVECAMP1", "US") == start
        assert sandbox.admin.ledger() == ledger
        # The stage's preview is stale now: back to its start, with a word about the reset.
        assert stage.pages.currentWidget() is stage.message_page
        assert stage.message_page.text() == RESET_DONE_TEXT
        assert not stage.redeem_button.isEnabled()
        # The next demo previews the restored stock.
        await preview_with_image(qtbot, harness, until)
        assert w.preview_panel.count_label.text().startswith(f"{start} ")
        harness.bridge.set_presenter(False)

    in_loop(scenario)


def test_reset_is_disabled_with_a_reason_for_a_profile_not_on_the_built_in_sandbox(qtbot, harness, in_loop, until,
                                                                                   sandbox):
    w, stage = harness.window, harness.window.stage

    async def scenario():
        harness.bridge.set_presenter(True)
        assert stage.reset_button.isEnabled()
        profile = harness.profiles.add(Profile(name="Local sandbox QA", base_url=sandbox.base_url,
                                               **sandbox.demo_body))
        harness.credentials.set_key(profile.id, sandbox.demo_key)
        w._select_profile(profile.id)  # noqa: SLF001 - as the profile picker does
        await until(lambda: w.current_profile_id() == profile.id)
        assert not stage.reset_button.isEnabled()
        assert "built-in sandbox" in stage.reset_button.toolTip()
        assert "Local sandbox QA" not in stage.reset_button.toolTip()
        qtbot.mouseClick(stage.reset_button, LEFT)
        assert not harness.bridge.busy
        # Back on the demo profile, an edited endpoint holds it too.
        from moments_desktop.core.profiles import DEMO_PROFILE_ID

        w._select_profile(DEMO_PROFILE_ID)  # noqa: SLF001
        assert stage.reset_button.isEnabled()
        harness.bridge.set_presenter(False)
        set_fields(w, base_url="http://127.0.0.1:9/")
        harness.bridge.set_presenter(True)
        assert not stage.reset_button.isEnabled() and "endpoint" in stage.reset_button.toolTip()
        harness.bridge.set_presenter(False)

    in_loop(scenario)


def test_no_reward_and_errors_get_their_own_states(qtbot, harness, in_loop, until, sandbox):
    w, stage = harness.window, harness.window.stage

    async def scenario():
        set_fields(w, campaignId="LIVECAMP1", rewardGroupId="UK")  # no stock
        harness.bridge.set_presenter(True)
        await preview_on_stage(qtbot, harness, until)
        assert stage.pages.currentWidget() is stage.notice_page
        assert stage.notice_title.text() == UNAVAILABLE_HEADING
        assert stage.notice_text.text() == STATE_MESSAGES["en-US"][OUT_OF_STOCK]  # the API's words, verbatim
        assert not stage.redeem_button.isEnabled()

        harness.bridge.set_presenter(False)
        w.discard_all_edits()
        profile = harness.profiles.add(Profile(name="No key yet", base_url=sandbox.base_url, **sandbox.demo_body))
        w._select_profile(profile.id)  # noqa: SLF001
        harness.bridge.set_presenter(True)
        await preview_on_stage(qtbot, harness, until)
        assert stage.pages.currentWidget() is stage.notice_page
        assert stage.notice_title.text() == MissingKeyError.title
        assert "Nothing was claimed" in stage.notice_hint.text()
        assert not stage.redeem_button.isEnabled()
        harness.bridge.set_presenter(False)

    in_loop(scenario)


def test_the_stage_keeps_a_preview_made_before_and_refuses_a_changed_form(qtbot, harness, in_loop, until, sandbox):
    w, stage = harness.window, harness.window.stage

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)  # presenter mode off: the stage is not shown, it listens
        await until(lambda: not harness.bridge.busy and w.preview_panel.currentWidget() is w.preview_panel.card_page)
        await until(lambda: not w.preview_panel.image_label.pixmap().isNull())
        harness.bridge.set_presenter(True)
        assert stage.pages.currentWidget() is stage.content_page
        assert stage.push_frame.image.has_image()
        assert stage.redeem_button.isEnabled()
        harness.bridge.set_presenter(False)
        set_fields(w, rewardGroupId="JP")  # not what the stage shows any more
        harness.bridge.set_presenter(True)
        assert not stage.redeem_button.isEnabled() and stage.redeem_button.toolTip() == STALE_TIP
        qtbot.mouseClick(stage.redeem_button, LEFT)
        assert w.claim_flow.dialog is None
        harness.bridge.set_presenter(False)
        set_fields(w, rewardGroupId="US")  # back to what was previewed
        harness.bridge.set_presenter(True)
        assert stage.redeem_button.isEnabled()
        harness.bridge.set_presenter(False)
        await asyncio.sleep(SETTLE_S)
        assert sandbox.admin.ledger() == []

    in_loop(scenario)


def test_a_claim_of_other_values_is_not_shown_as_the_stages(qtbot, harness, in_loop, until, sandbox):
    w, stage = harness.window, harness.window.stage

    async def scenario():
        harness.bridge.set_presenter(True)
        await preview_with_image(qtbot, harness, until)
        harness.bridge.set_presenter(False)
        set_fields(w, rewardGroupId="JP")  # another reward group than the stage shows
        qtbot.mouseClick(w.claim_button, LEFT)  # the window's own Claim reward…
        await confirm(qtbot, harness, until, w.claim_flow.dialog)
        assert len(sandbox.admin.ledger()) == 1
        harness.bridge.set_presenter(True)
        assert stage.pages.currentWidget() is stage.content_page
        assert not stage.claim_view.isVisible()  # not this reward's outcome
        assert stage.redemption_label.text() == REDEMPTION_PENDING
        assert not stage.redeem_button.isEnabled() and stage.redeem_button.toolTip() == STALE_TIP
        harness.bridge.set_presenter(False)

    in_loop(scenario)
