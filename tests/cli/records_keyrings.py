"""A keyring backend for a ``moments`` subprocess (``PYTHON_KEYRING_BACKEND=records_keyrings.LockedKeyring``
with tests/cli on PYTHONPATH): a keychain that refuses every call because it is locked, with keyring's own
exception, as a locked Secret Service collection does after its unlock prompt was dismissed."""

from __future__ import annotations

import keyring.errors
from keyring.backend import KeyringBackend


class LockedKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")
