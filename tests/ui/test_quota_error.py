"""A used-up quota (API Gateway's 429 "Limit Exceeded") in the window: its own clear message -- not the
throttling one -- for a preview (sent once, not retried) and for a claim, against a real sandbox whose
catalog gives each key two calls a day."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sandbox_variants import http_client, variant_sandbox

from moments_desktop.ui.claim_result import ClaimKind

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
QUOTA_TITLE = "This API key's quota is used up (429 Limit Exceeded)"


@pytest.fixture(scope="module", params=["Retry-After", "no Retry-After"])
def variant(request):
    with variant_sandbox(quota={"per_day": 2}, retry_after_header=request.param == "Retry-After",
                         long_lived=True) as sandbox:
        yield request.param, sandbox


@pytest.fixture
def sandbox(variant):
    """This module's sandbox in place of the session's, its demo key's quota used up."""
    _, sandbox = variant
    sandbox.admin.reset(ledger=True)
    with http_client(sandbox.base_url, timeout=10) as http:
        for _ in range(2):
            assert http.post("/GetRewardInfo", json=sandbox.demo_body,
                             headers={"x-api-key": sandbox.demo_key}).status_code == 200
    return sandbox


def test_a_preview_over_the_quota_says_so_and_is_not_retried(qtbot, harness, in_loop, until, sandbox, variant):
    which, _ = variant
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.error_page and not harness.bridge.busy)

    in_loop(scenario)
    assert panel.error_title.text() == QUOTA_TITLE
    assert "Waiting a few seconds will not help and the app will not retry" in panel.error_advice.text()
    assert "Too many requests" not in panel.error_title.text() + panel.error_advice.text()
    assert "HTTP status 429" in panel.error_detail.text()
    assert ("resets in" in panel.error_detail.text()) is (which == "Retry-After")
    assert harness.journal.count() == 1  # one attempt: a row per attempt is journaled
    assert '"Limit Exceeded"' in w.raw_view.text.toPlainText()


def test_a_claim_over_the_quota_is_refused_with_the_quota_message(qtbot, harness, in_loop, until, sandbox):
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.claim_button, LEFT)
        qtbot.mouseClick(w.claim_flow.dialog.confirm_button, LEFT)
        await until(lambda: not harness.bridge.busy)

    in_loop(scenario)
    view = panel.claim_outcome
    assert view.kind is ClaimKind.REFUSED and view.title.text() == "The claim was refused"
    assert view.message.text().startswith(QUOTA_TITLE)
    assert "will not help" in view.message.text() and "HTTP status 429" in view.detail.text()
    assert [(e["status"], e["consumed"]) for e in sandbox.admin.ledger()] == [(429, False)]
