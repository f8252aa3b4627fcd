"""The one renderer of identifiers, URLs, keys and exchanges as text.

Every view (the preview's Raw tab, the history's detail and rows, the claim confirmation, the
status bar, the profile picker), the journal's stored summary and the CLI turn these values
into text here, and nowhere else. ``masked`` is the single switch presenter mode turns on:
with it, identifiers and addresses are shown with their shape but not their characters, so a
shared screen never shows an app id, a campaign id or a redemption URL in clear.

An API key is never rendered in clear, masked or not: there is no function here that would.
Plain Python, no Qt: rows are rendered on the worker thread that read them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from moments_desktop.api_schema import BODY_FIELDS, Endpoint
from moments_desktop.core.exchange import url_without_credentials

MASK_CHAR = "\u2022"  # •
# Shown in place of any secret (the journal and exchanges store this word, never the value).
KEY_PLACEHOLDER = MASK_CHAR * 8
SUMMARY_SEPARATOR = " \u00b7 "
RULE = "\u2500"
# Endpoint paths stay readable when masked: they are the API's, not the customer's.
_PUBLIC_SEGMENTS = frozenset(e.value for e in Endpoint) | {"__sandbox", "prod"}
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
# Inside free text (an error's words): a URL, a host name (two labels or more, the last starting with a letter)
# with its port, an IPv4 address with its port.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>\u201c\u201d]+")
_HOST_IN_TEXT = re.compile(r"(?<![\w@/.-])((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]"
                           r"|\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?(?![\w-])")
# Words shaped like host names that are the app's own file names: left readable in its messages.
_FILE_SUFFIXES = frozenset({"json", "jsonl", "log", "sqlite3", "ini", "csv", "html", "xml", "png", "jpg", "jpeg",
                            "webp", "txt", "py", "deb"})


# A reward URL shown masked is revealed only by a deliberate click ("Reveal"), for this long; the widget's
# timer then masks it again.
REVEAL_SECONDS = 5
# Masked values keep at most this many of their last characters, and never more than a third of them.
MAX_KEPT = 4


def kept_characters(length: int) -> int:
    """How many of a value's last characters stay readable when masked: none for up to 4 characters,
    then a third of the value, at most MAX_KEPT."""
    if length <= 4:
        return 0
    return min(MAX_KEPT, length // 3)


def mask_text(value: str, keep: int | None = None) -> str:
    """'DEMOCAMP1' -> '••••••MP1': the length and the last characters (``kept_characters``), nothing
    more. Short values (up to 4 characters) are masked whole. ``keep`` asks for fewer (0: none); it never
    keeps more than the rule allows."""
    allowed = kept_characters(len(value))
    kept = allowed if keep is None else max(0, min(keep, allowed))
    if kept == 0:
        return MASK_CHAR * len(value)
    return MASK_CHAR * (len(value) - kept) + value[-kept:]


def local_time(iso_utc: str | None) -> str:
    """The journal's UTC time in the computer's time zone, as History (window and ``moments history``) shows it:
    '2026-01-02T13:03:05.123456Z' -> '2026-01-02 14:03:05'. A value that cannot be read is shown as it is."""
    if not iso_utc:
        return ""
    try:
        moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except ValueError:
        return iso_utc
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _section(title: str, width: int = 60) -> str:
    """'── Request ─────…': a rule with the section's name, ``width`` characters long."""
    head = f"{RULE * 2} {title} "
    return head + RULE * (width - len(head))


@dataclass(frozen=True)
class ExchangeRecord:
    """One call as the views show it, whether it comes from a live Exchange or a journal row."""

    method: str
    url: str | None
    request_headers: Mapping[str, str]
    request_body: Any
    status: int | None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: str | None = None
    duration_ms: float | None = None
    attempts: int = 1
    truncated: bool = False
    error_message: str | None = None


def record_of_exchange(exchange: Any) -> ExchangeRecord:
    """A live ``Exchange`` (core/exchange.py), as the views show it."""
    return ExchangeRecord(
        method="POST", url=exchange.url, request_headers=exchange.request_headers,
        request_body=exchange.request_body, status=exchange.status,
        response_headers=exchange.response_headers, response_body=exchange.response_body,
        duration_ms=exchange.duration_ms, attempts=exchange.attempts, truncated=exchange.response_truncated,
        error_message=exchange.error_message)


def record_of_entry(entry: Any) -> ExchangeRecord:
    """A journal row (``JournalEntry``), as the views show it: the same rendering as a live exchange."""
    return ExchangeRecord(
        method="POST", url=entry.request_url, request_headers=entry.request_headers or {},
        request_body=entry.request_body, status=entry.status, response_headers=entry.response_headers or {},
        response_body=entry.response_body, duration_ms=entry.duration_ms,
        error_message=None if entry.status is not None else entry.error_message)


