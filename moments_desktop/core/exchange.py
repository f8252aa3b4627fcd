"""What one call looked like on the wire, kept for the Raw view and the journal.

The API key never enters an Exchange: headers are redacted when the record is made,
so nothing downstream (journal, exports, clipboard, logs) can leak it by accident.
"""

from __future__ import annotations

import json
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
