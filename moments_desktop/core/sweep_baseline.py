"""Sweep baselines: a sweep saved to a file, and what changed per combination in a later sweep.

A baseline is a JSON file the user keeps (``"schema": 1``; identifiers in clear, since comparing needs
them; never a key). A later sweep is compared combination by combination, by ``Combination.key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .errors import MomentsError
from .sweep import SweepCard, SweepResult, SweepStatus

BASELINE_SCHEMA = 1


class BaselineError(MomentsError):
    """A baseline file that cannot be read or written; the message names the file and what is wrong."""

    title = "The baseline could not be used"


@dataclass(frozen=True)
class BaselineEntry:
    key: str
    fields: dict[str, str]
    status: SweepStatus
    notification_text: str | None
    image_url: str | None
    remaining_count: int | None


@dataclass(frozen=True)
class Baseline:
    saved_at: str  # ISO 8601, UTC
    profile_name: str
    base_url: str
    entries: dict[str, BaselineEntry]  # by Combination.key


class ChangeKind(StrEnum):
    STATUS = "status"
    TEXT = "text"
    IMAGE = "image"
    COUNT = "count"
    NEW = "new"  # the combination is not in the baseline


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    before: str | int | None
    after: str | int | None

    @property
    def delta(self) -> int | None:
        """For COUNT: after - before (None when either is unknown)."""
        raise NotImplementedError


@dataclass(frozen=True)
class SweepDiff:
    baseline: Baseline
    changes: dict[str, tuple[Change, ...]]  # by Combination.key; only combinations with a change
    gone: tuple[BaselineEntry, ...]  # in the baseline, not in this sweep's plan

    def of(self, card: SweepCard) -> tuple[Change, ...]:
        return self.changes.get(card.combination.key, ())

    @property
    def changed_count(self) -> int:
        return len(self.changes)


def baseline_of(result: SweepResult) -> Baseline:
    raise NotImplementedError


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Blocking; atomic (core/paths.atomic_write). BaselineError with a plain message on failure."""
    raise NotImplementedError


def read_baseline(path: Path) -> Baseline:
    """Blocking. BaselineError for a missing, unreadable, non-JSON or wrong-schema file."""
    raise NotImplementedError


def compare(result: SweepResult, baseline: Baseline) -> SweepDiff:
    raise NotImplementedError
