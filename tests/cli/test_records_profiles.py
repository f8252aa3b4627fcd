"""``moments profiles list|import|export``: the window's profiles and File ▸ Import/Export, for scripts.

Against the real keychain of the test session (``key_stored`` asks it) and real files; never a key in a file
or an output.
"""

from __future__ import annotations

import json
import uuid

import pytest
from golden_helpers import assert_golden
from records_helpers import SECRET_MARK, cli_env, forget_key, moments, profile_entry, write_profiles_file


BODY = {"appId": "SHOP7", "momentId": "GAME_COMPLETE", "deviceType": "Android", "campaignId": "SPRING24",
        "rewardGroupId": "amz1yprime"}
LIVE = profile_entry("QA live", "https://moments.example.test/prod", BODY, live=True, profile_id="golden-qa-live",
                     cost_per_action="2.50", currency="USD")
STAGING = profile_entry("Staging", "http://127.0.0.1:8765", {**BODY, "campaignId": "STAGE1"},
                        profile_id="golden-staging")


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return home


def test_a_fresh_home_lists_the_built_in_profile(home):
    ran = moments(home, "profiles", "list")
    assert ran.code == 0 and ran.stderr == ""
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["NAME", "ID", "MODE", "KEY", "ENDPOINT"]
    assert lines[1].split()[:6] == ["Sandbox", "demo", "(built-in)", "sandbox-demo", "test", "built-in"]
    assert moments(home, "profiles").stdout == ran.stdout  # `moments profiles` alone lists them


def test_import_reports_what_was_added_and_renamed(home, tmp_path):
    file = write_profiles_file(tmp_path / "team.json", LIVE, STAGING, {**STAGING, "id": "another"})
    ran = moments(home, "profiles", "import", str(file))
    assert ran.code == 0, ran.output
    assert ran.stdout.splitlines() == [
        "imported: QA live [live]",
        "imported: Staging [test]",
        "imported: Staging (2) (renamed from 'Staging': that name was taken) [test]",
        "API keys are never imported: store each new profile's key with 'moments key set --profile NAME'.",
    ]
    names = [p["name"] for p in moments(home, "profiles", "list", "--json").json()["profiles"]]
    assert names == ["Sandbox demo", "QA live", "Staging", "Staging (2)"]


@pytest.mark.secret_service
def test_profiles_list_json_is_the_golden_document(home, tmp_path):
    for profile_id in ("golden-qa-live", "golden-staging"):  # a key left by an earlier run would show
        forget_key(profile_id)
    moments(home, "profiles", "import", str(write_profiles_file(tmp_path / "p.json", LIVE, STAGING)))
    assert moments(home, "key", "set", "--profile", "Staging", stdin=f"k-{SECRET_MARK}\n").code == 0
    try:
        ran = moments(home, "profiles", "list", "--json")
        assert ran.code == 0 and SECRET_MARK not in ran.output
        assert_golden("profiles_list.json", ran.json())
        text = moments(home, "profiles", "list").stdout.splitlines()
        assert text[2].split() == ["QA", "live", "golden-qa-live", "live", "none", "https://moments.example.test/prod"]
        assert text[3].split() == ["Staging", "golden-staging", "test", "stored", "http://127.0.0.1:8765"]
    finally:
        forget_key("golden-staging")


def test_import_json_is_the_golden_document(home, tmp_path):
    bad = {"name": "Broken", "base_url": "ftp://nowhere", "appId": "", "live": False}
    with_key = {**STAGING, "id": "golden-with-key", "api_key": f"k-{SECRET_MARK}"}
    file = write_profiles_file(tmp_path / "mixed.json", LIVE, with_key, bad)
    ran = moments(home, "profiles", "import", str(file), "--json")
    assert ran.code == 6, ran.output  # one profile was left out: a pipeline notices
    assert SECRET_MARK not in ran.output
    document = ran.json()
    assert document["file"] == str(file)
    document["file"] = "<FILE>"
    assert_golden("profiles_import.json", document)
    assert ran.stderr == "moments: 1 of the file's 3 profiles were not imported (see above)\n"
    # the valid ones were added all the same, as the window's "Import 2 valid profiles" does
    names = [p["name"] for p in moments(home, "profiles", "list", "--json").json()["profiles"]]
    assert names == ["Sandbox demo", "QA live", "Staging"]


def test_import_text_names_each_skipped_profile_and_its_problems(home, tmp_path):
    bad = {"name": "Broken", "base_url": "ftp://nowhere", "live": False}
    ran = moments(home, "profiles", "import", str(write_profiles_file(tmp_path / "f.json", bad)))
    assert ran.code == 6
    assert ran.stdout.startswith("skipped: Broken: appId: appId is missing.; ")
    assert "; base_url: The URL must start with https://" in ran.stdout
    assert len(ran.stdout.splitlines()) == 1


