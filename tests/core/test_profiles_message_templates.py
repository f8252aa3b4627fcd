"""Message templates are saved per profile (schema 2): a real version-1 file migrates to the defaults and is
written back as version 2, damaged templates are reported like any damaged field, and templates travel with
export and import. The fixtures were written by the version-1 code (main before Step 10)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from moments_desktop.core.message_preview import DEFAULT_TEMPLATES, MessageTemplates
from moments_desktop.core.profiles import (
    DEMO_PROFILE_ID,
    SCHEMA_VERSION,
    ProfileStore,
    demo_profile,
    export_document,
    parse_profile,
)

FIXTURES = Path(__file__).parent / "fixtures"
OWN = dataclasses.replace(DEFAULT_TEMPLATES, push_title="{{${first_name}}}, hi", attributes=(("first_name", "Zoé"),))


def v1_store(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.json"
    shutil.copy(FIXTURES / "profiles-v1.json", path)
    return path


def test_a_version_1_file_loads_with_default_templates_and_is_written_back_as_version_2(tmp_path):
    path = v1_store(tmp_path)
    before = json.loads(path.read_text(encoding="utf-8"))
    assert before["schema_version"] == 1 and SCHEMA_VERSION == 2
    store = ProfileStore(path)
    assert store.load_warnings == [] and store.set_aside_copies == []
    names = [p.name for p in store.profiles()]
    assert names == ["Sandbox demo", "Fitness app (live)", "Local sandbox"]
    assert all(p.message_templates == DEFAULT_TEMPLATES for p in store.profiles())
    live = store.find_by_name("Fitness app (live)")
    assert (live.campaignId, str(live.cost_per_action), live.preview_deadline_s) == ("FITLIVE1", "2.50", 8.0)

    after = json.loads(path.read_text(encoding="utf-8"))
    assert after["schema_version"] == 2
    assert [e["name"] for e in after["profiles"]] == names
    # null: the defaults (templates are written only where a user changed them).
    assert all(e["message_templates"] is None for e in after["profiles"])
    assert ProfileStore(path).load_warnings == []  # and the next start reads it as it is


def test_saved_templates_survive_a_restart(tmp_path):
    path = tmp_path / "profiles.json"
    store = ProfileStore(path)
    store.edit(DEMO_PROFILE_ID, message_templates=OWN)
    [entry] = json.loads(path.read_text(encoding="utf-8"))["profiles"]
    assert entry["message_templates"] == OWN.to_dict()
    assert ProfileStore(path).get(DEMO_PROFILE_ID).message_templates == OWN


def test_a_file_from_the_future_is_still_set_aside(tmp_path):
    path = v1_store(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 3
    path.write_text(json.dumps(data), encoding="utf-8")
    store = ProfileStore(path)
    assert [p.id for p in store.profiles()] == [DEMO_PROFILE_ID]
    assert "newer version of the app (schema 3)" in store.load_warnings[0]
    assert not path.exists() and len(store.set_aside_copies) == 1


def test_damaged_templates_are_reported_and_the_file_kept_not_silently_reset(tmp_path):
    path = tmp_path / "profiles.json"
    store = ProfileStore(path)
    store.add(dataclasses.replace(demo_profile(), id="p1", name="Mine", base_url="http://127.0.0.1:1",
                                  allow_insecure=True, message_templates=OWN))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["profiles"][1]["message_templates"]["push_body"] = 42
    path.write_text(json.dumps(data), encoding="utf-8")
    original = path.read_bytes()

    reloaded = ProfileStore(path)
    assert "p1" not in reloaded
    [warning] = reloaded.load_warnings
    assert "#2 (Mine)" in warning
    [copy] = reloaded.set_aside_copies
    assert copy.read_bytes() == original  # the user's templates are still in the copy


def test_parse_profile_names_the_damaged_templates():
    entry = {**demo_profile().to_dict(), "id": "x1", "message_templates": {"push_title": ["no"]}}
    profile, problems = parse_profile(entry)
    assert profile is None
    assert problems["message_templates"].startswith("The message templates are damaged: ")
    entry["message_templates"] = {**DEFAULT_TEMPLATES.to_dict(), "attributes": [["a", "b", "c"]]}
    assert "[name, value] pair" in parse_profile(entry)[1]["message_templates"]


def test_templates_travel_with_an_export_and_import(tmp_path):
    source = ProfileStore(tmp_path / "a.json")
    source.add(dataclasses.replace(demo_profile(), id="p1", name="Mine", base_url="http://127.0.0.1:1",
                                   allow_insecure=True, message_templates=OWN))
    export = tmp_path / "export.json"
    export.write_text(export_document(source.exportable()), encoding="utf-8")
    assert json.loads(export.read_text(encoding="utf-8"))["schema_version"] == 2

    target = ProfileStore(tmp_path / "b.json")
    report = target.parse_import(export)
    [added] = target.apply_import(report)
    assert added.message_templates == OWN
    assert ProfileStore(tmp_path / "b.json").find_by_name("Mine").message_templates == OWN


def test_a_version_1_export_imports_with_default_templates(tmp_path):
    store = ProfileStore(tmp_path / "profiles.json")
    report = store.parse_import(FIXTURES / "export-v1.json")
    assert report.file_error is None and not report.invalid
    added = store.apply_import(report)
    assert [p.name for p in added] == ["Fitness app (live)", "Local sandbox"]
    assert all(p.message_templates == DEFAULT_TEMPLATES for p in added)


def test_the_built_in_demo_profile_has_the_default_templates():
    assert demo_profile().message_templates == DEFAULT_TEMPLATES
    assert isinstance(DEFAULT_TEMPLATES, MessageTemplates)
