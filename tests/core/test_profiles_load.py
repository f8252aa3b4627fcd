"""Loading profiles.json: pathological files are set aside and told, damaged entries copied aside once,
names checked for uniqueness without comparing every pair (issue 11, findings 2, 3, 9)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from synthetic_profiles import synthetic_profile, write_profiles_file  # tests/synthetic_profiles.py

from moments_desktop.core import profiles as profiles_module
from moments_desktop.core.profiles import DEMO_PROFILE_ID, ProfileStore


def corrupt_copies(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


@pytest.mark.parametrize("text, why", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"schema_version": 1, "profiles": [' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "]}", "nested too deeply"),
    ('{"schema_version": 1, "profiles": [' + "9" * 10_000 + "]}", "cannot be read as JSON"),
    ("{not json", "not valid JSON"),
], ids=["deep-list", "deep-object", "huge-integer", "not-json"])
def test_a_pathological_file_is_moved_aside_and_told(tmp_path, text, why):
    path = tmp_path / "profiles.json"
    path.write_text(text, encoding="utf-8")
    store = ProfileStore(path)
    [copy] = corrupt_copies(path)
    assert copy.read_text(encoding="utf-8") == text and not path.exists()
    assert [p.id for p in store.profiles()] == [DEMO_PROFILE_ID]
    assert store.set_aside_copies == [copy]
    [warning] = store.load_warnings
    assert why in warning and str(copy) in warning
    assert ProfileStore(path).load_warnings == []  # the next start is clean


def test_a_file_over_the_size_limit_is_not_read(tmp_path, monkeypatch):
    path = write_profiles_file(tmp_path / "profiles.json", 50)
    monkeypatch.setattr(profiles_module, "MAX_STORE_BYTES", path.stat().st_size - 1)
    store = ProfileStore(path)
    assert len(store) == 1 and "MiB" in store.load_warnings[0] and len(corrupt_copies(path)) == 1


def test_damaged_entries_are_copied_aside_once_and_the_good_ones_kept(tmp_path):
    path = tmp_path / "profiles.json"
    entries = [synthetic_profile(1), dict(synthetic_profile(2), appId=""), synthetic_profile(3),
               dict(synthetic_profile(4), name="Campaign 000001", id="another")]  # a duplicate name
    path.write_text(json.dumps({"schema_version": 1, "profiles": entries}), encoding="utf-8")
    original = path.read_bytes()

    store = ProfileStore(path)
    [copy] = corrupt_copies(path)
    assert copy.read_bytes() == original
    assert [p.id for p in store.profiles()] == [DEMO_PROFILE_ID, "synthetic00000001", "synthetic00000003"]
    [warning] = store.load_warnings
    assert "#2 (Campaign 000002)" in warning and "#4 (Campaign 000001)" in warning and str(copy) in warning

    again = ProfileStore(path)
    assert again.load_warnings == [] and len(again) == 3
    assert corrupt_copies(path) == [copy]


def unwritable(folder: Path):
    if os.geteuid() != 0:
        folder.chmod(0o500)
        return lambda: folder.chmod(0o700)
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)
    pytest.skip("running as root without chattr +i: no way to make a folder read-only here")


def test_a_copy_already_kept_is_not_made_again_when_the_file_cannot_be_rewritten(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "profiles.json"
    path.write_text(json.dumps({"schema_version": 1, "profiles": [synthetic_profile(1), {"name": 3}]}),
                    encoding="utf-8")
    first = ProfileStore(path)
    [copy] = corrupt_copies(path)
    path.write_bytes(copy.read_bytes())  # as if the rewrite had failed
    undo = unwritable(folder)
    try:
        second = ProfileStore(path)
    finally:
        undo()
    assert corrupt_copies(path) == [copy]
    assert str(copy) in second.load_warnings[0] and len(second) == len(first) == 2


def counting_name_comparisons(monkeypatch) -> list[int]:
    compared = [0]
    original = profiles_module.validate_name

    def counting_validate_name(name, others=(), own_id=None):
        others = list(others)
        compared[0] += len(others)
        return original(name, others, own_id)

    monkeypatch.setattr(profiles_module, "validate_name", counting_validate_name)
    return compared


def test_a_large_import_makes_names_unique_without_comparing_every_pair(tmp_path, monkeypatch):
    store = ProfileStore(write_profiles_file(tmp_path / "profiles.json", 500))
    # The same 500 profiles again (names all taken) and 1,000 new ones.
    source = write_profiles_file(tmp_path / "import.json", 1500)
    report = store.parse_import(source)
    compared = counting_name_comparisons(monkeypatch)
    added = store.apply_import(report)
    assert len(added) == 1500 and len(store) == 2001
    assert len({p.name.casefold() for p in store.profiles()}) == 2001  # every name unique
    assert compared[0] == 0


def test_names_are_checked_against_a_dict_not_every_other_profile(tmp_path, monkeypatch):
    """The quadratic load of finding 3: each entry was compared with every profile loaded before it."""
    path = write_profiles_file(tmp_path / "profiles.json", 2000)
    compared = counting_name_comparisons(monkeypatch)
    store = ProfileStore(path)
    assert len(store) == 2001
    assert compared[0] == 0  # no profile compared with the others one by one
