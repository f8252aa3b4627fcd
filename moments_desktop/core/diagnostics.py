"""What Help ▸ About shows and what "Copy diagnostics" copies: versions, the keychain's backend, the folders,
the network (proxy, trust store) and the profiles — with no secret in it and every identifier masked.

Built here, not in the window: no Qt (the caller passes the Qt and PySide6 versions in), the same text for
any front end, and a test can read it. Nothing here can reach a key: the keychain is named, never read; a
proxy's credentials are dropped (``proxy_url_for_display``); profile names and endpoints go through a masked
``Renderer`` whatever presenter mode says; the home folder is shown as ``~``.
"""

from __future__ import annotations

import os
import platform
import ssl
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from moments_desktop import APP_NAME, __version__

from . import paths
from .http import describe_proxy
from .render import Renderer
from .settings import ProxySetting, proxy_url_for_display

if TYPE_CHECKING:
    from .session import Session

# The libraries whose versions matter when something goes wrong on the network or with the keychain.
LIBRARIES = ("httpx", "httpcore", "anyio", "truststore", "keyring", "qasync", "platformdirs")
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass(frozen=True)
class Row:
    label: str
    value: str


def _version_of(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def shown_path(path: Path | str) -> str:
    """A folder with the user's home written ``~`` (the user name is often a person's name)."""
    text = str(path)
    home = str(Path.home())
    if home and home not in ("/", "") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home):]
    return text


def _environment_proxies() -> str:
    found = []
    for name in PROXY_VARIABLES:
        value = os.environ.get(name) or os.environ.get(name.lower())
        if value:
            shown = value if name == "NO_PROXY" else proxy_url_for_display(value if "://" in value else f"http://{value}")
            found.append(f"{name}={shown}")
    return ", ".join(found) or "none set"


def _trust_store() -> str:
    if sys.platform == "win32":
        where = "the Windows certificate store"
    elif sys.platform == "darwin":
        where = "the macOS keychain"
    else:
        where = "the system's CA certificates"
    extra = [f"{name}={shown_path(os.environ[name])}" for name in TRUST_VARIABLES if os.environ.get(name)]
    return f"{where} (truststore {_version_of('truststore')})" + (f"; {', '.join(extra)}" if extra else "")


def about_rows(*, keychain: str, proxy: ProxySetting, qt_version: str | None = None,
               pyside_version: str | None = None) -> list[Row]:
    """What Help ▸ About shows: versions, the keychain's backend, the folders, the proxy in use."""
    runtime = f"Python {platform.python_version()} ({platform.python_implementation()})"
    rows = [Row("Version", __version__), Row("Runtime", runtime)]
    if qt_version:
        rows.append(Row("Qt", qt_version))
    if pyside_version:
        rows.append(Row("PySide6", pyside_version))
    rows += [
        Row("Operating system", platform.platform(terse=True)),
        Row("Keychain", keychain or "unknown"),
        Row("Profiles and settings", shown_path(paths.config_location())),
        Row("Call journal", shown_path(paths.data_location())),
        Row("Logs", shown_path(paths.log_location())),
        Row("Cache", shown_path(paths.cache_location())),
        Row("Proxy", describe_proxy(proxy)),
        Row("Certificates", f"verified against {_trust_store()}"),
    ]
    return rows


def diagnostics_rows(session: Session, *, keychain: str, qt_version: str | None = None,
                     pyside_version: str | None = None) -> list[Row]:
    """Everything About shows, plus the libraries, the environment's proxy variables, the sandbox and the
    profiles (masked) — what a person pastes into a bug report."""
    masked = Renderer(masked=True)
    rows = about_rows(keychain=keychain, proxy=session.proxy_setting, qt_version=qt_version,
                      pyside_version=pyside_version)
    rows.append(Row("Libraries", ", ".join(f"{name} {_version_of(name)}" for name in LIBRARIES)))
    rows.append(Row("OpenSSL", ssl.OPENSSL_VERSION))
    rows.append(Row("Proxy variables", _environment_proxies()))
    sandbox = session.sandbox
    rows.append(Row("Built-in sandbox", masked.url(sandbox.url) if sandbox is not None else "not running"))
    rows.append(Row("Presenter mode", "on" if session.presenter else "off"))
    if session.claims_disabled_reason:
        rows.append(Row("Claims", "turned off: " + session.claims_disabled_reason))
    profiles = session.profile_list()
    rows.append(Row("Profiles", str(len(profiles))))
    for index, profile in enumerate(profiles, 1):
        where = "built-in sandbox" if profile.uses_embedded_sandbox else masked.url(profile.base_url)
        rows.append(Row(f"Profile {index}", f"{masked.profile_name(profile.name)} \u00b7 {where}"))
    return rows


def diagnostics_text(rows: list[Row]) -> str:
    width = max((len(row.label) for row in rows), default=0)
    lines = [f"{APP_NAME} diagnostics (no keys; identifiers masked)", ""]
    lines += [f"{row.label.ljust(width)}  {row.value}" for row in rows]
    return "\n".join(lines) + "\n"
