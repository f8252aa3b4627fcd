"""The claim flow in the real window against the real sandbox: the confirmation dialog, exactly one
getReward per confirmed claim (read from the sandbox's ledger), and each outcome shown its own way."""

from __future__ import annotations

import asyncio
import json
import socket
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog

from moments_desktop.core.client import default_timeout
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import Profile
from moments_desktop.sandbox.messages import OUT_OF_STOCK, STATE_MESSAGES
from moments_desktop.ui.claim_result import NOT_SENT_TITLE, UNKNOWN_TITLE, ClaimKind

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
# Long enough for a wrongly sent claim to reach the local sandbox and be answered.
SETTLE_S = 0.4


def select_new_profile(harness, profile):
    w = harness.window
    w.profile_combo.addItem(profile.name, profile.id)
    w.profile_combo.setCurrentIndex(w.profile_combo.count() - 1)


def add_profile(harness, sandbox, name="QA profile", key=None, **overrides):
    values = dict(sandbox.demo_body, base_url=sandbox.base_url) | overrides
    profile = harness.profiles.add(Profile(name=name, **values))
    harness.credentials.set_key(profile.id, sandbox.demo_key if key is None else key)
    select_new_profile(harness, profile)
    return profile


def live_profile(harness, sandbox, **overrides):
    values = dict(live=True, campaignId="LIVECAMP1", rewardGroupId="US", cost_per_action=Decimal("0.25"),
                  currency="EUR") | overrides
    return add_profile(harness, sandbox, name="QA live", **values)


def set_field(window, name, value):
    window.form.editors[name].setText(value)


def open_dialog(qtbot, window):
    assert window.claim_button.isEnabled()
    qtbot.mouseClick(window.claim_button, LEFT)
    dialog = window.claim_flow.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def claims_in_journal(harness):
    return harness.journal.query({"endpoint": "GetReward"})


async def settle(harness, until):
    await asyncio.sleep(SETTLE_S)
    await until(lambda: not harness.bridge.busy)


async def confirm_and_wait(qtbot, harness, until, dialog, typed=None):
    if typed is not None:
        qtbot.keyClicks(dialog.typed_edit, typed)
    qtbot.mouseClick(dialog.confirm_button, LEFT)
    assert harness.bridge.claiming  # set before the click returns: nothing can slip in between
    await until(lambda: not harness.bridge.busy)


def assert_nothing_sent(harness, sandbox):
    assert sandbox.admin.ledger() == []
    assert claims_in_journal(harness) == []


def shown_outcome(panel):
    view = panel.claim_outcome
    assert panel.currentWidget() is panel.claim_page
    return view


# --- the dialog sends nothing unless confirmed -------------------------------------------------


@pytest.mark.parametrize("how", ["cancel", "escape", "enter", "enter_on_confirm", "close"])
def test_dialog_sends_nothing_unless_confirmed(qtbot, harness, in_loop, until, sandbox, how):
    w = harness.window
    results = []

    async def scenario():
        dialog = open_dialog(qtbot, w)
        dialog.confirmed.connect(lambda: results.append("confirmed"))
        dialog.finished.connect(results.append)
        assert not w.claim_button.isEnabled()  # no second dialog, no second claim
        assert dialog.cancel_button.isDefault() and not dialog.confirm_button.isDefault()
        assert not dialog.confirm_button.autoDefault()
        if how == "cancel":
            qtbot.mouseClick(dialog.cancel_button, LEFT)
        elif how == "escape":
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        elif how == "enter":
            qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Return)
        elif how == "enter_on_confirm":
            dialog.confirm_button.setFocus()
            qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Return)
            qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Enter)
        else:
            dialog.close()
        await settle(harness, until)
        assert w.claim_flow.dialog is None
        assert w.claim_button.isEnabled()

    in_loop(scenario)
    assert "confirmed" not in results
    assert results[0] == QDialog.DialogCode.Rejected
    assert_nothing_sent(harness, sandbox)


