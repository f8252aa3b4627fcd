"""Every start-up state opens a window or a clear dialog, never a traceback (issue 11, findings 2, 3, 8, 9).

Each test runs the real entry point (``moments_desktop.app.main``: the qasync loop, the start-up code,
the window) on real files: a journal of random bytes, one a second process holds with BEGIN EXCLUSIVE,
a data folder that cannot be written, a profiles.json nested 100,000 levels deep, one with damaged
entries, one of 150,000 profiles. A ``Driver`` answers the dialogs and closes the window as a user
would, from Qt timers inside the running loop.

Read-only folders: the tests may run as root (CI containers), where chmod does not stop a write. Then
the folder is made immutable with ``chattr +i`` (which stops root too); where neither works, the test
is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from read_only_folder import make_unwritable  # tests/read_only_folder.py
from synthetic_profiles import synthetic_profile, write_profiles_file  # tests/synthetic_profiles.py

from moments_desktop import app as desktop_app
from moments_desktop.core import errorlog, paths
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import ProfileStore
from moments_desktop.core.session import ClaimsDisabledError, ClaimStoppedError
from moments_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

DRIVE_TIMEOUT_S = 90.0


@pytest.fixture
def home(qapp, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def journal_file(home: Path) -> Path:
    return home / "data" / "journal.sqlite3"


def profiles_file(home: Path) -> Path:
    return home / "config" / "profiles.json"


def visible(object_name: str) -> QWidget | None:
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == object_name and widget.isVisible():
            return widget
    return None


def main_window() -> MainWindow | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)


def banner_text(window: MainWindow) -> str | None:
    label = window.findChild(QLabel, "startupBannerText")
    return label.text() if label is not None and label.isVisible() else None


class Driver:
    """Runs ``steps`` one after another from a Qt timer inside the app's loop. A step returns True when done
    (it waits for a dialog or the window, then acts on it). ``seen`` collects what the steps looked at."""

    def __init__(self, *steps: Callable[[dict], bool]):
        self.steps = list(steps)
        self.seen: dict = {}
        self.started = time.monotonic()
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.ticks += 1
        if not self.steps:
            self.timer.stop()
            return
        if time.monotonic() - self.started > DRIVE_TIMEOUT_S:  # never hang the suite: close what is open
            self.seen["timed_out_at_step"] = len(self.seen.get("done", []))
            self.timer.stop()
            for widget in QApplication.topLevelWidgets():
                if widget.isVisible():
                    widget.close()
            return
        if self.steps[0](self.seen):
            self.seen.setdefault("done", []).append(self.steps.pop(0).__name__)

    def finish(self) -> dict:
        self.timer.stop()
        assert "timed_out_at_step" not in self.seen, self.seen
        assert not self.steps, f"steps not reached: {[s.__name__ for s in self.steps]}"
        return self.seen


def run_main(*steps: Callable[[dict], bool], args: tuple[str, ...] = ("--no-sandbox",)) -> tuple[int, dict]:
    driver = Driver(*steps)
    code = desktop_app.main(list(args))
    return code, driver.finish()


def click(dialog: QWidget, button_name: str) -> None:
    dialog.findChild(QPushButton, button_name).click()


def answer(dialog_name: str, button_name: str, key: str) -> Callable[[dict], bool]:
    def answer_dialog(seen: dict) -> bool:
        dialog = visible(dialog_name)
        if dialog is None:
            return False
        seen[key] = dialog.findChild(QLabel, "startupText").text()
        click(dialog, button_name)
        return True
    return answer_dialog


def look_at_window_and_close(seen: dict) -> bool:
    window = main_window()
    if window is None:
        return False
    seen["banner"] = banner_text(window)
    seen["claims_disabled"] = window.bridge.session.claims_disabled_reason
    seen["profiles"] = window.profile_combo.count()
    seen["history_rows"] = window.bridge.session.journal.count()
    seen["session"] = window.bridge.session
    window.close()
    return True


def no_traceback(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return err


# --- the journal is random bytes ----------------------------------------------------------------


def test_corrupt_journal_is_set_aside_with_its_new_name_shown(home, capsys):
    journal = journal_file(home)
    journal.parent.mkdir(parents=True)
    garbage = os.urandom(64 * 1024)
    journal.write_bytes(garbage)

    code, seen = run_main(answer("corruptJournalDialog", "setAsideButton", "question"), look_at_window_and_close)

    assert code == 0
    assert str(journal) in seen["question"] and "not a database" in seen["question"]
    copies = list(journal.parent.glob("journal.sqlite3.corrupt-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == garbage  # renamed, never deleted
    assert str(copies[0]) in seen["banner"]
    assert seen["claims_disabled"] is None  # a new journal: everything works
    assert sqlite3.connect(journal).execute("SELECT count(*) FROM exchanges").fetchone() == (0,)
    no_traceback(capsys)


def test_corrupt_journal_quit_leaves_the_file_and_opens_no_window(home, capsys):
    journal = journal_file(home)
    journal.parent.mkdir(parents=True)
    journal.write_bytes(b"not a database " * 100)

    code, seen = run_main(answer("corruptJournalDialog", "quitButton", "question"))

    assert code == 0
    assert journal.read_bytes() == b"not a database " * 100
    assert not list(journal.parent.glob("*.corrupt-*"))
    assert not any(isinstance(w, MainWindow) for w in QApplication.topLevelWidgets() if w.isVisible())
    no_traceback(capsys)


# --- another process holds the journal --------------------------------------------------------------

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


@pytest.fixture
def held_journal(home):
    """A journal with one row, held by a second process with BEGIN EXCLUSIVE until ``release()``."""
    path = journal_file(home)
    with Journal(path) as journal:
        journal.record(endpoint="GetRewardInfo", url="https://example.com/x", outcome="success")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"

    def release() -> None:
        if holder.poll() is None:
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(timeout=10)

    holder.release = release
    yield holder
    release()
    holder.stdin.close()
    holder.stdout.close()


def test_locked_journal_waits_without_freezing_then_opens_when_released(home, held_journal, capsys):
    def wait_for_two_tries_then_release(seen: dict) -> bool:
        dialog = visible("lockedJournalDialog")
        if dialog is None:
            return False
        seen["question"] = dialog.findChild(QLabel, "startupText").text()
        attempts = dialog.findChild(QLabel, "lockAttempts").text()
        if "Tried 3 times" not in attempts:  # the loop keeps running: retries happen, timers fire
            return False
        seen["attempts"] = attempts
        held_journal.release()
        return True

    code, seen = run_main(wait_for_two_tries_then_release, look_at_window_and_close)

    assert code == 0
    assert str(journal_file(home)) in seen["question"] and "in use by another program" in seen["question"]
    assert seen["banner"] is None and seen["claims_disabled"] is None
    assert seen["history_rows"] == 1
    no_traceback(capsys)


def test_locked_journal_opens_read_only_with_claims_turned_off(home, held_journal, capsys):
    code, seen = run_main(answer("lockedJournalDialog", "readOnlyButton", "question"), look_at_window_and_close)

    assert code == 0
    assert "read-only" in seen["question"]
    assert seen["history_rows"] == 1  # the old history is there, read-only
    assert "Claims are turned off" in seen["banner"] and str(journal_file(home)) in seen["banner"]
    assert seen["claims_disabled"] == seen["session"].claims_disabled_reason
    with pytest.raises(ClaimsDisabledError):
        seen["session"].plan_claim("sandbox-demo")
    no_traceback(capsys)


def test_locked_journal_cancel_quits(home, held_journal, capsys):
    code, seen = run_main(answer("lockedJournalDialog", "quitButton", "question"))
    assert code == 0
    assert main_window() is None
    no_traceback(capsys)


# --- the data folder cannot be written ---------------------------------------------------------------


@pytest.mark.parametrize("with_history", [True, False], ids=["existing-history", "no-history-yet"])
def test_read_only_data_folder_runs_with_claims_off_and_says_why(home, capsys, with_history):
    data = home / "data"
    if with_history:
        with Journal(journal_file(home)) as journal:
            journal.record(endpoint="GetRewardInfo", url="https://example.com/x", outcome="success")
    undo = make_unwritable(data)
    try:
        code, seen = run_main(look_at_window_and_close)
    finally:
        undo()

    assert code == 0
    assert "Claims are turned off" in seen["banner"] and str(data) in seen["banner"]
    assert seen["claims_disabled"]
    assert seen["history_rows"] == (1 if with_history else 0)
    no_traceback(capsys)


def test_claims_disabled_session_refuses_claims_with_nothing_sent(tmp_path, sandbox):
    import asyncio

    from moments_desktop.core.credentials import CredentialStore
    from moments_desktop.core.http import make_client
    from moments_desktop.core.session import EmbeddedSandbox, Session
    from moments_desktop.core.startup import CLAIMS_OFF_UNWRITABLE

    reason = CLAIMS_OFF_UNWRITABLE.format(folder=tmp_path)

    async def scenario() -> None:
        with Journal(tmp_path / "j.sqlite3") as journal:
            session = Session(ProfileStore(tmp_path / "p.json"), CredentialStore(), journal, make_client(),
                              sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key))
            plan = session.plan_claim("sandbox-demo")  # planned before the claims were turned off
            session.claims_disabled_reason = reason
            with pytest.raises(ClaimsDisabledError) as refused:
                session.plan_claim("sandbox-demo")
            assert reason in refused.value.message
            with pytest.raises(ClaimStoppedError) as stopped:
                await session.claim(plan)
            assert not stopped.value.may_have_been_sent and reason in stopped.value.message
            await session.http.aclose()
            assert journal.count() == 0

    asyncio.run(scenario())
    assert sandbox.admin.ledger() == []  # nothing went out


# --- profiles.json ----------------------------------------------------------------------------------


def test_profiles_nested_100000_deep_are_set_aside_and_told_once(home, capsys):
    path = profiles_file(home)
    path.parent.mkdir(parents=True)
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")

    code, seen = run_main(look_at_window_and_close)

    assert code == 0
    copies = list(path.parent.glob("profiles.json.corrupt-*"))
    assert len(copies) == 1 and not path.exists()
    assert "nested too deeply" in seen["banner"] and str(copies[0]) in seen["banner"]
    assert seen["profiles"] == 1  # the built-in profile

    code, seen = run_main(look_at_window_and_close)  # the next start is clean
    assert code == 0 and seen["banner"] is None
    no_traceback(capsys)


def test_profiles_with_damaged_entries_are_copied_aside_once(home, capsys):
    path = profiles_file(home)
    good = [synthetic_profile(1), synthetic_profile(2)]
    damaged = dict(synthetic_profile(3), base_url="ftp://nope", name="Broken one")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": 1, "profiles": [good[0], damaged, good[1]]}), encoding="utf-8")
    original = path.read_bytes()

    code, seen = run_main(look_at_window_and_close)
    assert code == 0
    copies = list(path.parent.glob("profiles.json.corrupt-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == original
    assert "Broken one" in seen["banner"] and str(copies[0]) in seen["banner"]
    assert seen["profiles"] == 3  # the built-in one and the two good ones

    code, seen = run_main(look_at_window_and_close)
    assert code == 0 and seen["banner"] is None and seen["profiles"] == 3
    assert len(list(path.parent.glob("profiles.json.corrupt-*"))) == 1  # no new copy on the next start
    no_traceback(capsys)


def test_150000_profiles_load_off_the_ui_thread_and_the_window_opens(home, capsys, monkeypatch):
    write_profiles_file(profiles_file(home), 150_000)
    loaded_in: list[str] = []
    original_load = ProfileStore.load

    def load(self):
        loaded_in.append(threading.current_thread().name)
        original_load(self)

    monkeypatch.setattr(ProfileStore, "load", load)
    code, seen = run_main(look_at_window_and_close)

    assert code == 0
    assert seen["profiles"] == 150_001 and seen["banner"] is None
    assert loaded_in and threading.main_thread().name not in loaded_in
    no_traceback(capsys)


# --- the last-used profile, permissions, the crash reporter -------------------------------------------


def test_last_used_profile_is_saved_when_it_changes_not_only_at_exit(home, capsys):
    write_profiles_file(profiles_file(home), 2)

    def choose_second_profile(seen: dict) -> bool:
        window = main_window()
        if window is None:
            return False
        window.profile_combo.setCurrentIndex(2)
        settings = QSettings(str(home / "config" / "window.ini"), QSettings.Format.IniFormat)
        seen["saved"] = settings.value("lastProfile", None, type=str)  # before any close
        window.close()
        return True

    code, seen = run_main(choose_second_profile)
    assert code == 0 and seen["saved"] == "synthetic00000001"
    no_traceback(capsys)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_folders_are_0700_and_the_log_0600_even_when_they_existed(home):
    for name in ("config", "data", "logs"):
        (home / name).mkdir(parents=True)
        (home / name).chmod(0o755)
    log = home / "logs" / errorlog.LOG_FILE_NAME
    log.write_text("old\n")
    log.chmod(0o644)
    paths.config_dir(), paths.data_dir()
    errorlog.write("something")
    for name in ("config", "data", "logs"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o700, name
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    shutil.rmtree(home / "logs")
    errorlog.write("new")  # created 0600, not 0644 then tightened
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "logs").stat().st_mode) == 0o700


def test_an_exception_at_start_up_is_logged_and_told_with_the_log_file(home, capsys, monkeypatch):
    def broken_make_session(self):
        raise ValueError("start-up went wrong")

    monkeypatch.setattr(desktop_app.DesktopApp, "make_session", broken_make_session)

    def read_and_close_the_box(seen: dict) -> bool:
        box = visible("fatalErrorBox")
        if box is None:
            return False
        seen["box"] = box.text()
        box.close()
        return True

    driver = Driver(read_and_close_the_box)
    code = desktop_app.main(["--no-sandbox"])
    seen = driver.finish()

    log = errorlog.log_path()
    assert code == 1
    assert "ValueError: start-up went wrong" in log.read_text(encoding="utf-8")
    assert str(log) in seen["box"]
    err = capsys.readouterr().err
    assert str(log) in err and "Traceback" not in err


def test_an_exception_at_shutdown_is_logged_and_told(home, capsys, monkeypatch):
    async def broken_aclose(self):
        raise RuntimeError("shutdown went wrong")

    original_aclose = desktop_app.DesktopApp.aclose

    async def aclose(self):
        await original_aclose(self)
        await broken_aclose(self)

    monkeypatch.setattr(desktop_app.DesktopApp, "aclose", aclose)

    def read_and_close_the_box(seen: dict) -> bool:
        box = visible("fatalErrorBox")
        if box is None:
            return False
        seen["box"] = box.text()
        box.close()
        return True

    code, seen = run_main(look_at_window_and_close, read_and_close_the_box)
    assert code == 1
    assert "RuntimeError: shutdown went wrong" in errorlog.log_path().read_text(encoding="utf-8")
    err = capsys.readouterr().err
    assert str(errorlog.log_path()) in err and "Traceback" not in err


def test_a_preview_works_on_the_read_only_history(tmp_path, sandbox, held_journal_at):
    """Read-only history (the file held by another process): a preview is shown, not failed by the journal."""
    import asyncio

    from moments_desktop.core.credentials import CredentialStore
    from moments_desktop.core.http import make_client
    from moments_desktop.core.session import EmbeddedSandbox, Session
    from moments_desktop.core.startup import JournalLocked, ReadOnlyJournal, fallback_journal, open_journal

    path = held_journal_at
    with pytest.raises(JournalLocked):
        open_journal(path)
    opened = fallback_journal(JournalLocked(path, "database is locked", readable=True))
    assert isinstance(opened.journal, ReadOnlyJournal) and opened.claims_disabled_reason

    async def scenario():
        session = Session(ProfileStore(tmp_path / "p.json"), CredentialStore(), opened.journal, make_client(),
                          sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key),
                          claims_disabled_reason=opened.claims_disabled_reason)
        try:
            result = await session.preview("sandbox-demo")
        finally:
            await session.aclose()
        return result

    result = asyncio.run(scenario())
    assert result.ok and result.reward is not None


@pytest.fixture
def held_journal_at(tmp_path):
    path = tmp_path / "data" / "journal.sqlite3"
    with Journal(path) as journal:
        journal.record(endpoint="GetRewardInfo", url="https://example.com/x", outcome="success")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    yield path
    holder.stdin.write("\n")
    holder.stdin.close()
    holder.wait(timeout=10)
    holder.stdout.close()


# --- answers the history could not take last time -------------------------------------------------


def test_a_reward_answer_kept_in_the_rescue_file_is_added_at_start_and_told(home, capsys):
    from types import SimpleNamespace

    url = "https://www.amazon.com/moments/redeem/RESCUED-1"
    with Journal(journal_file(home)) as journal:  # the last run: intent written, answer could not be
        intent = journal.begin_intent("p1", "QA", "GetReward", "http://127.0.0.1:9/GetReward",
                                      {"x-api-key": "k"}, {"campaignId": "C1"})
        answer = SimpleNamespace(endpoint="GetReward", url="http://127.0.0.1:9/GetReward", request_headers={},
                                 request_body={"campaignId": "C1"}, status=200, response_headers={},
                                 response_body=json.dumps({"rewardUrl": url}), duration_ms=5.0,
                                 outcome="success", error_message=None, started_at=None)
        journal.rescue_answer(intent, answer, profile_id="p1", profile_name="QA", reward_url=url,
                              failure="database is locked")

    def look_at_history(seen: dict) -> bool:
        window = main_window()
        if window is None:
            return False
        seen["rows"] = [(e.id, e.outcome, e.reward_url) for e in window.bridge.session.journal.query()]
        return True

    code, seen = run_main(look_at_history, look_at_window_and_close)

    assert code == 0
    assert "1 reward answer" in seen["banner"] and "History" in seen["banner"]
    assert seen["rows"] == [(intent, "success", url)]
    code, seen = run_main(look_at_window_and_close)  # merged once: the next start says nothing
    assert code == 0 and seen["banner"] is None
    no_traceback(capsys)
