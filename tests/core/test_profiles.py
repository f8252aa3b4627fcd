import json
import os
import threading
import time
from decimal import Decimal

import pytest

from moments_desktop.core import paths
from moments_desktop.core.errors import ValidationError
from moments_desktop.core.profiles import (
    DEMO_PROFILE_ID,
    EMBEDDED_SANDBOX_URL,
    Profile,
    ProfileError,
    ProfileNotFoundError,
    ProfileStore,
)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def make(name="Staging", **kw):
    values = dict(name=name, base_url="https://api.example.com/prod", appId="APP1", momentId="LEVEL_UP",
                  deviceType="Android", campaignId="CAMP1", rewardGroupId="US", live=True,
                  cost_per_action=Decimal("0.25"), currency="usd")
    values.update(kw)
    return Profile(**values)


def test_paths_follow_home(home):
    assert paths.config_dir() == home / "config"
    assert paths.data_dir() == home / "data"
    assert paths.log_dir() == home / "logs"
    assert all(d.is_dir() for d in (home / "config", home / "data", home / "logs"))
    assert ProfileStore().path == home / "config" / "profiles.json"


def test_demo_profile_always_present_and_undeletable(home):
    store = ProfileStore()
    demo = store.get(DEMO_PROFILE_ID)
    assert (demo.name, demo.base_url, demo.appId, demo.momentId, demo.deviceType, demo.campaignId,
            demo.rewardGroupId, demo.live) == (
        "Sandbox demo", EMBEDDED_SANDBOX_URL, "DEMO1", "GAME_COMPLETE", "Android", "DEMOCAMP1", "US", False)
    with pytest.raises(ProfileError):
        store.delete(DEMO_PROFILE_ID)
    # Even a saved file without it gets it back.
    store.path.write_text(json.dumps({"schema_version": 1, "profiles": []}))
    assert DEMO_PROFILE_ID in ProfileStore()


def test_demo_to_request_resolves_embedded_sandbox():
    demo = ProfileStore().get(DEMO_PROFILE_ID)
    request = demo.to_request("http://127.0.0.1:5555")
    assert request.base_url == "http://127.0.0.1:5555" and request.field_errors() == {}
    assert "base_url" in demo.to_request().field_errors()  # never sendable unresolved


def test_crud_roundtrip_and_stable_ids():
    store = ProfileStore()
    added = store.add(make())
    assert added.currency == "USD" and len(added.id) == 32
    renamed = store.rename(added.id, "Staging EU")
    assert renamed.id == added.id
    copy = store.duplicate(added.id)
    assert copy.id != added.id and copy.name == "Staging EU copy"
    reloaded = ProfileStore()
    assert [p.name for p in reloaded] == ["Sandbox demo", "Staging EU", "Staging EU copy"]
    assert reloaded.get(added.id).cost_per_action == Decimal("0.25")
    reloaded.update(make("Staging EU", id=added.id, notes="hello"))
    assert ProfileStore().get(added.id).notes == "hello"
    reloaded.delete(copy.id)
    with pytest.raises(ProfileNotFoundError):
        ProfileStore().get(copy.id)


def test_field_errors():
    store = ProfileStore()
    store.add(make("Taken"))
    bad = make("  taken ", appId=" ", cost_per_action=Decimal(-1), currency="EURO",
               base_url="http://example.com")
    errors = bad.field_errors(store.profiles())
    assert set(errors) == {"name", "appId", "cost_per_action", "currency", "base_url"}
    assert "Taken" in errors["name"]
    assert make(base_url="http://example.com", allow_insecure=True).field_errors() == {}
    assert make(base_url=EMBEDDED_SANDBOX_URL).field_errors() == {}
    assert "name" in make("").field_errors()
    with pytest.raises(ValidationError) as caught:
        store.add(bad)
    assert "cost_per_action" in caught.value.field_errors


def test_atomic_write_leaves_no_temp_files_and_survives_failed_write(monkeypatch):
    store = ProfileStore()
    store.add(make())
    before = store.path.read_text()
    assert [p.name for p in store.path.parent.iterdir()] == ["profiles.json"]

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        store.add(make("Another"))
    assert store.path.read_text() == before
    assert [p.name for p in store.path.parent.iterdir()] == ["profiles.json"]


def test_a_failed_write_changes_nothing_in_the_store_either(monkeypatch, tmp_path):
    store = ProfileStore()
    staging = store.add(make())
    source = tmp_path / "in.json"
    source.write_text(json.dumps([make("Imported").to_dict()]))
    report = store.parse_import(source)

    def disk_full(path, text, encoding="utf-8"):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths, "atomic_write_text", disk_full)
    for change in (lambda: store.add(make("Another")), lambda: store.rename(staging.id, "Renamed"),
                   lambda: store.edit(staging.id, appId="EDITED"), lambda: store.duplicate(staging.id),
                   lambda: store.delete(staging.id), lambda: store.apply_import(report)):
        with pytest.raises(OSError):
            change()
    # what the store shows is what the file holds: a write that failed left no trace in memory
    assert [(p.name, p.appId) for p in store] == [("Sandbox demo", "DEMO1"), ("Staging", "APP1")]
    assert [p.name for p in ProfileStore(store.path)] == ["Sandbox demo", "Staging"]


def slow_writes(monkeypatch, delay_s):
    """Make every profiles.json write take ``delay_s``; returns the threads that wrote."""
    writers: list[threading.Thread] = []
    real_write = paths.atomic_write_text

    def slow(path, text, encoding="utf-8"):
        writers.append(threading.current_thread())
        time.sleep(delay_s)
        real_write(path, text, encoding)

    monkeypatch.setattr(paths, "atomic_write_text", slow)
    return writers