def test_live_confirm_needs_the_campaign_id_typed_exactly(qtbot, harness, in_loop, until, sandbox):
    live_profile(harness, sandbox)
    w = harness.window
    before = sandbox.admin.remaining("LIVECAMP1", "US")

    async def scenario():
        dialog = open_dialog(qtbot, w)
        assert dialog.typed_edit is not None and dialog.focusWidget() is dialog.typed_edit
        assert not dialog.confirm_button.isEnabled()
        for attempt in ("livecamp1", "LIVECAMP", "LIVECAMP1 ", " LIVECAMP1", "LIVECAMP2"):
            dialog.typed_edit.setText(attempt)
            assert not dialog.confirm_button.isEnabled(), attempt
        dialog.typed_edit.clear()
        qtbot.keyClicks(dialog.typed_edit, "LIVECAMP1")
        assert dialog.confirm_button.isEnabled()
        # Enter in the typed field neither confirms nor cancels: the dialog stays open.
        qtbot.keyClick(dialog.typed_edit, Qt.Key.Key_Return)
        qtbot.keyClick(dialog.typed_edit, Qt.Key.Key_Enter)
        await settle(harness, until)
        assert dialog.isVisible() and sandbox.admin.ledger() == []
        await confirm_and_wait(qtbot, harness, until, dialog)

    in_loop(scenario)
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 1
    assert ledger[0]["request"]["campaignId"] == "LIVECAMP1" and ledger[0]["consumed"]
    assert sandbox.admin.remaining("LIVECAMP1", "US") == before - 1
    panel = w.preview_panel
    assert panel.claim_banner.url_edit.text() == ledger[0]["reward_url"]


def test_live_dialog_escape_after_typing_sends_nothing(qtbot, harness, in_loop, until, sandbox):
    live_profile(harness, sandbox)
    w = harness.window

    async def scenario():
        dialog = open_dialog(qtbot, w)
        qtbot.keyClicks(dialog.typed_edit, "LIVECAMP1")
        assert dialog.confirm_button.isEnabled()
        qtbot.keyClick(dialog.typed_edit, Qt.Key.Key_Escape)
        await settle(harness, until)
        assert w.claim_flow.dialog is None

    in_loop(scenario)
    assert_nothing_sent(harness, sandbox)


# --- dialog content ----------------------------------------------------------------------------


def test_dialog_shows_parameters_mode_cost_and_no_preview_warning(qtbot, harness, in_loop, until, sandbox):
    w = harness.window

    async def scenario():
        dialog = open_dialog(qtbot, w)
        v = dialog.values
        assert v["profile"].text() == "Sandbox demo"
        assert v["endpoint"].text() == f"{sandbox.base_url}/GetReward"
        for name, value in sandbox.demo_body.items():
            assert v[name].text() == value
        assert v["mode"].text().startswith("Test mode")
        assert "sandbox" in dialog.mode_banner.text()
        assert v["cost"].text().startswith("unknown")
        assert dialog.typed_edit is None
        assert dialog.confirm_button.text() == "Claim one reward" and dialog.confirm_button.isEnabled()
        assert dialog.preview_is_warning
        assert "no preview of these exact parameters" in dialog.preview_note.text()
        dialog.reject()
        await settle(harness, until)

    in_loop(scenario)
    assert_nothing_sent(harness, sandbox)


def test_dialog_shows_last_preview_of_the_same_parameters_only(qtbot, harness, in_loop, until, sandbox):
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)
        reward_text = panel.text_label.text()

        dialog = open_dialog(qtbot, w)
        assert not dialog.preview_is_warning
        assert "100 rewards left" in dialog.preview_note.text()
        assert reward_text in dialog.preview_note.text()
        dialog.reject()
        await settle(harness, until)

        # Same target, spelled with a trailing slash: still the same parameters.
        set_field(w, "base_url", sandbox.base_url + "/")
        dialog = open_dialog(qtbot, w)
        assert "100 rewards left" in dialog.preview_note.text()
        dialog.reject()
        await settle(harness, until)

        # Another reward group: that preview says nothing about it.
        set_field(w, "rewardGroupId", "JP")
        dialog = open_dialog(qtbot, w)
        assert dialog.preview_is_warning and "no preview" in dialog.preview_note.text()
        assert dialog.values["rewardGroupId"].text() == "JP"
        dialog.reject()
        await settle(harness, until)

    in_loop(scenario)
    assert_nothing_sent(harness, sandbox)


