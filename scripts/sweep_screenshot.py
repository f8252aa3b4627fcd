"""A finished sweep in the window, for a look: the app's own start-up with the built-in sandbox and its demo
profile; a sweep of every device type × two campaigns × three reward groups, saved as a baseline, then swept
again with a fault so the compare marks changes.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/sweep_screenshot.py [seconds-to-stay]

While it stays (default 3 s) take the picture, e.g. ``import -window root shot.png`` from another shell;
``--grab PATH`` saves the window itself instead. Runs in a throwaway MOMENTS_DESKTOP_HOME.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def until(predicate, timeout_s: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        await asyncio.sleep(0.05)


async def sweep(window, home: Path, stay_s: float, grab: str | None, touch: str | None) -> None:
    from moments_desktop.sandbox.admin import SandboxAdmin

    window.show_error = lambda error: print("error:", getattr(error, "message", error), file=sys.stderr)
    window.resize(1400, 860)
    window.show()
    await until(lambda: window.isVisible())
    tab = window.sweep_tab
    window.tabs.setCurrentWidget(tab)
    tab.load_choices_now()
    await until(lambda: tab.fields["campaignId"].has_choices)
    tab.fields["deviceType"].check_all()
    tab.fields["campaignId"].set_checked(["DEMOCAMP1", "LIVECAMP1"])
    tab.fields["rewardGroupId"].typed.setPlainText("US\nJP\nDE")
    baseline = home / "baseline.json"
    tab.choose_save_path = lambda *_args: str(baseline)
    tab.choose_open_path = lambda *_args: str(baseline)
    assert tab.run(), tab.plan_label.text()
    await until(lambda: tab.result() is not None and not window.bridge.sweep_running)
    tab.save_baseline()
    try:
        await until(lambda: baseline.exists(), 5)
    except TimeoutError:
        print("no baseline was saved: showing the first sweep", file=sys.stderr)
        await asyncio.sleep(1.0)
        if grab:
            window.grab().save(grab)
        if touch:
            Path(touch).write_text("ready\n", encoding="utf-8")
        await asyncio.sleep(stay_s)
        return
    sandbox = window.bridge.session.sandbox
    with SandboxAdmin(sandbox.url, sandbox.admin_token) as admin:
        admin.add_fault("GetRewardInfo", "status", status=403, match={"deviceType": "iOS", "rewardGroupId": "JP"})
        admin.add_fault("GetRewardInfo", "status", status=200, body=[], match={"deviceType": "Web",
                                                                           "rewardGroupId": "DE"})
        admin.add_fault("GetRewardInfo", "status", status=503, match={"deviceType": "FireOS",
                                                                      "campaignId": "LIVECAMP1"})
        assert tab.run()
        await until(lambda: tab.result() is not None and not window.bridge.sweep_running)
        tab.compare_with_baseline()
        await until(lambda: tab.model.diff is not None)
    await asyncio.sleep(1.0)  # thumbnails and the repaint
    if grab:
        window.grab().save(grab)
    if touch:
        Path(touch).write_text("ready\n", encoding="utf-8")
    await asyncio.sleep(stay_s)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("stay", nargs="?", type=float, default=3.0)
    parser.add_argument("--grab")
    parser.add_argument("--ready-file", help="written once the sweep is on screen")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="moments-sweep-shot-"))
    os.environ["MOMENTS_DESKTOP_HOME"] = str(home)

    import qasync
    from PySide6.QtWidgets import QApplication

    from moments_desktop.app import DesktopApp

    app = QApplication.instance() or QApplication(["moments-desktop"])
    app.setQuitOnLastWindowClosed(False)
    desktop = DesktopApp()
    desktop.start_sandbox()

    async def run() -> None:
        window = desktop.open_window()
        try:
            await sweep(window, home, args.stay, args.grab, args.ready_file)
        finally:
            await desktop.aclose()

    try:
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            runner.run(run())
    finally:
        desktop.stop_sandbox()
    return 0


if __name__ == "__main__":
    sys.exit(main())
