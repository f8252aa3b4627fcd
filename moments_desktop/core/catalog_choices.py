"""Choices for the request form, read from a sandbox's catalog (``GET /__sandbox/catalog``).

Any endpoint whose ``/__sandbox/catalog`` answers with the sandbox's catalog JSON (the
embedded sandbox, a standalone ``moments-sandbox``) lets the form offer its real ids.
Anything else - a real Moments endpoint, a typo, a timeout, a JSON of another shape - means
"no choices", never an error: the fields stay free text. The fetch sends no API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from ..api_schema import DEVICE_TYPES, SANDBOX_CATALOG_PATH

# The embedded sandbox answers in milliseconds; a slow answer is not worth waiting for.
CATALOG_TIMEOUT_S = 3.0
MAX_CATALOG_BYTES = 2 * 1024 * 1024
SEPARATOR = " \u2014 "  # em dash between the id and its description


@dataclass(frozen=True)
class Choice:
    value: str  # what goes into the field
    label: str  # what the list shows, e.g. "LIVECAMP1 — Live, 35 left · Launch week (live)"


@dataclass(frozen=True)
class CatalogRewardGroup:
    id: str
    locale: str
    remaining: int | None


@dataclass(frozen=True)
class CatalogCampaign:
    id: str
    app_id: str
    name: str
    state: str
    moments: tuple[str, ...]
    device_types: tuple[str, ...]
    reward_groups: tuple[CatalogRewardGroup, ...]

    @property
    def remaining(self) -> int | None:
        counts = [g.remaining for g in self.reward_groups]
        return None if any(c is None for c in counts) else sum(counts)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CatalogApp:
    id: str
    name: str
    moments: tuple[tuple[str, str], ...]  # (id, name)


class CatalogFormatError(ValueError):
    """The JSON is not a sandbox catalog (so the endpoint is not treated as a sandbox)."""


def _text(value: Any, where: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise CatalogFormatError(f"{where}: expected text")
    return value


def _items(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise CatalogFormatError(f"{where}: expected a list")
    return value


def _objects(value: Any, where: str) -> list[dict[str, Any]]:
    """A list whose every item is a JSON object."""
    items = _items(value, where)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise CatalogFormatError(f"{where}[{i}]: expected an object")
    return items


def _remaining(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _available(group: dict) -> Any:
    """The count a customer would be told: this month's (``available_this_month``: inventory, monthly
    allowance and budget together) when the sandbox reports it, else the inventory left."""
    return group["available_this_month"] if "available_this_month" in group else group.get("remaining")


def _plural_left(count: int | None) -> str:
    if count is None:
        return ""
    return "none left" if count == 0 else f"{count} left"


def _unique(choices: Iterable[Choice]) -> list[Choice]:
    seen: set[str] = set()
    result = []
    for choice in choices:
        if choice.value not in seen:
            seen.add(choice.value)
            result.append(choice)
    return result


@dataclass(frozen=True)
class SandboxCatalog:
    """What the form needs from a catalog: ids, names, states and counts (never the API keys)."""

    apps: tuple[CatalogApp, ...]
    campaigns: tuple[CatalogCampaign, ...]
    device_types: tuple[str, ...] = DEVICE_TYPES

    @classmethod
    def from_json(cls, data: Any) -> SandboxCatalog:
        if not isinstance(data, dict) or data.get("schema_version") != 1:
            raise CatalogFormatError("not a sandbox catalog")
        apps = []
        for i, app in enumerate(_objects(data.get("apps"), "apps")):
            moments = []
            for moment in _objects(app.get("moments", []), f"apps[{i}].moments"):
                moments.append((_text(moment.get("id"), "moment id"),
                                _text(moment.get("name"), "moment name", optional=True)))
            apps.append(CatalogApp(_text(app.get("id"), "app id"), _text(app.get("name"), "app name", optional=True),
                                   tuple(moments)))
        campaigns = []
        for i, campaign in enumerate(_objects(data.get("campaigns"), "campaigns")):
            groups = []
            for group in _objects(campaign.get("reward_groups", []), f"campaigns[{i}].reward_groups"):
                groups.append(CatalogRewardGroup(_text(group.get("id"), "reward group id"),
                                                 _text(group.get("locale"), "locale", optional=True),
                                                 _remaining(_available(group))))
            devices = campaign.get("device_types") or list(DEVICE_TYPES)
            campaigns.append(CatalogCampaign(
                id=_text(campaign.get("id"), "campaign id"),
                app_id=_text(campaign.get("app_id"), "campaign app_id"),
                name=_text(campaign.get("name"), "campaign name", optional=True),
                state=_text(campaign.get("state"), "campaign state", optional=True),
                moments=tuple(_text(m, "campaign moment") for m in _items(campaign.get("moments", []), "moments")),
                device_types=tuple(_text(d, "device type") for d in _items(devices, "device_types")),
                reward_groups=tuple(groups),
            ))
        device_types = data.get("device_types") or list(DEVICE_TYPES)
        return cls(tuple(apps), tuple(campaigns),
                   tuple(_text(d, "device type") for d in _items(device_types, "device_types")))

    # --- lookups -------------------------------------------------------------------

    def app(self, app_id: str) -> CatalogApp | None:
        return next((a for a in self.apps if a.id == app_id.strip()), None)

    def campaign(self, campaign_id: str) -> CatalogCampaign | None:
        return next((c for c in self.campaigns if c.id == campaign_id.strip()), None)

    def _app_name(self, app_id: str) -> str:
        app = self.app(app_id)
        return (app.name or app.id) if app else app_id

    # --- choices per field -----------------------------------------------------------

    def app_choices(self) -> list[Choice]:
        return _unique(Choice(a.id, a.id + (SEPARATOR + a.name if a.name else "")) for a in self.apps)

    def moment_choices(self, app_id: str) -> list[Choice]:
        """The chosen app's moments; every app's when the appId is not in the catalog."""
        app = self.app(app_id)
        if app is not None:
            return _unique(Choice(m, m + (SEPARATOR + name if name else "")) for m, name in app.moments)
        return _unique(Choice(m, f"{m}{SEPARATOR}{name + ' · ' if name else ''}{a.name or a.id}")
                       for a in self.apps for m, name in a.moments)

    def campaign_choices(self, app_id: str, moment_id: str = "") -> list[Choice]:
        """The chosen app's campaigns (all when the appId is unknown), with state and stock."""
        app = self.app(app_id)
        campaigns = [c for c in self.campaigns if app is None or c.app_id == app.id]
        moment = moment_id.strip()
        choices = []
        for c in campaigns:
            state = "Approved (test mode)" if c.state == "Approved" else c.state
            facts = ", ".join(part for part in (state, _plural_left(c.remaining)) if part)
            extra = [c.name] if c.name else []
            if app is None:
                extra.append(self._app_name(c.app_id))
            if moment and c.moments and moment not in c.moments:
                extra.append(f"not for {moment}")
            choices.append(Choice(c.id, c.id + SEPARATOR + " · ".join([facts, *extra] if facts else extra)))
        return _unique(choices)

    def reward_group_choices(self, app_id: str, campaign_id: str) -> list[Choice]:
        """The chosen campaign's groups with what is left; else every group id of the app's campaigns."""
        campaign = self.campaign(campaign_id)
        if campaign is not None:
            return _unique(
                Choice(g.id, g.id + SEPARATOR + ", ".join(p for p in (g.locale, _plural_left(g.remaining)) if p))
                for g in campaign.reward_groups)
        app = self.app(app_id)
        campaigns = [c for c in self.campaigns if app is None or c.app_id == app.id]
        where: dict[str, list[str]] = {}
        for c in campaigns:
            for g in c.reward_groups:
                where.setdefault(g.id, []).append(c.id)
        return [Choice(gid, f"{gid}{SEPARATOR}in {', '.join(ids)}") for gid, ids in where.items()]

    def device_type_choices(self, campaign_id: str) -> list[Choice]:
        """Every device type; those the chosen campaign does not accept say so (they answer [])."""
        campaign = self.campaign(campaign_id)
        choices = []
        for device in self.device_types:
            if campaign is not None and device not in campaign.device_types:
                choices.append(Choice(device, f"{device}{SEPARATOR}not accepted by {campaign.id}"))
            else:
                choices.append(Choice(device, device))
        return choices

    def choices(self, fields: dict[str, str]) -> dict[str, list[Choice]]:
        """Choices for the five body fields given the form's current values."""
        app_id = fields.get("appId", "")
        campaign_id = fields.get("campaignId", "")
        return {
            "appId": self.app_choices(),
            "momentId": self.moment_choices(app_id),
            "deviceType": self.device_type_choices(campaign_id),
            "campaignId": self.campaign_choices(app_id, fields.get("momentId", "")),
            "rewardGroupId": self.reward_group_choices(app_id, campaign_id),
        }


