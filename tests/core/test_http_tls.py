"""make_client builds its TLS context on the first https connection: a plain-http call (a sandbox on this
computer) builds none, an https call is verified exactly as httpx verifies it, and environment proxies still
apply. Real servers on 127.0.0.1: the sandbox, a TLS server with a self-signed certificate, a tiny proxy."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from forward_proxy import ForwardProxy
from tls_certs import self_signed as _self_signed
from tls_certs import tls_server as tls_server_at

from moments_desktop.core.http import TLSContextOnFirstUse, _pools, is_cancel_safe, make_client

# Counts every SSLContext made in the process (ssl.create_default_context and httpx's own included).
_COUNT_CONTEXTS_AND_GET = """
import asyncio, ssl, sys
made = []
_new = ssl.SSLContext.__new__
def counting(cls, *args, **kwargs):
    made.append(cls)
    return _new(cls, *args, **kwargs)
ssl.SSLContext.__new__ = counting
from moments_desktop.core.http import make_client
async def main():
    async with make_client() as http:
        answer = await http.get(sys.argv[1])
    print(answer.status_code, len(made))
asyncio.run(main())
"""


PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


def test_a_plain_http_call_builds_no_tls_context(sandbox, monkeypatch):
    # No proxy from the machine's environment: a proxy for the sandbox's URL would change what is connected to.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    out = subprocess.run([sys.executable, "-c", _COUNT_CONTEXTS_AND_GET, sandbox.base_url + "/__sandbox/catalog"],
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["200", "0"], out.stderr


def test_the_client_holds_a_context_to_build_on_first_use_and_http_does_not_build_it(sandbox):
    async def call() -> tuple[int, TLSContextOnFirstUse]:
        async with make_client() as http:
            contexts = {pool._ssl_context for pool in _pools_of(http)}  # noqa: SLF001
            assert len(contexts) == 1
            (context,) = contexts
            assert isinstance(context, TLSContextOnFirstUse)
            answer = await http.get(sandbox.base_url + "/__sandbox/catalog")
            return answer.status_code, context

    status, context = asyncio.run(call())
    assert status == 200
    assert not context.built


def _pools_of(http: httpx.AsyncClient) -> list:
    return _pools(http)


# --- https: a real TLS server on 127.0.0.1 with a self-signed certificate ------------------------


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[str, Path]]:
    """(https URL, its certificate) of a server on 127.0.0.1 whose certificate no default trust store holds."""
    yield from _serve_tls(*_self_signed(tmp_path))


@pytest.fixture
def tls_server_for_another_name(tmp_path) -> Iterator[tuple[str, Path]]:
    """(https URL on 127.0.0.1, its certificate) of a server whose certificate is for example.invalid only."""
    yield from _serve_tls(*_self_signed(tmp_path, host_name="example.invalid"))


def _serve_tls(cert: Path, key: Path) -> Iterator[tuple[str, Path]]:
    with tls_server_at(cert, key) as url:
        yield f"{url}/hello", cert


async def _get(url: str) -> httpx.Response:
    async with make_client() as http:
        return await http.get(url)


def test_https_to_a_certificate_nobody_trusts_is_refused(tls_server, monkeypatch):
    url, _cert = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(_get(url))


def test_https_is_verified_against_the_systems_trust_store(tls_server, monkeypatch):
    """SSL_CERT_FILE names the system's trust store on Linux (OpenSSL's default paths, which truststore uses
    there): the server's own certificate is accepted, so the handshake ran through the context built on first
    use."""
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    answer = asyncio.run(_get(url))
    assert (answer.status_code, answer.text) == (200, "secure hello")


def test_https_to_a_certificate_for_another_name_is_refused_as_not_sent(tls_server_for_another_name, monkeypatch):
    """The server's certificate is trusted (SSL_CERT_FILE) but names example.invalid, not 127.0.0.1: the context
    built on first use checks the name, and the client reports nothing sent, with the TLS refusal as the why."""
    from moments_desktop.api_schema import Outcome
    from moments_desktop.core.client import MomentsClient
    from moments_desktop.core.errors import CertificateError, NotSentError
    from moments_desktop.core.request import RewardRequest

    url, cert = tls_server_for_another_name
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    request = RewardRequest(base_url=url.removesuffix("/hello"), appId="DEMO1", momentId="GAME_COMPLETE",
                            deviceType="Android", campaignId="DEMOCAMP1", rewardGroupId="US")

    async def preview():
        async with make_client() as http:
            return await MomentsClient(http, info_retries=0).get_reward_info(request, "tls-test-key-0001")

    result = asyncio.run(preview())
    assert result.outcome is Outcome.NOT_SENT and not result.ok
    assert isinstance(result.error, NotSentError) and isinstance(result.error, CertificateError)
    assert "Nothing was sent" in result.error.message
    assert result.error.message.startswith("The certificate of 127.0.0.1 could not be verified: it was issued for "
                                           "another name, not 127.0.0.1."), result.error.message
    technical = result.error.technical
    assert "CERTIFICATE_VERIFY_FAILED" in technical and "mismatch" in technical, technical


def test_the_context_built_on_first_use_verifies_hostnames_and_certificates_with_the_systems_store():
    import truststore

    context = TLSContextOnFirstUse()
    assert not context.built
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname  # reading it builds it
    assert context.built and isinstance(context.context(), truststore.SSLContext)


def test_verify_given_by_the_caller_is_httpx_own():
    async def check() -> None:
        async with make_client(verify=False) as http:
            (pool,) = _pools_of(http)
            assert isinstance(pool._ssl_context, ssl.SSLContext)  # noqa: SLF001
            assert pool._ssl_context.verify_mode == ssl.CERT_NONE  # noqa: SLF001

    asyncio.run(check())


# --- environment proxies -------------------------------------------------------------------------


class _Served:
    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers every request itself and says which absolute URL it was asked for."""

    def do_GET(self) -> None:  # noqa: N802
        body = f"proxied {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def test_environment_proxies_still_apply_and_their_pools_are_cancel_safe(monkeypatch):
    served = _Served(ThreadingHTTPServer(("127.0.0.1", 0), _Proxy))
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://{served.url}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)

        async def call() -> httpx.Response:
            async with make_client() as http:
                answer = await http.get("http://moments.invalid/where")
                assert len(_pools(http)) == 2 and is_cancel_safe(http)  # the proxy's pool too
                return answer

        answer = asyncio.run(call())
    finally:
        served.close()
    assert answer.text == "proxied http://moments.invalid/where"


