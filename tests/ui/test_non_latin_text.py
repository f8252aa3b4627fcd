"""Japanese and Arabic texts in every view: drawn with fonts that have their glyphs (Debian's fonts-noto-cjk and
fonts-noto-core, installed by .ci/run), and a right-to-left text aligned to the right (its own direction, in an
English window). The sandbox serves a catalog with an Arabic reward group beside the shipped Japanese one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QTextLayout
from PySide6.QtWidgets import QLabel, QWidget
from sandbox_variants import shipped_catalog_json, variant_sandbox  # tests/sandbox_variants.py

from moments_desktop.ui.customer_frames import InAppFrame, PushFrame
from moments_desktop.ui.history_model import PROFILE, SUMMARY
from moments_desktop.ui.sweep_grid import CARD_MARGIN
from moments_desktop.ui.sweep_thumbnails import THUMBNAIL_SIZE
from moments_desktop.ui.text_direction import is_rtl

pytestmark = pytest.mark.gui

ARABIC_ANNOUNCEMENT = "هدية لك"  # short: one line on a sweep card
ARABIC_REDEMPTION = "سماعاتك اللاسلكية في الطريق. اضغط «استبدل الآن» لاستلامها."
JAPANESE_ANNOUNCEMENT = "おめでとうございます！スマートスピーカーを獲得しました。"
ARABIC_PROFILE = "فريق العرض"
JAPANESE_PROFILE = "東京チーム"


def world_catalog() -> dict:
    data = shipped_catalog_json()
    reward = next(r for r in data["rewards"] if r["id"] == "headphones")
    reward["messages"]["ar-AE"] = {"title": "سماعات لاسلكية", "announcement": ARABIC_ANNOUNCEMENT,
                                   "redemption": ARABIC_REDEMPTION}
    campaign = next(c for c in data["campaigns"] if c["id"] == "DEMOCAMP1")
    campaign["reward_groups"].append({"id": "AE", "locale": "ar-AE", "reward": "headphones", "inventory": 30})
    return data


@pytest.fixture(scope="module")
def world():
    with variant_sandbox(world_catalog(), long_lived=True) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(world):
    """This module's sandbox in place of the session's: make_harness builds the window on it."""
    world.admin.reset(ledger=True)
    return world


def missing_glyphs(text: str, font: QFont) -> list[str]:
    """The characters of ``text`` that Qt, laying it out in ``font`` (with its fallbacks), has no glyph for."""
    layout = QTextLayout(text, font)
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(100_000)
    layout.endLayout()
    runs = layout.glyphRuns()
    assert runs
    missing = [f"notdef glyph in {run.rawFont().familyName()}" for run in runs if 0 in run.glyphIndexes()]
    fonts = [run.rawFont() for run in runs]
    missing += [char for char in text if not char.isspace() and not any(f.supportsCharacter(ord(char)) for f in fonts)]
    return missing


def ink_columns(image: QImage, band: QRect, background: QColor) -> tuple[int, int] | None:
    """The leftmost and rightmost columns in ``band`` with a pixel far from ``background`` (text ink)."""
    xs = []
    for x in range(band.left(), band.right() + 1):
        for y in range(band.top(), band.bottom() + 1):
            c = image.pixelColor(x, y)
            if abs(c.lightness() - background.lightness()) > 90:
                xs.append(x)
                break
    return (min(xs), max(xs)) if xs else None


def label_ink(label: QLabel) -> tuple[int, int, int]:
    """(left gap, right gap, width) of the label's drawn text."""
    image = label.grab().toImage()
    background = image.pixelColor(1, 1)
    found = ink_columns(image, QRect(0, 0, image.width(), image.height()), background)
    assert found, "nothing drawn"
    left, right = found
    return left, image.width() - 1 - right, image.width()


def test_the_glyph_check_can_fail(qapp):
    assert missing_glyphs("\ue000", QFont()) != []  # a private-use character: no font has it


def test_direction_of_a_text():
    assert is_rtl(ARABIC_ANNOUNCEMENT) and is_rtl("  «" + ARABIC_REDEMPTION)
    assert not is_rtl(JAPANESE_ANNOUNCEMENT) and not is_rtl("Congratulations") and not is_rtl("123")