def default_choices() -> dict[str, list[Choice]]:
    """Without a catalog only deviceType has known values."""
    return {"deviceType": [Choice(d, d) for d in DEVICE_TYPES]}


def catalog_url(base_url: str) -> str:
    return base_url.strip().rstrip("/") + SANDBOX_CATALOG_PATH


class NotASandbox(Exception):
    """The endpoint answered, but not with a catalog: asking again will not change that."""


async def fetch_catalog(http: httpx.AsyncClient, base_url: str,
                        timeout: float = CATALOG_TIMEOUT_S) -> SandboxCatalog:
    """The endpoint's sandbox catalog.

    Raises NotASandbox when the endpoint answered with anything but a catalog, and
    httpx.HTTPError / TimeoutError when it could not be asked (worth asking again later).

    ``timeout`` is the deadline for the whole fetch (a server dripping bytes cannot hold it),
    enforced in the caller's own task: ``asyncio.wait_for`` ran the read as a second task, which
    outlived its caller when that one stopped early ("Task exception was never retrieved",
    "coroutine 'read' was never awaited") and is one more task for the owner to cancel.
    """
    async with asyncio.timeout(timeout):
        async with http.stream("GET", catalog_url(base_url), timeout=timeout, follow_redirects=False,
                               headers={"Accept": "application/json"}) as response:
            if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
                raise NotASandbox(f"HTTP {response.status_code}")
            body = bytearray()
            # aclosing: leaving the loop by raising must close the body's iterator now, not leave it
            # for the loop's shutdown to finalise (an async generator still pending).
            async with contextlib.aclosing(response.aiter_bytes()) as body_chunks:
                async for chunk in body_chunks:
                    body += chunk
                    if len(body) > MAX_CATALOG_BYTES:
                        raise NotASandbox("answer too large")
    try:
        return SandboxCatalog.from_json(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and CatalogFormatError are ValueErrors
        raise NotASandbox(str(exc)) from None
