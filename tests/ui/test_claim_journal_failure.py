"""The claim in the real window when the journal fails: a second process holds BEGIN EXCLUSIVE on the
journal file (tests/journal_lock.py), the real sandbox answers, its ledger says what went out.

- locked before the claim: nothing is sent, and the window says "Not sent — nothing was spent" and why;
- locked after the intent, before the answer is committed: the reward URL is shown all the same (with
  Copy, Open, Redeem now and the Raw tab), with the words saying where it is kept."""

from __future__ import annotations

import pytest
from journal_lock import JournalLock  # tests/journal_lock.py
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from moments_desktop.core.rescue import rescue_path_for
from moments_desktop.ui.claim_result import NOT_SENT_TITLE, RESCUED_TITLE, UNKNOWN_TITLE, ClaimKind

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton


def claim_demo(qtbot, harness, in_loop, until):
    w = harness.window

    async def scenario():
        qtbot.mouseClick(w.claim_button, LEFT)
        dialog = w.claim_flow.dialog
        assert dialog is not None and dialog.isVisible()
        qtbot.mouseClick(dialog.confirm_button, LEFT)
        await until(lambda: not harness.bridge.busy, 15_000)

    in_loop(scenario)
    return w.preview_panel


def test_an_answer_the_locked_journal_cannot_take_is_shown_with_where_it_is_kept(
        qtbot, harness, in_loop, until, sandbox, monkeypatch):
    journal = harness.journal
    lock = JournalLock(journal.path)
    real_complete = journal.complete

    def complete(*args, **kwargs):  # another program takes the lock while the claim is on the wire
        if not lock.held:
            lock.acquire()
        return real_complete(*args, **kwargs)

    monkeypatch.setattr(journal, "complete", complete)
    opened = []
    w = harness.window
    panel = w.preview_panel
    panel.url_opener = lambda url: opened.append(url.toString())
    try:
        claim_demo(qtbot, harness, in_loop, until)
    finally:
        lock.release()
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 1
    url = ledger[0]["reward_url"]
    banner = panel.claim_banner
    assert panel.currentWidget() is panel.card_page
    assert banner.isVisible() and banner.kind is ClaimKind.SUCCESS
    assert banner.title.text() == RESCUED_TITLE
    assert banner.url_edit.text() == url
    where = str(rescue_path_for(journal.path))
    detail = banner.detail.text()
    assert "locked by another program" in detail and where in detail and "next time the app starts" in detail
    assert url in rescue_path_for(journal.path).read_text(encoding="utf-8")
    qtbot.mouseClick(banner.copy_button, LEFT)
    assert QGuiApplication.clipboard().text() == url
    assert panel.redeem_button.isEnabled()
    qtbot.mouseClick(panel.redeem_button, LEFT)
    qtbot.mouseClick(banner.open_button, LEFT)
    assert opened == [url, url]
    raw = w.raw_view.text.toPlainText()
    assert "HTTP 200" in raw and url in raw
    assert UNKNOWN_TITLE not in (banner.title.text(), panel.claim_outcome.title.text())
    assert not w.unresolved_banner.isVisible()  # no "outcome unknown" reminder: we have the answer


def test_a_claim_the_locked_journal_cannot_record_first_is_not_sent(qtbot, harness, in_loop, until, sandbox):
    panel = harness.window.preview_panel
    with JournalLock(harness.journal.path):
        claim_demo(qtbot, harness, in_loop, until)
    assert sandbox.admin.ledger() == []
    view = panel.claim_outcome
    assert panel.currentWidget() is panel.claim_page
    assert view.kind is ClaimKind.NOT_SENT and view.title.text() == NOT_SENT_TITLE
    assert "locked by another program" in view.message.text()
    assert "Nothing was sent and nothing was spent" in view.detail.text()
    assert not view.url_row.isVisible() and not panel.redeem_button.isEnabled()
