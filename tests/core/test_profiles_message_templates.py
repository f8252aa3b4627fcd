"""Message templates are saved per profile (schema 2): a real version-1 file loads with the default templates
and is not rewritten; a file is written in the lowest schema that holds it, so the previous release (its own
reader, tests/core/fixtures/profiles_v1.py, the exact core/profiles.py of 6e21adb) still reads it until a
profile has templates of its own; damaged templates cost only the templates, never the profile; templates
travel with export and import, the built-in profile's too. The fixtures were written by the version-1 code
(main before Step 10)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import sys
from functools import cache
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


@cache
def v1_code():
    """The previous release's core/profiles.py (6e21adb), on top of today's modules it imports."""
    spec = importlib.util.spec_from_file_location("moments_desktop.core._profiles_v1", FIXTURES / "profiles_v1.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    assert module.SCHEMA_VERSION == 1
    return module


def test_a_version_1_file_loads_with_default_templates_and_is_not_rewritten(tmp_path):
    path = v1_store(tmp_path)
    original = path.read_bytes()
    assert json.loads(original)["schema_version"] == 1 and SCHEMA_VERSION == 2
    store = ProfileStore(path)
    assert store.load_warnings == [] and store.set_aside_copies == []
    names = [p.name for p in store.profiles()]
    assert names == ["Sandbox demo", "Fitness app (live)", "Local sandbox"]
    assert all(p.message_templates == DEFAULT_TEMPLATES for p in store.profiles())
    live = store.find_by_name("Fitness app (live)")
    assert (live.campaignId, str(live.cost_per_action), live.preview_deadline_s) == ("FITLIVE1", "2.50", 8.0)
    assert path.read_bytes() == original  # nothing changed: nothing written

    store.edit(live.id, notes="Checked on Monday")
    after = json.loads(path.read_text(encoding="utf-8"))
    assert after["schema_version"] == 1  # no profile has templates of its own: version 1 holds it all
    assert [e["name"] for e in after["profiles"]] == names
    # null: the defaults (templates are written only where a user changed them).
    assert all(e["message_templates"] is None for e in after["profiles"])
    assert ProfileStore(path).load_warnings == []  # and the next start reads it as it is


def test_the_previous_release_still_reads_a_file_saved_without_templates_of_its_own(tmp_path):
    path = v1_store(tmp_path)
    store = ProfileStore(path)
    live = store.find_by_name("Fitness app (live)")
    store.edit(live.id, notes="Checked on Monday")
    store.add(dataclasses.replace(demo_profile(), id="p1", name="Mine", base_url="http://127.0.0.1:1",
                                  allow_insecure=True))

    old = v1_code().ProfileStore(path)
    assert old.load_warnings == [] and old.set_aside_copies == [] and path.exists()
    assert [p.name for p in old.profiles()] == ["Sandbox demo", "Fitness app (live)", "Local sandbox", "Mine"]
    assert old.get(live.id).notes == "Checked on Monday"


def test_a_file_with_templates_of_its_own_is_version_2_and_the_previous_release_sets_it_aside(tmp_path):
    path = v1_store(tmp_path)
    store = ProfileStore(path)
    live = store.find_by_name("Fitness app (live)")
    store.edit(live.id, message_templates=OWN)
    assert json.loads(path.read_text(encoding="utf-8"))["schema_version"] == 2
    written = path.read_bytes()

    old = v1_code().ProfileStore(path)  # the expected downgrade: set aside whole, as any newer file
    assert [p.id for p in old.profiles()] == [DEMO_PROFILE_ID]
    assert "newer version of the app (schema 2)" in old.load_warnings[0]
    [copy] = old.set_aside_copies
    assert copy.read_bytes() == written
    # Back on this release, nothing was lost: the copy holds every profile and the templates.
    shutil.copy(copy, path)
    assert ProfileStore(path).get(live.id).message_templates == OWN


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


def test_damaged_templates_cost_only_the_templates_and_the_file_is_kept(tmp_path):
    path = tmp_path / "profiles.json"
    store = ProfileStore(path)
    store.add(dataclasses.replace(demo_profile(), id="p1", name="Mine", base_url="http://127.0.0.1:1",
                                  allow_insecure=True, notes="my notes", message_templates=OWN))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["profiles"][1]["message_templates"]["push_body"] = 42
    path.write_text(json.dumps(data), encoding="utf-8")
    original = path.read_bytes()

    reloaded = ProfileStore(path)
    mine = reloaded.get("p1")  # the profile is there, its other fields as saved...
    assert (mine.name, mine.notes, mine.base_url) == ("Mine", "my notes", "http://127.0.0.1:1")
    assert mine.message_templates == DEFAULT_TEMPLATES  # ...with the default templates
    [warning] = reloaded.load_warnings  # the banner the window shows
    [copy] = reloaded.set_aside_copies
    assert "The message templates of “Mine” could not be read" in warning and str(copy) in warning
    assert copy.read_bytes() == original  # the user's templates are still in the copy...
    kept = json.loads(copy.read_text(encoding="utf-8"))["profiles"][1]["message_templates"]
    assert kept["push_title"] == OWN.push_title and kept["attributes"] == [["first_name", "Zoé"]]
    kept["push_body"] = OWN.push_body  # ...and restored from it, once the damaged field is put right
    assert MessageTemplates.from_dict(kept) == OWN
    again = ProfileStore(path)  # the next start is clean: no new copy, no banner
    assert again.load_warnings == [] and again.get("p1").message_templates == DEFAULT_TEMPLATES


def test_a_profile_whose_templates_are_not_templates_at_all_still_loads(tmp_path):
    path = tmp_path / "profiles.json"
    entry = {**dataclasses.replace(demo_profile(), id="p1", name="Mine", base_url="http://127.0.0.1:1",
                                   allow_insecure=True).to_dict(), "message_templates": {"push_title": 5}}
    demo = {**demo_profile().to_dict(), "message_templates": {"push_title": 5}}
    path.write_text(json.dumps({"schema_version": 2, "profiles": [demo, entry]}), encoding="utf-8")
    store = ProfileStore(path)
    assert [p.id for p in store.profiles()] == [DEMO_PROFILE_ID, "p1"]
    assert all(p.message_templates == DEFAULT_TEMPLATES for p in store.profiles())
    [warning] = store.load_warnings
    assert "The message templates of “Sandbox demo”, “Mine” could not be read; those profiles use the " \
           "default templates." in warning
    assert "left out" not in warning and len(store.set_aside_copies) == 1


def test_parse_profile_names_the_damaged_templates():
    entry = {**demo_profile().to_dict(), "id": "x1", "message_templates": {"push_title": ["no"]}}
    profile, problems = parse_profile(entry)
    assert profile is None
    assert problems["message_templates"].startswith("The message templates are damaged: ")
    entry["message_templates"] = {**DEFAULT_TEMPLATES.to_dict(), "attributes": [["a", "b", "c"]]}
    assert "[name, value] pair" in parse_profile(entry)[1]["message_templates"]


def test_the_built_in_profiles_templates_travel_with_an_export(tmp_path):
    source = ProfileStore(tmp_path / "a.json")
    assert source.exportable() == []  # the built-in profile with the defaults: every installation has it
    source.edit(DEMO_PROFILE_ID, message_templates=OWN)  # a tester writes them on the first profile shown
    export = tmp_path / "export.json"
    assert source.export_profiles(export) == 1

    target = ProfileStore(tmp_path / "b.json")
    [added] = target.apply_import(target.parse_import(export))
    assert added.message_templates == OWN and not added.is_builtin
    assert (added.name, added.base_url) == ("Sandbox demo (2)", demo_profile().base_url)
    assert target.get(DEMO_PROFILE_ID).message_templates == DEFAULT_TEMPLATES  # the built-in one is left as it is


def test_templates_travel_with_an_export_and_import(tmp_path):
    source = ProfileStore(tmp_path / "a.json")
    source.add(dataclasses.replace(demo_profile(), id="p1", name="Mine", base_url="http://127.0.0.1:1",
                                   allow_insecure=True, message_templates=OWN))
    export = tmp_path / "export.json"
    export.write_text(export_document(source.exportable()), encoding="utf-8")
    assert json.loads(export.read_text(encoding="utf-8"))["schema_version"] == 2
    plain = tmp_path / "plain.json"  # without templates of its own, an export is one the previous release reads
    plain.write_text(export_document([dataclasses.replace(source.get("p1"), message_templates=DEFAULT_TEMPLATES)]),
                     encoding="utf-8")
    assert json.loads(plain.read_text(encoding="utf-8"))["schema_version"] == 1
    assert [c.valid for c in v1_code().ProfileStore(tmp_path / "v1.json").parse_import(plain).candidates] == [True]

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
