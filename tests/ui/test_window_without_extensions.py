"""The window works the same without the sandbox extensions (rewardTitle, rewardLocale): preview and a
test-mode claim against a real sandbox with ``"sandbox_extensions": false`` show exactly what they show
with the extensions on -- texts, image, count, end date, the reward URL behind Redeem now."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sandbox_variants import variant_sandbox

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton

# What the window shows, the same for both (the sandbox's address taken out of URLs).
EXPECTED = {
    "text": "Congratulations! You've earned Wireless Headphones for completing this moment.",
    "count": "100 rewards left",
    "end": "Campaign ends 31 Dec 2030",
    "image": True,
    "redeem before the claim": False,
    "claim text": "Your Wireless Headphones are on the way. Tap Redeem now to claim them.",
    "banner": "Reward claimed",
    "redeem after the claim": True,
    "second claim, same URL": True,
}


@pytest.fixture(scope="module", params=["extensions on", "extensions off"])
def variant(request):
    with variant_sandbox(sandbox_extensions=request.param == "extensions on", long_lived=True) as sandbox:
        yield request.param, sandbox


@pytest.fixture
def sandbox(variant):
    """This module's sandbox in place of the session's: make_harness builds the window on it."""
    _, sandbox = variant
    sandbox.admin.reset(ledger=True)
    return sandbox


def test_preview_and_claim_show_the_same_with_and_without_the_extensions(qtbot, harness, in_loop, until,
                                                                         sandbox, variant):
    which, _ = variant
    w = harness.window
    panel = w.preview_panel
    opened: list[str] = []
    panel.url_opener = lambda url: opened.append(url.toString())
    shown: dict = {}

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)
        await until(lambda: not panel.image_label.pixmap().isNull())
        shown.update(text=panel.text_label.text(), count=panel.count_label.text(), end=panel.end_label.text(),
                     image=not panel.image_label.pixmap().isNull())
        shown["redeem before the claim"] = panel.redeem_button.isEnabled()
        shown["preview raw"] = w.raw_view.text.toPlainText()
        for attempt in range(2):
            qtbot.mouseClick(w.claim_button, LEFT)
            dialog = w.claim_flow.dialog
            qtbot.mouseClick(dialog.confirm_button, LEFT)
            await until(lambda: not harness.bridge.busy)
            await until(lambda: not panel.image_label.pixmap().isNull())
            if attempt == 0:
                shown["claim text"] = panel.text_label.text()
                shown["banner"] = panel.claim_banner.title.text()
                shown["redeem after the claim"] = panel.redeem_button.isEnabled()
                qtbot.mouseClick(panel.redeem_button, LEFT)

    in_loop(scenario)
    ledger = sandbox.admin.ledger()
    urls = [entry["reward_url"] for entry in ledger]
    shown["second claim, same URL"] = len(urls) == 2 and urls[0] == urls[1]
    assert opened == [urls[0]] and urls[0].startswith(f"{sandbox.base_url}/redeem/TEST-")
    assert panel.claim_banner.url_edit.text() == urls[0]
    raw = shown.pop("preview raw")
    assert ("rewardTitle" in raw) is (which == "extensions on")  # the switch took effect
    assert shown == EXPECTED
