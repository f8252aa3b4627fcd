"""The History tab after an outcome preview of the Message tab: the previews it journaled are listed however
the preview ended, cancelled included."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_cancelled_outcome_preview_still_refreshes_the_history(harness, in_loop, until, sandbox):
    window = harness.window
    tab, history = window.message_tab, window.history_view
    journal = window.bridge.session.journal
    refreshes = []
    window.bridge.journal_changed.connect(lambda: refreshes.append(len(journal.query())))

    async def scenario():
        window.tabs.setCurrentWidget(history)
        await until(lambda: history.model.rowCount() == 0 and not history.model.loading)
        window.tabs.setCurrentWidget(tab)
        assert tab.preview_outcomes()
        # The reward call is journaled; the 2 s timeout outcome leaves time to cancel before the end.
        await until(lambda: len(journal.query()) >= 2, 15_000)
        tab.cancel_button.click()
        await until(lambda: not window.bridge.busy, 5_000)
        assert tab.status_label.text().startswith("Cancelled.")
        window.tabs.setCurrentWidget(history)
        await until(lambda: not history.model.loading and history.model.rowCount() == len(journal.query()), 3_000)

    in_loop(scenario)
    assert refreshes and refreshes[-1] >= 2
    assert sandbox.admin.faults() == []
