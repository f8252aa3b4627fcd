"""The fixtures of tests/cli/conftest.py do what they say (other CLI tests rely on them)."""

import os

import pytest
from cli_helpers import HOME_ENV, assert_secret_absent, stored_key

from moments_desktop.core.profiles import ProfileStore


def test_run_cli_runs_the_real_command_in_the_test_home(run_cli, cli_home):
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "exit codes:" in result.stdout
    assert os.environ[HOME_ENV] == str(cli_home)


def test_add_profile_saves_it_in_the_home(add_profile, cli_home):
    profile = add_profile("Saved here", "http://127.0.0.1:9/", appId="A", momentId="M", campaignId="C",
                          rewardGroupId="US", cost_per_action="0.25")
    reloaded = ProfileStore(cli_home / "config" / "profiles.json")
    assert reloaded.get(profile.id).name == "Saved here"


@pytest.mark.secret_service
def test_store_key_uses_the_real_keyring(store_key, add_profile):
    profile = add_profile("Keyed", "http://127.0.0.1:9/")
    store_key(profile.id, "fixture-key-0001")
    assert stored_key(profile.id) == "fixture-key-0001"


def test_assert_secret_absent_finds_a_key_in_a_file(cli_home):
    (cli_home / "leak.txt").write_text("x fixture-secret-9 y")
    with pytest.raises(AssertionError):
        assert_secret_absent("fixture-secret-9", home=cli_home)
    assert_secret_absent("another-secret", "plain text", home=cli_home)
