"""API keys in the system keychain, never in a file.

Service "moments-desktop", username = the profile's id (so renaming a profile keeps its
key). Every keyring call is wrapped: whatever the backend raises (no backend, locked
collection, D-Bus gone, a third-party backend's own exception) becomes
KeyringUnavailableError with words a non-developer can act on, never a traceback. When the
keychain is unusable the user may choose a session-only memory store
(use_memory_fallback()); keys then vanish when the app closes, and backend_name() says so.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from contextlib import closing
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

from .errors import MomentsError, ValidationError
from .request import is_sendable_key

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "moments-desktop"
MEMORY_BACKEND_NAME = "Memory only (this session; keys are forgotten when the app closes)"

T = TypeVar("T")


def _keyring() -> ModuleType:
    """keyring, imported on first use: with its backends it costs tens of milliseconds, which a process that
    never touches a key (``moments info --sandbox``, ``moments history``) should not pay.

    Off macOS, keyring's macOS backend is marked unavailable before keyring loads it: asked for its priority
    (keyring imports every backend to choose one), it looks for the Security framework with
    ``ctypes.util.find_library``, which off macOS runs ldconfig and a C compiler to find nothing (~35 ms), and
    then declines. Without its API module it declines at once, with the same answer."""
    if sys.platform != "darwin":
        sys.modules.setdefault("keyring.backends.macOS.api", None)
    import keyring
    import keyring.errors

    return keyring


class KeyringUnavailableError(MomentsError):
    title = "The system keychain is not available"
    advice = (
        "The app keeps API keys only in your system's keychain and could not use it. "
        "Make sure your keychain (for example GNOME Keyring, KWallet, macOS Keychain or "
        "Windows Credential Manager) is installed and unlocked, then try again - or keep "
        "keys in memory for this session only."
    )


class KeyringLockedError(KeyringUnavailableError):
    title = "The system keychain is locked"
    advice = (
        "Unlock your keychain (you may have dismissed its password prompt) and try again, "
        "or keep keys in memory for this session only."
    )


LOCKED_DETAIL = "the keychain refused access because it is locked"
UNREACHABLE_DETAIL = "the keychain service could not be reached"
NOT_RUNNING_DETAIL = "the keychain service is not running"
NO_PROMPT_DETAIL = ("the keychain is locked and cannot show its password prompt in this session "
                    "(there is no display)")

# Said by the D-Bus daemon or secretstorage when nothing (or nothing alive) answers for the keychain:
# the service is gone, not locked. Checked before any "locked" wording, because the daemon's own
# timeout text ("... the message bus security policy blocked the reply ...") contains that word.
_GONE_NAMES = ("org.freedesktop.dbus.error.serviceunknown", "org.freedesktop.dbus.error.noreply",
               "org.freedesktop.dbus.error.disconnected", "org.freedesktop.dbus.error.spawn",
               "org.freedesktop.dbus.error.execfailed", "org.freedesktop.dbus.error.namehasnoowner",
               "secretservicenotavailable", "did not receive a reply", "not provided by any .service",
               "disconnected from message bus", "is neither running nor activatable")
_LOCKED_WORDS = re.compile(r"\b(locked|dismissed)\b")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (a backend often wraps the D-Bus error it met)."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 8:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _is_gone(chain: list[BaseException]) -> bool:
    text = " ".join(f"{type(e).__module__}.{type(e).__name__}: {e} {getattr(e, 'name', '') or ''}"
                    for e in chain).lower()
    return any(marker in text for marker in _GONE_NAMES) or any(isinstance(e, (OSError, EOFError)) for e in chain)


def prompt_can_be_shown() -> bool:
    """Whether a keychain could ask for its password here: on Linux a prompt needs a display."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def classify_backend_failure(exc: BaseException) -> KeyringUnavailableError:
    """What a backend's own exception (not one of keyring's) means for the user: locked, or not available.

    By type first (secretstorage's and the OS's), words second; "gone" wins over "locked", so a
    keychain that stopped answering is never reported as one the user could unlock."""
    chain = _chain(exc)
    names = {f"{type(e).__module__}.{type(e).__name__}" for e in chain}
    text = " ".join(f"{type(e).__module__}.{type(e).__name__}: {e}" for e in chain).lower()
    if _is_gone(chain):
        return KeyringUnavailableError(UNREACHABLE_DETAIL)
    if names & {"secretstorage.exceptions.LockedException", "secretstorage.exceptions.PromptDismissedException"} \
            or _LOCKED_WORDS.search(text):
        return KeyringLockedError(LOCKED_DETAIL) if prompt_can_be_shown() else KeyringUnavailableError(NO_PROMPT_DETAIL)
    if "dbus" in text or "d-bus" in text or "secretstorage" in text or "jeepney" in text:
        return KeyringUnavailableError(UNREACHABLE_DETAIL)
    return KeyringUnavailableError("the keychain reported an unexpected error")


