"""Campaign sweep: getRewardInfo for every combination of chosen field values, as one run.

A sweep is the QA tester's question "does every app x moment x device x reward group of this campaign show
the right reward". It sends the free getRewardInfo only - there is no path from here to getReward - through
the client's own rate limiter, each call journaled as a preview (Session.run_sweep). Baselines and their
comparison are in core/sweep_baseline.py, the HTML/CSV/JUnit reports in core/sweep_report.py.

No Qt here: the window's Sweep tab and ``moments sweep`` are two faces of the same run.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from ..api_schema import BODY_FIELDS
from .errors import BusinessError, ForbiddenError, TransportError
from .verdict import Verdict, verdict_of_result

if TYPE_CHECKING:
    from .catalog_choices import Choice, SandboxCatalog
    from .client import CallResult

# 10,000 combinations take about 37 minutes at 5 calls per second (the key's limit): more is a typing mistake
# (a pasted column) far more often than a plan, and would fill the history with tens of thousands of rows.
MAX_SWEEP_COMBINATIONS = 10_000


# The refusals a customer meets as "not for you, not now" rather than as a fault: the key or campaign is
# refused (403), a decline text. Not a 429 (throttled, or the key's quota spent): that is the moment the
# call was made, not a property of the combination - the same combination a second later may be a reward -
# so it is an ERROR, and a baseline never records a combination as declined because of it.
DECLINING_ERRORS = (ForbiddenError, BusinessError)


class SweepStatus(StrEnum):
    """What a customer of one combination would get; the grid's colours and the report's columns."""

    REWARD = "reward"
    NO_REWARD = "no_reward"  # [] or an answer without reward fields
    DECLINED = "declined"  # the API refused or declined (403, a decline text, an error answer)
    ERROR = "error"  # no usable answer (network, deadline, 429 throttled or over quota, an unexpected error)


STATUS_LABELS: dict[SweepStatus, str] = {
    SweepStatus.REWARD: "Reward",
    SweepStatus.NO_REWARD: "No reward",
    SweepStatus.DECLINED: "Declined",
    SweepStatus.ERROR: "Error",
}


def status_of_result(result: CallResult) -> SweepStatus:
    """What a customer of this combination would get, from core/verdict.py's grouping and one rule of the
    sweep's own:

    - SUCCESS is REWARD, unless the answer only explains why there is none: no reward image, or a remaining
      count of 0 (a finished, paused, sold-out or over-budget campaign answers getRewardInfo with its
      rewardNotificationText alone [assumed, see sandbox/app.py]). The client calls that a success - it is
      a readable answer - but no customer gets a reward from it: DECLINED.
    - NO_REWARD (``[]``, no reward fields) is NO_REWARD.
    - REFUSED is DECLINED when the API turned the combination down (403, a decline text); a 429 (throttled
      or over quota: about when the call was made, not about the combination), a server error (5xx) or a
      rejected request is ERROR, like the network, local, unknown and internal verdicts.
    """
    verdict = verdict_of_result(result)
    if verdict is Verdict.SUCCESS:
        reward = result.reward
        if reward is not None and (not reward.image_url or reward.remaining_count == 0):
            return SweepStatus.DECLINED
        return SweepStatus.REWARD
    if verdict is Verdict.NO_REWARD:
        return SweepStatus.NO_REWARD
    if verdict is Verdict.REFUSED and isinstance(result.error, DECLINING_ERRORS):
        return SweepStatus.DECLINED
    return SweepStatus.ERROR


@dataclass(frozen=True)
class Combination:
    """One request's five body fields, in BODY_FIELDS order."""

    values: tuple[str, ...]

    def fields(self) -> dict[str, str]:
        return dict(zip(BODY_FIELDS, self.values, strict=True))

    @property
    def key(self) -> str:
        """Stable text that names this combination in a baseline file and a JUnit testcase; the same five
        values always give the same key (JSON of the fields in BODY_FIELDS order)."""
        return json.dumps(self.fields(), ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep will send, decided before anything is sent (Session.plan_sweep)."""

    profile_id: str
    profile_name: str
    base_url: str
    # Per field in BODY_FIELDS order, the values swept (deduplicated, order kept); a field not swept holds
    # the profile's (or the form's) one value.
    values: Mapping[str, tuple[str, ...]]
    calls: int  # the key's rate limit: ``calls`` per ``window`` seconds (the client's limiter)
    window: float

    @property
    def swept_fields(self) -> tuple[str, ...]:
        """The fields with more than one value (what a card needs to show to tell combinations apart)."""
        return tuple(name for name in BODY_FIELDS if len(self.values[name]) > 1)

    @property
    def count(self) -> int:
        n = 1
        for name in BODY_FIELDS:
            n *= len(self.values[name])
        return n

    @property
    def estimated_seconds(self) -> float:
        """How long the calls take at the key's rate limit (the limiter's sliding window), before latency."""
        return limiter_seconds(self.count, self.calls, self.window)

    def combinations(self) -> Iterator[Combination]:
        """Every combination, lazily (a plan of 10,000 holds five short tuples, not 10,000 objects)."""
        for values in itertools.product(*(self.values[name] for name in BODY_FIELDS)):
            yield Combination(values)


@dataclass(frozen=True)
class SweepCard:
    """One combination's answer, as the grid card and the reports show it."""

    index: int  # position in plan.combinations()
    combination: Combination
    status: SweepStatus
    notification_text: str | None = None
    image_url: str | None = None
    remaining_count: int | None = None
    problem: str | None = None  # the error's one-line message (title and advice) when not a reward
    http_status: int | None = None
    journal_id: int | None = None  # the history row of the (last) attempt, when one was written
    # Nothing came back (verdict NETWORK: not sent, or sent and no answer): what says the endpoint is gone.
    unanswered: bool = False


