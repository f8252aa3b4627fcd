"""The clock's admin API (GET/POST /__sandbox/clock) on the shipped sandbox, and the ledger's time."""

from datetime import UTC, datetime, timedelta

import pytest
from sandbox_ids import LIVE, get, post

from moments_desktop.sandbox.clock import parse_instant


def _now(clock: dict) -> datetime:
    return parse_instant(clock["now"])


def test_the_clock_starts_real(sandbox):
    clock = sandbox.admin.clock()
    assert clock["frozen"] is False and clock["real"] is True
    assert abs(_now(clock) - datetime.now(UTC)) < timedelta(seconds=5)
    assert clock["month"] == _now(clock).strftime("%Y-%m")


def test_set_freezes_the_clock_and_advance_moves_it(sandbox):
    assert sandbox.admin.set_clock("2027-01-31T12:00:00Z") == {
        "now": "2027-01-31T12:00:00.000Z", "frozen": True, "real": False, "month": "2027-01"}
    assert sandbox.admin.clock()["now"] == "2027-01-31T12:00:00.000Z"  # frozen: it does not move
    assert sandbox.admin.advance_clock("P1D")["now"] == "2027-02-01T12:00:00.000Z"
    assert sandbox.admin.advance_clock("P1M")["now"] == "2027-03-01T12:00:00.000Z"
    assert sandbox.admin.advance_clock("-PT90M")["now"] == "2027-03-01T10:30:00.000Z"
    # A date alone means its midnight UTC; an offset is turned into UTC.
    assert sandbox.admin.set_clock("2027-05-02")["now"] == "2027-05-02T00:00:00.000Z"
    assert sandbox.admin.set_clock("2027-05-02T09:00:00+09:00")["now"] == "2027-05-02T00:00:00.000Z"


def test_set_without_freezing_lets_the_clock_run_on(sandbox):
    clock = sandbox.admin.set_clock("2027-06-01T00:00:00Z", frozen=False)
    assert clock["frozen"] is False and clock["real"] is False
    started = _now(clock)
    assert timedelta(0) <= started - datetime(2027, 6, 1, tzinfo=UTC) < timedelta(seconds=5)
    advanced = _now(sandbox.admin.advance_clock("P1D"))
    assert timedelta(days=1) <= advanced - started < timedelta(days=1, seconds=5)
    assert sandbox.admin.clock()["frozen"] is False


def test_real_and_reset_return_to_real_time(sandbox):
    sandbox.admin.set_clock("2027-01-01T00:00:00Z")
    clock = sandbox.admin.real_clock()
    assert clock["real"] is True and abs(_now(clock) - datetime.now(UTC)) < timedelta(seconds=5)
    sandbox.admin.set_clock("2027-01-01T00:00:00Z")
    sandbox.admin.reset()
    clock = sandbox.admin.clock()
    assert clock["real"] is True and abs(_now(clock) - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "exactly one of"),
        ({"set": "2027-01-01", "advance": "P1D"}, "exactly one of"),
        ({"set": "tomorrow"}, "not an ISO-8601 date"),
        ({"set": 1806400800}, "ISO-8601 date or date-time string"),
        ({"set": "1969-12-31"}, "1970"),
        ({"set": "2027-01-01", "frozen": "no"}, "'frozen' must be true or false"),
        ({"advance": "1 day"}, "not an ISO-8601 duration"),
        ({"advance": "P1D", "frozen": False}, "'frozen' goes only with 'set'"),
        ({"advance": "P8000Y"}, "1970–8999"),
        ({"real": False}, "'real' must be true"),
        ({"when": "now"}, "unknown field 'when'"),
        ([{"advance": "P1D"}], "expected a JSON object"),
        ("{broken", "expected a JSON object"),
    ],
)
def test_a_clock_request_it_cannot_follow_is_a_400_with_the_reason(sandbox, body, fragment):
    sandbox.admin.set_clock("2027-01-01T00:00:00Z")
    url = f"{sandbox.base_url}/__sandbox/clock"
    if isinstance(body, str):
        response = post(url, content=body, headers={"Content-Type": "application/json"})
    else:
        response = post(url, json=body)
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert sandbox.admin.clock()["now"] == "2027-01-01T00:00:00.000Z"  # unchanged


def test_the_catalog_and_the_ledger_read_the_clock(api, sandbox):
    sandbox.admin.set_clock("2027-02-14T08:30:00Z")
    assert api.claim(**LIVE).status_code == 200
    sandbox.admin.advance_clock("PT1H")
    api.claim(key="nope")
    assert [entry["time"] for entry in sandbox.admin.ledger()] == [
        "2027-02-14T08:30:00.000Z", "2027-02-14T09:30:00.000Z"]
    catalog = get(f"{sandbox.base_url}/__sandbox/catalog").json()
    assert catalog["clock"]["now"] == "2027-02-14T09:30:00.000Z"
    assert catalog["billing"]["month"] == "2027-02"
