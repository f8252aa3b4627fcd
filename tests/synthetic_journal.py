"""Journal rows made up in bulk, for the 100,000-row tests and benchmarks.

Shared by tests/ui/test_history.py and tests/bench/, so both measure the same shape of data:
every tenth row a getReward with a reward URL, every seventh a 429, 20 profiles, 997 campaigns,
one row every 30 seconds from 2025-01-01.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from moments_desktop.core.journal import Journal

BODY = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android", "rewardGroupId": "US"}
BATCH = 10_000


def synthetic_rows(n: int, api_key: str = "sk-bench-secret") -> Iterator[dict[str, Any]]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(n):
        claim = i % 10 == 0
        yield dict(
            endpoint="GetReward" if claim else "GetRewardInfo",
            url="https://api.example.com/prod/" + ("GetReward" if claim else "GetRewardInfo"),
            headers={"x-api-key": api_key, "Accept": "application/json"},
            body={**BODY, "campaignId": f"CAMP{i % 997:04d}"},
            status=200 if i % 7 else 429,
            response_headers={"content-type": "application/json"},
            response_body='{"rewardTitle": "Reward %d", "rewardAnnouncementText": "You earned it"}' % i,
            duration_ms=float(i % 300),
            outcome="success" if i % 7 else "error",
            reward_url=f"https://rewards.example/r/{i}" if claim else None,
            profile_id=f"profile-{i % 20}",
            profile_name=f"Profile {i % 20}",
            time=start + timedelta(seconds=30 * i),
        )


def fill_journal(path: Path, n: int, api_key: str = "sk-bench-secret") -> None:
    """Write ``n`` synthetic rows to the journal at ``path`` in large batches."""
    with Journal(path) as journal:
        batch = []
        for row in synthetic_rows(n, api_key):
            batch.append(row)
            if len(batch) == BATCH:
                journal.record_many(batch)
                batch.clear()
        journal.record_many(batch)
