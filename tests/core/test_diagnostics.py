"""Help ▸ About's rows and "Copy diagnostics" (core/diagnostics.py): versions, keychain, folders and the proxy;
no key (one is stored first), no proxy password, and no profile name, endpoint host or campaign in clear."""

from __future__ import annotations

import platform

import pytest
from session_helpers import run_session

from moments_desktop import __version__
from moments_desktop.core import paths
from moments_desktop.core.profiles import Profile
from moments_desktop.core.settings import ProxySetting

KEY = "live-key-DIAGNOSTICS-5f3a9c"
PROFILE_NAME = "Contoso Holiday Campaign"
HOST = "rewards-contoso.example.com"
CLEAR = (KEY, PROFILE_NAME, "Contoso", HOST, "APPIDXYZ123", "LIVECAMP77", "hunter2", "alice")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:hunter2@proxy.corp.example:3128")
    monkeypatch.delenv("https_proxy", raising=False)
    return tmp_path / "home"


def _diagnostics(sandbox, tmp_path, *, presenter: bool = False):
    async def scenario(session):
        profile = session.profiles.add(Profile(
            name=PROFILE_NAME, base_url=f"https://{HOST}/prod", appId="APPIDXYZ123", momentId="GAME_COMPLETE",
            deviceType="Android", campaignId="LIVECAMP77", rewardGroupId="US"))
        await session.store_key(profile.id, KEY)
        await session.save_proxy_setting(ProxySetting.manual("http://proxy.corp.example:3128", "alice", "hunter2"))
        session.set_presenter(presenter)
        text = session.diagnostics(keychain="MemoryKeyring (test)", qt_version="6.11.3", pyside_version="6.11.3")
        rows = session.about(keychain="MemoryKeyring (test)", qt_version="6.11.3")
        return text, rows, session.credentials.get_key(profile.id)

    return run_session(sandbox, tmp_path, scenario)


@pytest.mark.parametrize("presenter", [False, True], ids=["presenter-off", "presenter-on"])
def test_diagnostics_hold_no_key_no_password_and_no_clear_identifier(home, sandbox, tmp_path, presenter):
    text, _rows, stored = _diagnostics(sandbox, tmp_path, presenter=presenter)
    assert stored == KEY  # the key was really there to leak
    for clear in CLEAR:
        assert clear not in text, clear
    assert "Profile 2" in text and "https://" in text  # the profile is listed, masked
    assert "built-in sandbox" in text  # the demo profile


def test_diagnostics_name_versions_keychain_folders_and_the_proxy(home, sandbox, tmp_path):
    text, rows, _ = _diagnostics(sandbox, tmp_path)
    assert "Version" in text and __version__ in text
    assert f"Python {platform.python_version()}" in text and "Qt" in text and "PySide6" in text
    assert "MemoryKeyring (test)" in text
    for folder in (paths.config_location(), paths.data_location(), paths.log_location(), paths.cache_location()):
        assert str(folder) in text
    assert "Manual proxy http://proxy.corp.example:3128 (with a user name and password)" in text
    assert "HTTPS_PROXY=http://proxy.corp.example:3128 (with a user name and password)" in text
    assert "truststore" in text and "httpx" in text
    labels = [row.label for row in rows]
    assert labels[:3] == ["Version", "Runtime", "Qt"] and "Keychain" in labels and "Proxy" in labels
    about = "\n".join(f"{row.label} {row.value}" for row in rows)
    assert PROFILE_NAME not in about and KEY not in about and "hunter2" not in about
