"""App-wide settings that are not a profile's: today the network's proxy.

Kept in ``settings.json`` next to profiles.json (``paths.config_dir()``; MOMENTS_DESKTOP_HOME relocates it),
written atomically and private to the user (0600): a manual proxy's password is in it. Read by the window
and by the ``moments`` CLI alike, so both go out the same way. A file that cannot be read is not fatal: the
defaults apply (the system's proxy) and the reason is kept for a notice.

The proxy, three ways:

- ``system`` (the default): what the operating system says. The environment's ``HTTPS_PROXY`` /
  ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` and, on Windows and macOS, the system's own proxy settings
  (Python's ``urllib.request.getproxies`` and ``proxy_bypass``).
- ``none``: always connect directly.
- ``manual``: one proxy URL (``http://proxy.example.com:8080``, optionally with a user name and password)
  for every endpoint.

Whatever the choice, this computer (127.0.0.1, ::1, localhost: the built-in sandbox) is never reached
through a proxy (core/http.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from . import paths
from .errors import MomentsError

SETTINGS_FILE = "settings.json"
SCHEMA = 1

PROXY_SYSTEM = "system"
PROXY_NONE = "none"
PROXY_MANUAL = "manual"
PROXY_MODES = (PROXY_SYSTEM, PROXY_NONE, PROXY_MANUAL)
# SOCKS would need a package the app does not ship (socksio); corporate proxies speak HTTP CONNECT.
PROXY_SCHEMES = ("http", "https")
PASSWORD_PLACEHOLDER = "\u2022" * 6


class InvalidProxyError(MomentsError):
    title = "The proxy address is not valid"
    advice = "Enter it as http://host:port (for example http://proxy.example.com:8080)."


@dataclass(frozen=True)
class ProxySetting:
    """``mode`` is one of PROXY_MODES; ``url`` is the manual proxy (with its credentials, if any), else ''."""

    mode: str = PROXY_SYSTEM
    url: str = ""

    @classmethod
    def manual(cls, url: str, username: str = "", password: str = "") -> ProxySetting:
        """The manual proxy at ``url``; ``username``/``password`` (if given) replace any in the URL.
        Raises InvalidProxyError for what cannot be a proxy address."""
        return cls(PROXY_MANUAL, normalise_proxy_url(url, username, password))

    @classmethod
    def parse(cls, text: str) -> ProxySetting:
        """``system``, ``none`` (or ``direct``), or a proxy URL: the CLI's ``--proxy`` argument."""
        word = text.strip()
        if word.lower() in (PROXY_SYSTEM, PROXY_NONE, "direct"):
            return cls(PROXY_NONE if word.lower() == "direct" else word.lower())
        return cls.manual(word)

    @property
    def username(self) -> str:
        return unquote(urlsplit(self.url).username or "") if self.url else ""

    @property
    def has_password(self) -> bool:
        return bool(self.url and urlsplit(self.url).password)

    def without_credentials(self) -> str:
        """The manual proxy's URL as it may be shown: no user name, no password."""
        return proxy_url_for_display(self.url)

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "url": self.url} if self.mode == PROXY_MANUAL else {"mode": self.mode}

    @classmethod
    def from_json(cls, value: Any) -> ProxySetting:
        if not isinstance(value, dict) or value.get("mode") not in PROXY_MODES:
            raise ValueError("the proxy setting is not one of system, none, manual")
        if value["mode"] == PROXY_MANUAL:
            url = value.get("url")
            if not isinstance(url, str):
                raise ValueError("the manual proxy has no URL")
            return cls.manual(url)
        return cls(value["mode"])


def edited_proxy(previous: ProxySetting, mode: str, url: str = "", username: str = "",
                 password: str = "") -> ProxySetting:
    """What Network settings' Save means: ``mode`` with, for a manual proxy, ``url`` and the credentials typed.
    The stored password is never shown, so an empty password field keeps it while the proxy's address and
    user name stay the same (a new address or user name with no password typed has none)."""
    if mode not in PROXY_MODES:
        raise InvalidProxyError(f"{mode!r} is not one of {', '.join(PROXY_MODES)}")
    if mode != PROXY_MANUAL:
        return ProxySetting(mode)
    fresh = ProxySetting.manual(url, username)
    if not password and previous.mode == PROXY_MANUAL and previous.has_password \
            and previous.without_credentials().split(" (")[0] == fresh.without_credentials().split(" (")[0] \
            and previous.username == username:
        password = unquote(urlsplit(previous.url).password or "")
    return ProxySetting.manual(url, username, password) if (username or password) else fresh


