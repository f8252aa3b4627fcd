"""``moments`` on a corporate network, as a subprocess: ``--proxy`` and the window's setting (settings.json)
are honoured, the sandbox on this computer is never proxied, and a certificate or proxy failure is one line
in plain words naming the host (exit 7, nothing sent), never a traceback or a proxy password."""

from __future__ import annotations

import json

import pytest
from forward_proxy import ForwardProxy, closed_port
from tls_certs import self_signed, tls_server

from moments_desktop.cli.exit_codes import ExitCode
from moments_desktop.core.settings import AppSettings, ProxySetting, save_settings

pytestmark = pytest.mark.secret_service

# The machine's own proxy variables must not decide these tests; each test sets what it needs.
NO_PROXY_ENV = {name: None for base in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
                for name in (base, base.lower())}


@pytest.fixture
def remote_profile(sandbox, add_profile, store_key):
    """A profile whose endpoint is http://moments.test (a name only the test proxy resolves: to the sandbox)."""
    profile = add_profile("Behind the proxy", "http://moments.test", allow_insecure=True, **sandbox.demo_body)
    store_key(profile.id, sandbox.demo_key)
    return profile


@pytest.fixture
def proxy(sandbox):
    with ForwardProxy({"moments.test": ("127.0.0.1", int(sandbox.base_url.rsplit(":", 1)[1]))}) as running:
        yield running


def test_dash_dash_proxy_carries_the_call(run_cli, remote_profile, proxy):
    ran = run_cli("info", "--profile", remote_profile.name, "--proxy", proxy.url, "--json", env=NO_PROXY_ENV)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["reward"]["remaining_count"] is not None
    assert proxy.seen == ["POST http://moments.test/GetRewardInfo"]


def test_the_windows_setting_is_honoured_and_dash_dash_proxy_none_overrides_it(run_cli, remote_profile, proxy):
    save_settings(AppSettings(proxy=ProxySetting.manual(proxy.url)))  # MOMENTS_DESKTOP_HOME is the CLI's home
    ran = run_cli("info", "--profile", remote_profile.name, env=NO_PROXY_ENV)
    assert ran.returncode == 0, ran.stderr
    assert proxy.seen == ["POST http://moments.test/GetRewardInfo"]

    direct = run_cli("info", "--profile", remote_profile.name, "--proxy", "none", env=NO_PROXY_ENV)
    assert direct.returncode == ExitCode.NETWORK, direct.stderr  # moments.test does not resolve without the proxy
    assert proxy.seen == ["POST http://moments.test/GetRewardInfo"]


def test_the_sandbox_on_this_computer_is_never_proxied(run_cli, sandbox_profile, proxy):
    profile = sandbox_profile()
    env = {**NO_PROXY_ENV, "HTTP_PROXY": proxy.url}
    ran = run_cli("info", "--profile", profile.name, "--proxy", proxy.url, env=env)
    assert ran.returncode == 0, ran.stderr
    assert proxy.seen == []


def test_an_unreachable_proxy_is_named_without_its_password(run_cli, remote_profile):
    port = closed_port()
    ran = run_cli("info", "--profile", remote_profile.name, "--proxy", f"http://alice:hunter2@127.0.0.1:{port}",
                  env=NO_PROXY_ENV)
    assert ran.returncode == ExitCode.NETWORK, ran.stderr
    assert f"The proxy at http://127.0.0.1:{port} could not be reached" in ran.stderr
    assert "--proxy" in ran.stderr and "Traceback" not in ran.stderr
    assert "hunter2" not in ran.stderr + ran.stdout


def test_a_proxy_that_is_not_one_is_a_usage_error(run_cli, remote_profile):
    ran = run_cli("info", "--profile", remote_profile.name, "--proxy", "socks5://proxy:1080", env=NO_PROXY_ENV)
    assert ran.returncode == ExitCode.USAGE
    assert "--proxy: The proxy address is not valid: socks5:// proxies are not supported" in ran.stderr


def test_a_self_signed_certificate_is_told_in_plain_words_with_the_host(run_cli, add_profile, store_key, sandbox,
                                                                     tmp_path):
    with tls_server(*self_signed(tmp_path)) as url:
        profile = add_profile("Self-signed", url, **sandbox.demo_body)
        store_key(profile.id, sandbox.demo_key)
        ran = run_cli("info", "--profile", profile.name, env={**NO_PROXY_ENV, "SSL_CERT_FILE": None,
                                                              "SSL_CERT_DIR": None})
    assert ran.returncode == ExitCode.NETWORK, ran.stderr
    assert "The certificate of 127.0.0.1 could not be verified: it is self-signed" in ran.stderr
    assert "root certificate must be installed in the operating system" in ran.stderr
    assert "Traceback" not in ran.stderr and "CERTIFICATE_VERIFY_FAILED" not in ran.stderr
