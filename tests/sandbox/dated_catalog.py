"""A small catalog of dated, rationed and budgeted campaigns, served by a sandbox of its own.

Used by the clock, date, allowance and budget tests: each test gets the server reset (inventory,
allowance counters, spend, ledger, and the clock back to real time) and moves the clock itself.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sandbox_ids import client as http_client

import leak_guard
from moments_desktop.sandbox.admin import SandboxAdmin
from moments_desktop.sandbox.catalog import parse_catalog
from moments_desktop.sandbox.server import SandboxServer

KEY = "dates-key-0001"
APP = "DATES"
MOMENT = "M"


def _group(gid: str, locale: str = "en-US", inventory: int = 10, **extra: Any) -> dict[str, Any]:
    return {"id": gid, "locale": locale, "reward": "prize", "inventory": inventory, **extra}


def _campaign(cid: str, state: str, groups: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "app_id": APP,
        "state": state,
        "moments": [MOMENT],
        "reward_groups": groups or [_group("US"), _group("JP", "ja-JP")],
        **extra,
    }


CAMPAIGNS = [
    # Approved with a plain start date: Live from 2027-03-01T00:00Z; Finished after 2027-03-31 (whole day).
    _campaign("SOON", "Approved", start_date="2027-03-01", end_date="2027-03-31"),
    # Date-time start, epoch end: 2027-03-01T09:30Z → Live; 1806400800 = 2027-03-30T10:00:00Z → Finished.
    _campaign("TIMED", "Approved", start_date="2027-03-01T09:30:00Z", end_date=1806400800),
    # Configured Live with a plain end date, and one whose end date the sandbox cannot read.
    _campaign("LIVEEND", "Live", end_date="2027-03-31"),
    _campaign("ODDEND", "Live", end_date="end of March"),
    # Approved without a start date: a person sets it live; the dates never move it.
    _campaign("NOSTART", "Approved", end_date="2027-03-31"),
    # A person's decision that dates do not override.
    _campaign("PAUSED", "Suspended", start_date="2027-03-01", end_date="2027-03-31"),
    # Monthly allowances: 2 a month out of 5; 0 a month in German.
    _campaign(
        "MONTHLY",
        "Live",
        [_group("US", inventory=5, monthly_allowance=2), _group("DE", "de-DE", monthly_allowance=0)],
    ),
    _campaign("TESTMONTHLY", "Approved", [_group("US", inventory=5, monthly_allowance=2)]),
    # Budgets: $50 a month at $20 a claim (two fit, a third would make $60); cents kept exact.
    _campaign("BUDGET", "Live", budget={"monthly_usd": 50, "cost_per_action_usd": 20}),
    _campaign("CENTS", "Live", [_group("US", inventory=100)], budget={"monthly_usd": 50, "cost_per_action_usd": 0.1}),
    _campaign("TESTBUDGET", "Approved", budget={"monthly_usd": 50, "cost_per_action_usd": 50}),
]

CATALOG: dict[str, Any] = {
    "schema_version": 1,
    "rate_limit_per_second": 1000,  # these tests are about dates and money, not the 5/s limit
    "apps": [{"id": APP, "api_keys": [KEY], "moments": [{"id": MOMENT}]}],
    "rewards": [
        {
            "id": "prize",
            "title": "Prize",
            "image": "headphones.png",
            "messages": {
                "en-US": {"announcement": "You earned a prize.", "redemption": "Here is your prize."},
                "ja-JP": {"announcement": "賞品を獲得しました。", "redemption": "賞品はこちらです。"},
                "de-DE": {"announcement": "Du hast einen Preis gewonnen.", "redemption": "Hier ist dein Preis."},
            },
        }
    ],
    "campaigns": CAMPAIGNS,
}


def catalog_with(**root: Any) -> dict[str, Any]:
    data = copy.deepcopy(CATALOG)
    data.update(root)
    return data


class Dated:
    """One sandbox and its admin; ``info``/``claim`` post the five fields for a campaign and group."""

    def __init__(self, server: SandboxServer, admin: SandboxAdmin, http: httpx.Client):
        self.server = server
        self.admin = admin
        self.http = http

    def post(self, endpoint: str, campaign: str, group: str = "US") -> httpx.Response:
        body = {"appId": APP, "momentId": MOMENT, "deviceType": "Android", "campaignId": campaign, "rewardGroupId": group}
        response = self.http.post(f"/{endpoint}", json=body, headers={"x-api-key": KEY})
        assert response.status_code == 200, response.text
        return response

    def info(self, campaign: str, group: str = "US") -> dict[str, Any]:
        return self.post("GetRewardInfo", campaign, group).json()

    def claim(self, campaign: str, group: str = "US") -> dict[str, Any]:
        return self.post("GetReward", campaign, group).json()

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        return next(c for c in self.admin.catalog()["campaigns"] if c["id"] == campaign_id)

    def group(self, campaign_id: str, group_id: str = "US") -> dict[str, Any]:
        return next(g for g in self.campaign(campaign_id)["reward_groups"] if g["id"] == group_id)


@contextmanager
def serve(data: dict[str, Any], *, outlives_tests: bool = False) -> Iterator[Dated]:
    """A sandbox for ``data`` on 127.0.0.1, with its admin and an HTTP client, closed on exit.
    ``outlives_tests``: for a module fixture, whose connections are no single test's leak."""
    keep = leak_guard.outlives_tests if outlives_tests else (lambda obj: obj)
    with keep(SandboxServer(catalog=parse_catalog(data))) as server, keep(SandboxAdmin(server.base_url)) as admin:
        with http_client(server.base_url, timeout=10) as http:
            yield keep(Dated(server, admin, http))


@pytest.fixture(scope="module")
def _dated_server():
    with serve(CATALOG, outlives_tests=True) as dated:
        yield dated


@pytest.fixture
def dated(_dated_server):
    """The dated catalog's sandbox, reset (clock back to real time, counters and spend cleared)."""
    _dated_server.admin.reset(ledger=True)
    return _dated_server
