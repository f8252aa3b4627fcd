"""Validating start_date, end_date as a date, monthly_allowance, budget and the account's cap."""

import copy
from datetime import UTC, datetime

import pytest
from dated_catalog import CATALOG

from moments_desktop.sandbox.catalog import CatalogError, load_default_catalog, parse_catalog


def _with_campaign(**fields):
    """The dated catalog with one undated campaign, ``fields`` changed."""
    data = copy.deepcopy(CATALOG)
    undated = {k: v for k, v in data["campaigns"][0].items() if k not in ("start_date", "end_date")}
    data["campaigns"] = [{**undated, **fields}]
    return data


def _with_group(**fields):
    data = _with_campaign()
    data["campaigns"][0]["reward_groups"] = [{**data["campaigns"][0]["reward_groups"][0], **fields}]
    return data


@pytest.mark.parametrize(
    ("data", "json_path", "fragment"),
    [
        (_with_campaign(start_date="soon"), "$.campaigns[0].start_date", "expected an ISO-8601 date"),
        (_with_campaign(start_date=True), "$.campaigns[0].start_date", "found a boolean"),
        (_with_campaign(start_date={"day": 1}), "$.campaigns[0].start_date", "found an object"),
        (_with_campaign(start_date="1969-12-31"), "$.campaigns[0].start_date", "between 1970 and 8999"),
        (_with_campaign(start_date="2027-04-01", end_date="2027-03-31"), "$.campaigns[0].start_date",
         "would go Live at 2027-04-01T00:00:00Z but be Finished from 2027-04-01T00:00:00Z"),
        (_with_campaign(start_date="2027-03-30T10:00:00Z", end_date=1806400800), "$.campaigns[0].start_date",
         "the start must come before the end"),
        (_with_group(monthly_allowance=-1), "$.campaigns[0].reward_groups[0].monthly_allowance", "0 or more"),
        (_with_group(monthly_allowance=1.5), "$.campaigns[0].reward_groups[0].monthly_allowance", "whole number"),
        (_with_group(monthly_allowance=True), "$.campaigns[0].reward_groups[0].monthly_allowance", "whole number"),
        (_with_group(monthly_allowance="3"), "$.campaigns[0].reward_groups[0].monthly_allowance", "whole number"),
        (_with_campaign(budget={"monthly_usd": 49.99, "cost_per_action_usd": 1}), "$.campaigns[0].budget.monthly_usd",
         "between $50 and $5,000"),
        (_with_campaign(budget={"monthly_usd": 5000.01, "cost_per_action_usd": 1}),
         "$.campaigns[0].budget.monthly_usd", "between $50 and $5,000"),
        (_with_campaign(budget={"monthly_usd": "100", "cost_per_action_usd": 1}),
         "$.campaigns[0].budget.monthly_usd", "found the string"),
        (_with_campaign(budget={"monthly_usd": 100, "cost_per_action_usd": 0}),
         "$.campaigns[0].budget.cost_per_action_usd", "more than $0"),
        (_with_campaign(budget={"monthly_usd": 100, "cost_per_action_usd": -2}),
         "$.campaigns[0].budget.cost_per_action_usd", "more than $0"),
        (_with_campaign(budget={"monthly_usd": 100, "cost_per_action_usd": 0.005}),
         "$.campaigns[0].budget.cost_per_action_usd", "whole cents"),
        (_with_campaign(budget={"monthly_usd": 100, "cost_per_action_usd": 100.01}),
         "$.campaigns[0].budget.cost_per_action_usd", "more than the monthly budget of $100"),
        (_with_campaign(budget={"monthly_usd": 100}), "$.campaigns[0].budget", "missing required field"),
        (_with_campaign(budget={"monthly_usd": 100, "cost_per_action_usd": 1, "currency": "EUR"}),
         "$.campaigns[0].budget", "unknown field 'currency'"),
        (_with_campaign(budget=100), "$.campaigns[0].budget", "expected an object"),
        ({**CATALOG, "account_monthly_budget_usd": 15000.01}, "$.account_monthly_budget_usd", "at most $15,000"),
        ({**CATALOG, "account_monthly_budget_usd": 0}, "$.account_monthly_budget_usd", "more than $0"),
        ({**CATALOG, "account_monthly_budget_usd": False}, "$.account_monthly_budget_usd", "found a boolean"),
    ],
)
def test_bad_dates_allowances_and_budgets_name_their_json_path(data, json_path, fragment):
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    assert caught.value.json_path == json_path
    assert fragment in caught.value.reason


def test_dates_are_read_as_instants():
    catalog = parse_catalog({**CATALOG, "campaigns": [
        _with_campaign(id="A", start_date="2027-03-31", end_date="2027-03-31")["campaigns"][0],
        _with_campaign(id="B", start_date=1806400800, end_date=1806404400000)["campaigns"][0],
        _with_campaign(id="C", start_date="1806400800", end_date="2027-03-31T12:00:00+02:00")["campaigns"][0],
        _with_campaign(id="D", end_date="2027-02-30")["campaigns"][0],
        _with_campaign(id="E", end_date=10**20)["campaigns"][0],
    ]})
    at = lambda *parts: datetime(*parts, tzinfo=UTC)  # noqa: E731
    a, b, c, d, e = catalog.campaigns
    # A one-day campaign: from the day's midnight to the next.
    assert (a.starts_at, a.ends_at) == (at(2027, 3, 31), at(2027, 4, 1))
    # Epoch seconds, and milliseconds above 1e11 (as the app reads campaignEndDate).
    assert b.starts_at == at(2027, 3, 30, 10) and b.ends_at == at(2027, 3, 30, 11)
    assert (c.starts_at, c.ends_at) == (at(2027, 3, 30, 10), at(2027, 3, 31, 10))
    # End dates the sandbox cannot read are kept for campaignEndDate and drive nothing.
    assert (d.end_date, d.ends_at, e.ends_at) == ("2027-02-30", None, None)


def test_budgets_are_kept_in_cents_and_the_account_cap_defaults_to_15000_dollars():
    catalog = parse_catalog(_with_campaign(budget={"monthly_usd": 5000, "cost_per_action_usd": 0.1}))
    budget = catalog.campaigns[0].budget
    assert (budget.monthly_cents, budget.cost_per_action_cents) == (500_000, 10)
    assert catalog.account_monthly_budget_cents == 1_500_000
    capped = parse_catalog({**CATALOG, "account_monthly_budget_usd": 99.5})
    assert capped.account_monthly_budget_cents == 9_950


def test_the_shipped_catalog_still_loads_with_its_dates():
    campaigns = {c.id: c for c in load_default_catalog().campaigns}
    assert campaigns["DEMOCAMP1"].starts_at is None  # Approved without a start date: a person sets it live
    assert campaigns["LIVECAMP1"].ends_at == datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)
