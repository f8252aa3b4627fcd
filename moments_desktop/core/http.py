"""The app's one way to make an ``httpx.AsyncClient``: a connect that a cancellation cannot leak.

httpx connects through httpcore's anyio backend, and ``anyio.connect_tcp`` leaks the socket it has
just connected when the calling task is cancelled between the connect and the return (its task
group unwinds with the cancellation and the connected stream is dropped unclosed: a "unclosed
transport" ResourceWarning, and an open socket until the garbage collector finds it). A request is
cancelled exactly then whenever the user presses Cancel, or closes the window, while it connects.

So every connect runs in a task of its own that no caller's cancellation reaches: the caller stops
waiting at once for a cancellation it can honour, and otherwise (it was cancelled) the connect is
allowed to finish — bounded by the connect timeout — and whatever it opened is closed before the
cancellation goes on.

Proxies (``NetworkRouter``, the client's one transport): the app-wide setting (core/settings.py) chooses the
system's proxy (environment variables, and on Windows/macOS the system's own settings, through urllib's
``getproxies``/``proxy_bypass``), none, or one manual proxy; it can be changed while the app runs
(``MomentsHTTPClient.set_proxy``). This computer (127.0.0.1 and the rest of 127/8, ::1, localhost: the
built-in sandbox) is always reached directly, whatever the setting or the environment says.

TLS is verified against the operating system's trust store (``truststore``: the Windows certificate store,
the macOS keychain, the system's CA bundle on Linux, SSL_CERT_FILE / SSL_CERT_DIR honoured there), so a
company's HTTPS-inspection root that IT installed is trusted as the browser trusts it. The context is built
when the first https connection is made, not with the client: a call to a sandbox on this computer is plain
http and never needs it (building one costs tens of milliseconds).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import typing
import urllib.request
from typing import Any

import httpx
import httpcore

from .settings import PROXY_MANUAL, PROXY_NONE, PROXY_SCHEMES, ProxySetting, proxy_url_for_display


class CancelSafeBackend(httpcore.AsyncNetworkBackend):
    """Wraps httpcore's network backend so a cancelled connect never leaves a socket open."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend):
        self.inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        connecting = asyncio.ensure_future(self.inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options))
        try:
            return await asyncio.shield(connecting)
        except asyncio.CancelledError:
            await _close_when_connected(connecting)
            raise

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - not used on TCP
        return await self.inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def _close_when_connected(connecting: asyncio.Future) -> None:
    """Wait for the connect to end (it has its own timeout) however often we are cancelled meanwhile,
    then close what it opened. Nothing of it is left pending or open."""
    while not connecting.done():
        try:
            await asyncio.shield(connecting)
        except asyncio.CancelledError:
            continue
        except Exception:  # noqa: BLE001 - the connect failed: nothing was opened
            return
    if connecting.cancelled() or connecting.exception() is not None:
        return
    stream = connecting.result()
    try:
        await asyncio.shield(stream.aclose())
    except asyncio.CancelledError:
        pass


def make_ssl_context() -> ssl.SSLContext:
    """A verifying client context over the operating system's trust store (hostnames checked)."""
    import truststore  # here: only an https connection needs it

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class TLSContextOnFirstUse:
    """Stands for the SSL context until something uses it, then builds it and forwards everything to it.

    Handed to httpx as ``verify``: httpx keeps a context it is given as it is, and so passes this one to each
    of the pools, proxies' included. httpcore touches it only to connect over TLS (it sets the ALPN
    protocols on it, then anyio wraps the socket with it): the first such touch builds the real context
    (``make_ssl_context``: the system's trust store). Nothing can use this object without going through the
    real, verifying context."""

    def __init__(self) -> None:
        self._context: ssl.SSLContext | None = None

    @property
    def built(self) -> bool:
        return self._context is not None

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = make_ssl_context()
        return self._context

    def __getattr__(self, name: str) -> Any:  # only for what this class does not define
        if name.startswith("__") or name == "_context":  # copy/pickle probes, a half-built self
            raise AttributeError(name)
        return getattr(self.context(), name)


# --- proxies ----------------------------------------------------------------------------------

