"""Corporate networks, end to end over real sockets: a forward proxy on 127.0.0.1 (tests/forward_proxy.py) in
front of the real sandbox, a TLS server with a self-signed certificate (tests/tls_certs.py).

- A name that is not this computer (http://moments.test) goes through the proxy the setting gives (manual, or
  the system's from the environment); the sandbox on 127.0.0.1 never does, whatever the setting.
- A proxy that cannot be reached, that wants a password, or that refuses the tunnel is said in plain words
  with the proxy named (never its password), and a claim through it is NOT_SENT (nothing spent).
- A certificate that cannot be verified names the host and why, for a preview and for a claim.
"""

from __future__ import annotations

import asyncio

import pytest
from forward_proxy import ForwardProxy, closed_port
from session_helpers import run_session
from tls_certs import self_signed, tls_server

from moments_desktop.api_schema import Endpoint, Outcome
from moments_desktop.core.client import MomentsClient
from moments_desktop.core.errors import CertificateError, NotSentError, ProxyError
from moments_desktop.core.http import make_client
from moments_desktop.core.request import RewardRequest
from moments_desktop.core.profiles import Profile
from moments_desktop.core.settings import PROXY_MANUAL, PROXY_NONE, PROXY_SYSTEM, InvalidProxyError, ProxySetting

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def proxy_to_sandbox(sandbox):
    """A forward proxy that resolves moments.test to the sandbox."""
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    with ForwardProxy({"moments.test": ("127.0.0.1", port)}) as proxy:
        yield proxy


def _request(base_url: str, body: dict) -> RewardRequest:
    return RewardRequest(base_url=base_url, allow_insecure=True, **body)


async def _preview(setting: ProxySetting, base_url: str, sandbox):
    async with make_client(proxy=setting) as http:
        return await MomentsClient(http, info_retries=0).get_reward_info(_request(base_url, sandbox.demo_body),
                                                                        sandbox.demo_key)


def test_a_manual_proxy_carries_a_remote_name_and_the_sandbox_on_this_computer_bypasses_it(sandbox, proxy_to_sandbox):
    setting = ProxySetting.manual(proxy_to_sandbox.url)
    through = asyncio.run(_preview(setting, "http://moments.test", sandbox))
    assert through.ok, through.error
    assert through.reward.remaining_count is not None
    assert proxy_to_sandbox.seen == ["POST http://moments.test/GetRewardInfo"]

    direct = asyncio.run(_preview(setting, sandbox.base_url, sandbox))
    assert direct.ok, direct.error
    assert proxy_to_sandbox.seen == ["POST http://moments.test/GetRewardInfo"]  # 127.0.0.1 went directly


def test_localhost_and_every_loopback_address_bypass_any_proxy():
    from moments_desktop.core.http import NetworkRouter

    router = NetworkRouter(ProxySetting.manual("http://proxy.example.com:3128"))
    for url in ("http://127.0.0.1:8000/x", "http://127.5.6.7/x", "http://localhost:1/x", "http://[::1]:9/x",
                "https://app.localhost/x"):
        assert router.proxy_for(url) is None, url
    assert router.proxy_for("https://moments.example.com/prod") == "http://proxy.example.com:3128"


def test_the_system_proxy_comes_from_the_environment_and_honours_no_proxy(sandbox, proxy_to_sandbox, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy_to_sandbox.url)
    monkeypatch.setenv("NO_PROXY", "elsewhere.test")
    system = ProxySetting(PROXY_SYSTEM)
    assert asyncio.run(_preview(system, "http://moments.test", sandbox)).ok
    assert asyncio.run(_preview(system, sandbox.base_url, sandbox)).ok  # never proxied, though not in NO_PROXY
    assert proxy_to_sandbox.seen == ["POST http://moments.test/GetRewardInfo"]

    monkeypatch.setenv("NO_PROXY", "moments.test")
    bypassed = asyncio.run(_preview(system, "http://moments.test", sandbox))  # direct: moments.test does not resolve
    assert not bypassed.ok and isinstance(bypassed.error, NotSentError)
    assert proxy_to_sandbox.seen == ["POST http://moments.test/GetRewardInfo"]


def test_no_proxy_ignores_the_environment(sandbox, proxy_to_sandbox, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy_to_sandbox.url)
    result = asyncio.run(_preview(ProxySetting(PROXY_NONE), "http://moments.test", sandbox))
    assert not result.ok and not isinstance(result.error, ProxyError)  # tried directly: the name does not resolve
    assert proxy_to_sandbox.seen == []


