"""The app-wide proxy setting (core/settings.py): what is kept in settings.json, read back the same, shown
without its password, and what the Session does with a new one (saved, and the client goes by it)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from forward_proxy import ForwardProxy
from session_helpers import run_session

from moments_desktop.core import paths
from moments_desktop.core.settings import (
    PROXY_MANUAL,
    PROXY_NONE,
    PROXY_SYSTEM,
    AppSettings,
    InvalidProxyError,
    ProxySetting,
    edited_proxy,
    load_settings,
    proxy_url_for_display,
    save_settings,
    settings_path,
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return tmp_path / "home"


@pytest.mark.parametrize("setting", [
    ProxySetting(PROXY_SYSTEM), ProxySetting(PROXY_NONE), ProxySetting.manual("proxy.corp.example:3128"),
    ProxySetting.manual("https://proxy.corp.example:8443", "alice", "p@ss:w/rd é"),
], ids=["system", "none", "manual", "manual-with-credentials"])
def test_every_setting_round_trips_through_settings_json(home, setting):
    save_settings(AppSettings(proxy=setting))
    loaded = load_settings()
    assert loaded.warning is None
    assert loaded.settings.proxy == setting
    assert settings_path() == home / "config" / "settings.json"
    if os.name == "posix":
        assert stat.S_IMODE(settings_path().stat().st_mode) == 0o600  # a proxy password may be in it


def test_no_file_means_the_systems_proxy_and_a_damaged_one_is_told_not_fatal(home):
    assert load_settings().settings.proxy == ProxySetting(PROXY_SYSTEM)
    settings_path().parent.mkdir(parents=True)
    for text in ("{not json", '{"proxy": {"mode": "sometimes"}}', '{"proxy": {"mode": "manual", "url": "ftp://x"}}',
                 "[]"):
        settings_path().write_text(text, encoding="utf-8")
        loaded = load_settings()
        assert loaded.settings.proxy == ProxySetting(PROXY_SYSTEM)
        assert loaded.warning and str(settings_path()) in loaded.warning and "system's proxy" in loaded.warning


def test_a_manual_proxy_is_normalised_and_what_cannot_be_one_is_refused_in_words():
    assert ProxySetting.manual("proxy.example.com:8080").url == "http://proxy.example.com:8080"
    assert ProxySetting.manual(" HTTP://Proxy.Example.com:8080/ ").url == "http://proxy.example.com:8080"
    for bad, words in (("", "no address"), ("socks5://proxy:1080", "socks5:// proxies are not supported"),
                       ("http://proxy:99999", "not valid"), ("http://proxy:8080/path", "no path"),
                       ("http://:8080", "no host")):
        with pytest.raises(InvalidProxyError) as raised:
            ProxySetting.manual(bad)
        assert raised.value.message.startswith("The proxy address is not valid") and words in raised.value.message


def test_the_password_is_never_in_what_is_shown():
    setting = ProxySetting.manual("http://proxy.example.com:8080", "alice", "hunter2")
    assert setting.url == "http://alice:hunter2@proxy.example.com:8080"
    shown = setting.without_credentials()
    assert shown == "http://proxy.example.com:8080 (with a user name and password)"
    assert "hunter2" not in shown and "alice" not in shown
    assert proxy_url_for_display("http://bob:pw@10.0.0.1:3128") == "http://10.0.0.1:3128 (with a user name and password)"


def test_an_empty_password_field_keeps_the_saved_password_only_for_the_same_proxy_and_user():
    saved = ProxySetting.manual("http://proxy.example.com:8080", "alice", "hunter2")
    assert edited_proxy(saved, PROXY_MANUAL, "http://proxy.example.com:8080", "alice", "") == saved
    assert edited_proxy(saved, PROXY_MANUAL, "http://proxy.example.com:8080", "alice", "new").url == \
        "http://alice:new@proxy.example.com:8080"
    assert not edited_proxy(saved, PROXY_MANUAL, "http://other.example.com:8080", "alice", "").has_password
    assert not edited_proxy(saved, PROXY_MANUAL, "http://proxy.example.com:8080", "bob", "").has_password
    assert edited_proxy(saved, PROXY_NONE) == ProxySetting(PROXY_NONE)


def test_the_cli_words_parse():
    assert ProxySetting.parse("system") == ProxySetting(PROXY_SYSTEM)
    assert ProxySetting.parse("none") == ProxySetting.parse("direct") == ProxySetting(PROXY_NONE)
    assert ProxySetting.parse("proxy:3128") == ProxySetting.manual("http://proxy:3128")


def test_the_session_saves_a_new_setting_and_its_client_goes_by_it(home, sandbox, tmp_path):
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    with ForwardProxy({"moments.test": ("127.0.0.1", port)}) as proxy:
        async def scenario(session):
            assert session.proxy_setting == ProxySetting(PROXY_SYSTEM)
            saved = await session.save_proxy_setting(ProxySetting.manual(proxy.url, "alice", "pw"))
            call = {"json": sandbox.demo_body, "headers": {"x-api-key": sandbox.demo_key}}
            answer = await session.http.post("http://moments.test/GetRewardInfo", **call)
            direct = await session.http.post(sandbox.base_url + "/GetRewardInfo", **call)
            return saved, answer.status_code, direct.status_code, session.proxy_description()

        saved, through, direct, described = run_session(sandbox, tmp_path, scenario)
    assert (through, direct) == (200, 200)
    assert proxy.seen == ["POST http://moments.test/GetRewardInfo"]
    assert load_settings().settings.proxy == saved
    assert json.loads(settings_path().read_text(encoding="utf-8"))["proxy"]["mode"] == "manual"
    assert described == f"Manual proxy {proxy.url} (with a user name and password)"


def test_a_settings_file_that_cannot_be_written_leaves_the_client_as_it_was(home, sandbox, tmp_path):
    from read_only_folder import make_unwritable

    from moments_desktop.core.errors import SettingsUnwritableError

    config = paths.config_dir()

    async def scenario(session):
        undo = make_unwritable(config)
        try:
            with pytest.raises(SettingsUnwritableError) as raised:
                await session.save_proxy_setting(ProxySetting(PROXY_NONE))
        finally:
            undo()
        return raised.value, session.proxy_setting

    error, after = run_session(sandbox, tmp_path, scenario)
    assert error.message.startswith("The network settings could not be saved") and "Nothing was changed" in error.message
    assert after == ProxySetting(PROXY_SYSTEM)