@pytest.mark.parametrize(("content", "words"), [
    (None, "could not be read: FileNotFoundError"),
    ("{not json", "is not valid JSON (line 1, column 2)"),
    ('{"profiles": 3}', "does not contain a list of profiles"),
    ('{"schema_version": 99, "profiles": []}', "written by a newer version of the app"),
])
def test_import_of_an_unusable_file_is_exit_6_in_one_line(home, tmp_path, content, words):
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    ran = moments(home, "profiles", "import", str(path))
    assert ran.code == 6 and ran.stdout == ""
    assert ran.stderr.startswith(f"moments: {path} cannot be imported: ") and words in ran.stderr
    assert ran.stderr.count("\n") == 1
    assert len(moments(home, "profiles", "list", "--json").json()["profiles"]) == 1  # nothing added


def test_import_of_a_file_without_profiles_says_so(home, tmp_path):
    ran = moments(home, "profiles", "import", str(write_profiles_file(tmp_path / "empty.json")))
    assert (ran.code, ran.stdout) == (0, "The file contains no profiles: nothing was imported.\n")


def test_export_writes_every_profile_without_a_key_and_replaces_the_file(home, tmp_path):
    moments(home, "profiles", "import", str(write_profiles_file(tmp_path / "p.json", LIVE, STAGING)))
    target = tmp_path / "out" / "backup.json"
    target.parent.mkdir()
    target.write_text("old contents", encoding="utf-8")
    ran = moments(home, "profiles", "export", str(target))
    assert ran.code == 0, ran.output
    assert ran.stdout == f"Exported 2 profiles to {target} (without API keys).\n"
    document = json.loads(target.read_text(encoding="utf-8"))
    assert [p["name"] for p in document["profiles"]] == ["QA live", "Staging"]
    # and it reads back into another installation as the same profiles
    other = tmp_path / "other"
    other.mkdir()
    assert moments(other, "profiles", "import", str(target)).code == 0
    listed = moments(other, "profiles", "list", "--json").json()["profiles"]
    assert [(p["name"], p["id"], p["mode"], p["endpoint"]) for p in listed[1:]] == [
        ("QA live", "golden-qa-live", "live", "https://moments.example.test/prod"),
        ("Staging", "golden-staging", "test", "http://127.0.0.1:8765")]


@pytest.mark.secret_service
def test_an_exported_file_never_holds_a_stored_key(home, tmp_path):
    profile_id = f"test-{uuid.uuid4().hex[:12]}"
    moments(home, "profiles", "import",
            str(write_profiles_file(tmp_path / "p.json", {**STAGING, "id": profile_id, "name": "Keyed"})))
    assert moments(home, "key", "set", "--profile", "Keyed", stdin=f"key-{SECRET_MARK}\n").code == 0
    try:
        target = tmp_path / "export.json"
        ran = moments(home, "profiles", "export", str(target))
        assert ran.code == 0 and SECRET_MARK not in ran.output
        assert SECRET_MARK.encode() not in target.read_bytes()
    finally:
        forget_key(profile_id)


def test_export_with_nothing_of_ones_own_is_refused_as_in_the_window(home, tmp_path):
    ran = moments(home, "profiles", "export", str(tmp_path / "x.json"))
    assert ran.code == 6 and "There are no profiles of your own to export yet" in ran.stderr
    assert not (tmp_path / "x.json").exists()


def test_export_where_no_file_can_be_written_is_one_line(home, tmp_path):
    moments(home, "profiles", "import", str(write_profiles_file(tmp_path / "p.json", STAGING)))
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    ran = moments(home, "profiles", "export", str(tmp_path / "a-file" / "x.json"))
    assert ran.code == 6 and ran.stderr.startswith("moments: The profiles could not be exported: ")
    assert ran.stderr.count("\n") == 1


def test_profiles_list_without_a_keychain_still_lists_and_says_why_keys_are_unknown(home, tmp_path):
    moments(home, "profiles", "import", str(write_profiles_file(tmp_path / "p.json", STAGING)))
    ran = moments(home, "profiles", "list", "--json",
                  env=cli_env(home, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"))
    assert ran.code == 0
    assert [p["key_stored"] for p in ran.json()["profiles"]] == [None, None]
    assert ran.stderr.startswith("moments: warning: whether keys are stored is not known: "
                                 "The system keychain is not available")
