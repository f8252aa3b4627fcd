"""Regenerate the README screenshots by driving the real window against the embedded sandbox.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py [out_dir]

Writes main-preview.png, claim-confirm.png, claim-success.png, history.png, message-push.png,
message-email.png and message-arabic.png (default folder:
resources/screenshots). Everything runs in a throwaway MOMENTS_DESKTOP_HOME, so no real
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

    await shoot_message_tab(window, out)
    QApplication.processEvents()
    window.discard_all_edits()
    window.close()


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


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    os.environ["MOMENTS_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="moments-shots-")

    import qasync
    from PySide6.QtWidgets import QApplication

    from moments_desktop.app import DesktopApp

    app = QApplication.instance() or QApplication(["moments-desktop"])
    app.setQuitOnLastWindowClosed(False)
    desktop = DesktopApp()
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
