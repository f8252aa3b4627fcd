"""One way for the core tests to run a scenario against a real Session over the real sandbox."""

import asyncio
import time

from memory_keyring import MemoryKeyring

from moments_desktop.core.client import MomentsClient
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import ProfileStore
from moments_desktop.core.session import EmbeddedSandbox, Session


def run_session(sandbox, tmp_path, scenario, *, keyring_backend=None, embedded=True, clock=None,
                run_blocking=None, **client_options):
    """Build a Session in a fresh loop, run ``await scenario(session)``, always close the Session."""
    async def main():
        profiles = ProfileStore(tmp_path / "profiles.json")
        credentials = CredentialStore(keyring_backend if keyring_backend is not None else MemoryKeyring())
        journal = Journal(tmp_path / "journal.sqlite3")
        http = make_client()
        session = Session(
            profiles, credentials, journal, http,
            client=MomentsClient(http, **client_options) if client_options else None,
            sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key) if embedded else None,
            run_blocking=run_blocking, clock=clock or time.monotonic)
        try:
            return await scenario(session)
        finally:
            await session.aclose()

    return asyncio.run(main())