def test_changing_the_setting_on_a_running_client_takes_effect_on_the_next_request(sandbox, proxy_to_sandbox):
    async def scenario() -> list[bool]:
        async with make_client(proxy=ProxySetting(PROXY_NONE)) as http:
            client = MomentsClient(http, info_retries=0)
            request = _request("http://moments.test", sandbox.demo_body)
            before = await client.get_reward_info(request, sandbox.demo_key)
            http.set_proxy(ProxySetting.manual(proxy_to_sandbox.url))
            after = await client.get_reward_info(request, sandbox.demo_key)
            return [before.ok, after.ok]

    assert asyncio.run(scenario()) == [False, True]
    assert proxy_to_sandbox.seen == ["POST http://moments.test/GetRewardInfo"]


def test_a_proxy_that_cannot_be_reached_is_named_and_a_claim_through_it_is_not_sent(sandbox):
    port = closed_port()
    setting = ProxySetting.manual(f"http://alice:hunter2secret@127.0.0.1:{port}")

    async def scenario():
        async with make_client(proxy=setting) as http:
            client = MomentsClient(http, info_retries=0)
            request = _request("http://moments.test", sandbox.demo_body)
            return (await client.get_reward_info(request, sandbox.demo_key),
                    await client.get_reward(request, sandbox.demo_key))

    ledger_before = len(sandbox.admin.ledger())
    preview, claim = asyncio.run(scenario())
    for result in (preview, claim):
        assert result.outcome is Outcome.NOT_SENT
        assert isinstance(result.error, ProxyError)
        message = result.error.message
        assert message.startswith(f"The proxy at http://127.0.0.1:{port} could not be reached"), message
        assert "Nothing was sent and nothing was spent" in message and "Network settings" in message
        assert "hunter2secret" not in message and "alice" not in message
        assert "hunter2secret" not in (result.exchange.error_message or "")
    assert len(sandbox.admin.ledger()) == ledger_before


def test_a_proxy_that_wants_a_password_says_so_and_the_password_in_the_setting_is_sent(sandbox):
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    with ForwardProxy({"moments.test": ("127.0.0.1", port)}, credentials=("alice", "s3cr3t pass")) as proxy:
        refused = asyncio.run(_preview(ProxySetting.manual(proxy.url), "http://moments.test", sandbox))
        assert isinstance(refused.error, ProxyError), refused.error
        assert refused.error.message.startswith(f"The proxy at {proxy.url} asks for a user name and password")
        accepted = asyncio.run(_preview(ProxySetting.manual(proxy.url, "alice", "s3cr3t pass"),
                                        "http://moments.test", sandbox))
        assert accepted.ok, accepted.error
        assert proxy.authorizations[0] is None and proxy.authorizations[1].startswith("Basic ")


def test_a_proxy_refusing_the_tunnel_is_named_with_the_host_and_a_claim_is_not_sent(sandbox):
    with ForwardProxy(refuse_connect=True) as proxy:
        async def claim():
            async with make_client(proxy=ProxySetting.manual(proxy.url)) as http:
                return await MomentsClient(http).get_reward(_request("https://moments.test", sandbox.demo_body),
                                                            sandbox.demo_key)

        result = asyncio.run(claim())
    assert result.outcome is Outcome.NOT_SENT and isinstance(result.error, ProxyError)
    assert result.error.message.startswith(
        f"The proxy at {proxy.url} refused the connection to moments.test: it answered 403"), result.error.message
    assert proxy.seen == ["CONNECT moments.test:443"]



# --- SOCKS: not supported (it would need socksio), said so, and nothing is sent ---------------------


def _socks_said_plainly(result) -> None:
    assert result.outcome is Outcome.NOT_SENT, result.error
    assert isinstance(result.error, ProxyError), repr(result.error)
    message = result.error.message
    assert message.startswith("SOCKS proxies are not supported"), message
    assert "No proxy or an http proxy" in message and "Network settings" in message, message
    assert "Nothing was sent and nothing was spent" in message, message
    assert "socksio" not in message and "hunter2secret" not in message, message


@pytest.mark.parametrize("variable, scheme", [("ALL_PROXY", "socks5"), ("HTTPS_PROXY", "socks5h"),
                                              ("all_proxy", "socks4")])
def test_a_socks_proxy_in_the_environment_gives_a_not_sent_result_in_plain_words(sandbox, monkeypatch,
                                                                                  variable, scheme):
    monkeypatch.setenv(variable, f"{scheme}://alice:hunter2secret@127.0.0.1:{closed_port()}")

    async def scenario():
        async with make_client() as http:
            client = MomentsClient(http, info_retries=0)
            request = RewardRequest(base_url="https://moments.test", **sandbox.demo_body)
            return (await client.get_reward_info(request, sandbox.demo_key),
                    await client.get_reward(request, sandbox.demo_key))

    ledger_before = len(sandbox.admin.ledger())
    for result in asyncio.run(scenario()):
        _socks_said_plainly(result)
    assert len(sandbox.admin.ledger()) == ledger_before


