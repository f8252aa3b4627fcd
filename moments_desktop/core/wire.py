"""What one call puts on the wire, built apart from sending it (httpie's ``make_request_kwargs`` idea).

``MomentsClient`` sends exactly a ``WireRequest`` built here, and every export (core/exports.py) writes
the same ``WireRequest`` out as a cURL, HTTPie, Python, PowerShell or Braze snippet: an export is the
client's request by construction, not a second description of it that could drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..api_schema import API_KEY_HEADER, JSON_MEDIA_TYPE, Endpoint
from .request import RewardRequest

METHOD = "POST"  # [doc] both endpoints
USER_AGENT = "MomentsDesktop/0.1"


@dataclass(frozen=True)
class WireRequest:
    """One request as it leaves the machine: method, URL, headers in the order they are sent, body bytes."""

    endpoint: Endpoint
    method: str
    url: str
    # Out of repr: the x-api-key header holds the key, and a repr ends up in logs and test reports.
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    @property
    def body_text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def fields(self) -> dict[str, str]:
        """The body as the five fields (what the request means, whatever the bytes' spacing)."""
        return json.loads(self.body)


def body_bytes(fields: dict[str, str]) -> bytes:
    """The JSON body: the five fields in the API's order, non-ASCII as UTF-8 (not \\u escapes)."""
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def request_headers(api_key: str) -> tuple[tuple[str, str], ...]:
    """The headers both endpoints take [doc, code, partner], in the order they are sent."""
    return (
        (API_KEY_HEADER, api_key),
        ("Content-Type", JSON_MEDIA_TYPE),
        ("Accept", JSON_MEDIA_TYPE),
        ("User-Agent", USER_AGENT),
    )


def build_request(request: RewardRequest, endpoint: Endpoint, api_key: str) -> WireRequest:
    """The request for ``endpoint``. ``request`` must be validated (``RewardRequest.validated()``): this
    builds, it does not check; ``api_key`` is sent as given (the client strips it first)."""
    return WireRequest(endpoint=endpoint, method=METHOD, url=request.url(endpoint),
                       headers=request_headers(api_key), body=body_bytes(request.body()))
