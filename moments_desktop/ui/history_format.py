"""How a journal row reads in the history: words, local times and the detail text.

Plain Python (no Qt), so rows are formatted on the worker thread that fetched them and
the table's data() only hands out ready strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from moments_desktop.api_schema import Outcome
from moments_desktop.core.journal import JournalEntry
from moments_desktop.core.render import PLAIN, Renderer, local_time, record_of_entry
from moments_desktop.api_schema import Endpoint

# Keyed by the one Outcome enum (a StrEnum: the journal's stored strings look up the same entries).
OUTCOME_LABELS = {
    Outcome.SUCCESS: "Success",
    Outcome.NO_REWARD: "No reward",
    Outcome.ERROR: "Error",
    Outcome.UNKNOWN: "Outcome unknown",
    Outcome.NOT_SENT: "Not sent",
    Outcome.PENDING: "Pending",
}
# The theme role (ui/theme.py ThemePalette) each outcome is drawn in.
OUTCOME_COLOURS = {
    Outcome.SUCCESS: "success",
    Outcome.NO_REWARD: "declined",
    Outcome.ERROR: "danger",
    Outcome.UNKNOWN: "unknown",
    Outcome.NOT_SENT: "neutral",
    Outcome.PENDING: "info",
}
ENDPOINT_LABELS = {Endpoint.GET_REWARD_INFO: "getRewardInfo", Endpoint.GET_REWARD: "getReward"}
SUMMARY_LIMIT = 160


def is_unresolved(entry: JournalEntry) -> bool:
    return entry.outcome == Outcome.UNKNOWN and not entry.resolved_note


def outcome_text(entry: JournalEntry, *, short: bool = False) -> str:
    """The outcome in words; unknown ones say whether someone has resolved them (unless ``short``)."""
    label = OUTCOME_LABELS.get(entry.outcome, entry.outcome)
    if entry.outcome == Outcome.UNKNOWN and not short:
        return f"{label} \u2013 unresolved" if is_unresolved(entry) else f"{label} \u2013 resolved"
    return label


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= SUMMARY_LIMIT else line[: SUMMARY_LIMIT - 1] + "\u2026"


def _response_json(entry: JournalEntry) -> Any:
    if not entry.response_body:
        return None
    try:
        return json.loads(entry.response_body)
    except ValueError:
        return None


def summary_text(entry: JournalEntry, renderer: Renderer = PLAIN) -> str:
    """The campaign, the HTTP status and what came of it, on one line (the details have the rest)."""
    parts: list[str] = []
    body = entry.request_body if isinstance(entry.request_body, dict) else {}
    if body.get("campaignId"):
        parts.append(renderer.identifier(body["campaignId"]))
    parts.append(f"HTTP {entry.status}" if entry.status is not None else "no response")
    if entry.reward_url:
        parts.append(renderer.url(entry.reward_url))
    elif entry.error_message:
        parts.append(renderer.text(entry.error_message))  # stored as it was said: may name a host
    else:
        answer = _response_json(entry)
        if isinstance(answer, list) and answer and isinstance(answer[0], dict):
            answer = answer[0]
        if isinstance(answer, dict) and answer.get("rewardNotificationText"):
            parts.append(str(answer["rewardNotificationText"]))
        elif answer == []:
            parts.append("no reward available")
    return _one_line(renderer.summary(parts))


EXCHANGE_HIDDEN = ("The request and the answer are hidden in presenter mode, as the Raw tab is. "
                   "“Copy details” copies them in full.")


def detail_text(entry: JournalEntry, renderer: Renderer = PLAIN, *, reveal_reward_url: bool = False) -> str:
    """The entry's outcome and times, then the whole exchange as the Raw tab renders a live one (the
    API key was redacted by the journal before storing). In presenter mode (a masked renderer) the exchange
    is left out, as the Raw tab is hidden; ``reveal_reward_url`` shows the reward URL in clear (the Reveal
    button, for a few seconds)."""
    endpoint = ENDPOINT_LABELS.get(entry.endpoint, entry.endpoint)
    duration = f"{entry.duration_ms:.0f} ms" if entry.duration_ms is not None else "no duration recorded"
    profile = renderer.profile_name(entry.profile_name or entry.profile_id or "") or "(no profile)"
    lines = [
        f"{endpoint} \u2013 {outcome_text(entry)}",
        f"Time: {local_time(entry.time)}   Duration: {duration}   Profile: {profile}   Entry #{entry.id}",
    ]
    if entry.reward_url:
        shown = renderer.revealed_url(entry.reward_url) if reveal_reward_url else renderer.url(entry.reward_url)
        lines.append(f"Reward URL: {shown}")
    if entry.error_message:
        lines.append(f"Message: {renderer.text(entry.error_message)}")
    if entry.resolved_note:
        lines.append(f"Resolution ({local_time(entry.resolved_at)}): {entry.resolved_note}")
    lines += ["", EXCHANGE_HIDDEN if renderer.masked else renderer.exchange(record_of_entry(entry))]
    return "\n".join(lines)


@dataclass(frozen=True)
class HistoryRow:
    """A journal entry with its table cells already formatted."""

    entry: JournalEntry
    time: str
    profile: str
    endpoint: str
    outcome: str
    summary: str
    # Whether it was formatted masked (presenter mode); None when the mode changed while it was formatted.
    masked: bool | None = None

    @property
    def unresolved(self) -> bool:
        return is_unresolved(self.entry)


def history_row(entry: JournalEntry, renderer: Renderer = PLAIN) -> HistoryRow:
    """Formatted on a worker thread; presenter mode may change meanwhile, which ``masked`` records (the
    table formats a row again when it was not formatted in the mode now on)."""
    masked = renderer.masked
    row = HistoryRow(
        entry=entry,
        time=local_time(entry.time),
        profile=renderer.profile_name(entry.profile_name or entry.profile_id or ""),
        endpoint=ENDPOINT_LABELS.get(entry.endpoint, entry.endpoint),
        outcome=outcome_text(entry, short=True),
        summary=summary_text(entry, renderer),
        masked=masked if renderer.masked == masked else None,
    )
    return row
