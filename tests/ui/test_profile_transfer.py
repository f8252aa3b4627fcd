"""File ▸ Import/Export profiles: the report dialog, importing only valid profiles, no secrets out."""

from __future__ import annotations

import errno
import json

import pytest
from PySide6.QtCore import Qt

from moments_desktop import __version__
from moments_desktop.core import paths
from moments_desktop.core.profiles import DEMO_PROFILE_NAME, Profile

pytestmark = pytest.mark.gui

SECRET = "do-not-export-this-key-8d1f"


def combo_names(window):
    return [window.profile_combo.itemText(i) for i in range(window.profile_combo.count())]


def mixed_import_file(tmp_path, sandbox):
    good = dict(sandbox.demo_body, name="Imported staging", base_url="https://staging.example.com/prod",
                live=False, cost_per_action="0.25", currency="usd")
    bad = dict(sandbox.demo_body, name="Broken one", base_url="ftp://example.com", appId="  ",
               cost_per_action="-1", live="yes", api_key="pasted-by-mistake")
    good_without_live = dict(sandbox.demo_body, name="No live flag", base_url="https://other.example.com")
    path = tmp_path / "profiles-in.json"
    path.write_text(json.dumps({"format": "moments-desktop-profiles", "schema_version": 1,
                                "profiles": [good, bad, "not a profile", good_without_live]}), encoding="utf-8")
    return path


def open_import(harness, until, path):
    transfer = harness.window.transfer
    transfer.choose_import_path = lambda: str(path)
    transfer.dialog = None

    async def opened():
        harness.window.menu_actions.import_profiles.trigger()
        await until(lambda: transfer.dialog is not None and transfer.dialog.isVisible())
        return transfer.dialog

    return opened()


def test_import_report_lists_problems_per_field_and_cancel_imports_nothing(qtbot, harness, in_loop, until,
                                                                             tmp_path, sandbox):
    path = mixed_import_file(tmp_path, sandbox)
    before = [p.id for p in harness.profiles]
    seen = {}

    async def scenario():
        dialog = await open_import(harness, until, path)
        seen["summary"] = dialog.summary_label.text()
        seen["rows"] = dialog.rows()
        seen["import_text"] = dialog.import_button.text()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        await until(lambda: not dialog.isVisible())

    in_loop(scenario)
    assert seen["summary"].startswith("“profiles-in.json”: 2 of 4 profiles can be imported.")
    assert seen["import_text"] == "Import 2 valid profiles"
    rows = {label: (result, children) for label, result, children in seen["rows"]}
    assert rows["Imported staging"] == ("✓ will be imported", [])
    result, problems = rows["Broken one"]
    assert result == "✗ not imported (4 problems)"
    problem_fields = dict(problems)
    # in the window's field order, whatever the file's order
    assert [f for f, _ in problems] == ["Endpoint", "appId", "Live endpoint", "Cost per action", "Note"]
    assert problem_fields["appId"] == "appId is required."
    assert problem_fields["Endpoint"].startswith("The URL must start with https://")
    assert problem_fields["Cost per action"] == "The cost cannot be negative."
    assert problem_fields["Live endpoint"] == "Must be true or false."
    assert ("Note", "The file contains an API key for this profile; it was ignored.") in problems
    assert rows["Profile #3"][0] == "✗ not imported (1 problem)"
    assert rows["No live flag"][1] == [("Note", "The file does not say whether this is a live endpoint; "
                                                "treated as live.")]
    assert [p.id for p in harness.profiles] == before  # Cancel: nothing imported


def test_import_valid_profiles_on_agreement(qtbot, harness, in_loop, until, tmp_path, sandbox):
    path = mixed_import_file(tmp_path, sandbox)
    w = harness.window

    async def scenario():
        dialog = await open_import(harness, until, path)
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
        await until(lambda: "Imported staging" in combo_names(w))

    in_loop(scenario)
    names = [p.name for p in harness.profiles]
    assert names == [DEMO_PROFILE_NAME, "Imported staging", "No live flag"]
    staging = harness.profiles.find_by_name("Imported staging")
    assert staging.currency == "USD" and str(staging.cost_per_action) == "0.25" and not staging.live
    assert harness.profiles.find_by_name("No live flag").live  # undeclared: treated as live
    assert "Broken one" not in combo_names(w)
    assert w.statusBar().currentMessage().startswith("Imported 2 profiles: “Imported staging”, “No live flag”.")
    assert not harness.credentials.has_key(staging.id)  # keys are never imported


