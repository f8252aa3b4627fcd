"""Sweep baselines: a sweep saved to a file, and what changed per combination in a later sweep.

A baseline is a JSON file the user keeps (``"schema": 1``; identifiers in clear, since comparing needs
them; never a key). A later sweep is compared combination by combination, by ``Combination.key``.

The file::

    {"schema": 1, "saved_at": "2026-01-02T03:04:05Z", "swept_at": "…", "complete": true,
     "profile": "Staging", "endpoint": "https://…",
     "combinations": [{"fields": {"appId": …, …five…}, "status": "reward", "announcement": "…",
                       "image_url": "…", "remaining_count": 12}, …]}

The key of an entry is not stored: it is computed from its five fields when the file is read, so a file
stays readable if the way keys are spelled ever changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from moments_desktop.api_schema import BODY_FIELDS

from .errors import MomentsError
from .exchange import url_without_credentials
from .paths import atomic_write
from .sweep import Combination, SweepCard, SweepResult, SweepStatus

BASELINE_SCHEMA = 1
# 10,000 combinations (MAX_SWEEP_COMBINATIONS) of long texts and URLs stay well under this: a bigger file is
# not a baseline, and reading it whole would only use memory.
MAX_BASELINE_BYTES = 64 * 1024 * 1024

_READ_ADVICE = "Choose a file saved with \"Save as baseline\" (or moments sweep --save-baseline)."


class BaselineError(MomentsError):
    """A baseline file that cannot be read or written; the message names the file and what is wrong."""

    title = "The baseline could not be used"
    advice = _READ_ADVICE


class BaselineWriteError(BaselineError):
    title = "The baseline could not be saved"
    advice = "Choose another folder or file name and try again."


class IncompleteBaselineError(BaselineWriteError):
    """Session.save_baseline's rule: a cancelled (or stopped) sweep is not saved as a baseline - it holds only
    the combinations that came back, and a later sweep compared with it would know nothing of the rest."""

    title = "A sweep that did not finish is not saved as a baseline"
    advice = "It holds only the combinations that came back. Run the sweep to the end, then save it."


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
    swept_at: str | None = None  # when the sweep saved here started (ISO 8601, UTC)
    complete: bool = True  # False: saved from a cancelled sweep, so combinations it never reached are missing


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
        if self.kind is not ChangeKind.COUNT:
            return None
        if not isinstance(self.before, int) or not isinstance(self.after, int):
            return None
        return self.after - self.before


@dataclass(frozen=True)
class SweepDiff:
    baseline: Baseline
    changes: dict[str, tuple[Change, ...]]  # by Combination.key; only combinations with a change
    gone: tuple[BaselineEntry, ...]  # in the baseline, not in this sweep's plan
    # What the baseline came from that this sweep did not: "endpoint", "profile" or "profile and endpoint"
    # (None: the same). Words without identifiers: a face names them through the Renderer
    # (sweep_report.elsewhere_note), so presenter masking holds.
    baseline_elsewhere: str | None = None

    def of(self, card: SweepCard) -> tuple[Change, ...]:
        return self.changes.get(card.combination.key, ())

    @property
    def changed_count(self) -> int:
        return len(self.changes)


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # a naive time is taken as the computer's local time, as datetime does
        moment = moment.astimezone()
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def baseline_of(result: SweepResult, *, now: datetime | None = None) -> Baseline:
    """Every card that came back (a cancelled sweep's unreached combinations are simply absent)."""
    entries = {}
    for card in result.cards:
        key = card.combination.key
        entries[key] = BaselineEntry(
            key=key, fields=card.combination.fields(), status=card.status,
            notification_text=card.notification_text, image_url=card.image_url,
            remaining_count=card.remaining_count)
    return Baseline(
        saved_at=_utc_iso(now or datetime.now(UTC)), profile_name=result.plan.profile_name,
        base_url=url_without_credentials(result.plan.base_url), entries=entries,
        swept_at=_utc_iso(result.started_at), complete=not result.cancelled)


def _document(baseline: Baseline) -> dict[str, Any]:
    return {
        "schema": BASELINE_SCHEMA,
        "saved_at": baseline.saved_at,
        "swept_at": baseline.swept_at,
        "complete": baseline.complete,
        "profile": baseline.profile_name,
        "endpoint": url_without_credentials(baseline.base_url),
        "combinations": [
            {"fields": {name: entry.fields.get(name, "") for name in BODY_FIELDS},
             "status": entry.status.value,
             "announcement": entry.notification_text,
             "image_url": entry.image_url,
             "remaining_count": entry.remaining_count}
            for entry in baseline.entries.values()
        ],
    }


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Blocking; atomic (core/paths.atomic_write). BaselineError with a plain message on failure."""
    path = Path(path)
    text = json.dumps(_document(baseline), ensure_ascii=False, indent=1)
    try:
        atomic_write(path, lambda handle: handle.write(text + "\n"))
    except IsADirectoryError:
        raise BaselineWriteError(f"{path} is a folder") from None
    except OSError as exc:
        raise BaselineWriteError(f"{path}: {exc.strerror or type(exc).__name__}") from None


def read_baseline(path: Path) -> Baseline:
    """Blocking. BaselineError for a missing, unreadable, non-JSON or wrong-schema file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BASELINE_BYTES + 1)
    except FileNotFoundError:
        raise BaselineError(f"there is no file {path}") from None
    except IsADirectoryError:
        raise BaselineError(f"{path} is a folder, not a baseline file") from None
    except PermissionError:
        raise BaselineError(f"{path} cannot be read (permission denied)") from None
    except OSError as exc:
        raise BaselineError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_BASELINE_BYTES:
        raise BaselineError(f"{path} is larger than {MAX_BASELINE_BYTES // (1024 * 1024)} MB: not a sweep baseline")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BaselineError(f"{path} is not a text file (not UTF-8), so not a sweep baseline") from None
    if not text.strip():
        raise BaselineError(f"{path} is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise BaselineError(f"{path} is not a sweep baseline (its JSON is nested too deeply)") from None
    return _baseline_of_document(path, document)


def _baseline_of_document(path: Path, document: Any) -> Baseline:
    if not isinstance(document, dict) or "schema" not in document:
        raise BaselineError(f"{path} is JSON but not a sweep baseline (it has no \"schema\")")
    schema = document["schema"]
    if schema != BASELINE_SCHEMA or isinstance(schema, bool):
        raise BaselineError(
            f"{path} has schema {json.dumps(schema)}, and this version of the app reads schema {BASELINE_SCHEMA}",
            advice="Save a new baseline with this version of the app.")

    def text_of(name: str, *, optional: bool = False) -> str | None:
        value = document.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise BaselineError(f"{path}: \"{name}\" is missing or not text")
        return value

    saved_at = text_of("saved_at")
    profile_name = text_of("profile")
    base_url = text_of("endpoint")
    swept_at = text_of("swept_at", optional=True)
    complete = document.get("complete", True)
    if not isinstance(complete, bool):
        raise BaselineError(f"{path}: \"complete\" is not true or false")
    combinations = document.get("combinations")
    if not isinstance(combinations, list):
        raise BaselineError(f"{path}: \"combinations\" is missing or not a list")
    entries: dict[str, BaselineEntry] = {}
    for number, item in enumerate(combinations, start=1):
        entry = _entry_of(path, number, item)
        if entry.key in entries:
            raise BaselineError(f"{path}: combination {number} repeats an earlier one ({_target(entry.fields)})")
        entries[entry.key] = entry
    return Baseline(saved_at=saved_at, profile_name=profile_name, base_url=base_url, entries=entries,
                    swept_at=swept_at, complete=complete)


def _target(fields: dict[str, str]) -> str:
    return "/".join(fields[name] for name in BODY_FIELDS)


def _entry_of(path: Path, number: int, item: Any) -> BaselineEntry:
    where = f"{path}: combination {number}"
    if not isinstance(item, dict):
        raise BaselineError(f"{where} is not an object")
    fields = item.get("fields")
    if not isinstance(fields, dict):
        raise BaselineError(f"{where} has no \"fields\"")
    missing = [name for name in BODY_FIELDS if not isinstance(fields.get(name), str)]
    if missing:
        raise BaselineError(f"{where}: the field {missing[0]} is missing or not text")
    fields = {name: fields[name] for name in BODY_FIELDS}
    try:
        status = SweepStatus(item.get("status"))
    except ValueError:
        known = ", ".join(s.value for s in SweepStatus)
        raise BaselineError(f"{where}: the status {json.dumps(item.get('status'))} is not one of {known}") from None
    for name in ("announcement", "image_url"):
        if item.get(name) is not None and not isinstance(item[name], str):
            raise BaselineError(f"{where}: \"{name}\" is not text")
    count = item.get("remaining_count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        raise BaselineError(f"{where}: \"remaining_count\" is not a whole number")
    combination = Combination(tuple(fields[name] for name in BODY_FIELDS))
    return BaselineEntry(key=combination.key, fields=fields, status=status,
                         notification_text=item.get("announcement"), image_url=item.get("image_url"),
                         remaining_count=count)


def changes_of(card: SweepCard, entry: BaselineEntry | None) -> tuple[Change, ...]:
    """What changed for one combination. A changed status is the change: the other fields belong to the
    status (a reward's text against an error's nothing), so they are compared only when it is the same."""
    if entry is None:
        return (Change(ChangeKind.NEW, None, card.status.value),)
    if card.status is not entry.status:
        return (Change(ChangeKind.STATUS, entry.status.value, card.status.value),)
    changes = []
    if card.notification_text != entry.notification_text:
        changes.append(Change(ChangeKind.TEXT, entry.notification_text, card.notification_text))
    if card.image_url != entry.image_url:
        changes.append(Change(ChangeKind.IMAGE, entry.image_url, card.image_url))
    if card.remaining_count != entry.remaining_count:
        changes.append(Change(ChangeKind.COUNT, entry.remaining_count, card.remaining_count))
    return tuple(changes)


def compare(result: SweepResult, baseline: Baseline) -> SweepDiff:
    """Per card that came back, its changes; ``gone``: the baseline's combinations this sweep's plan does not
    hold. A cancelled sweep's combinations that were never reached are in the plan, so they are not gone, and
    have no answer to compare, so they are not changed either: they are simply not known yet. Likewise a
    baseline that is not complete (saved from a cancelled sweep) never reached some combinations: one missing
    from it is not known there, so it is not NEW (not a change)."""
    changes: dict[str, tuple[Change, ...]] = {}
    for card in result.cards:
        key = card.combination.key
        entry = baseline.entries.get(key)
        if entry is None and not baseline.complete:
            continue
        found = changes_of(card, entry)
        if found:
            changes[key] = found
    planned = {combination.key for combination in result.plan.combinations()}
    gone = tuple(entry for key, entry in baseline.entries.items() if key not in planned)
    return SweepDiff(baseline=baseline, changes=changes, gone=gone, baseline_elsewhere=elsewhere(result, baseline))


def elsewhere(result: SweepResult, baseline: Baseline) -> str | None:
    """Which of the profile and the endpoint the baseline was saved from differs from this sweep's: its
    differences may then be the other endpoint's, not changes of the campaign."""
    other = []
    if baseline.profile_name != result.plan.profile_name:
        other.append("profile")
    if _endpoint(baseline.base_url) != _endpoint(url_without_credentials(result.plan.base_url)):
        other.append("endpoint")
    return " and ".join(other) or None


def _endpoint(url: str) -> str:
    return url.strip().rstrip("/").lower()
