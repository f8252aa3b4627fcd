"""profiles.json files made up in bulk, for the 150,000-profile start-up test and the benchmark.

Shared by tests/test_startup_states.py and tests/bench/bench_profiles.py, so both load the same shape
of file: what the app itself writes (ProfileStore._write_file), distinct names and ids.
"""

from __future__ import annotations

import json
from pathlib import Path


def synthetic_profile(i: int) -> dict:
    return {
        "name": f"Campaign {i:06d}",
        "base_url": f"https://moments-{i % 7}.example.com/",
        "appId": f"APP{i % 50}",
        "momentId": f"MOMENT_{i % 30}",
        "deviceType": "Android" if i % 2 else "iOS",
        "campaignId": f"CAMP{i:06d}",
        "rewardGroupId": "US",
        "live": i % 5 == 0,
        "allow_insecure": False,
        "cost_per_action": "0.25" if i % 3 == 0 else None,
        "currency": "USD",
        "notes": "",
        "id": f"synthetic{i:08d}",
    }


def write_profiles_file(path: Path, n: int) -> Path:
    """A valid profiles.json holding ``n`` profiles (besides the built-in one)."""
    document = {"schema_version": 1, "profiles": [synthetic_profile(i) for i in range(n)]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return Path(path)