def test_preview_claim_history_and_profile_names_in_arabic_and_japanese(harness, in_loop, until, sandbox):
    w = harness.window
    panel = w.preview_panel

    async def preview(group: str):
        w.form.editors["rewardGroupId"].setText(group)
        w.preview()
        await until(lambda: not harness.bridge.busy and panel.currentWidget() is panel.card_page)

    async def scenario():
        w.ask_text = lambda *_args: ARABIC_PROFILE
        w.new_profile()
        await until(lambda: w.profile_combo.currentText() == ARABIC_PROFILE)
        assert missing_glyphs(w.profile_combo.currentText(), w.profile_combo.font()) == []

        await preview("AE")
        assert panel.text_label.text() == ARABIC_ANNOUNCEMENT
        assert missing_glyphs(ARABIC_ANNOUNCEMENT, panel.text_label.font()) == []
        assert panel.text_label.layoutDirection() == Qt.LayoutDirection.RightToLeft
        left, right, width = label_ink(panel.text_label)
        assert right < 12 and left > width / 2  # drawn against the right edge, not centred

        await preview("JP")
        assert panel.text_label.text() == JAPANESE_ANNOUNCEMENT
        assert missing_glyphs(JAPANESE_ANNOUNCEMENT, panel.text_label.font()) == []
        assert panel.text_label.layoutDirection() == Qt.LayoutDirection.LeftToRight
        assert panel.text_label.alignment() & Qt.AlignmentFlag.AlignHCenter  # the card's own alignment back

        # a claim in Arabic: the API's redemption text in the claim's outcome and in the card
        w.form.editors["rewardGroupId"].setText("AE")
        w.claim_button.click()
        await until(lambda: w.claim_flow.dialog is not None and w.claim_flow.dialog.isVisible())
        dialog = w.claim_flow.dialog
        assert missing_glyphs(dialog.values["profile"].text(), dialog.values["profile"].font()) == []
        dialog.confirm_button.click()
        await until(lambda: not harness.bridge.busy and panel.claim_banner.isVisible())
        assert panel.text_label.layoutDirection() == Qt.LayoutDirection.RightToLeft

        # the history: the profile's name and the answer's text, each aligned by its own direction
        w.tabs.setCurrentWidget(w.history_view)
        model = w.history_view.model
        await until(lambda: model.rowCount() >= 3 and model.data(model.index(0, PROFILE)) == ARABIC_PROFILE)
        alignment = model.data(model.index(0, PROFILE), Qt.ItemDataRole.TextAlignmentRole)
        assert alignment & Qt.AlignmentFlag.AlignRight
        summaries = [model.data(model.index(r, SUMMARY)) for r in range(model.rowCount())]
        japanese_row = next(r for r, s in enumerate(summaries) if "スマートスピーカー" in s)
        assert model.data(model.index(japanese_row, SUMMARY), Qt.ItemDataRole.TextAlignmentRole) & \
            Qt.AlignmentFlag.AlignLeft
        w.history_view.select_row(0)
        await until(lambda: w.history_view.detail.entry is not None)
        detail = w.history_view.detail.text
        assert missing_glyphs(detail.toPlainText().split("\n")[0] + ARABIC_PROFILE, detail.font()) == []

        # a profile named in Japanese
        w.ask_text = lambda *_args: JAPANESE_PROFILE
        w.new_profile()
        await until(lambda: w.profile_combo.currentText() == JAPANESE_PROFILE)
        assert missing_glyphs(JAPANESE_PROFILE, w.profile_combo.font()) == []

    in_loop(scenario)


def test_sweep_cards_draw_arabic_from_the_right(harness, in_loop, until, sandbox):
    w = harness.window

    async def scenario():
        tab = w.sweep_tab
        w.tabs.setCurrentWidget(tab)
        tab.load_choices_now()
        await until(lambda: tab.fields["rewardGroupId"].has_choices, 10_000)
        tab.fields["rewardGroupId"].set_checked(["AE", "US"])
        assert tab.run(), tab.plan_label.text()
        await until(lambda: not tab.bridge.sweep_running and tab.result() is not None, 20_000)
        return tab

    tab = in_loop(scenario)
    cards = {card.combination.fields()["rewardGroupId"]: card for card in tab.model.shown_cards()}
    assert cards["AE"].notification_text == ARABIC_ANNOUNCEMENT
    image = tab.grid.viewport().grab().toImage()
    option_font = tab.grid.font()
    bold = QFont(option_font)
    bold.setBold(True)
    assert missing_glyphs(ARABIC_ANNOUNCEMENT, bold) == []
    small = QFont(option_font)
    small.setPointSizeF(max(6.0, option_font.pointSizeF() * 0.85))
    from PySide6.QtGui import QFontMetrics

    gaps = {}
    for group, card in cards.items():
        row = tab.model.shown_cards().index(card)
        rect = tab.grid.visualRect(tab.model.index(row)).adjusted(CARD_MARGIN, CARD_MARGIN, -CARD_MARGIN, -CARD_MARGIN)
        inner = rect.adjusted(12, 8, -8, -6)
        top = inner.top() + QFontMetrics(small).height() + 4
        left = inner.left() + THUMBNAIL_SIZE.width() + 8
        band = QRect(left, top, inner.right() - left + 1, QFontMetrics(bold).height())
        found = ink_columns(image, band, image.pixelColor(band.left(), band.bottom() + 2))
        assert found, group
        gaps[group] = (found[0] - band.left(), band.right() - found[1])
    assert gaps["AE"][1] <= 3 < 15 < gaps["AE"][0]  # the Arabic line ends at the right edge
    assert gaps["US"][0] <= 3  # the English one starts at the left


def test_customer_frames_follow_the_text_direction(qtbot):
    holder = QWidget()
    qtbot.addWidget(holder)
    in_app = InAppFrame(holder)
    push = PushFrame(holder)
    in_app.show_message("مرحبا ليلى، لديك مكافأة", ARABIC_REDEMPTION, "استبدل الآن")
    push.show_message(JAPANESE_ANNOUNCEMENT, "スマートスピーカーの準備ができました。")
    assert in_app.header_label.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert in_app.header_label.alignment() & Qt.AlignmentFlag.AlignRight
    assert push.title_label.layoutDirection() == Qt.LayoutDirection.LeftToRight
    for label in (in_app.header_label, in_app.body_label, push.title_label, push.body_label):
        assert missing_glyphs(label.text(), label.font()) == []
    in_app.show_message("Hello Leila", "A reward", "Redeem now")
    assert in_app.header_label.layoutDirection() == Qt.LayoutDirection.LeftToRight
    assert not in_app.header_label.alignment() & Qt.AlignmentFlag.AlignAbsolute
