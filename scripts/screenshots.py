"""Regenerate the README screenshots by driving the real window against the embedded sandbox.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py [out_dir]

Writes main-preview.png, claim-confirm.png, claim-success.png, history.png, presenter-stage.png, message-push.png,
message-email.png, message-arabic.png, the dark scheme's main-dark.png and history-dark.png, and
non-latin.png (a Japanese profile name, an Arabic reward drawn from the right) (default folder:
resources/screenshots). The sandbox serves the shipped catalog plus an Arabic reward group (AE) in
DEMOCAMP1, so the Arabic reward is real sandbox output. Everything runs in a throwaway MOMENTS_DESKTOP_HOME, so no real
profile, key or journal is touched. Look at the pictures before committing them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOW_SIZE = (1240, 780)
MESSAGE_WINDOW_SIZE = (1400, 880)  # the Message tab's columns want the width of a 1400×900 screen


async def until(predicate, timeout_s: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        await asyncio.sleep(0.05)


async def settle() -> None:
    await asyncio.sleep(0.4)  # let layouts, fonts and the image finish painting


async def shoot(window, out: Path) -> None:
    from PySide6.QtWidgets import QApplication

    window.resize(*WINDOW_SIZE)
    window.show()
    window.raise_()
    await until(lambda: window.isVisible())
    await until(lambda: window.preview_panel.currentWidget() is window.preview_panel.empty_page, 5)

    window.preview()
    panel = window.preview_panel
    await until(lambda: not window.bridge.busy and panel.currentWidget() is panel.card_page)
    await until(lambda: window.preview_panel.image_label.pixmap() is not None
                and not window.preview_panel.image_label.pixmap().isNull())
    await settle()
    window.grab().save(str(out / "main-preview.png"))

    window.claim_button.click()
    await until(lambda: window.claim_flow.dialog is not None and window.claim_flow.dialog.isVisible())
    dialog = window.claim_flow.dialog
    await settle()
    dialog.grab().save(str(out / "claim-confirm.png"))
    dialog.confirm_button.click()
    await until(lambda: not window.bridge.busy and window.preview_panel.claim_banner.isVisible())
    await settle()
    window.grab().save(str(out / "claim-success.png"))

    window.tabs.setCurrentWidget(window.history_view)
    await until(lambda: window.history_view.model.rowCount() >= 2)
    window.history_view.select_row(0)
    await settle()
    window.grab().save(str(out / "history.png"))

    await shoot_presenter(window, out)
    await shoot_message_tab(window, out)
    await shoot_dark(window, out)
    await shoot_non_latin(window, out)
    QApplication.processEvents()
    window.discard_all_edits()
    window.close()


async def shoot_presenter(window, out: Path) -> None:
    """View > Presenter mode on the demo profile: the customer stage after a fresh preview, identifiers masked."""
    window.resize(*MESSAGE_WINDOW_SIZE)  # the stage's three frames side by side want the width
    window.menu_actions.presenter.trigger()
    stage = window.stage
    await until(lambda: window.tabs.currentWidget() is stage)
    window.preview()
    await until(lambda: not window.bridge.busy and stage.pages.currentWidget() is stage.content_page)
    await until(lambda: stage.push_frame.image.has_image() and stage.in_app_frame.image.has_image())
    await settle()
    window.grab().save(str(out / "presenter-stage.png"))
    window.menu_actions.presenter.trigger()
    await until(lambda: not window.bridge.presenter)
    window.resize(*WINDOW_SIZE)


async def shoot_message_tab(window, out: Path) -> None:
    from moments_desktop.core.message_preview import Channel, OutcomeKind

    tab = window.message_tab
    window.resize(*MESSAGE_WINDOW_SIZE)
    window.tabs.setCurrentWidget(tab)
    await settle()
    assert tab.preview_outcomes()
    await until(lambda: not window.bridge.busy and tab.columns())
    reward = tab.column(OutcomeKind.REWARD)
    await until(lambda: reward.frame(Channel.PUSH).image.has_image())
    await settle()
    window.grab().save(str(out / "message-push.png"))

    tab.show_channel(Channel.EMAIL)
    await until(lambda: reward.frame(Channel.EMAIL).body.image_sizes()
                and reward.frame(Channel.EMAIL).body.image_sizes()[0][1] > 0)
    await settle()
    window.grab().save(str(out / "message-email.png"))

    # Arabic copy and sample attribute, and the partner page's own typo and stray brace as problems.
    tab.show_channel(Channel.IN_APP)
    tab.editors[(Channel.IN_APP, "header")].setPlainText(
        "{% if moments.rewardNotificationUrl == blank %}{% abort_message('no Moments reward') %}{% endif %}"
        "مرحبا {{${first_name}}}، لديك مكافأة")
    tab.editors[(Channel.IN_APP, "body")].setPlainText(
        "{{moments.rewardNotificationText}}\nبقي {{moments.remainingRewardCount}}} مكافأة")
    tab.editors[(Channel.IN_APP, "image_url")].setPlainText("{{moment.rewardImageUrl}}")
    tab.editors[(Channel.IN_APP, "button")].setPlainText("استبدل الآن")
    table = tab.attributes_table
    table.item(0, 1).setText("ليلى")
    await until(lambda: any(p.kind == "undefined" for p in tab.problems()))
    await settle()
    window.grab().save(str(out / "message-arabic.png"))


async def shoot_dark(window, out: Path) -> None:
    """The same window under View > Theme > Dark: the claimed reward, then the history."""
    window.resize(*WINDOW_SIZE)
    window.choose_theme("dark")
    window.tabs.setCurrentWidget(window.preview_panel)
    await settle()
    window.grab().save(str(out / "main-dark.png"))
    window.tabs.setCurrentWidget(window.history_view)
    window.history_view.select_row(0)
    await settle()
    window.grab().save(str(out / "history-dark.png"))
    window.choose_theme("light")


JAPANESE_PROFILE = "東京チーム・デモ"
ARABIC_ANNOUNCEMENT = "مبروك! لقد ربحت سماعات لاسلكية مقابل إكمال هذه اللحظة."
ARABIC_REDEMPTION = "سماعاتك اللاسلكية في الطريق. اضغط «استبدل الآن» لاستلامها."


def non_latin_catalog(path: Path) -> Path:
    """The shipped catalog plus reward group AE (Arabic texts) in DEMOCAMP1, written to ``path``."""
    import json

    from moments_desktop.sandbox.catalog import default_catalog_path

    data = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    reward = next(r for r in data["rewards"] if r["id"] == "headphones")
    reward["messages"]["ar-AE"] = {"title": "سماعات لاسلكية", "announcement": ARABIC_ANNOUNCEMENT,
                                   "redemption": ARABIC_REDEMPTION}
    campaign = next(c for c in data["campaigns"] if c["id"] == "DEMOCAMP1")
    campaign["reward_groups"].append({"id": "AE", "locale": "ar-AE", "reward": "headphones", "inventory": 30})
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


async def shoot_non_latin(window, out: Path) -> None:
    """A profile named in Japanese previewing the Arabic reward group."""
    window.resize(*WINDOW_SIZE)
    window.ask_text = lambda *_args: JAPANESE_PROFILE
    window.new_profile()
    await until(lambda: window.profile_combo.currentText() == JAPANESE_PROFILE)
    window.form.editors["rewardGroupId"].setText("AE")
    window.save_edits()
    await until(lambda: not window.is_dirty())
    window.tabs.setCurrentWidget(window.preview_panel)
    panel = window.preview_panel
    window.preview()
    await until(lambda: not window.bridge.busy and panel.currentWidget() is panel.card_page
                and panel.text_label.text() == ARABIC_ANNOUNCEMENT)
    await until(lambda: panel.image_label.pixmap() is not None and not panel.image_label.pixmap().isNull())
    await settle()
    window.grab().save(str(out / "non-latin.png"))


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    os.environ["MOMENTS_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="moments-shots-")

    import qasync
    from PySide6.QtWidgets import QApplication

    from moments_desktop.app import DesktopApp

    from moments_desktop.ui import theme

    app = QApplication.instance() or QApplication(["moments-desktop"])
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(theme.app_icon())
    theme.current().install(app, "light")  # as the app starts: Fusion, the light palette (then dark, below)
    catalog = non_latin_catalog(Path(os.environ["MOMENTS_DESKTOP_HOME"]) / "catalog-non-latin.json")
    desktop = DesktopApp(sandbox_catalog=str(catalog))
    desktop.start_sandbox()

    async def run() -> None:
        window = desktop.open_window()  # inside the running loop, as the app does
        try:
            await shoot(window, out)
        finally:
            await desktop.aclose()

    try:
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            runner.run(run())
    finally:
        desktop.stop_sandbox()
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