_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1, localhost (and *.localhost): this computer, never reached through a proxy."""
    name = host.strip("[]").rstrip(".").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def system_proxies() -> dict[str, str]:
    """The system's proxies by scheme ('http', 'https', 'all'), as urllib reads them (environment first;
    Windows registry / macOS System Configuration when the environment has none)."""
    found = urllib.request.getproxies()
    return {scheme: (url if "://" in url else f"http://{url}") for scheme, url in found.items()
            if scheme in ("http", "https", "all") and url}


def _system_bypass(host: str) -> bool:
    try:
        return bool(urllib.request.proxy_bypass(host))
    except Exception:  # noqa: BLE001 - an odd registry or NO_PROXY value: do not bypass
        return False


class UnsupportedProxyError(httpx.ProxyError):
    """The proxy a request was to go through speaks a scheme the app cannot (SOCKS would need socksio, which
    the app does not ship; httpx raises a bare ImportError for it): refused before any connection is made, so
    nothing was sent. ``explain_failure`` says it in plain words (a core/errors.py ProxyError)."""

    def __init__(self, proxy_url: str, request: httpx.Request, *, from_system: bool):
        self.proxy_url = proxy_url
        self.scheme = proxy_url.split("://", 1)[0].lower() if "://" in proxy_url else ""
        self.from_system = from_system
        super().__init__(f"{self.scheme}:// proxies are not supported", request=request)


def is_supported_proxy(proxy_url: str) -> bool:
    return "://" in proxy_url and proxy_url.split("://", 1)[0].lower() in PROXY_SCHEMES


# What goes to the transports (each pool is built with them); everything else is the client's.
_TRANSPORT_OPTIONS = ("verify", "cert", "http1", "http2", "limits", "retries", "local_address", "socket_options")


class NetworkRouter(httpx.AsyncBaseTransport):
    """The client's transport: sends each request directly or through the proxy the setting gives for it.

    One direct transport and one per proxy URL, all with the same TLS context and options, all cancel-safe.
    A proxy change builds new proxy transports; the old ones are closed with the client (a request in
    flight on them finishes undisturbed)."""

    def __init__(self, setting: ProxySetting, **transport_options: Any):
        self._options = transport_options
        self.direct = self._transport(None)
        self._proxied: dict[str, httpx.AsyncHTTPTransport] = {}
        self._retired: list[httpx.AsyncHTTPTransport] = []
        self.setting = setting
        self._system = system_proxies() if setting.mode not in (PROXY_NONE, PROXY_MANUAL) else {}

    def _transport(self, proxy_url: str | None) -> httpx.AsyncHTTPTransport:
        proxy = None
        if proxy_url:
            # An https:// proxy's own certificate is checked as the endpoints' are.
            verify = self._options.get("verify")
            tls = verify if proxy_url.startswith("https:") and not isinstance(verify, bool) else None
            proxy = httpx.Proxy(proxy_url, ssl_context=tls)
        transport = httpx.AsyncHTTPTransport(proxy=proxy, **self._options)
        pool = transport._pool  # noqa: SLF001 - httpx has no public option for the network backend
        pool._network_backend = CancelSafeBackend(pool._network_backend)  # noqa: SLF001
        return transport

    def set_proxy(self, setting: ProxySetting) -> None:
        self._retired.extend(self._proxied.values())
        self._proxied = {}
        self.setting = setting
        self._system = system_proxies() if setting.mode not in (PROXY_NONE, PROXY_MANUAL) else {}

    def proxy_for(self, url: httpx.URL | str) -> str | None:
        """The proxy URL (with its credentials) a request to ``url`` goes through; None when direct."""
        url = httpx.URL(url)
        host = url.host
        if not host or is_loopback_host(host):
            return None
        if self.setting.mode == PROXY_NONE:
            return None
        if self.setting.mode == PROXY_MANUAL:
            return self.setting.url or None
        proxy = self._system.get(url.scheme) or self._system.get("all")
        if not proxy or _system_bypass(host if url.port is None else f"{host}:{url.port}"):
            return None
        return proxy

    def transport_for(self, url: httpx.URL, request: httpx.Request | None = None) -> httpx.AsyncHTTPTransport:
        """Raises UnsupportedProxyError (nothing sent) for a proxy that is not http:// or https://."""
        proxy = self.proxy_for(url)
        if proxy is None:
            return self.direct
        if not is_supported_proxy(proxy):
            raise UnsupportedProxyError(proxy, request if request is not None else httpx.Request("GET", url),
                                        from_system=self.setting.mode != PROXY_MANUAL)
        transport = self._proxied.get(proxy)
        if transport is None:
            transport = self._proxied[proxy] = self._transport(proxy)
        return transport

    def transports(self) -> list[httpx.AsyncHTTPTransport]:
        return [self.direct, *self._proxied.values(), *self._retired]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transport_for(request.url, request).handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self.transports():
            pool = getattr(transport, "_pool", None)  # noqa: SLF001 - see make_client
            if pool is not None and not pool.connections:
                # Nothing to close. httpcore's pool would still import anyio's asyncio backend to shield the
                # (empty) closing from cancellation: ~20 ms on the UI thread as the window closes, when the app
                # made no call (issue 17; Step 14 profiles/startup-close-pyinstrument.txt).
                continue
            await transport.aclose()


class MomentsHTTPClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose one transport is a ``NetworkRouter``: it can say which proxy a URL
    goes through (for error messages and About), and take a new proxy setting while the app runs."""

    def __init__(self, router: NetworkRouter, **kwargs: Any):
        super().__init__(transport=router, **kwargs)
        self.router = router

    @property
    def proxy_setting(self) -> ProxySetting:
        return self.router.setting

    def set_proxy(self, setting: ProxySetting) -> None:
        self.router.set_proxy(setting)

    def proxy_for(self, url: httpx.URL | str) -> str | None:
        return self.router.proxy_for(url)


def proxy_of(http: httpx.AsyncClient, url: httpx.URL | str) -> str | None:
    """The proxy a request to ``url`` through ``http`` goes by (with credentials: never show it as it is,
    see ``proxy_url_for_display``); None when direct or not known (a client not made here)."""
    return http.proxy_for(url) if isinstance(http, MomentsHTTPClient) else None


def describe_proxy(setting: ProxySetting) -> str:
    """In words, without credentials: 'System proxy (http://proxy:8080 for https)', 'No proxy', …"""
    if setting.mode == PROXY_NONE:
        return "No proxy (direct connections)"
    if setting.mode == PROXY_MANUAL:
        return f"Manual proxy {proxy_url_for_display(setting.url)}"
    found = system_proxies()
    if not found:
        return "System proxy settings (none set: direct connections)"
    listed = ", ".join(f"{proxy_url_for_display(url)} for {scheme}" for scheme, url in sorted(found.items()))
    return f"System proxy settings ({listed})"


def _pools(client: httpx.AsyncClient) -> list[Any]:
    transport = client._transport  # noqa: SLF001 - see make_client
    transports = transport.transports() if isinstance(transport, NetworkRouter) else \
        [transport, *client._mounts.values()]  # noqa: SLF001
    return [t._pool for t in transports if t is not None and hasattr(t, "_pool")]  # noqa: SLF001


def make_client(proxy: ProxySetting | None = None, **kwargs: Any) -> MomentsHTTPClient:
    """An ``httpx.AsyncClient`` (``kwargs`` as for it) whose connects are cancel-safe, going out as ``proxy``
    says (default: the system's proxy settings) and never through a proxy to this computer.

    With the default ``verify`` (True), TLS is verified against the operating system's trust store with a
    context built on the first https connection (``TLSContextOnFirstUse``); any other ``verify`` or a
    ``cert`` is httpx's as given. ``is_cancel_safe`` checks that the backend took on every pool, and a test
    runs it on every httpx the lock allows."""
    if kwargs.get("verify", True) is True and kwargs.get("cert") is None:
        kwargs["verify"] = TLSContextOnFirstUse()
    kwargs.pop("proxy", None)
    options = {name: kwargs.pop(name) for name in _TRANSPORT_OPTIONS if name in kwargs}
    router = NetworkRouter(proxy or ProxySetting(), **options)
    return MomentsHTTPClient(router, **kwargs)


def is_cancel_safe(client: httpx.AsyncClient) -> bool:
    pools = _pools(client)
    return bool(pools) and all(isinstance(p._network_backend, CancelSafeBackend) for p in pools)  # noqa: SLF001


# --- failures in plain words ---------------------------------------------------------------------

# The TLS library's words (OpenSSL's, or truststore's on Windows/macOS) -> what a person reads.
_CERT_REASONS = (
    ("self-signed certificate in certificate chain",
     "it was issued by an authority this computer does not trust (a self-signed root in the chain)"),
    ("self-signed certificate", "it is self-signed, and this computer does not trust it"),
    ("self signed certificate", "it is self-signed, and this computer does not trust it"),
    ("unable to get local issuer certificate", "it was issued by an authority this computer does not trust"),
    ("unable to get issuer certificate", "it was issued by an authority this computer does not trust"),
    ("not trusted", "it was issued by an authority this computer does not trust"),
    ("untrusted", "it was issued by an authority this computer does not trust"),
    ("has expired", "it has expired"),
    ("expired", "it has expired"),
    ("not yet valid", "it is not valid yet (check this computer's date and time)"),
    ("revoked", "it has been revoked"),
)


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        current = current.__cause__ or current.__context__
    return None


def certificate_reason(error: ssl.SSLError, host: str) -> str:
    words = getattr(error, "verify_message", "") or getattr(error, "reason", "") or str(error)
    lowered = words.lower()
    if "mismatch" in lowered or "not valid for" in lowered or "doesn't match" in lowered:
        return f"it was issued for another name, not {host}"
    for known, plain in _CERT_REASONS:
        if known in lowered:
            return plain
    return words.rstrip(".")


def explain_failure(http: httpx.AsyncClient, exc: httpx.HTTPError) -> Any:
    """A CertificateError or a ProxyError (core/errors.py) for what ``exc`` is, or None when it is neither
    (the caller's own message stands). Names the endpoint's host, and the proxy without credentials."""
    from .errors import CertificateError, ProxyError

    try:
        url = exc.request.url
    except RuntimeError:  # an error raised without its request
        return None
    host = url.host or str(url)
    tls = _ssl_cause(exc)
    if isinstance(tls, ssl.SSLCertVerificationError):
        return CertificateError(host, certificate_reason(tls, host), str(tls))
    proxy = proxy_of(http, url)
    shown = proxy_url_for_display(proxy).split(" (")[0] if proxy else "the proxy"
    if isinstance(exc, UnsupportedProxyError):
        return unsupported_proxy(exc, proxy_url_for_display(exc.proxy_url).split(" (")[0], host)
    if isinstance(exc, httpx.ProxyError):
        answer = str(exc).strip()
        if answer.startswith("407"):
            return proxy_needs_credentials(shown, host)
        return ProxyError(f"The proxy at {shown} refused the connection to {host}",
                          f"it answered {answer}" if answer else "", proxy=shown, host=host)
    if proxy and tls is None and isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        reason = "it did not answer in time" if isinstance(exc, httpx.ConnectTimeout) else (str(exc) or "")
        return ProxyError(f"The proxy at {shown} could not be reached", reason, proxy=shown, host=host)
    return None


def proxy_needs_credentials(shown_proxy: str, host: str) -> Any:
    from .errors import ProxyError

    return ProxyError(
        f"The proxy at {shown_proxy} asks for a user name and password", "it answered 407", proxy=shown_proxy,
        host=host, advice="Enter them with the proxy in Moments Desktop's File \u25b8 Network settings\u2026 "
                          "(Manual proxy), or give them in the proxy URL (http://user:password@proxy:port).")


def unsupported_proxy(exc: UnsupportedProxyError, shown_proxy: str, host: str) -> Any:
    from .errors import ProxyError

    kind = "SOCKS proxies" if exc.scheme.startswith("socks") else f"{exc.scheme or 'Such'}:// proxies"
    where = "the system's proxy settings give" if exc.from_system else "the manual proxy setting is"
    return ProxyError(
        f"{kind} are not supported", f"{where} {shown_proxy} for {host}", proxy=shown_proxy, host=host,
        advice="Choose No proxy or an http proxy in Moments Desktop's File \u25b8 Network settings\u2026 (the "
               "moments command also takes --proxy none or --proxy http://host:port), or set an http:// proxy "
               "in your system's proxy settings.")
