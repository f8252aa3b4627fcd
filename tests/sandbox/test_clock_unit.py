"""SandboxClock and its ISO-8601 parsing, without a server (the HTTP face is in test_clock.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from moments_desktop.sandbox.clock import ClockError, SandboxClock, iso, parse_duration, parse_instant


class FakeSystem:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def at(text: str) -> datetime:
    return parse_instant(text)


@pytest.mark.parametrize(
    ("text", "months", "span"),
    [
        ("P1D", 0, timedelta(days=1)),
        ("PT90M", 0, timedelta(minutes=90)),
        ("P1M", 1, timedelta(0)),
        ("P1Y2M3DT4H5M6.5S", 14, timedelta(days=3, hours=4, minutes=5, seconds=6.5)),
        ("P2W", 0, timedelta(weeks=2)),
        ("-P1D", 0, -timedelta(days=1)),
        ("PT0,5S", 0, timedelta(seconds=0.5)),
    ],
)
def test_durations_parse(text, months, span):
    duration = parse_duration(text)
    assert (duration.months, duration.span) == (months, span)


@pytest.mark.parametrize("text", ["", "P", "PT", "1D", "P1H", "PT1D", "P1.5D", "P-1D", "tomorrow", 5, None])
def test_bad_durations_are_refused(text):
    with pytest.raises(ClockError):
        parse_duration(text)


def test_a_month_from_the_31st_is_the_end_of_a_short_month():
    assert parse_duration("P1M").added_to(at("2027-01-31T12:00:00Z")) == at("2027-02-28T12:00:00Z")
    assert parse_duration("P1M").added_to(at("2028-01-31")) == at("2028-02-29")
    assert parse_duration("-P1M").added_to(at("2027-03-31")) == at("2027-02-28")
    assert parse_duration("P1Y").added_to(at("2027-12-15")) == at("2028-12-15")


def test_instants_are_utc_and_a_plain_date_is_its_midnight():
    assert at("2027-03-01") == datetime(2027, 3, 1, tzinfo=UTC)
    assert at("2027-03-01T09:00:00+02:00") == datetime(2027, 3, 1, 7, tzinfo=UTC)
    assert at("2027-03-01T09:00:00") == datetime(2027, 3, 1, 9, tzinfo=UTC)
    assert iso(at("2027-03-01T09:00:00.25Z")) == "2027-03-01T09:00:00.250Z"
    for bad in ("yesterday", "2027-13-01", "", 20270301, "1969-12-31", "9999-01-01"):
        with pytest.raises(ClockError):
            parse_instant(bad)


def test_the_clock_is_real_until_set_and_frozen_when_set():
    system = FakeSystem(1_800_000_000.0)
    clock = SandboxClock(system)
    assert clock.is_real and not clock.frozen
    assert clock.now() == datetime.fromtimestamp(1_800_000_000, UTC)
    clock.set(at("2027-03-01"))
    system.t += 3600
    assert clock.now() == at("2027-03-01") and clock.frozen
    assert clock.to_json() == {"now": "2027-03-01T00:00:00.000Z", "frozen": True, "real": False}


def test_a_running_clock_set_in_the_past_keeps_ticking():
    system = FakeSystem(1_800_000_000.0)
    clock = SandboxClock(system)
    clock.set(at("2027-03-01"), frozen=False)
    system.t += 90
    assert clock.now() == at("2027-03-01T00:01:30Z") and not clock.frozen


def test_advance_moves_a_frozen_or_running_clock_and_real_returns():
    system = FakeSystem(1_800_000_000.0)
    clock = SandboxClock(system)
    clock.advance(parse_duration("P1D"))
    assert not clock.frozen and clock.now() == datetime.fromtimestamp(1_800_000_000, UTC) + timedelta(days=1)
    clock.set(at("2027-01-31"))
    clock.advance(parse_duration("P1M"))
    assert clock.now() == at("2027-02-28") and clock.frozen
    clock.real()
    assert clock.is_real and clock.now() == datetime.fromtimestamp(1_800_000_000, UTC)


def test_advance_past_the_supported_years_is_refused_and_changes_nothing():
    clock = SandboxClock(FakeSystem(1_800_000_000.0))
    clock.set(at("8999-12-01"))
    with pytest.raises(ClockError):
        clock.advance(parse_duration("P1M"))
    with pytest.raises(ClockError):
        clock.advance(parse_duration("P400000D"))
    assert clock.now() == at("8999-12-01")


def test_the_clock_holds_from_the_first_instant_of_1970_and_not_before():
    assert parse_instant("1970-01-01T00:00:00Z") == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_instant("1970-06-01") == datetime(1970, 6, 1, tzinfo=UTC)
    with pytest.raises(ClockError):
        parse_instant("1969-12-31T23:59:59Z")


def test_advancing_past_9000_or_before_1970_is_refused_even_when_datetime_could_hold_it():
    clock = SandboxClock(FakeSystem(1_800_000_000.0))
    clock.set(at("8999-12-01"))
    with pytest.raises(ClockError):
        clock.advance(parse_duration("P100D"))  # 9000-03: a datetime, but beyond the clock's years
    clock.set(at("1970-01-02"))
    with pytest.raises(ClockError):
        clock.advance(parse_duration("-P2D"))
    assert clock.now() == at("1970-01-02")


def test_a_frozen_clock_set_running_runs_and_real_drops_an_advance():
    system = FakeSystem(1_800_000_000.0)
    clock = SandboxClock(system)
    clock.set(at("2027-03-01"))
    clock.set(at("2027-04-01"), frozen=False)
    system.t += 60
    assert not clock.frozen and clock.now() == at("2027-04-01T00:01:00Z")
    clock.real()
    clock.advance(parse_duration("P1D"))  # running: an offset from real time
    clock.real()
    assert clock.is_real and clock.now() == datetime.fromtimestamp(system.t, UTC)


def test_a_refused_value_is_quoted_back_60_characters_at_most_and_five_unknown_fields_at_most():
    from moments_desktop.sandbox.clock import apply_request

    with pytest.raises(ClockError) as caught:
        parse_duration("P" + "x" * 1000)
    quoted = str(caught.value).split(" is not")[0]
    assert len(quoted) == 60 and quoted.endswith("…")
    with pytest.raises(ClockError) as caught:
        apply_request(SandboxClock(), {f"field{n}": 1 for n in range(10)})
    assert "'field4'" in str(caught.value) and "'field5'" not in str(caught.value)