def test_readers_do_not_wait_for_a_write_in_another_thread(monkeypatch):
    store = ProfileStore()
    staging = store.add(make())
    writers = slow_writes(monkeypatch, 0.5)
    worker = threading.Thread(target=store.edit, args=(staging.id,), kwargs={"appId": "EDITED"})
    worker.start()
    while not writers:  # the worker is inside the write
        time.sleep(0.001)
    started = time.monotonic()
    seen = (store.get(staging.id).appId, [p.id for p in store.profiles()], len(store), staging.id in store,
            store.find_by_name("Staging").appId)
    read_s = time.monotonic() - started
    assert worker.is_alive()  # still writing
    worker.join()
    # the state before the change until the file holds the new one; and no waiting for the disk
    assert seen == ("APP1", [DEMO_PROFILE_ID, staging.id], 2, True, "APP1")
    assert read_s < 0.1, read_s
    assert store.get(staging.id).appId == "EDITED"


def test_changes_from_several_threads_at_once_lose_none(monkeypatch):
    store = ProfileStore()
    slow_writes(monkeypatch, 0.02)  # widens the window in which two changes could start from one state
    names = [f"Parallel {n}" for n in range(8)]
    workers = [threading.Thread(target=store.add, args=(make(name),)) for name in names]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(p.name for p in store if p.id != DEMO_PROFILE_ID) == names
    assert sorted(p.name for p in ProfileStore(store.path) if p.id != DEMO_PROFILE_ID) == names


@pytest.mark.parametrize("content", [
    b"{not json",
    b"\xff\xfe garbage",
    b'["a list"]',
    b'{"profiles": []}',
    b'{"schema_version": 99, "profiles": []}',
])
def test_corrupt_file_is_moved_aside(content):
    config = paths.config_dir()
    (config / "profiles.json").write_bytes(content)
    store = ProfileStore()
    assert [p.id for p in store] == [DEMO_PROFILE_ID]
    assert len(store.load_warnings) == 1 and "moved aside" in store.load_warnings[0]
    aside = [p for p in config.iterdir() if p.name.startswith("profiles.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == content
    store.add(make())  # the app keeps working
    assert ProfileStore().load_warnings == []


def test_hand_mangled_entry_is_skipped_and_original_kept():
    store = ProfileStore()
    good = store.add(make("Good"))
    data = json.loads(store.path.read_text())
    data["profiles"].append({"id": "abc", "name": "Broken", "appId": 5})
    store.path.write_text(json.dumps(data))
    reloaded = ProfileStore()
    assert [p.id for p in reloaded] == [DEMO_PROFILE_ID, good.id]
    assert "Broken" in reloaded.load_warnings[0]
    assert any(p.name.startswith("profiles.json.corrupt-") for p in store.path.parent.iterdir())


def test_export_has_no_secrets_and_import_roundtrip(tmp_path):
    store = ProfileStore()
    a = store.add(make("A"))
    b = store.add(make("B", live=False, cost_per_action=None))
    out = tmp_path / "export.json"
    assert store.export_profiles(out, [a.id, b.id]) == 2
    text = out.read_text()
    assert "api_key" not in text and "x-api-key" not in text
    report = store.parse_import(out)
    assert report.file_error is None and len(report.valid) == 2
    added = store.apply_import(report)
    # Same ids exist already: new ids, names made unique.
    assert {p.id for p in added}.isdisjoint({a.id, b.id})
    assert sorted(p.name for p in added) == ["A (2)", "B (2)"]
    assert ProfileStore().get(added[0].id).cost_per_action in (Decimal("0.25"), None)


def test_export_of_all_profiles_leaves_the_builtin_demo_out(tmp_path):
    store = ProfileStore()
    a = store.add(make("A"))
    out = tmp_path / "export.json"
    assert store.export_profiles(out) == 1
    assert [p["id"] for p in json.loads(out.read_text())["profiles"]] == [a.id]


def test_import_report_per_field(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"schema_version": 1, "profiles": [
        {"name": "Fine", "base_url": "https://x.example", "appId": "A", "momentId": "M", "deviceType": "Web",
         "campaignId": "C", "rewardGroupId": "US", "live": False, "api_key": "sk-should-not-come-in"},
        {"name": "Bad", "base_url": "ftp://x", "appId": "", "momentId": "M", "deviceType": "Web",
         "campaignId": "C", "rewardGroupId": "US", "cost_per_action": "-3", "currency": "dollars",
         "live": "yes"},
        "not even an object",
    ]}))
    store = ProfileStore()
    report = store.parse_import(source)
    assert [c.label for c in report.candidates] == ["Fine", "Bad", "Profile #3"]
    fine, bad, junk = report.candidates
    assert fine.valid and "API key" in fine.notes[0]
    assert set(bad.problems) == {"base_url", "appId", "cost_per_action", "currency", "live"}
    assert not junk.valid and "profile" in junk.problems
    added = store.apply_import(report)
    assert [p.name for p in added] == ["Fine"]
    assert "sk-should-not-come-in" not in store.path.read_text()


def test_import_unreadable_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    report = ProfileStore().parse_import(bad)
    assert report.file_error and report.candidates == []
    assert ProfileStore().apply_import(report) == []


def test_import_without_live_flag_is_treated_as_live(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps([{"name": "X", "base_url": "https://x.example", "appId": "A",
                                   "momentId": "M", "deviceType": "Web", "campaignId": "C",
                                   "rewardGroupId": "US"}]))
    report = ProfileStore().parse_import(source)
    assert report.valid[0].live is True