@dataclass(eq=False)
class Renderer:
    """``masked`` is presenter mode's one switch. It is flipped in place (Session.set_presenter), so every
    view that holds this renderer renders masked from its next redraw; views re-render what they already
    show when the bridge emits ``presenter_changed``."""

    masked: bool = False

    # --- single values --------------------------------------------------------------

    def identifier(self, value: Any) -> str:
        """An app, moment, campaign or reward-group id, a profile id, a reward code."""
        if value is None:
            return ""
        text = str(value)
        return mask_text(text) if self.masked and text else text

    def field_value(self, name: str, value: Any) -> str:
        """A body field's value. The device type is an enum of the API, not an identifier."""
        text = "" if value is None else str(value)
        if name == "deviceType":
            return text
        return self.identifier(text)

    def profile_name(self, name: str | None) -> str:
        """Profile names are the user's own labels (often a customer's name): masked like identifiers."""
        return self.identifier(name or "")

    def url(self, url: str | None) -> str:
        """An endpoint or a reward URL. Masked: the scheme and the API's own path words stay, the host
        (unless it is this computer), every other path segment and the query do not."""
        if not url:
            return ""
        if not self.masked:
            return url_without_credentials(url)  # a user:password@ typed into the endpoint is never shown
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            return mask_text(url)
        if not parts.scheme or not host:
            return mask_text(url)
        shown_host = host if host in _LOOPBACK_HOSTS else mask_text(host)
        netloc = shown_host + (f":{port}" if port is not None else "")
        segments = [s if (s in _PUBLIC_SEGMENTS or not s) else mask_text(s, keep=0) for s in parts.path.split("/")]
        path = "/".join(segments)
        query = "?" + MASK_CHAR * 3 if parts.query else ""
        return f"{parts.scheme}://{netloc}{path}{query}"

    @staticmethod
    def revealed_url(url: str | None) -> str:
        """A reward URL the user asked to see (the "Reveal" button, for REVEAL_SECONDS): in clear even in
        presenter mode, as the unmasked view shows it (never a user:password@)."""
        return url_without_credentials(url) if url else ""

    def text(self, value: str | None, identifiers: Iterable[str] = ()) -> str:
        """Free text a view shows (an error's title, message or detail; a journal row's error message). Masked,
        what it quotes is masked as everywhere else: URLs, host names and IP addresses (not this computer's,
        nor the app's own file names) and the given ``identifiers`` (of 3 characters or more: every "US" or "1"
        in a sentence would go otherwise). Unmasked, the text as it is."""
        if not value:
            return ""
        if not self.masked:
            return value
        text = _URL_IN_TEXT.sub(lambda m: self.url(m.group(0)), value)

        def host(match: re.Match) -> str:
            name = match.group(1)
            if name in _LOOPBACK_HOSTS or name.rsplit(".", 1)[-1].lower() in _FILE_SUFFIXES:
                return match.group(0)
            return mask_text(name) + match.group(0)[len(name):]

        text = _HOST_IN_TEXT.sub(host, text)
        for identifier in sorted({i for i in identifiers if i and len(i) >= 3}, key=len, reverse=True):
            text = text.replace(identifier, self.identifier(identifier))
        return text

    @staticmethod
    def key(_key: str | None = None) -> str:
        """An API key is never shown: the same placeholder whatever it is, masked or not."""
        return KEY_PLACEHOLDER

    def fields(self, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The five body fields, in the API's order, as (name, text)."""
        return [(name, self.field_value(name, body.get(name, ""))) for name in BODY_FIELDS]

    def target(self, body: Mapping[str, Any]) -> str:
        """'DEMO1/GAME_COMPLETE/Android/DEMOCAMP1/US': the five fields on one line."""
        return "/".join(text for _name, text in self.fields(body))

    # --- exchanges -------------------------------------------------------------------

    def headers(self, headers: Mapping[str, str]) -> list[str]:
        return [f"{name}: {value}" for name, value in headers.items()]

    def body(self, body: Any) -> str:
        """A request or response body, pretty-printed; masked, the known identifier fields are masked."""
        if body is None or body == "":
            return "(empty)"
        value = body
        if isinstance(body, str):
            try:
                value = json.loads(body)
            except ValueError:
                return body if not self.masked else self._mask_free_text(body)
        if self.masked:
            value = self._mask_json(value)
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return json.dumps(value, ensure_ascii=False)

    def exchange(self, record: ExchangeRecord) -> str:
        """The whole exchange as text: the request as sent (key redacted by core), then the answer."""
        lines = [_section("Request"), f"{record.method} {self.url(record.url) or '(no URL)'}"]
        lines += self.headers(record.request_headers)
        lines += ["", self.body(record.request_body), "", _section("Response")]
        if record.status is None:
            lines.append("No response" + (f" ({record.error_message})" if record.error_message else ""))
        else:
            lines.append(f"HTTP {record.status}")
        if record.duration_ms is not None:
            lines.append(f"Duration: {record.duration_ms:.0f} ms"
                         + (f" ({record.attempts} attempts)" if record.attempts > 1 else ""))
        if record.status is not None:
            lines += self.headers(record.response_headers)
            lines += ["", self.body(record.response_body)]
            if record.truncated:
                lines.append("\u2026 (the answer was cut off)")
        return "\n".join(lines)

    def summary(self, parts: Iterable[str | None]) -> str:
        return SUMMARY_SEPARATOR.join(p for p in parts if p)

    def journal_summary(self, endpoint: str, body: Any, status: int | None, outcome: str,
                        reward_url: str | None) -> str:
        """The one-line summary the journal stores (and searches) for each row."""
        parts = [endpoint]
        if isinstance(body, Mapping):
            parts.append(self.target(body))
        parts.append(f"{status if status is not None else '-'} {outcome}")
        if reward_url:
            parts.append(self.url(reward_url))
        return " ".join(parts)

    # --- masking helpers -------------------------------------------------------------

    _URL_FIELDS = ("rewardNotificationUrl", "rewardImageUrl")

    def _mask_json(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._mask_json(v) for v in value]
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k in BODY_FIELDS and isinstance(v, str):
                    out[k] = self.field_value(k, v)
                elif k in self._URL_FIELDS and isinstance(v, str):
                    out[k] = self.url(v)
                else:
                    out[k] = self._mask_json(v)
            return out
        return value

    def _mask_free_text(self, text: str) -> str:
        return text if len(text) < 200 else text[:200] + "\u2026"


PLAIN = Renderer()
