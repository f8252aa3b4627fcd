"""CredentialStore against a REAL Secret Service (gnome-keyring under dbus-run-session in CI).

Locally this skips, with the reason shown, when no Secret Service is running. With CI=true
a missing Secret Service is a failure: CI must exercise the real keychain.

    dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
        python -m pytest tests/core/test_secret_service.py -q'
"""

import os
import subprocess
import sys
import uuid

import pytest
from secret_service import require_secret_service

from moments_desktop.core.credentials import SERVICE, CredentialStore
from moments_desktop.core.errors import ValidationError

pytestmark = pytest.mark.secret_service

BACKEND = "keyring.backends.SecretService.Keyring"


@pytest.fixture(scope="module")
def real_store():
    # conftest already does this for every secret_service test; repeated so this module
    # also behaves when run on its own: skip with the reason locally, fail under CI=true.
    require_secret_service()
    from keyring.backends.SecretService import Keyring

    return CredentialStore(Keyring())


@pytest.fixture
def profile_id(real_store):
    pid = f"test-{uuid.uuid4().hex}"
    yield pid
    real_store.delete_key(pid)


def _read_from_other_process(profile_id: str) -> str | None:
    code = (
        "import keyring, sys\n"
        f"v = keyring.get_password({SERVICE!r}, sys.argv[1])\n"
        "sys.stdout.write('<none>' if v is None else 'value:' + v)\n"
    )
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": BACKEND}
    result = subprocess.run([sys.executable, "-c", code, profile_id], capture_output=True, text=True,
                            timeout=60, env=env, check=True)
    out = result.stdout
    return None if out == "<none>" else out.removeprefix("value:")


def test_backend_is_reported_as_secret_service(real_store):
    assert real_store.backend_name().startswith("Secret Service")
    assert real_store.is_available() and not real_store.is_memory_only


def test_set_read_replace_delete_seen_by_another_process(real_store, profile_id):
    assert not real_store.has_key(profile_id)
    with pytest.raises(ValidationError):  # a header cannot carry it: refused before the keychain
        real_store.set_key(profile_id, "first-key-ÄÖ-123")
    assert not real_store.has_key(profile_id)
    first = "first-key+/=_~!$%*-123"  # every punctuation mark an API key may carry survives the trip
    real_store.set_key(profile_id, first)
    assert real_store.has_key(profile_id)
    assert real_store.get_key(profile_id) == first
    assert _read_from_other_process(profile_id) == first

    real_store.set_key(profile_id, "second-key-456")
    assert real_store.get_key(profile_id) == "second-key-456"
    assert _read_from_other_process(profile_id) == "second-key-456"

    assert real_store.delete_key(profile_id) is True
    assert real_store.get_key(profile_id) is None and not real_store.has_key(profile_id)
    assert _read_from_other_process(profile_id) is None
    assert real_store.delete_key(profile_id) is False


def test_replace_keeps_a_single_item(real_store, profile_id):
    import secretstorage

    real_store.set_key(profile_id, "a-key")
    real_store.set_key(profile_id, "b-key")
    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        items = list(collection.search_items({"service": SERVICE, "username": profile_id}))
        assert len(items) == 1
    finally:
        connection.close()
