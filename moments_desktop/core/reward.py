"""Tolerant parsing of a Moments answer into a RewardInfo.

The contract is only partly documented, so parsing keeps every field it was given
(`extra`) and accepts the forms public code has seen (campaignEndDate as an ISO date
or an epoch number). Anything that is not a reward raises one of the project's own
errors, never a KeyError or a json exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .. import api_schema as api
from .errors import EmptyAnswerError, InvalidResponseError, NoRewardError


@dataclass(frozen=True)
class RewardInfo:
    notification_text: str | None = None
    reward_url: str | None = None
    image_url: str | None = None
    remaining_count: int | None = None
    campaign_end: datetime | date | None = None
    campaign_end_raw: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def campaign_end_text(self) -> str | None:
        """Readable end date; the raw value when it could not be understood."""
        if isinstance(self.campaign_end, datetime):
            return self.campaign_end.strftime("%d %b %Y, %H:%M UTC")
        if isinstance(self.campaign_end, date):
            return self.campaign_end.strftime("%d %b %Y")
        if self.campaign_end_raw not in (None, ""):
            return str(self.campaign_end_raw)
        return None


def parse_end_date(value: Any) -> datetime | date | None:
    """ISO date/datetime or epoch seconds/milliseconds ([assumed]: format unknown)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
        if seconds > 1e11:  # epoch milliseconds
            seconds /= 1000
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return parse_end_date(int(text))
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def _optional_str(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidResponseError(f"field {name} should be text but is {type(value).__name__}")
    return value


def _optional_count(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidResponseError(f"field {name} should be a number but is true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise InvalidResponseError(f"field {name} should be a whole number but is {value!r:.40}")


def parse_reward_payload(payload: Any) -> RewardInfo:
    """An already-decoded JSON value → RewardInfo, NoRewardError or InvalidResponseError (EmptyAnswerError
    for an object with none of the reward fields)."""
    if isinstance(payload, list):
        if not payload:
            raise NoRewardError()  # [partner] "returns an empty list"
        raise InvalidResponseError("expected an object but got a non-empty list")
    if not isinstance(payload, dict):
        raise InvalidResponseError(f"expected a JSON object but got {type(payload).__name__}")
    if not any(payload.get(name) is not None for name in api.RESPONSE_FIELDS):
        # `{}` (or only fields no source knows): not a reward, and not the contract's `[]` either.
        unknown = ", ".join(sorted(payload)[:5])
        raise EmptyAnswerError(f"the answer holds only {unknown}, none of them a reward field" if unknown
                               else "the answer is an empty object, {}")
    end_raw = payload.get(api.CAMPAIGN_END_DATE)
    return RewardInfo(
        notification_text=_optional_str(payload, api.REWARD_NOTIFICATION_TEXT),
        reward_url=_optional_str(payload, api.REWARD_NOTIFICATION_URL),
        image_url=_optional_str(payload, api.REWARD_IMAGE_URL),
        remaining_count=_optional_count(payload, api.REMAINING_REWARD_COUNT),
        campaign_end=parse_end_date(end_raw),
        campaign_end_raw=end_raw,
        extra={k: v for k, v in payload.items() if k not in api.RESPONSE_FIELDS},
        raw=payload,
    )


def decode_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        snippet = text.strip()[:60].replace("\n", " ")
        looks_html = snippet.lower().startswith(("<!doctype", "<html"))
        raise InvalidResponseError(
            "the server sent an HTML page instead of JSON" if looks_html else f"not valid JSON ({exc.__class__.__name__})"
        ) from None


def parse_reward_text(text: str) -> RewardInfo:
    return parse_reward_payload(decode_json(text))
