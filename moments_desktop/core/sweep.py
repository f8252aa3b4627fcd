"""Campaign sweep: getRewardInfo for every combination of chosen field values, as one run.

A sweep is the QA tester's question "does every app x moment x device x reward group of this campaign show
the right reward". It sends the free getRewardInfo only - there is no path from here to getReward - through
the client's own rate limiter, each call journaled as a preview (Session.run_sweep). Baselines and their
comparison are in core/sweep_baseline.py, the HTML/CSV/JUnit reports in core/sweep_report.py.

No Qt here: the window's Sweep tab and ``moments sweep`` are two faces of the same run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from ..api_schema import BODY_FIELDS

if TYPE_CHECKING:
    from .catalog_choices import Choice, SandboxCatalog
    from .client import CallResult

# 10,000 combinations take about 37 minutes at 5 calls per second (the key's limit): more is a typing mistake
# (a pasted column) far more often than a plan, and would fill the history with tens of thousands of rows.
MAX_SWEEP_COMBINATIONS = 10_000


class SweepStatus(StrEnum):
    """What a customer of one combination would get; the grid's colours and the report's columns."""

    REWARD = "reward"
    NO_REWARD = "no_reward"  # [] or an answer without reward fields
    DECLINED = "declined"  # the API refused or declined (403, 429, a decline text, an error answer)
    ERROR = "error"  # no usable answer (network, deadline, an unexpected error, nothing sent)


STATUS_LABELS: dict[SweepStatus, str] = {
    SweepStatus.REWARD: "Reward",
    SweepStatus.NO_REWARD: "No reward",
    SweepStatus.DECLINED: "Declined",
    SweepStatus.ERROR: "Error",
}


def status_of_result(result: CallResult) -> SweepStatus:
    """From core/verdict.py's grouping: SUCCESS -> REWARD, NO_REWARD -> NO_REWARD, REFUSED -> DECLINED, the
    rest (network, local, unknown, internal) -> ERROR."""
    raise NotImplementedError


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
        raise NotImplementedError


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
        raise NotImplementedError

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


class SweepRun:
    """The cards of one run as they arrive, owned by whoever started it (the Sweep tab, ``moments sweep``):
    Session.run_sweep fills it, so a run that was cancelled still has every card that came back."""

    def __init__(self, plan: SweepPlan, clock=None):
        raise NotImplementedError

    plan: SweepPlan
    cards: list[SweepCard]  # in arrival order; result() sorts them by index

    def record(self, card: SweepCard) -> SweepProgress:
        """Add a card; the progress after it (with the ETA: see ``eta``)."""
        raise NotImplementedError

    def progress(self) -> SweepProgress:
        raise NotImplementedError

    def result(self, *, cancelled: bool = False) -> SweepResult:
        raise NotImplementedError


@dataclass(frozen=True)
class SweepChoices:
    """Values the Sweep tab offers per field, from an endpoint's sandbox catalog (``None``: no catalog)."""

    by_field: Mapping[str, tuple[Choice, ...]]


def sweep_choices(catalog: SandboxCatalog) -> SweepChoices:
    """Every app, moment, device type, campaign and reward group the catalog names, labelled as the form's
    choices are."""
    raise NotImplementedError


def parse_value_list(text: str) -> list[str]:
    """A typed list: one value per line (commas also separate, as on the command line), blanks dropped,
    surrounding spaces trimmed, duplicates removed with the first order kept."""
    raise NotImplementedError