def card_of_result(index: int, combination: Combination, result: CallResult) -> SweepCard:
    """The card of one answer: the reward's text, image and count when there is one, else the error's
    one-line message."""
    reward = result.reward
    return SweepCard(
        index=index, combination=combination, status=status_of_result(result),
        notification_text=reward.notification_text if reward else None,
        image_url=reward.image_url if reward else None,
        remaining_count=reward.remaining_count if reward else None,
        problem=result.error.message if result.error is not None else None,
        http_status=result.exchange.status,
        unanswered=verdict_of_result(result) is Verdict.NETWORK)


@dataclass(frozen=True)
class SweepProgress:
    done: int
    total: int
    elapsed_s: float
    eta_s: float | None  # seconds still to go; None before there is anything to go on
    counts: Mapping[SweepStatus, int]


@dataclass
class SweepResult:
    """A finished (or cancelled) sweep: every card that came back, in plan order."""

    plan: SweepPlan
    cards: list[SweepCard]
    started_at: datetime
    finished_at: datetime
    cancelled: bool = False
    counts: dict[SweepStatus, int] = field(default_factory=dict)
    # Why the sweep stopped by itself before the end (SweepStoppedError's message), None otherwise.
    stopped: str | None = None

    @property
    def unanswered(self) -> bool:
        """Every card is a network failure: nothing came back from the endpoint at all (for the CLI a
        network problem, exit 7, not a campaign that fails its check)."""
        return bool(self.cards) and all(card.unanswered for card in self.cards)


class SweepStoppedError(TransportError):
    """Session.run_sweep stopped by itself: the endpoint stopped answering (``MAX_UNANSWERED_IN_A_ROW``).
    ``result`` holds every card that came back (cancelled, with ``stopped`` set)."""

    title = "The sweep stopped: the endpoint stopped answering"
    advice = ("Nothing was claimed (a sweep only sends getRewardInfo). Check the endpoint URL and your network, "
              "then run the sweep again.")

    def __init__(self, detail: str = "", *, result: SweepResult | None = None, **kw):
        super().__init__(detail, **kw)
        self.result = result


# An endpoint that is gone makes every call wait for its time limit (30 s): after this many answers in a row
# with nothing back (at least twice the workers, so one round of calls in flight is not enough), the sweep
# stops rather than run for hours.
MIN_UNANSWERED_IN_A_ROW = 10


def unanswered_limit(workers: int) -> int:
    return max(MIN_UNANSWERED_IN_A_ROW, 2 * workers)