def normalise_proxy_url(url: str, username: str = "", password: str = "") -> str:
    """``proxy:8080`` -> ``http://proxy:8080``; checks the scheme, the host and the port; puts the (quoted)
    credentials in the URL when given."""
    text = url.strip()
    if not text:
        raise InvalidProxyError("no address was entered")
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidProxyError(_first_line(str(exc)) or "it cannot be read") from None
    if parts.scheme.lower() not in PROXY_SCHEMES:
        raise InvalidProxyError(f"{parts.scheme}:// proxies are not supported, only http:// and https://")
    host = parts.hostname or ""
    if not host or any(c.isspace() for c in host):
        raise InvalidProxyError("it has no host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidProxyError("a proxy address has no path; give only the host and the port")
    user = username if username else unquote(parts.username or "")
    secret = password if password else (unquote(parts.password or "") if not username else "")
    shown_host = f"[{host}]" if ":" in host else host
    netloc = shown_host + (f":{port}" if port is not None else "")
    if user or secret:
        netloc = f"{quote(user, safe='')}" + (f":{quote(secret, safe='')}" if secret else "") + "@" + netloc
    return urlunsplit((parts.scheme.lower(), netloc, "", "", ""))


def proxy_url_for_display(url: str | None) -> str:
    """A proxy URL with its credentials taken out (``http://user:pw@proxy:8080`` -> ``http://proxy:8080``,
    said with the user name's presence only): what every screen, log and diagnostics shows."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(a proxy address that cannot be read)"
    host = parts.hostname or ""
    shown_host = f"[{host}]" if ":" in host else host
    netloc = shown_host + (f":{port}" if port is not None else "")
    shown = urlunsplit((parts.scheme, netloc, "", "", ""))
    if parts.username or parts.password:
        shown += " (with a user name and password)"
    return shown


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


@dataclass(frozen=True)
class AppSettings:
    proxy: ProxySetting = ProxySetting()

    def with_proxy(self, proxy: ProxySetting) -> AppSettings:
        return replace(self, proxy=proxy)


@dataclass(frozen=True)
class LoadedSettings:
    settings: AppSettings
    warning: str | None = None  # the file was there but could not be used: the defaults apply


def settings_path() -> Path:
    return paths.config_location() / SETTINGS_FILE


def load_settings(path: Path | None = None) -> LoadedSettings:
    """Blocking (a small file): the saved settings, or the defaults (with a warning when a file was there
    and could not be used). Never raises for what is in the file."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedSettings(AppSettings())
    except OSError as exc:
        return LoadedSettings(AppSettings(), f"{path} could not be read ({exc.strerror or exc}); "
                                             "the system's proxy settings are used")
    try:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("it is not a JSON object")
        proxy = ProxySetting.from_json(document.get("proxy", {"mode": PROXY_SYSTEM}))
    except (ValueError, InvalidProxyError) as exc:
        reason = exc.message if isinstance(exc, MomentsError) else _first_line(str(exc))
        return LoadedSettings(AppSettings(), f"{path} could not be used ({reason}); "
                                             "the system's proxy settings are used")
    return LoadedSettings(AppSettings(proxy=proxy))


def save_settings(settings: AppSettings, path: Path | None = None) -> None:
    """Blocking: write the settings atomically, 0600 (OSError when the folder cannot be written)."""
    if path is None:
        paths.config_dir()  # created private (0700) if missing
        path = settings_path()
    document = {"schema": SCHEMA, "proxy": settings.proxy.to_json()}
    paths.atomic_write_text(path, json.dumps(document, indent=2) + "\n")
    paths.restrict_file(path)
