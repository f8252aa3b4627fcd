"""After a whole scripted flow, the API key is in no file the app wrote."""

import asyncio
from pathlib import Path

import httpx
from memory_keyring import MemoryKeyring

from moments_desktop.core import paths
from moments_desktop.core.client import MomentsClient
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.journal import Journal
from moments_desktop.core.operations import Operations, ProfileRef
from moments_desktop.core.profiles import Profile, ProfileStore


def test_key_reaches_no_file(sandbox, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(home))
    key = sandbox.demo_key
    profiles = ProfileStore()
    creds = CredentialStore(backend=MemoryKeyring())
    profile = profiles.add(Profile(name="QA live", base_url=sandbox.base_url, appId="DEMO1", momentId="GAME_COMPLETE",
                                   deviceType="Android", campaignId="LIVECAMP1", rewardGroupId="US", live=True))
    creds.set_key(profile.id, key)
    sandbox.admin.add_fault("GetRewardInfo", "status", status=403, times=1,
                            body={"message": f"Forbidden for key {key}"})  # a server that echoes the key

    async def flow():
        async with httpx.AsyncClient() as http:
            ops = Operations(MomentsClient(http, info_retries=0), Journal())
            ref, request = ProfileRef(profile.id, profile.name), profile.to_request()
            echoed = await ops.preview(ref, request, creds.get_key(profile.id))
            preview = await ops.preview(ref, request, creds.get_key(profile.id))
            claim = await ops.claim(ref, request, creds.get_key(profile.id))
            return echoed, preview, claim

    echoed, preview, claim = asyncio.run(flow())
    assert not echoed.ok and preview.ok and claim.reward_url
    profiles.export_profiles(home / "exports" / "profiles.json")
    with Journal() as journal:
        assert journal.count(None) == 3
        journal.export_csv(home / "exports" / "history.csv")
        journal.export_json(home / "exports" / "history.json")

    written = [p for p in Path(home).rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"profiles.json", "journal.sqlite3", "history.csv", "history.json"}
    assert paths.journal_path().parent.is_relative_to(home)
    for path in written:
        data = path.read_bytes()
        assert key.encode() not in data, f"API key leaked into {path}"
        assert key.encode("utf-16-le") not in data, f"API key leaked into {path}"