_FRIENDLY_NAMES = {
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Locker",
    "keyring.backends.kwallet.DBusKeyring": "KDE Wallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KDE Wallet (KWallet 4)",
    "keyring.backends.libsecret.Keyring": "Secret Service (libsecret)",
    "keyring.backends.fail.Keyring": "None (no keychain found)",
    "keyring.backends.null.Keyring": "None (keychain disabled)",
}

# Backends that accept calls without storing anything or fail on every call.
_UNUSABLE = {"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"}

_SECRET_SERVICE_PROVIDERS = {
    "gnome-keyring-d": "GNOME Keyring",
    "gnome-keyring-daemon": "GNOME Keyring",
    "kwalletd5": "KWallet",
    "kwalletd6": "KWallet",
    "keepassxc": "KeePassXC",
    "ksecretd": "KDE Wallet",
    "oo7-daemon": "oo7",
}


def _qualname(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


def _secret_service_provider() -> str | None:
    """Which program answers on org.freedesktop.secrets (Linux), best effort."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection("SESSION") as conn:
            reply = conn.send_and_get_reply(
                message_bus.GetConnectionUnixProcessID("org.freedesktop.secrets"), timeout=2
            )
        pid = reply.body[0]
        with open(f"/proc/{int(pid)}/comm", encoding="utf-8") as handle:
            comm = handle.read().strip()
    except Exception:  # noqa: BLE001 - a nicer label only; never fatal
        return None
    return _SECRET_SERVICE_PROVIDERS.get(comm, comm or None)


class CredentialStore:
    """get/set/delete API keys by profile id, over `keyring` or an injected backend."""

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE):
        self._backend = backend
        self.service = service
        self._memory: dict[str, str] | None = None
        self._name_cache: str | None = None

    # --- backend -------------------------------------------------------------------

    @property
    def is_memory_only(self) -> bool:
        return self._memory is not None

    def use_memory_fallback(self) -> None:
        """Keep keys in memory for the rest of this run only (nothing is written anywhere)."""
        if self._memory is None:
            self._memory = {}

    def backend(self) -> KeyringBackend:
        if self._backend is not None:
            return self._backend
        return self._call(lambda: _keyring().get_keyring())

    def backend_name(self) -> str:
        if self._memory is not None:
            return MEMORY_BACKEND_NAME
        try:
            backend = self.backend()
        except KeyringUnavailableError:
            return "None (no keychain found)"
        qualname = _qualname(backend)
        if qualname == "keyring.backends.SecretService.Keyring":
            if self._name_cache is None:
                provider = _secret_service_provider()
                self._name_cache = f"Secret Service ({provider})" if provider else "Secret Service"
            return self._name_cache
        if qualname == "keyring.backends.chainer.ChainerBackend":
            inner = getattr(backend, "backends", [])
            names = [_FRIENDLY_NAMES.get(_qualname(b), getattr(b, "name", type(b).__name__)) for b in inner]
            return " + ".join(names) or "None (no keychain found)"
        return _FRIENDLY_NAMES.get(qualname, str(getattr(backend, "name", type(backend).__name__)))

    def is_available(self) -> bool:
        """True when keys can be kept (a real keychain, or the chosen memory fallback)."""
        if self._memory is not None:
            return True
        try:
            self._usable_backend()
        except KeyringUnavailableError:
            return False
        return True

    def _usable_backend(self) -> KeyringBackend:
        backend = self.backend()
        if _qualname(backend) in _UNUSABLE:
            raise KeyringUnavailableError("no keychain was found on this computer")
        return backend

    @staticmethod
    def _call(fn: Callable[..., T], *args) -> T:
        keyring = _keyring()
        try:
            return fn(*args)
        except keyring.errors.PasswordDeleteError:
            raise
        except keyring.errors.KeyringLocked as exc:
            if not prompt_can_be_shown():
                # e.g. the keychain daemon stopped and D-Bus started a fresh, locked one: it cannot ask
                # for its password on a session without a display, so no unlocking will ever succeed.
                raise KeyringUnavailableError(NO_PROMPT_DETAIL) from exc
            raise KeyringLockedError(LOCKED_DETAIL) from exc
        except keyring.errors.NoKeyringError as exc:
            raise KeyringUnavailableError("no keychain was found on this computer") from exc
        except keyring.errors.InitError as exc:
            if _is_gone(_chain(exc)):
                raise KeyringUnavailableError(NOT_RUNNING_DETAIL) from exc
            raise KeyringUnavailableError("the keychain could not be opened") from exc
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError("the keychain reported an error") from exc
        except Exception as exc:
            raise classify_backend_failure(exc) from exc

    # --- keys ----------------------------------------------------------------------

    def set_key(self, profile_id: str, key: str) -> None:
        key = key.strip() if isinstance(key, str) else key
        if not isinstance(key, str) or not key:
            raise ValidationError({"api_key": "Enter the API key."})
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
            raise ValidationError({"api_key": "The API key contains control characters (often pasted by accident)."})
        if not is_sendable_key(key):
            raise ValidationError({"api_key": "The API key may only contain plain ASCII characters "
                                              "(a copied document can turn dashes or quotes into others)."})
        if self._memory is not None:
            self._memory[profile_id] = key
            return
        backend = self._usable_backend()
        self._call(backend.set_password, self.service, profile_id, key)

    def get_key(self, profile_id: str) -> str | None:
        if self._memory is not None:
            return self._memory.get(profile_id)
        backend = self._usable_backend()
        return self._call(backend.get_password, self.service, profile_id)

    def delete_key(self, profile_id: str) -> bool:
        """Remove the key; False when there was none."""
        if self._memory is not None:
            return self._memory.pop(profile_id, None) is not None
        backend = self._usable_backend()
        try:
            self._call(backend.delete_password, self.service, profile_id)
        except _keyring().errors.PasswordDeleteError:
            return False
        return True

    def has_key(self, profile_id: str) -> bool:
        """Whether a key is stored, without reading the secret where the backend allows."""
        if self._memory is not None:
            return profile_id in self._memory
        backend = self._usable_backend()
        if _qualname(backend) == "keyring.backends.SecretService.Keyring":
            def search() -> bool:
                collection = backend.get_preferred_collection()
                with closing(collection.connection):
                    query = backend._query(self.service, profile_id)
                    return any(True for _ in collection.search_items(query))
            return self._call(search)
        secret = self._call(backend.get_password, self.service, profile_id)
        found = secret is not None
        del secret
        return found


def key_left_behind_warning(credentials: CredentialStore, profile_id: str, exc: KeyringUnavailableError) -> str:
    """What to tell the user when a profile was deleted but its key stayed in the keychain."""
    return (f"The profile was deleted, but its API key could not be removed from the keychain "
            f"({exc.detail}). It is stored under service “{credentials.service}”, "
            f"account “{profile_id}”.")