def test_import_that_the_disk_refuses_explains_and_adds_nothing(harness, in_loop, until, tmp_path, sandbox,
                                                                 monkeypatch):
    path = mixed_import_file(tmp_path, sandbox)
    w = harness.window
    errors = []
    monkeypatch.setattr(w, "show_error", errors.append)

    def read_only(path, text, encoding="utf-8"):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(paths, "atomic_write_text", read_only)

    async def scenario():
        dialog = await open_import(harness, until, path)
        dialog.import_button.click()
        await until(lambda: bool(errors))

    in_loop(scenario)
    assert errors[0].message.startswith("The profile could not be changed: profiles.json could not be written "
                                        "(Read-only file system). Nothing was changed.")
    assert len(harness.profiles) == 1 and combo_names(w) == [DEMO_PROFILE_NAME]
    assert not w.statusBar().currentMessage().startswith("Imported")


def test_import_of_a_file_that_is_not_json_explains_and_offers_only_close(harness, in_loop, until, tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("{ this is not json", encoding="utf-8")
    seen = {}

    async def scenario():
        dialog = await open_import(harness, until, path)
        seen["summary"] = dialog.summary_label.text()
        seen["import_button"] = dialog.import_button
        seen["close"] = dialog.cancel_button.text()
        dialog.cancel_button.click()

    in_loop(scenario)
    assert seen["summary"] == "“notes.json” cannot be imported. The file is not valid JSON (line 1, column 3)."
    assert seen["import_button"] is None and seen["close"] == "Close"
    assert len(harness.profiles) == 1


def test_export_writes_profiles_without_secrets(harness, in_loop, until, tmp_path, sandbox):
    staging = harness.profiles.add(Profile(name="Staging", base_url="https://staging.example.com/prod",
                                           **sandbox.demo_body))
    harness.credentials.set_key(staging.id, SECRET)
    out = tmp_path / "exported" / "profiles-out.json"
    w = harness.window
    w.transfer.choose_export_path = lambda: str(out)
    w.form.editors["appId"].setText("UNSAVED-EDIT")

    async def scenario():
        w.menu_actions.export_profiles.trigger()
        await until(lambda: w.statusBar().currentMessage().startswith("Exported"))

    in_loop(scenario)
    text = out.read_text(encoding="utf-8")
    assert SECRET not in text and sandbox.demo_key not in text
    document = json.loads(text)
    assert [p["name"] for p in document["profiles"]] == ["Staging"]  # the built-in demo is everywhere already
    assert all(not {"api_key", "key", "apiKey"} & set(p) for p in document["profiles"])
    assert "UNSAVED-EDIT" not in text  # the saved version
    assert w.statusBar().currentMessage() == (f"Exported 1 profile to {out} (without API keys). "
                                              "Unsaved changes were not included.")
    # and it imports back
    report = harness.profiles.parse_import(out)
    assert [c.label for c in report.candidates if c.valid] == ["Staging"]


def test_export_with_only_the_demo_profile_explains_instead_of_asking_for_a_file(harness, monkeypatch):
    errors = []
    w = harness.window
    monkeypatch.setattr(w, "show_error", errors.append)
    w.transfer.choose_export_path = lambda: pytest.fail("asked for a file with nothing to export")
    w.menu_actions.export_profiles.trigger()
    assert len(errors) == 1 and "no profiles of your own" in errors[0]


def test_export_to_an_unwritable_place_shows_a_message(harness, in_loop, until, tmp_path, monkeypatch, sandbox):
    harness.profiles.add(Profile(name="Staging", base_url="https://staging.example.com/prod", **sandbox.demo_body))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    errors = []
    w = harness.window
    monkeypatch.setattr(w, "show_error", errors.append)
    w.transfer.choose_export_path = lambda: str(blocker / "profiles.json")  # a folder that is a file

    async def scenario():
        w.menu_actions.export_profiles.trigger()
        await until(lambda: bool(errors))

    in_loop(scenario)
    message = errors[0].message
    assert message.startswith("The profiles could not be exported: ") and "Traceback" not in message


def test_about_names_version_keychain_and_folders(harness, in_loop, until):
    w = harness.window

    async def scenario():
        await until(lambda: w.keyring_label.text() != "Keychain: …")
        w.menu_actions.about.trigger()
        await until(lambda: w.about_box is not None and w.about_box.isVisible())

    in_loop(scenario)
    text = w.about_box.text()
    w.about_box.close()
    from moments_desktop.core import paths

    assert __version__ in text and "MemoryKeyring" in text
    for folder in (paths.config_dir(), paths.data_dir(), paths.log_dir()):
        assert str(folder) in text
