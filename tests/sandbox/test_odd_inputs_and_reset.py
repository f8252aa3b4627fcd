"""Edges a review of Step 9 found: numbers too long for int(), dates that only look like numbers, a
reset that kept the ledger but broke its links, a typo in a reset body, a clock handed to the state,
and a flood of unknown-key claims pushing real ones out of the ledger."""

import copy
import json
from datetime import UTC, datetime

import pytest
from dated_catalog import CATALOG
from sandbox_ids import LIVE, get, post

from moments_desktop.sandbox.catalog import (
    STATE_LIVE,
    CatalogError,
    load_catalog,
    load_default_catalog,
    parse_catalog,
)
from moments_desktop.sandbox.clock import ClockError, SandboxClock, parse_duration, parse_instant
from moments_desktop.sandbox.state import LEDGER_LIMIT, UNKNOWN_KEY_LEDGER_LIMIT, SandboxState

DEMO_BODY = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android",
             "campaignId": "DEMOCAMP1", "rewardGroupId": "US"}


# --- numbers int() refuses ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["P" + "9" * 5000 + "D", "PT" + "9" * 5000 + "H", "P1234567890D"])
def test_a_duration_with_a_huge_number_is_refused_not_crashed(text):
    with pytest.raises(ClockError) as caught:
        parse_duration(text)
    assert len(str(caught.value)) < 200  # the 5,000 digits are not quoted back


def test_a_clock_request_with_a_huge_number_is_a_short_400(sandbox):
    for body in ({"advance": "P" + "9" * 5000 + "D"}, {"set": "9" * 5000}, {"x" * 5000: 1}):
        response = post(f"{sandbox.base_url}/__sandbox/clock", json=body)
        assert response.status_code == 400, body
        assert len(response.json()["message"]) < 300
    assert sandbox.admin.clock()["real"] is True


def _campaign(**fields):
    data = copy.deepcopy(CATALOG)
    undated = {k: v for k, v in data["campaigns"][0].items() if k not in ("start_date", "end_date")}
    data["campaigns"] = [{**undated, **fields}]
    return data


@pytest.mark.parametrize("odd", ["²", "9" * 5000, "1" * 21])
def test_an_end_date_that_only_looks_like_a_number_is_passed_through_and_drives_nothing(odd):
    [campaign] = parse_catalog(_campaign(state=STATE_LIVE, end_date=odd)).campaigns
    assert campaign.end_date == odd and campaign.ends_at is None
    assert campaign.state_at(datetime(8000, 1, 1, tzinfo=UTC)) == STATE_LIVE


@pytest.mark.parametrize("odd", ["²", "9" * 5000])
def test_a_start_date_that_only_looks_like_a_number_is_a_catalog_error(odd):
    with pytest.raises(CatalogError) as caught:
        parse_catalog(_campaign(state="Approved", start_date=odd))
    assert caught.value.json_path == "$.campaigns[0].start_date"


def test_eight_digits_are_an_iso_basic_date_not_epoch_seconds_of_1970():
    [campaign] = parse_catalog(_campaign(state="Approved", start_date="20350301", end_date="20350531")).campaigns
    assert campaign.starts_at == datetime(2035, 3, 1, tzinfo=UTC)
    assert campaign.ends_at == datetime(2035, 6, 1, tzinfo=UTC)  # a plain date runs through its day
    [epoch] = parse_catalog(_campaign(state=STATE_LIVE, end_date="4102444799")).campaigns
    assert epoch.ends_at == datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_a_catalog_file_with_a_number_too_long_to_read_is_a_catalog_error(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text('{"schema_version": 1, "rate_limit_per_second": ' + "9" * 5000 + "}", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid JSON"):
        load_catalog(path)


def test_a_null_quota_is_no_quota():
    data = copy.deepcopy(CATALOG)
    data["quota"] = None
    data["apps"][0]["quota"] = None
    catalog = parse_catalog(data)
    assert catalog.quota is None and catalog.apps[0].quota is None


def test_the_shipped_live_campaigns_stay_live_for_decades():
    """Their end dates drive their state now: a date within reach of the real clock would one day
    finish them under every test and demo that expects a Live claim."""
    far = datetime(2090, 1, 1, tzinfo=UTC)
    live = [c for c in load_default_catalog().campaigns if c.state == STATE_LIVE]
    assert {c.id for c in live} >= {"LIVECAMP1", "FITLIVE1", "FITBUDGET1"}
    assert all(c.state_at(far) == STATE_LIVE for c in live)


# --- the reset -------------------------------------------------------------------------------------


def test_a_reset_that_keeps_the_ledger_keeps_its_reward_links_working(api, sandbox):
    url = api.claim(**LIVE).json()["rewardNotificationUrl"]
    sandbox.admin.reset()
    [entry] = sandbox.admin.ledger()
    assert entry["reward_url"] == url and get(url).status_code == 200
    sandbox.admin.reset(ledger=True)
    assert sandbox.admin.ledger() == [] and get(url).status_code == 404


@pytest.mark.parametrize("body", [{"legder": True}, {"ledger": True, "x": [1]}, {"ledger": "yes"}, [True]])
def test_a_reset_body_with_anything_but_ledger_is_refused_and_changes_nothing(api, sandbox, body):
    api.claim(**LIVE)
    response = post(f"{sandbox.base_url}/__sandbox/reset", content=json.dumps(body),
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "ledger" in response.json()["message"]
    assert len(sandbox.admin.ledger()) == 1 and sandbox.admin.remaining("LIVECAMP1", "US") == 24


def test_a_state_built_with_a_clock_already_set_keeps_it():
    clock = SandboxClock()
    clock.set(parse_instant("2035-03-01"))
    state = SandboxState(load_default_catalog(), sandbox_clock=clock)
    assert state.now() == datetime(2035, 3, 1, tzinfo=UTC)
    state.reset()  # a reset, by contrast, returns to real time
    assert state.clock.is_real


# --- the ledger under a flood of unknown keys -----------------------------------------------------


def test_unknown_key_claims_never_push_real_claims_out_of_the_ledger():
    state = SandboxState(load_default_catalog())
    real = state.record(DEMO_BODY, "DEMO1")
    for _ in range(UNKNOWN_KEY_LEDGER_LIMIT + 500):
        state.record(DEMO_BODY, None)
    page = state.ledger_page()
    assert page["entries"][0] is real
    assert len(page["entries"]) == 1 + UNKNOWN_KEY_LEDGER_LIMIT
    assert page["dropped"] == 500 and page["unknown_key_limit"] == UNKNOWN_KEY_LEDGER_LIMIT
    assert [e["seq"] for e in page["entries"]] == sorted(e["seq"] for e in page["entries"])
    assert page["limit"] == LEDGER_LIMIT


def test_the_ledger_lists_known_and_unknown_key_claims_in_order_over_http(api, sandbox):
    api.claim(**LIVE)
    api.claim(key="not-a-key")
    api.claim(**LIVE)
    page = sandbox.admin.ledger_page()
    assert [(e["seq"], e["app_id"], e["status"]) for e in page["entries"]] == [
        (1, "DEMO1", 200), (2, None, 403), (3, "DEMO1", 200)]
    assert page["dropped"] == 0
