"""Fixtures of the command-line tests: the CLI as a real subprocess with a fresh home per test.

- ``cli_home``: the test's own MOMENTS_DESKTOP_HOME (a tmp folder), also set in this process's environment
  for the test, so the test's own ProfileStore / Journal / History open the same files as the CLI.
- ``run_cli(*args, input=None, env=None, timeout=CLI_TIMEOUT_S) -> CompletedProcess[str]``: ``moments ARGS``
  run to its end in that home (text stdout/stderr; stdin is ``input`` or empty).
- ``start_cli(*args, env=None) -> Popen[str]``: the same, not waited for (interrupt it, run it beside
  something); every process started is killed at the test's end if still running.
- ``add_profile(name, base_url, *, live=False, **settings) -> Profile``: save a profile in the home's
  profiles.json (fields: appId, momentId, deviceType, campaignId, rewardGroupId — the sandbox demo's
  unless given —, cost_per_action, currency, claim_deadline_s, ...).
- ``store_key(profile_id, key) -> str``: put the key in the real keyring (Secret Service: tests using it
  are marked ``secret_service``) through the app's ``CredentialStore.set_key``, over the Secret Service backend
  itself (never keyring's chainer, which in a whole-suite run holds other modules' fake backends); deleted at
  the test's end. Returns the key.
- ``sandbox_profile(name="CLI sandbox", *, live=False, key=None, **fields) -> Profile``: a saved profile
  on the test sandbox (``sandbox`` fixture) with the demo request, its key stored (the demo key unless
  ``key``).

Helpers (``from cli_helpers import ...``): ``json_output(result)``, ``assert_secret_absent(secret, *results,
home=...)``, ``CLI_TIMEOUT_S``, ``run_cli_in`` / ``start_cli_in`` (another home), ``stored_key`` /
``forget_key`` (the test's own reads and clean-ups of the keychain).
"""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import CLI_TIMEOUT_S, HOME_ENV, forget_key, run_cli_in, secret_service_credentials, start_cli_in

from moments_desktop.core.profiles import Profile, ProfileStore


# The sandbox demo's request; add_profile fills in any of the five fields not given.
DEMO_FIELDS = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android", "campaignId": "DEMOCAMP1",
               "rewardGroupId": "US"}


@pytest.fixture
def cli_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "moments-home"
    home.mkdir()
    monkeypatch.setenv(HOME_ENV, str(home))
    return home


@pytest.fixture
def run_cli(cli_home):
    def run(*args: str, input: str | None = None, env=None, timeout: float = CLI_TIMEOUT_S):
        return run_cli_in(cli_home, *args, input=input, env=env, timeout=timeout)
    return run


@pytest.fixture
def start_cli(cli_home):
    started: list[subprocess.Popen] = []

    def start(*args: str, env=None) -> subprocess.Popen:
        proc = start_cli_in(cli_home, *args, env=env)
        started.append(proc)
        return proc
    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=CLI_TIMEOUT_S)  # reaps it and closes its pipes


def profiles_path(home: Path) -> Path:
    return home / "config" / "profiles.json"


@pytest.fixture
def add_profile(cli_home):
    def add(name: str, base_url: str, *, live: bool = False, **settings) -> Profile:
        if "cost_per_action" in settings and settings["cost_per_action"] is not None:
            settings["cost_per_action"] = Decimal(str(settings["cost_per_action"]))
        fields = {**DEMO_FIELDS, **settings}
        store = ProfileStore(profiles_path(cli_home))
        return store.add(Profile(name=name, base_url=base_url, live=live, **fields))
    return add


@pytest.fixture
def store_key():
    from secret_service import require_secret_service

    require_secret_service()
    # The app's CredentialStore over the Secret Service backend itself, not keyring's chainer (see cli_helpers).
    credentials = secret_service_credentials()
    stored: list[str] = []

    def store(profile_id: str, key: str) -> str:
        credentials.set_key(profile_id, key)
        stored.append(profile_id)
        return key
    yield store
    for profile_id in stored:
        forget_key(profile_id)


@pytest.fixture
def sandbox_profile(sandbox, add_profile, store_key):
    def make(name: str = "CLI sandbox", *, live: bool = False, key: str | None = None, **fields) -> Profile:
        body = {**sandbox.demo_body, **fields}
        profile = add_profile(name, sandbox.base_url, live=live, **body)
        store_key(profile.id, key or sandbox.demo_key)
        return profile
    return make
