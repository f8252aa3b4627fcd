"""Closing the window with unsaved profile edits asks Save all / Discard / Cancel.

"Save all" writes off the UI thread: the close is refused at first, and the window closes
itself once every edit is written (or stays open on the first that cannot be saved).
"""

from __future__ import annotations

import errno

import pytest

from moments_desktop.core import paths
from moments_desktop.core.profiles import DEMO_PROFILE_ID, DEMO_PROFILE_NAME, Profile, ProfileStore

pytestmark = pytest.mark.gui


class Answers:
    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.asked: list[list[str]] = []

    def __call__(self, names):
        self.asked.append(list(names))
        assert self.answers, f"unexpected unsaved-changes question for {names}"
        return self.answers.pop(0)


@pytest.fixture
def edited(harness, sandbox):
    """The demo profile and "Staging" both with unsaved edits; Staging is shown."""
    staging = harness.profiles.add(Profile(name="Staging", base_url="https://staging.example.com/prod",
                                           **sandbox.demo_body))
    w = harness.window
    w.form.editors["rewardGroupId"].setText("JP")
    w.refresh_profile_list()
    w.profile_combo.setCurrentIndex(w.profile_combo.findData(staging.id))
    w.form.editors["campaignId"].setText("LIVECAMP1")
    assert w.is_dirty(DEMO_PROFILE_ID) and w.is_dirty(staging.id)
    closed = []
    w.closed.connect(lambda: closed.append(True))
    return harness, staging, closed


def test_cancel_keeps_the_window_open_with_the_edits(edited, monkeypatch):
    harness, staging, closed = edited
    w = harness.window
    answers = Answers("cancel")
    monkeypatch.setattr(w, "ask_unsaved_edits", answers)
    assert not w.close()
    assert answers.asked == [[DEMO_PROFILE_NAME, "Staging"]]
    assert w.isVisible() and not closed
    assert w.form.fields()["campaignId"] == "LIVECAMP1" and w.is_dirty(DEMO_PROFILE_ID)
    assert harness.profiles.get(staging.id).campaignId == "DEMOCAMP1"


def test_discard_closes_without_writing(edited, monkeypatch):
    harness, staging, closed = edited
    w = harness.window
    monkeypatch.setattr(w, "ask_unsaved_edits", Answers("discard"))
    assert w.close()
    assert not w.isVisible() and closed == [True]
    fresh = ProfileStore(harness.profiles.path)
    assert fresh.get(staging.id).campaignId == "DEMOCAMP1"
    assert fresh.get(DEMO_PROFILE_ID).rewardGroupId == "US"


def test_save_all_writes_every_edited_profile_then_closes(edited, monkeypatch, in_loop, until,
                                                          keep_loop_after_last_window):
    harness, staging, closed = edited
    w = harness.window
    answers = Answers("save")
    monkeypatch.setattr(w, "ask_unsaved_edits", answers)

    async def scenario():
        w.menu_actions.quit.trigger()
        assert w.isVisible() and not closed  # the writes run; the window closes itself after them
        assert not w.profile_combo.isEnabled() and not w.save_button.isEnabled()
        assert not w.close()  # asked again meanwhile: refused, and no second question
        await until(lambda: closed == [True])
        await harness.bridge.aclose()  # started by the close: finish it on this loop run

    in_loop(scenario)
    assert not w.isVisible() and len(answers.asked) == 1
    fresh = ProfileStore(harness.profiles.path)
    assert fresh.get(staging.id).campaignId == "LIVECAMP1"
    assert fresh.get(DEMO_PROFILE_ID).rewardGroupId == "JP"


def save_all_on_close_until_an_error(w, monkeypatch, in_loop, until) -> list:
    """Close, answer "Save all", and wait for the error that keeps the window open; the errors shown."""
    errors = []
    monkeypatch.setattr(w, "show_error", errors.append)
    monkeypatch.setattr(w, "ask_unsaved_edits", Answers("save"))

    async def scenario():
        assert not w.close()
        await until(lambda: bool(errors))
        await until(lambda: w.profile_combo.isEnabled())

    in_loop(scenario)
    return errors


def test_save_all_stops_at_an_edit_that_cannot_be_saved(edited, monkeypatch, in_loop, until):
    harness, staging, closed = edited
    w = harness.window
    w.form.editors["appId"].clear()  # Staging now has an invalid edit
    w.profile_combo.setCurrentIndex(w.profile_combo.findData(DEMO_PROFILE_ID))
    errors = save_all_on_close_until_an_error(w, monkeypatch, in_loop, until)
    assert w.isVisible() and not closed
    assert w.current_profile_id() == staging.id  # shown, so it can be fixed
    assert w.form.error_labels["appId"].isVisible()
    assert "appId" in errors[0].message
    # the valid one before it was written; the invalid one is still an edit, not lost
    assert ProfileStore(harness.profiles.path).get(DEMO_PROFILE_ID).rewardGroupId == "JP"
    assert w.is_dirty(staging.id) and not w.is_dirty(DEMO_PROFILE_ID)


def test_save_all_that_the_disk_refuses_stays_open_on_that_profile(edited, monkeypatch, in_loop, until):
    harness, staging, closed = edited
    w = harness.window
    w.profile_combo.setCurrentIndex(w.profile_combo.findData(DEMO_PROFILE_ID))
    real_write = paths.atomic_write_text

    def full_after_one_write(path, text, encoding="utf-8"):
        if "LIVECAMP1" in text:  # Staging's edit, the second one written
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, text, encoding)

    monkeypatch.setattr(paths, "atomic_write_text", full_after_one_write)
    errors = save_all_on_close_until_an_error(w, monkeypatch, in_loop, until)
    assert w.isVisible() and not closed
    assert "No space left on device" in errors[0].message and "Traceback" not in errors[0].message
    assert w.current_profile_id() == staging.id and w.form.fields()["campaignId"] == "LIVECAMP1"
    assert w.is_dirty(staging.id) and not w.is_dirty(DEMO_PROFILE_ID)
    fresh = ProfileStore(harness.profiles.path)
    assert fresh.get(DEMO_PROFILE_ID).rewardGroupId == "JP" and fresh.get(staging.id).campaignId == "DEMOCAMP1"


def test_no_question_without_edits(harness, monkeypatch):
    w = harness.window
    monkeypatch.setattr(w, "ask_unsaved_edits", Answers())
    assert w.close()


def test_deleting_an_edited_profile_says_its_edits_go_too(harness, sandbox, monkeypatch):
    staging = harness.profiles.add(Profile(name="Staging", base_url="https://staging.example.com/prod",
                                           **sandbox.demo_body))
    w = harness.window
    w.refresh_profile_list()
    w.profile_combo.setCurrentIndex(w.profile_combo.findData(staging.id))
    w.form.editors["campaignId"].setText("LIVECAMP1")
    asked = []
    monkeypatch.setattr(w, "ask_confirm", lambda text, title="": asked.append(text) or False)
    w.delete_button.click()
    assert "Its unsaved changes are discarded too." in asked[0]
    assert w.is_dirty(staging.id)  # declined: nothing lost
