"""Is a real Secret Service (e.g. gnome-keyring) usable? Skip locally, fail in CI.

Tests marked ``secret_service`` call ``require_secret_service()`` first (conftest can do it for
every marked test). Locally a missing service skips the
test with the reason; with ``CI=true`` it fails, so CI cannot pass by silently skipping them.
``python3 scripts/dev.py test`` starts a private gnome-keyring when none is running.
"""

from __future__ import annotations

import os
import sys
import uuid
from functools import cache

import pytest

PROBE_SERVICE = "moments-desktop-test-probe"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@cache
def secret_service_available() -> tuple[bool, str]:
    """(True, backend name) when keyring's SecretService backend works end to end, else (False, why)."""
    if not sys.platform.startswith("linux"):
        return False, f"the Secret Service is a Linux (freedesktop) API; this is {sys.platform}"
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False, (
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset); "
            "run the tests with 'python3 scripts/dev.py test' to get a private gnome-keyring"
        )
    try:
        import secretstorage
        from keyring.backends import SecretService
    except ImportError as exc:
        return False, f"the SecretStorage package is missing ({exc}); install the test extras"
    try:
        connection = secretstorage.dbus_init()
        try:
            if not secretstorage.check_service_availability(connection):
                return False, "no Secret Service is registered on the session bus (is gnome-keyring running?)"
        finally:
            connection.close()
        backend = SecretService.Keyring()
        user, secret = "probe", uuid.uuid4().hex
        backend.set_password(PROBE_SERVICE, user, secret)
        try:
            read_back = backend.get_password(PROBE_SERVICE, user)
        finally:
            backend.delete_password(PROBE_SERVICE, user)
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable", with the reason shown
        return False, f"the Secret Service does not work: {type(exc).__name__}: {exc}"
    if read_back != secret:
        return False, "the Secret Service stored a secret but returned something else"
    return True, f"{type(backend).__module__}.{type(backend).__name__}"


def require_secret_service() -> None:
    """Skip the calling test when no Secret Service works; under CI=true fail instead."""
    ok, reason = secret_service_available()
    if ok:
        return
    if in_ci():
        pytest.fail(f"CI requires a working Secret Service, but: {reason}", pytrace=False)
    pytest.skip(f"no Secret Service: {reason}")
