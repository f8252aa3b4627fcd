"""What one call looked like on the wire, kept for the Raw view and the journal.

The API key never enters an Exchange: headers are redacted when the record is made, a
``user:password@`` in the URL is cut out, and a key the server echoes back in its answer is
replaced by ``redact_echoed_secrets`` before anyone shows the exchange, so nothing downstream
(journal, exports, clipboard, logs, the error panel) can leak it by accident.
"""

from __future__ import annotations

import dataclasses

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

# Outcome is also re-exported: moments_desktop/ui imports it from here (new code: api_schema).
from ..api_schema import API_KEY_HEADER, Endpoint, Outcome

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({API_KEY_HEADER, "authorization", "proxy-authorization", "cookie", "set-cookie"})


def redact_headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> dict[str, str]:
    """Headers as text with every secret-bearing value replaced; the one redaction rule of the app."""
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k): REDACTED if str(k).lower() in SECRET_HEADERS else ("" if v is None else str(v))
            for k, v in items}


# scheme://userinfo@host...: the userinfo runs to the authority's last "@" (greedy, never past / ? #).
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
# A secret shorter than this is not searched for in free text: replacing every "abc" in an answer
# would garble it and protect nothing (the journal uses the same bound).
MIN_SCRUBBED_SECRET = 4


def scrub_secrets(text: str | None, secrets: Iterable[str]) -> str | None:
    """``text`` with every occurrence of each secret replaced by REDACTED."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= MIN_SCRUBBED_SECRET:
            text = text.replace(secret, REDACTED)
    return text


def url_without_credentials(url: str) -> str:
    """``https://user:secret@host/p`` -> ``https://[redacted]@host/p``; any other URL as it is.
    Validation refuses such an endpoint; this keeps a refused one out of the journal and the screen."""
    return _USERINFO.sub(rf"\1{REDACTED}@", url) if isinstance(url, str) else url


def _writable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def redact_echoed_secrets(exchange: Exchange, error: Any, secrets: Iterable[str], reward: Any = None) -> Any:
    """Replace, in place, each secret a server echoed back (an error message quoting the x-api-key,
    a debug header) in the answer of ``exchange`` and in the words of ``error`` (a MomentsError or None).

    Returns ``reward`` (a RewardInfo or None) with the same done to its fields - a copy when anything was
    found: a 200 can echo the key into its announcement or image URL, and those fields reach the screen,
    baselines and reports without passing the body again."""
    secrets = [s for s in secrets if s and len(s) >= MIN_SCRUBBED_SECRET]
    if not secrets:
        return reward
    if reward is not None:
        reward = _scrubbed_reward(reward, secrets)
    exchange.response_body = scrub_secrets(exchange.response_body, secrets) or ""
    exchange.response_headers = {k: scrub_secrets(v, secrets) or "" for k, v in exchange.response_headers.items()}
    exchange.error_message = scrub_secrets(exchange.error_message, secrets)
    exchange.url = scrub_secrets(exchange.url, secrets) or ""
    if error is not None:
        for name in ("detail", "advice", "notification_text"):
            value = getattr(error, name, None)
            if isinstance(value, str):
                setattr(error, name, scrub_secrets(value, secrets))
        if isinstance(getattr(error, "message", None), str):
            error.args = (error.message,)  # str(error) is what a log would write
    return reward


def _scrubbed_reward(reward: Any, secrets: list[str]) -> Any:
    def clean(value: Any) -> Any:
        return scrub_secrets(value, secrets) if isinstance(value, str) else value

    changes: dict[str, Any] = {}
    for name in ("notification_text", "reward_url", "image_url", "campaign_end_raw"):
        value = getattr(reward, name, None)
        if clean(value) != value:
            changes[name] = clean(value)
    for name in ("extra", "raw"):
        fields = getattr(reward, name, None) or {}
        if any(clean(v) != v for v in fields.values()):
            changes[name] = {k: clean(v) for k, v in fields.items()}
    return dataclasses.replace(reward, **changes) if changes else reward


@dataclass
class Exchange:
    endpoint: Endpoint
    url: str
    request_headers: dict[str, str]
    request_body: dict[str, str]
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_ms: float | None = None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    response_truncated: bool = False
    outcome: Outcome = Outcome.PENDING
    error_message: str | None = None
    attempts: int = 1

    def __post_init__(self) -> None:
        self.url = url_without_credentials(self.url)
        # A refused request is journaled as typed; a lone surrogate in it (which no UTF-8 writer takes)
        # is kept as its escape, "\\ud800", so the record can be stored and read.
        self.url = _writable(self.url)
        self.request_body = {k: _writable(v) if isinstance(v, str) else v for k, v in self.request_body.items()}

    def request_json(self) -> str:
        return json.dumps(self.request_body, ensure_ascii=False, indent=2)

    def pretty_response(self) -> str:
        try:
            return json.dumps(json.loads(self.response_body), ensure_ascii=False, indent=2)
        except ValueError:
            return self.response_body

    def to_dict(self) -> dict:
        data = asdict(self)
        data["endpoint"] = self.endpoint.value
        data["outcome"] = self.outcome.value
        data["started_at"] = self.started_at.isoformat()
        return data