def test_live_dialog_shows_live_warning_and_cost(qtbot, harness, in_loop, until, sandbox):
    live_profile(harness, sandbox)
    w = harness.window

    async def scenario():
        dialog = open_dialog(qtbot, w)
        assert dialog.mode_banner.text().startswith("LIVE CAMPAIGN")
        assert "#b3261e" in dialog.mode_banner.styleSheet()  # the strong warning style
        assert dialog.values["mode"].text().startswith("LIVE")
        assert dialog.values["cost"].text().startswith("0.25 EUR per claim")
        assert dialog.values["profile"].text() == "QA live"
        assert dialog.confirm_button.text() == "Claim one LIVE reward"
        dialog.reject()
        await settle(harness, until)

    in_loop(scenario)
    assert_nothing_sent(harness, sandbox)


# --- a confirmed claim -------------------------------------------------------------------------


def test_test_mode_claim_sends_one_and_shows_the_url(qtbot, harness, in_loop, until, sandbox):
    w = harness.window
    panel = w.preview_panel
    opened = []
    panel.url_opener = lambda url: opened.append(url.toString())

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)
        assert not panel.redeem_button.isEnabled()  # a preview has no URL
        dialog = open_dialog(qtbot, w)
        await confirm_and_wait(qtbot, harness, until, dialog)
        await until(lambda: not panel.image_label.pixmap().isNull())
        assert w.claim_button.isEnabled()

    in_loop(scenario)
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 1
    url = ledger[0]["reward_url"]
    assert url and ledger[0]["request"] == sandbox.demo_body
    assert panel.currentWidget() is panel.card_page
    assert panel.claim_banner.isVisible() and panel.claim_banner.kind is ClaimKind.SUCCESS
    assert panel.claim_banner.title.text() == "Reward claimed"
    assert panel.claim_banner.url_edit.text() == url and panel.claim_banner.url_edit.isReadOnly()
    assert panel.redeem_button.isEnabled()
    qtbot.mouseClick(panel.redeem_button, LEFT)
    qtbot.mouseClick(panel.claim_banner.open_button, LEFT)
    assert opened == [url, url]
    qtbot.mouseClick(panel.claim_banner.copy_button, LEFT)
    assert QGuiApplication.clipboard().text() == url
    entries = claims_in_journal(harness)
    assert len(entries) == 1
    assert entries[0].outcome == "success" and entries[0].reward_url == url
    assert f"entry #{entries[0].id}" in panel.claim_banner.detail.text()
    raw = w.raw_view.text.toPlainText()
    assert f"POST {sandbox.base_url}/GetReward" in raw and "HTTP 200" in raw and url in raw
    assert "[redacted]" in raw and sandbox.demo_key not in raw
    # a new preview turns the card back into a preview: Redeem inert again
    async def preview_again():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: not harness.bridge.busy and not panel.claim_banner.isVisible())

    in_loop(preview_again)
    assert not panel.redeem_button.isEnabled()


def test_dialog_counts_claims_since_the_preview(qtbot, harness, in_loop, until, sandbox):
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)
        await confirm_and_wait(qtbot, harness, until, open_dialog(qtbot, w))
        dialog = open_dialog(qtbot, w)
        assert "1 claim has been sent since then" in dialog.preview_note.text()
        dialog.reject()
        await settle(harness, until)

    in_loop(scenario)
    assert len(sandbox.admin.ledger()) == 1


# --- never two requests ------------------------------------------------------------------------


def test_double_click_on_confirm_sends_one(qtbot, harness, in_loop, until, sandbox):
    w = harness.window

    async def scenario():
        dialog = open_dialog(qtbot, w)
        qtbot.mouseClick(dialog.confirm_button, LEFT)
        qtbot.mouseClick(dialog.confirm_button, LEFT)
        dialog.confirm_button.click()  # even bypassing the disabled state
        qtbot.mouseClick(w.claim_button, LEFT)  # and the window's button while in flight
        assert w.claim_flow.dialog is None or not w.claim_flow.dialog.isVisible()
        await until(lambda: not harness.bridge.busy)
        await settle(harness, until)

    in_loop(scenario)
    assert len(sandbox.admin.ledger()) == 1
    assert len(claims_in_journal(harness)) == 1


def test_bridge_refuses_a_second_claim_in_flight(qtbot, harness, in_loop, until, sandbox):
    c = harness.bridge
    started = []
    c.claim_started.connect(lambda: started.append(1))

    async def scenario():
        plan = c.plan_claim("sandbox-demo", sandbox.base_url, sandbox.demo_body)
        assert c.claim(plan) is True
        assert c.claim(plan) is False
        assert c.claim(plan) is False
        await until(lambda: not c.busy)
        await settle(harness, until)

    in_loop(scenario)
    assert started == [1]
    assert len(sandbox.admin.ledger()) == 1