def test_a_manual_socks_proxy_is_refused_when_saved_and_said_plainly_if_it_reaches_the_router(sandbox):
    with pytest.raises(InvalidProxyError):
        ProxySetting.manual("socks5://127.0.0.1:1080")
    # One made without the settings' check (an old settings file, a caller of its own) is still never used.
    setting = ProxySetting(PROXY_MANUAL, f"socks5://127.0.0.1:{closed_port()}")
    _socks_said_plainly(asyncio.run(_preview(setting, "http://moments.test", sandbox)))
    other = asyncio.run(_preview(ProxySetting(PROXY_MANUAL, "ftp://127.0.0.1:21"), "http://moments.test", sandbox))
    assert other.outcome is Outcome.NOT_SENT and isinstance(other.error, ProxyError)
    assert other.error.message.startswith("ftp:// proxies are not supported"), other.error.message


def test_a_claim_through_a_socks_proxy_is_journaled_not_sent_and_spends_nothing(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", f"socks5h://127.0.0.1:{closed_port()}")

    async def scenario(s):
        mine = s.profiles.add(Profile(name="Behind SOCKS", base_url="https://moments.test", **sandbox.demo_body))
        await s.store_key(mine.id, sandbox.demo_key)
        result = await s.claim(s.plan_claim(mine.id))
        _socks_said_plainly(result.call)
        [entry] = s.journal.query()
        assert entry.outcome is Outcome.NOT_SENT and entry.endpoint == Endpoint.GET_REWARD.value
        assert s.journal.unresolved() == []

    ledger_before = sandbox.admin.ledger()
    run_session(sandbox, tmp_path, scenario)
    assert sandbox.admin.ledger() == ledger_before


# --- certificates ---------------------------------------------------------------------------------


@pytest.fixture
def untrusted_server(tmp_path, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with tls_server(*self_signed(tmp_path)) as url:
        yield url


def test_a_self_signed_certificate_is_explained_with_the_host_named(sandbox, untrusted_server):
    result = asyncio.run(_preview(ProxySetting(PROXY_NONE), untrusted_server, sandbox))
    assert result.outcome is Outcome.NOT_SENT
    error = result.error
    assert isinstance(error, CertificateError) and error.host == "127.0.0.1"
    assert error.message.startswith("The certificate of 127.0.0.1 could not be verified: it is self-signed"), \
        error.message
    assert "root certificate must be installed in the operating system" in error.message
    assert "Nothing was sent" in error.message and "Traceback" not in error.message
    assert "CERTIFICATE_VERIFY_FAILED" in error.technical


def test_an_expired_certificate_is_said_to_have_expired(sandbox, tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path, expired=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted, but out of date
    with tls_server(cert, key) as url:
        result = asyncio.run(_preview(ProxySetting(PROXY_NONE), url, sandbox))
    assert isinstance(result.error, CertificateError)
    assert result.error.message.startswith("The certificate of 127.0.0.1 could not be verified: it has expired")


def test_a_claim_to_an_untrusted_certificate_is_not_sent_and_names_the_host(sandbox, untrusted_server):
    async def claim():
        async with make_client() as http:
            return await MomentsClient(http).get_reward(_request(untrusted_server, sandbox.demo_body),
                                                        sandbox.demo_key)

    result = asyncio.run(claim())
    assert result.outcome is Outcome.NOT_SENT
    assert isinstance(result.error, CertificateError) and "127.0.0.1" in result.error.message


def test_a_certificate_error_through_a_proxy_names_the_endpoint_not_the_proxy(sandbox, tmp_path, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with tls_server(*self_signed(tmp_path, host_name="moments.test")) as url:
        port = int(url.rsplit(":", 1)[1])
        with ForwardProxy({"moments.test": ("127.0.0.1", port)}) as proxy:
            result = asyncio.run(_preview(ProxySetting.manual(proxy.url), f"https://moments.test:{port}", sandbox))
    assert isinstance(result.error, CertificateError), result.error
    assert result.error.message.startswith("The certificate of moments.test could not be verified")
    assert proxy.seen == [f"CONNECT moments.test:{port}"]


def test_a_plain_http_proxy_client_builds_no_tls_context_until_https(sandbox, proxy_to_sandbox):
    async def scenario():
        async with make_client(proxy=ProxySetting.manual(proxy_to_sandbox.url)) as http:
            await http.get("http://moments.test/__sandbox/catalog")
            return http.router.direct._pool._ssl_context  # noqa: SLF001 - the lazily built context

    context = asyncio.run(scenario())
    assert not context.built


def test_a_reward_image_behind_an_untrusted_certificate_says_why_it_is_missing(untrusted_server):
    from moments_desktop.core.images import ImageFetchError, fetch_image_bytes

    async def fetch():
        async with make_client() as http:
            return await fetch_image_bytes(http, untrusted_server + "/image.png", deadline=10)

    with pytest.raises(ImageFetchError) as raised:
        asyncio.run(fetch())
    assert raised.value.detail == ("The image could not be downloaded. The certificate of 127.0.0.1 could not be "
                                   "verified: it is self-signed, and this computer does not trust it.")