@pytest.fixture
def tunnel(monkeypatch) -> Iterator[ForwardProxy]:
    """The HTTPS_PROXY of the environment: a real forward proxy that resolves moments.test to this computer."""
    with ForwardProxy(hosts={"moments.test": "127.0.0.1"}) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        for name in ("NO_PROXY", "no_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        yield proxy


@pytest.fixture
def tls_server_named_moments_test(tmp_path) -> Iterator[tuple[str, Path]]:
    """(https://moments.test:PORT/hello, its certificate): a server on 127.0.0.1 whose certificate is for
    moments.test, a name only the test's proxy resolves (to 127.0.0.1)."""
    for url, cert in _serve_tls(*_self_signed(tmp_path, host_name="moments.test")):
        yield url.replace("127.0.0.1", "moments.test"), cert


def test_https_through_an_environment_proxy_is_verified_as_without_it(tls_server_named_moments_test, tunnel,
                                                                      monkeypatch):
    """A name that is not this computer goes through the environment's proxy (CONNECT), and the endpoint's
    certificate is verified end to end through the tunnel: refused untrusted, accepted once trusted."""
    url, cert = tls_server_named_moments_test
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(_get(url))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    answer = asyncio.run(_get(url))
    assert (answer.status_code, answer.text) == (200, "secure hello")
    host_port = url.removeprefix("https://").split("/")[0]
    assert tunnel.seen == [f"CONNECT {host_port}"] * 2  # both went through the tunnel


def test_https_to_this_computer_never_goes_through_the_environments_proxy(tls_server, tunnel, monkeypatch):
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    answer = asyncio.run(_get(url))
    assert (answer.status_code, answer.text) == (200, "secure hello")
    assert tunnel.seen == []  # 127.0.0.1 directly, though HTTPS_PROXY names the tunnel
