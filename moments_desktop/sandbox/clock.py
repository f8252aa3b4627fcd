"""The sandbox's clock: real time, or a time a tester set, frozen or running, for every dated answer.

Campaign start and end dates, the month a reward group's allowance and a campaign's budget count in,
per-key quotas and the ledger's timestamps all read ``SandboxClock.now()``, never the system clock,
so a tester can move a campaign from Approved to Live to Finished in seconds
(``POST /__sandbox/clock`` with ``{"set": ISO}``, ``{"advance": "P1D"}`` or ``{"real": true}``).

The rate limit (5 calls per second) is not dated: it keeps the monotonic clock, so moving the
sandbox clock never lets a burst through or blocks a call.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# ISO-8601 durations: PnYnMnWnDTnHnMnS (weeks may mix with the rest, as most parsers allow).
# At most nine digits a number: enough for any span the clock can hold, and never the 4,300-digit
# strings int() refuses.
_DURATION = re.compile(
    r"^(?P<sign>-)?P(?!$)(?:(?P<years>[0-9]{1,9})Y)?(?:(?P<months>[0-9]{1,9})M)?(?:(?P<weeks>[0-9]{1,9})W)?"
    r"(?:(?P<days>[0-9]{1,9})D)?"
    r"(?:T(?=[0-9])(?:(?P<hours>[0-9]{1,9})H)?(?:(?P<minutes>[0-9]{1,9})M)?"
    r"(?:(?P<seconds>[0-9]{1,9}(?:[.,][0-9]{1,9})?)S)?)?$"
)
# A refused value is quoted back to this length at most (a request body may be 64 KiB).
_QUOTE_CHARS = 60
# Far enough for any campaign, near enough that datetime arithmetic never overflows.
MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(9000, 1, 1, tzinfo=UTC)


class ClockError(ValueError):
    """A clock request the sandbox cannot follow; the message says why."""


def _quoted(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1] + "…"


@dataclass(frozen=True)
class Duration:
    """An ISO-8601 duration: calendar months (years × 12 + months) and an exact time span."""

    months: int
    span: timedelta

    def added_to(self, moment: datetime) -> datetime:
        """``moment`` moved by the months (day clamped to the month's length), then the span."""
        if self.months:
            index = moment.year * 12 + moment.month - 1 + self.months
            year, month = divmod(index, 12)
            month += 1
            if not MIN_TIME.year <= year < MAX_TIME.year:
                raise ClockError("the clock would leave the years 1970–8999")
            day = min(moment.day, calendar.monthrange(year, month)[1])
            moment = moment.replace(year=year, month=month, day=day)
        try:
            return moment + self.span
        except OverflowError:
            raise ClockError("the clock would leave the years 1970–8999") from None


def parse_duration(text: str) -> Duration:
    """``"P1D"``, ``"PT90M"``, ``"P1M"``, ``"-P1W"`` → Duration; ClockError for anything else."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ClockError(f"{_quoted(text)} is not an ISO-8601 duration such as 'P1D', 'PT2H' or 'P1M'")
    parts = match.groupdict()
    number = {k: int(v) for k, v in parts.items() if v is not None and k not in ("sign", "seconds")}
    seconds = float(parts["seconds"].replace(",", ".")) if parts["seconds"] else 0.0
    sign = -1 if parts["sign"] else 1
    try:
        span = timedelta(
            weeks=number.get("weeks", 0),
            days=number.get("days", 0),
            hours=number.get("hours", 0),
            minutes=number.get("minutes", 0),
            seconds=seconds,
        )
    except OverflowError:
        raise ClockError(f"{_quoted(text)} is too long a duration") from None
    months = number.get("years", 0) * 12 + number.get("months", 0)
    return Duration(sign * months, sign * span)


def parse_instant(text: str) -> datetime:
    """An ISO-8601 date or date-time → an aware UTC datetime (a date means its midnight UTC;
    a time without an offset is UTC). ClockError for anything else."""
    if not isinstance(text, str):
        raise ClockError("expected an ISO-8601 date or date-time string such as '2027-03-01T09:00:00Z'")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"{_quoted(text)} is not an ISO-8601 date or date-time such as '2027-03-01T09:00:00Z'") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if not MIN_TIME <= moment < MAX_TIME:
        raise ClockError("the clock must stay within the years 1970–8999")
    return moment


def iso(moment: datetime) -> str:
    """``2026-12-01T17:18:34.123Z``: the sandbox's one way to write a time."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SandboxClock:
    """Real time plus an offset, or a frozen instant.

    ``set`` freezes the clock at an instant (``frozen=False`` lets it run on from there);
    ``advance`` moves it, frozen or running; ``real`` (and a sandbox reset) returns to real time.
    ``system`` is the real clock, a parameter so tests of this class need not sleep.
    """

    def __init__(self, system: Callable[[], float] = time.time):
        self._system = system
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None

    def _real_now(self) -> datetime:
        return datetime.fromtimestamp(self._system(), UTC)

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return self._real_now() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def is_real(self) -> bool:
        return self._frozen_at is None and not self._offset

    def set(self, moment: datetime, *, frozen: bool = True) -> None:
        if frozen:
            self._frozen_at = moment
            self._offset = timedelta(0)
        else:
            self._frozen_at = None
            self._offset = moment - self._real_now()

    def advance(self, duration: Duration) -> None:
        moved = duration.added_to(self.now())
        if not MIN_TIME <= moved < MAX_TIME:
            raise ClockError("the clock would leave the years 1970–8999")
        self.set(moved, frozen=self.frozen)

    def real(self) -> None:
        self._frozen_at = None
        self._offset = timedelta(0)

    def to_json(self) -> dict[str, object]:
        return {"now": iso(self.now()), "frozen": self.frozen, "real": self.is_real}


# --- the admin API's requests (POST /__sandbox/clock) ----------------------------------------

_CLOCK_ACTIONS = ("set", "advance", "real")


def apply_request(clock: SandboxClock, data: object) -> None:
    """Follow one ``POST /__sandbox/clock`` body: exactly one of ``{"set": ISO}`` (with an optional
    ``"frozen": false`` to let the clock run on from there), ``{"advance": "P1D"}``, ``{"real": true}``.
    ClockError, saying what is wrong, for anything else; the clock is then unchanged."""
    example = '{"set": "2027-03-01T09:00:00Z"}, {"advance": "P1D"} or {"real": true}'
    if not isinstance(data, dict):
        raise ClockError(f"expected a JSON object such as {example}")
    unknown = sorted(str(key) for key in data if key not in (*_CLOCK_ACTIONS, "frozen"))
    if unknown:
        raise ClockError(
            f"unknown field {', '.join(_quoted(key) for key in unknown[:5])}; use one of 'set' (with optional 'frozen'), 'advance', 'real'"
        )
    actions = [key for key in _CLOCK_ACTIONS if key in data]
    if len(actions) != 1:
        given = f" (found {', '.join(map(repr, actions))})" if actions else ""
        raise ClockError(f"give exactly one of 'set', 'advance' or 'real'{given}, e.g. {example}")
    action = actions[0]
    if "frozen" in data and action != "set":
        raise ClockError("'frozen' goes only with 'set'")
    if action == "set":
        frozen = data.get("frozen", True)
        if not isinstance(frozen, bool):
            raise ClockError("'frozen' must be true or false")
        clock.set(parse_instant(data["set"]), frozen=frozen)
    elif action == "advance":
        clock.advance(parse_duration(data["advance"]))
    else:
        if data["real"] is not True:
            raise ClockError("'real' must be true (it returns the clock to real time)")
        clock.real()