def test_nothing_can_start_while_a_claim_is_in_flight(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetReward", "latency", seconds=1, times=1)
    w = harness.window
    c = harness.bridge
    panel = w.preview_panel

    async def scenario():
        dialog = open_dialog(qtbot, w)
        qtbot.mouseClick(dialog.confirm_button, LEFT)
        await until(lambda: sandbox.admin.ledger() != [])  # sent, the answer is late
        assert c.claiming and panel.currentWidget() is panel.busy_page
        assert "cannot be cancelled" in panel.busy_page.text()
        assert not w.claim_button.isEnabled() and not w.preview_button.isEnabled()
        assert not w.cancel_button.isVisible()  # a claim is not offered for cancelling
        qtbot.mouseClick(w.claim_button, LEFT)
        w.claim_flow.request_claim()
        assert w.claim_flow.dialog is None
        qtbot.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # preview shortcut
        c.cancel()  # cancels previews only; the claim carries on to its answer
        await until(lambda: not c.busy, 5000)

    in_loop(scenario)
    assert len(sandbox.admin.ledger()) == 1
    assert harness.journal.count() == 1  # the claim only: no preview slipped in
    assert claims_in_journal(harness)[0].outcome == "success"
    assert panel.claim_banner.isVisible()


# --- each outcome, driven by the sandbox -------------------------------------------------------


def claim_demo(qtbot, harness, in_loop, until, timeout_ms=10_000):
    w = harness.window

    async def scenario():
        dialog = open_dialog(qtbot, w)
        qtbot.mouseClick(dialog.confirm_button, LEFT)
        await until(lambda: not harness.bridge.busy, timeout_ms)

    in_loop(scenario)
    assert "Traceback" not in w.raw_view.text.toPlainText()
    return w.preview_panel


def test_timeout_after_send_is_unknown_and_journaled(qtbot, make_harness, in_loop, until, sandbox):
    harness = make_harness(timeout=default_timeout(read=0.5))
    sandbox.admin.add_fault("GetReward", "latency", seconds=2, times=1)
    panel = claim_demo(qtbot, harness, in_loop, until, timeout_ms=3000)
    view = shown_outcome(panel)
    assert view.kind is ClaimKind.UNKNOWN and view.title.text() == UNKNOWN_TITLE
    assert "did not answer in time" in view.message.text()
    assert not view.url_row.isVisible() and not panel.redeem_button.isEnabled()
    assert len(sandbox.admin.ledger()) == 1  # it did reach the service: a reward may be consumed
    (entry,) = claims_in_journal(harness)
    assert entry.outcome == "unknown" and entry.reward_url is None
    assert f"unknown (entry #{entry.id})" in view.detail.text()
    assert "No response" in harness.window.raw_view.text.toPlainText()


def test_dropped_connection_after_send_is_unknown(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetReward", "drop_after_read", times=1)
    panel = claim_demo(qtbot, harness, in_loop, until)
    view = shown_outcome(panel)
    assert view.kind is ClaimKind.UNKNOWN and view.title.text() == UNKNOWN_TITLE
    assert "connection closed" in view.message.text()
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 1 and ledger[0]["status"] is None and ledger[0]["fault"] == "drop_after_read"
    (entry,) = claims_in_journal(harness)
    assert entry.outcome == "unknown"


def _unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_is_not_sent(qtbot, harness, in_loop, until, sandbox):
    add_profile(harness, sandbox, name="Nobody listens", base_url=f"http://127.0.0.1:{_unused_port()}")
    panel = claim_demo(qtbot, harness, in_loop, until)
    view = shown_outcome(panel)
    assert view.kind is ClaimKind.NOT_SENT and view.title.text() == NOT_SENT_TITLE
    assert "Could not reach the endpoint" in view.message.text()
    assert sandbox.admin.ledger() == []
    (entry,) = claims_in_journal(harness)
    assert entry.outcome == "not_sent"


def test_missing_key_is_not_sent(qtbot, harness, in_loop, until, sandbox):
    profile = add_profile(harness, sandbox, name="No key yet")
    harness.credentials.delete_key(profile.id)
    panel = claim_demo(qtbot, harness, in_loop, until)
    view = shown_outcome(panel)
    assert view.kind is ClaimKind.NOT_SENT and view.title.text() == NOT_SENT_TITLE
    assert "No API key for this profile" in view.message.text()
    assert "not sent" in harness.window.raw_view.summary.text()
    assert_nothing_sent(harness, sandbox)


def _api_notification(harness) -> str:
    (entry,) = claims_in_journal(harness)
    return json.loads(entry.response_body)["rewardNotificationText"]


@pytest.mark.parametrize(("campaign", "group", "message"), [
    ("LIVECAMP1", "UK", STATE_MESSAGES["en-US"][OUT_OF_STOCK]),  # zero inventory
    ("FINCAMP1", "US", STATE_MESSAGES["en-US"]["Finished"]),
    ("SUSPCAMP1", "US", STATE_MESSAGES["en-US"]["Suspended"]),
])
def test_declined_claim_shows_the_api_text(qtbot, harness, in_loop, until, sandbox, campaign, group, message):
    w = harness.window
    set_field(w, "campaignId", campaign)
    set_field(w, "rewardGroupId", group)
    panel = claim_demo(qtbot, harness, in_loop, until)
    view = shown_outcome(panel)
    assert view.kind is ClaimKind.DECLINED and view.title.text() == "No reward was issued"
    assert view.message.text() == _api_notification(harness) == message
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 1 and not ledger[0]["consumed"]
    assert claims_in_journal(harness)[0].outcome == "no_reward"


def test_unknown_campaign_claim_says_no_reward_exists(qtbot, harness, in_loop, until, sandbox):
    set_field(harness.window, "campaignId", "NO-SUCH-CAMPAIGN")
    view = shown_outcome(claim_demo(qtbot, harness, in_loop, until))
    assert view.kind is ClaimKind.DECLINED
    assert view.message.text().startswith("No reward exists for these parameters")


def test_server_error_claim_is_refused(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=500, body={"message": "Internal server error"}, times=1)
    view = shown_outcome(claim_demo(qtbot, harness, in_loop, until))
    assert view.kind is ClaimKind.REFUSED and view.title.text() == "The claim was refused"
    assert "HTTP status 500" in view.detail.text()
    assert len(sandbox.admin.ledger()) == 1
    assert claims_in_journal(harness)[0].outcome == "error"


# --- closing the window while a claim waits for its answer ------------------------------------


def test_closing_during_a_claim_asks_and_cancel_lets_it_finish(qtbot, harness, in_loop, until, sandbox, monkeypatch):
    sandbox.admin.add_fault("GetReward", "latency", seconds=1, times=1)
    w = harness.window
    asked = []
    monkeypatch.setattr(w, "ask_close_during_claim", lambda: asked.append(True) or False)

    async def scenario():
        qtbot.mouseClick(open_dialog(qtbot, w).confirm_button, LEFT)
        await until(lambda: sandbox.admin.ledger() != [])
        assert not w.close()  # the user chose to wait
        await until(lambda: not harness.bridge.busy, 5000)

    in_loop(scenario)
    assert asked == [True] and w.isVisible()
    assert [e.outcome for e in claims_in_journal(harness)] == ["success"]
    assert w.preview_panel.claim_banner.isVisible()


def test_closing_anyway_during_a_claim_records_unknown(qtbot, harness, in_loop, until, sandbox, monkeypatch,
                                                        keep_loop_after_last_window):
    sandbox.admin.add_fault("GetReward", "latency", seconds=2, times=1)
    w = harness.window
    monkeypatch.setattr(w, "ask_close_during_claim", lambda: True)

    async def scenario():
        qtbot.mouseClick(open_dialog(qtbot, w).confirm_button, LEFT)
        await until(lambda: sandbox.admin.ledger() != [])
        assert w.close()
        await harness.bridge.aclose()

    in_loop(scenario)
    assert len(sandbox.admin.ledger()) == 1  # sent once, never again
    entries = Journal(harness.journal.path).query({"endpoint": "GetReward"})
    assert [e.outcome for e in entries] == ["unknown"]


def test_closing_without_a_claim_in_flight_does_not_ask(harness, monkeypatch):
    w = harness.window
    monkeypatch.setattr(w, "ask_close_during_claim", lambda: pytest.fail("asked without a claim in flight"))
    assert w.close()
