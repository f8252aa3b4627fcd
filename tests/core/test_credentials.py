import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from memory_keyring import MemoryKeyring

from moments_desktop.core.credentials import (
    MEMORY_BACKEND_NAME,
    SERVICE,
    CredentialStore,
    KeyringLockedError,
    KeyringUnavailableError,
)
from moments_desktop.core.errors import MomentsError, ValidationError
from moments_desktop.core.profiles import Profile, ProfileStore


class RaisingKeyring(KeyringBackend):
    priority = 1

    def __init__(self, exc):
        super().__init__()
        self.exc = exc

    def get_password(self, service, username, *more):
        raise self.exc

    set_password = delete_password = get_password


@pytest.fixture
def backend():
    return MemoryKeyring()


@pytest.fixture
def creds(backend):
    return CredentialStore(backend)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


def test_set_get_replace_delete(creds, backend):
    assert creds.get_key("p1") is None and not creds.has_key("p1")
    creds.set_key("p1", "  key-one \n")
    assert backend.store == {(SERVICE, "p1"): "key-one"}
    assert creds.get_key("p1") == "key-one" and creds.has_key("p1")
    creds.set_key("p1", "key-two")
    assert creds.get_key("p1") == "key-two"
    assert creds.delete_key("p1") is True
    assert creds.delete_key("p1") is False
    assert creds.get_key("p1") is None


def test_rejects_empty_or_control_chars(creds):
    with pytest.raises(ValidationError):
        creds.set_key("p1", "   ")
    with pytest.raises(ValidationError):
        creds.set_key("p1", "abc\x00def")
    with pytest.raises(ValidationError) as refused:
        creds.set_key("p1", "sk\u2013live-0001")  # a typographic dash from a document
    assert "ASCII" in refused.value.field_errors["api_key"]
    assert creds.get_key("p1") is None


def test_global_keyring_is_used_when_no_backend_given(backend):
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        store = CredentialStore()
        store.set_key("p9", "k9")
        assert keyring.get_password(SERVICE, "p9") == "k9"
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize("backend_cls", [keyring.backends.fail.Keyring, keyring.backends.null.Keyring])
def test_no_keychain_gives_friendly_error_and_memory_fallback(backend_cls):
    store = CredentialStore(backend_cls())
    assert not store.is_available()
    assert store.backend_name().startswith("None")
    for call in (lambda: store.set_key("p1", "k"), lambda: store.get_key("p1"),
                 lambda: store.has_key("p1"), lambda: store.delete_key("p1")):
        with pytest.raises(KeyringUnavailableError) as caught:
            call()
        assert isinstance(caught.value, MomentsError)
        assert "keychain" in caught.value.message and "Traceback" not in caught.value.message
    store.use_memory_fallback()
    assert store.is_memory_only and store.is_available()
    assert store.backend_name() == MEMORY_BACKEND_NAME
    store.set_key("p1", "k")
    assert store.get_key("p1") == "k" and store.has_key("p1")
    assert store.delete_key("p1") and not store.has_key("p1")


@pytest.mark.parametrize("exc, expected", [
    (keyring.errors.KeyringLocked("Failed to unlock the collection!"), KeyringLockedError),
    (keyring.errors.InitError("Failed to create the collection"), KeyringUnavailableError),
    (keyring.errors.PasswordSetError("nope"), KeyringUnavailableError),
    (ConnectionRefusedError("dbus socket"), KeyringUnavailableError),
    (RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown"), KeyringUnavailableError),
    (Exception("Prompt dismissed"), KeyringLockedError),
])
def test_every_backend_failure_is_wrapped(exc, expected, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")  # a session that can show an unlock prompt (tests/core/test_keychain_states.py)
    store = CredentialStore(RaisingKeyring(exc))
    with pytest.raises(expected) as caught:
        store.set_key("p1", "secret-key-123")
    assert caught.type is expected
    assert "secret-key-123" not in caught.value.message
    assert caught.value.__cause__ is exc


def test_rename_keeps_key(creds):
    profiles = ProfileStore()
    p = profiles.add(Profile(name="A", base_url="https://x.example", appId="A", momentId="M",
                             campaignId="C", rewardGroupId="US"))
    creds.set_key(p.id, "kA")
    profiles.rename(p.id, "B")
    assert creds.get_key(profiles.find_by_name("B").id) == "kA"


# Deleting and duplicating a profile with its key are Session use cases: tests/core/test_session.py.


def test_keys_never_written_to_files(creds, tmp_path):
    profiles = ProfileStore()
    p = profiles.add(Profile(name="A", base_url="https://x.example", appId="A", momentId="M",
                             campaignId="C", rewardGroupId="US"))
    creds.set_key(p.id, "sk-very-secret-value")
    profiles.export_profiles(tmp_path / "export.json")
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert b"sk-very-secret-value" not in path.read_bytes()
    assert b"sk-very-secret-value" not in (tmp_path / "export.json").read_bytes()


def test_backend_names():
    assert CredentialStore(MemoryKeyring()).backend_name()  # falls back to keyring's own name
    store = CredentialStore(keyring.backends.fail.Keyring())
    assert "no keychain" in store.backend_name()
