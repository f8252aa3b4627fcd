"""The request both endpoints take, and its validation.

Validation returns messages per field so a form can show each one next to its field
as the user types; the client refuses to send an invalid request at all.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from ..api_schema import BODY_FIELDS, Endpoint
# Re-exported: moments_desktop/ui imports DEFAULT_BASE_URL, BODY_FIELDS and Endpoint from here.
# New code imports them from moments_desktop.api_schema.
from ..api_schema import DEFAULT_BASE_URL  # noqa: F401
from .errors import ValidationError

# [assumed] nothing documents a limit; 256 keeps a pasted novel out of the request and
# is far above any identifier seen in public code (UUIDs are 36).
MAX_FIELD_LENGTH = 256
MAX_URL_LENGTH = 2048

# The body fields' labels are the API's own names: QA testers compare them with campaign
# settings character for character.
FIELD_LABELS = {"base_url": "Endpoint", **{name: name for name in BODY_FIELDS}}


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """True for an http(s) URL on this machine (a local sandbox), false for anything else."""
    try:
        return is_loopback_host(urlsplit(url.strip()).hostname or "")
    except ValueError:
        return False


def is_sendable_key(key: str) -> bool:
    """Printable ASCII only: what an ``x-api-key`` header can carry."""
    return key.isascii() and all(32 <= ord(ch) < 127 for ch in key)


def _control_chars(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value)


def is_encodable(value: str) -> bool:
    """False for text holding a lone surrogate (half of an emoji, or an escape like ``\\ud800`` in a JSON
    file): no UTF-8 writer takes it, so it would fail later, in the request body or in profiles.json."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_intact_text(value: str) -> bool:
    """An identifier or endpoint with no broken character: encodable, and without U+FFFD, the mark a
    decoder or a text field puts in place of one (no identifier of the API holds it)."""
    return "\ufffd" not in value and is_encodable(value)


UNENCODABLE_MESSAGE = "Contains a broken character (half of an emoji or a damaged paste); retype the value."
CREDENTIALS_IN_URL_MESSAGE = ("The URL contains a user name or password (user:password@); credentials belong "
                              "in the API key field, never in the endpoint.")


def validate_base_url(url: str, *, allow_insecure: bool = False) -> str | None:
    """Return a message if the endpoint URL is unusable, else None."""
    url = url.strip()
    if not url:
        return "Enter the endpoint's base URL."
    if len(url) > MAX_URL_LENGTH:
        return f"The URL is longer than {MAX_URL_LENGTH} characters."
    if not is_intact_text(url):
        return UNENCODABLE_MESSAGE
    if _control_chars(url) or any(ch.isspace() for ch in url):
        return "The URL contains spaces or control characters."
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("http", "https"):
        return "The URL must start with https:// (or http:// for a local sandbox)."
    if "@" in parts.netloc:
        # Checked before the host: "https://user:secret@/" must not be answered with words that echo it.
        return CREDENTIALS_IN_URL_MESSAGE
    if not host:
        return "The URL has no host name."
    if parts.query or parts.fragment:
        return "The base URL must not contain ?query or #fragment; the app adds /GetRewardInfo itself."
    if parts.scheme == "http" and not is_loopback_host(host) and not allow_insecure:
        return ("Plain http is only allowed for a sandbox on this computer (127.0.0.1 or localhost); "
                "use https, or allow insecure endpoints for this profile.")
    return None


def validate_field(name: str, value: str) -> str | None:
    """Return a message if one body field is unusable, else None."""
    if not isinstance(value, str):
        return "Must be text."
    stripped = value.strip()
    if not stripped:
        return f"{name} is required."
    if len(stripped) > MAX_FIELD_LENGTH:
        return f"At most {MAX_FIELD_LENGTH} characters ({len(stripped)} given)."
    if not is_intact_text(stripped):
        return UNENCODABLE_MESSAGE
    if _control_chars(stripped):
        return "Contains control or invisible formatting characters (often pasted by accident)."
    return None


@dataclass(frozen=True)
class RewardRequest:
    """Endpoint base URL plus the five body fields both endpoints take ([doc])."""

    base_url: str
    appId: str
    momentId: str
    deviceType: str
    campaignId: str
    rewardGroupId: str
    # Lets a user deliberately test an http:// replica on another host.
    allow_insecure: bool = False

    def field_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        url_problem = validate_base_url(self.base_url, allow_insecure=self.allow_insecure)
        if url_problem:
            errors["base_url"] = url_problem
        for name in BODY_FIELDS:
            problem = validate_field(name, getattr(self, name))
            if problem:
                errors[name] = problem
        return errors

    def validated(self) -> RewardRequest:
        """A trimmed copy, or ValidationError listing every bad field."""
        errors = self.field_errors()
        if errors:
            raise ValidationError(errors)
        return replace(
            self,
            base_url=self.base_url.strip().rstrip("/"),
            **{name: getattr(self, name).strip() for name in BODY_FIELDS},
        )

    def body(self) -> dict[str, str]:
        """Exactly the five fields, as the API expects them."""
        return {name: getattr(self, name) for name in BODY_FIELDS}

    def url(self, endpoint: Endpoint) -> str:
        return self.base_url.strip().rstrip("/") + endpoint.path

    def target(self) -> tuple:
        """What makes two requests address the same reward (the endpoint and the five fields), hashable:
        matches a claim with the preview of the same parameters."""
        return self.url(Endpoint.GET_REWARD), tuple(self.body().items())