def limiter_seconds(n: int, calls: int, window: float) -> float:
    """When the last of ``n`` calls may go out through a sliding window of ``calls`` per ``window`` seconds
    that starts empty: the first ``calls`` at once, then ``calls`` more each ``window``."""
    if n <= 0 or calls <= 0:
        return 0.0
    return ((n - 1) // calls) * window


# The observed rate is measured over this many of the most recent cards per call the limiter lets through
# in a window: enough windows that one burst more or less in the sample moves the rate by a few percent.
RECENT_CARDS_PER_CALL = 20
MIN_RECENT_CARDS = 40
MIN_RATE_WINDOWS = 2


class SweepRun:
    """The cards of one run as they arrive, owned by whoever started it (the Sweep tab, ``moments sweep``):
    Session.run_sweep fills it, so a run that was cancelled still has every card that came back.

    The ETA starts as the rate limit's estimate (``SweepPlan.estimated_seconds``) and then follows the
    rate the recent cards really arrived at, never faster than the limiter allows: the limiter sends in
    bursts of ``calls``, so a sample that happens to hold one burst more looks faster than the run is,
    while a slow endpoint (or a server that throttles) really is slower than the limit."""

    def __init__(self, plan: SweepPlan, clock: Callable[[], float] | None = None):
        self.plan = plan
        # How many calls are made at once (Session.run_sweep sets it): with the first answer's delay, what
        # a slow endpoint allows before the recent cards can say it.
        self.workers: int | None = None
        self.cards: list[SweepCard] = []  # in arrival order; result() sorts them by index
        self._clock = clock or time.monotonic
        self._counts: dict[SweepStatus, int] = {status: 0 for status in SweepStatus}
        self._recent: deque[float] = deque(maxlen=max(MIN_RECENT_CARDS, RECENT_CARDS_PER_CALL * max(1, plan.calls)))
        self._started = self._clock()
        self.started_at = datetime.now().astimezone()

    def start(self) -> None:
        """The first call is about to go out: the elapsed time and the ETA count from now (Session.run_sweep
        calls it after reading the key, which may have waited on a keychain prompt)."""
        self._started = self._clock()
        self.started_at = datetime.now().astimezone()
        self._recent.clear()

    @property
    def counts(self) -> dict[SweepStatus, int]:
        return dict(self._counts)

    def record(self, card: SweepCard) -> SweepProgress:
        """Add a card; the progress after it (with the ETA: see the class)."""
        self.cards.append(card)
        self._counts[card.status] += 1
        self._recent.append(self._clock())
        return self.progress()

    def progress(self) -> SweepProgress:
        now = self._clock()
        done, total = len(self.cards), self.plan.count
        return SweepProgress(done=done, total=total, elapsed_s=max(0.0, now - self._started),
                             eta_s=self._eta(now, total - done), counts=self.counts)

    def _eta(self, now: float, remaining: int) -> float | None:
        if remaining <= 0:
            return 0.0
        calls, window = max(1, self.plan.calls), self.plan.window
        total, done = self.plan.count, len(self.cards)
        if not self._recent:
            # Nothing back yet: the limiter's schedule from the first call.
            return max(0.0, limiter_seconds(remaining, calls, window) - (now - self._started))
        # The sample: the last few rounds of the limiter and the workers, not the whole run - a run whose pace
        # changes (a busy computer, a slower server) is told by its recent cards, not its first burst.
        rounds = 2 * max(calls, self.workers or 0)
        sample = min(len(self._recent), max(MIN_RECENT_CARDS, 2 * rounds))
        first, last = self._recent[-sample], self._recent[-1]
        limit_rate = calls / window if window > 0 else math.inf
        span = last - first
        # The rate the recent cards came back at, once they span a few of the limiter's windows and a few
        # rounds of the workers (within fewer, one burst more or less in the sample changes it by half);
        # until then, the limit's, or what the workers allow at the first answer's delay if that is less.
        if span >= MIN_RATE_WINDOWS * window and span > 0 and sample > rounds:
            rate = (sample - 1) / span
        elif self.workers and first > self._started:
            rate = min(limit_rate, self.workers / (first - self._started))
        else:
            rate = limit_rate
        if math.isinf(rate):
            return None  # no limit, and nothing measured yet
        if math.isinf(limit_rate):
            return max(0.0, remaining / rate - (now - last))
        # The limiter's windows still to come after the one the last card was sent in (exact for a run that
        # keeps up with the limiter, whose cards come back in bursts of ``calls``), stretched by how much
        # slower than the limit the cards really come back.
        windows = (total - 1) // calls - (done - 1) // calls
        slower = limit_rate / rate if rate < limit_rate else 1.0
        return max(0.0, windows * window * slower - (now - last))

    def result(self, *, cancelled: bool = False, stopped: str | None = None) -> SweepResult:
        return SweepResult(plan=self.plan, cards=sorted(self.cards, key=lambda card: card.index),
                           started_at=self.started_at, finished_at=datetime.now().astimezone(),
                           cancelled=cancelled or stopped is not None, counts=self.counts, stopped=stopped)


@dataclass(frozen=True)
class SweepChoices:
    """Values the Sweep tab offers per field, from an endpoint's sandbox catalog (``None``: no catalog)."""

    by_field: Mapping[str, tuple[Choice, ...]]


def sweep_choices(catalog: SandboxCatalog) -> SweepChoices:
    """Every app, moment, device type, campaign and reward group the catalog names, labelled as the form's
    choices are (the form's choices with no app or campaign chosen yet: every app's moments, every
    campaign, every reward group with the campaigns it is in, every device type)."""
    return SweepChoices(by_field={name: tuple(choices) for name, choices in catalog.choices({}).items()})


def parse_value_list(text: str) -> list[str]:
    """A typed list: one value per line (commas also separate, as on the command line), blanks dropped,
    surrounding spaces trimmed, duplicates removed with the first order kept."""
    values: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        for part in line.split(","):
            value = part.strip()
            if value and value not in seen:
                seen.add(value)
                values.append(value)
    return values
