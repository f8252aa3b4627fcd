"""The reward image after the answer: shown, or why not, over the card the answer filled."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


def test_a_reward_without_an_image_says_so_on_its_card(qtbot, harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=200, times=1,
                            body={"rewardNotificationText": "A reward with no picture", "remainingRewardCount": 3})
    w = harness.window
    panel = w.preview_panel
    finished = []
    harness.bridge.preview_finished.connect(lambda result: finished.append(panel.image_label.text()))

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not harness.bridge.busy)

    in_loop(scenario)
    assert panel.text_label.text() == "A reward with no picture"
    assert panel.image_label.text() == "No image\n\nThe reward has no image."
    assert panel.image_label.pixmap().isNull()
    assert harness.journal.count() == 1


def test_the_image_fills_the_card_at_the_label_size(qtbot, harness, in_loop, until):
    w = harness.window
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.preview_button, LEFT)
        await until(lambda: not panel.image_label.pixmap().isNull() and not harness.bridge.busy)

    in_loop(scenario)
    pixmap = panel.image_label.pixmap()
    ratio = pixmap.devicePixelRatio()
    # the shipped 600×400 image fitted to the 380×214 label, aspect kept, in device pixels
    assert round(pixmap.height() / ratio) == 214 and abs(pixmap.width() / pixmap.height() - 1.5) < 0.01
