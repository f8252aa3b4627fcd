"""The sandbox's catalog: apps, API keys, moments, campaigns, reward groups, rewards.

A catalog is a JSON file (format in CATALOG.md next to this module). The shipped one is
resources/catalog.json; a user can point the sandbox at their own. Every validation
problem raises CatalogError naming the file and the JSON path of the offending value
(e.g. ``$.campaigns[2].reward_groups[0].inventory``), so the message is actionable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from moments_desktop.api_schema import DEVICE_TYPES
from moments_desktop.core.resources import resources_dir
from moments_desktop.sandbox.clock import MAX_TIME, MIN_TIME, ClockError, parse_instant

SCHEMA_VERSION = 1

# [doc] Draft -> Pending Approval -> Approved (test mode) -> Live -> Finished; also Rejected, Suspended.
STATE_DRAFT = "Draft"
STATE_PENDING = "Pending Approval"
STATE_APPROVED = "Approved"
STATE_LIVE = "Live"
STATE_FINISHED = "Finished"
STATE_REJECTED = "Rejected"
STATE_SUSPENDED = "Suspended"
CAMPAIGN_STATES: tuple[str, ...] = (
    STATE_DRAFT,
    STATE_PENDING,
    STATE_APPROVED,
    STATE_LIVE,
    STATE_FINISHED,
    STATE_REJECTED,
    STATE_SUSPENDED,
)
# States in which the API hands out rewards: Approved is test mode [doc].
SERVING_STATES = (STATE_APPROVED, STATE_LIVE)

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}

DEFAULT_RATE_LIMIT = 5  # calls per second per API key, both endpoints together [doc]
# Budgets, in integer cents (money never goes through floats). "Minimum $50 per campaign" [partner];
# at most $5,000 a month per campaign and $15,000 a month per Moments account [doc, config-billing].
CAMPAIGN_BUDGET_MIN_CENTS = 50_00
CAMPAIGN_BUDGET_MAX_CENTS = 5_000_00
ACCOUNT_BUDGET_MAX_CENTS = 15_000_00
# Epoch numbers above this are milliseconds [assumed: the same rule as the app's reader, core/reward.py].
_EPOCH_MILLIS_ABOVE = 100_000_000_000
# Root fields that model API Gateway in front of the API, and the sandbox-extension switch:
# ``quota`` (a usage plan's calls per key per day/month), ``retry_after_header`` (send Retry-After
# on 429 [assumed]), ``sandbox_extensions`` (add rewardTitle/rewardLocale, which no public source shows).
GATEWAY_FIELDS = ("quota", "retry_after_header", "sandbox_extensions")
_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class CatalogError(ValueError):
    """The catalog file cannot be used. ``json_path`` points at the problem."""

    def __init__(self, message: str, json_path: str = "$", source: str | None = None):
        self.reason = message
        self.json_path = json_path
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{json_path}: {message}")


# --- the model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    id: str
    name: str


@dataclass(frozen=True)
class Quota:
    """A usage plan's quota for one API key [AWS API Gateway usage plans]: calls per UTC day and per
    UTC month [assumed: API Gateway counts in UTC]; ``None`` means no limit for that period."""

    per_day: int | None = None
    per_month: int | None = None

    def to_json(self) -> dict[str, int | None]:
        return {"per_day": self.per_day, "per_month": self.per_month}


@dataclass(frozen=True)
class App:
    id: str
    name: str
    api_keys: tuple[str, ...]
    moments: tuple[Moment, ...]
    quota: Quota | None = None  # overrides the catalog's quota for this app's keys

    def moment_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.moments)


@dataclass(frozen=True)
class RewardText:
    announcement: str
    redemption: str
    title: str | None = None


@dataclass(frozen=True)
class Reward:
    id: str
    title: str
    image: str  # file name
    image_path: Path
    messages: dict[str, RewardText]

    @property
    def content_type(self) -> str:
        return IMAGE_TYPES[self.image_path.suffix.lower()]

    def text_for(self, locale: str) -> tuple[str, RewardText]:
        """The messages for ``locale``: exact, then same language, then en-US, then the first."""
        locale_used = pick_locale(locale, self.messages.keys())
        return locale_used, self.messages[locale_used]


@dataclass(frozen=True)
class RewardGroup:
    id: str
    locale: str
    reward_id: str
    inventory: int  # initial inventory; the live count is in SandboxState
    # Rewards that may be handed out per calendar month (UTC [assumed]); None: no monthly limit.
    # remainingRewardCount is "in the current month" [partner].
    monthly_allowance: int | None = None


@dataclass(frozen=True)
class Budget:
    """A campaign's monthly budget and its cost per action, in integer cents [doc, config-billing]."""

    monthly_cents: int
    cost_per_action_cents: int


@dataclass(frozen=True)
class Transition:
    """A change of a campaign's effective state that its dates schedule."""

    state: str
    at: datetime


@dataclass(frozen=True)
class Campaign:
    id: str
    app_id: str
    name: str
    state: str
    end_date: str | int | float | None  # passed through as campaignEndDate (format unknown [doc])
    moments: tuple[str, ...]
    device_types: tuple[str, ...] | None  # None: every device type
    reward_groups: tuple[RewardGroup, ...]
    start_date: str | int | float | None = None  # as written in the catalog
    # The instants the dates mean (None: no date, or an end_date the sandbox cannot read):
    # Live from ``starts_at`` (an Approved campaign), Finished from ``ends_at`` (a Live one).
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    budget: Budget | None = None
    # The groups by id (the first of an id wins, as a search in order would): built from reward_groups.
    _groups: dict[str, RewardGroup] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for group in self.reward_groups:
            self._groups.setdefault(group.id, group)

    @property
    def test_mode(self) -> bool:
        """Configured in test mode; ``state_at`` says whether it still is at a given time."""
        return self.state == STATE_APPROVED

    def state_at(self, now: datetime) -> str:
        """The effective state at ``now``: the configured state moved on by the dates.

        "On the start day that you configured, the campaign transitions to the Live state";
        "On the end day ... Finished state" [doc, create-campaign]. Only an Approved campaign with a
        start date goes Live by date (without one a person sets it live [doc, testing]); only a Live
        one (configured, or Approved-turned-Live) finishes by date. Draft, Pending Approval,
        Rejected, Suspended and Finished are a person's decision and ignore the dates [assumed].
        """
        state = self.state
        if state == STATE_APPROVED and self.starts_at is not None and now >= self.starts_at:
            state = STATE_LIVE
        if state == STATE_LIVE and self.ends_at is not None and now >= self.ends_at:
            state = STATE_FINISHED
        return state

    def next_transition(self, now: datetime) -> Transition | None:
        """The next change the dates will make after ``now``, if any."""
        state = self.state_at(now)
        if state == STATE_APPROVED and self.starts_at is not None:
            return Transition(STATE_LIVE, self.starts_at)
        if state == STATE_LIVE and self.ends_at is not None:
            return Transition(STATE_FINISHED, self.ends_at)
        return None

    def group(self, group_id: str) -> RewardGroup | None:
        return self._groups.get(group_id)


@dataclass(frozen=True)
class DemoProfile:
    """The values the app's built-in demo profile uses."""

    app_id: str
    api_key: str
    moment_id: str
    campaign_id: str
    reward_group_id: str
    device_type: str = "Android"

    def body(self) -> dict[str, str]:
        return {
            "appId": self.app_id,
            "momentId": self.moment_id,
            "deviceType": self.device_type,
            "campaignId": self.campaign_id,
            "rewardGroupId": self.reward_group_id,
        }


@dataclass(frozen=True)
class Catalog:
    apps: tuple[App, ...]
    rewards: tuple[Reward, ...]
    campaigns: tuple[Campaign, ...]
    rate_limit_per_second: int = DEFAULT_RATE_LIMIT
    source: str | None = None
    # One catalog is one Moments account [assumed]: its campaigns' spend shares this monthly cap.
    account_monthly_budget_cents: int = ACCOUNT_BUDGET_MAX_CENTS
    quota: Quota | None = None  # per API key; an app's own quota overrides it
    retry_after_header: bool = True  # [assumed] Retry-After on both 429s; false models API Gateway's defaults
    sandbox_extensions: bool = True  # rewardTitle/rewardLocale in answers (no public source shows them)
    _keys: dict[str, App] = field(default_factory=dict, repr=False, compare=False)
    # Lookups by id and by image file name, built from the tuples (the first of an id wins, as a search in
    # order would): every request looks up its campaign and its reward.
    _apps: dict[str, App] = field(init=False, default_factory=dict, repr=False, compare=False)
    _campaigns: dict[str, Campaign] = field(init=False, default_factory=dict, repr=False, compare=False)
    _rewards: dict[str, Reward] = field(init=False, default_factory=dict, repr=False, compare=False)
    _images: dict[str, Reward] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for app in self.apps:
            for key in app.api_keys:
                self._keys[key] = app
            self._apps.setdefault(app.id, app)
        for campaign in self.campaigns:
            self._campaigns.setdefault(campaign.id, campaign)
        for reward in self.rewards:
            self._rewards.setdefault(reward.id, reward)
            self._images.setdefault(reward.image, reward)

    def app_for_key(self, key: str | None) -> App | None:
        return self._keys.get(key) if key else None

    def app(self, app_id: str) -> App | None:
        return self._apps.get(app_id)

    def quota_for(self, app: App) -> Quota | None:
        return app.quota if app.quota is not None else self.quota

    def campaign(self, campaign_id: str) -> Campaign | None:
        return self._campaigns.get(campaign_id)

    def reward(self, reward_id: str) -> Reward | None:
        return self._rewards.get(reward_id)

    def reward_by_image(self, file_name: str) -> Reward | None:
        return self._images.get(file_name)

    def demo(self) -> DemoProfile:
        """The first app's first key, with its first test-mode campaign (or its first campaign)."""
        app = self.apps[0]
        own = [c for c in self.campaigns if c.app_id == app.id]
        campaign = next((c for c in own if c.test_mode), own[0] if own else None)
        if campaign is None:
            return DemoProfile(app.id, app.api_keys[0], app.moments[0].id if app.moments else "", "", "")
        return DemoProfile(
            app_id=app.id,
            api_key=app.api_keys[0],
            moment_id=campaign.moments[0],
            campaign_id=campaign.id,
            reward_group_id=campaign.reward_groups[0].id,
        )


def pick_locale(wanted: str, available: Iterable[str]) -> str:
    available = list(available)
    if wanted in available:
        return wanted
    language = wanted.split("-")[0].lower()
    same_language = [loc for loc in available if loc.split("-")[0].lower() == language]
    if same_language:
        return same_language[0]
    if "en-US" in available:
        return "en-US"
    return available[0]


# --- loading -----------------------------------------------------------------------------


def default_catalog_path() -> Path:
    return resources_dir() / "catalog.json"


def load_default_catalog() -> Catalog:
    return load_catalog(default_catalog_path())


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog file. Raises CatalogError with the JSON path of any problem."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError("the catalog file does not exist", "$", source) from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"the file is not UTF-8 text ({exc.reason})", "$", source) from None
    except OSError as exc:
        raise CatalogError(f"the catalog file cannot be read ({exc.strerror or exc})", "$", source) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", "$", source
        ) from None
    except (ValueError, RecursionError) as exc:  # a number of 5,000 digits, nesting too deep to parse
        raise CatalogError(f"not valid JSON: {exc}", "$", source) from None
    image_dirs = [path.parent / "rewards", resources_dir() / "rewards"]
    if isinstance(data, dict) and isinstance(data.get("images_dir"), str):
        image_dirs.insert(0, path.parent / data["images_dir"])
    return parse_catalog(data, image_dirs=image_dirs, source=source)


def parse_catalog(data: Any, *, image_dirs: list[Path] | None = None, source: str | None = None) -> Catalog:
    """Validate already-parsed JSON. ``image_dirs`` are searched in order for reward images."""
    return _Parser(image_dirs or [resources_dir() / "rewards"], source).catalog(data)


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


class _Parser:
    def __init__(self, image_dirs: list[Path], source: str | None):
        self.image_dirs = image_dirs
        self.source = source

    def fail(self, message: str, path: str) -> CatalogError:
        return CatalogError(message, path, self.source)

    # generic checks
    def obj(self, value: Any, path: str, required: Iterable[str], optional: Iterable[str] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(f"expected an object, found {_kind(value)}", path)
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed and not key.startswith("_"):
                hint = ", ".join(sorted(allowed))
                raise self.fail(f"unknown field {key!r} (allowed: {hint}; prefix with _ for comments)", path)
        for key in required:
            if key not in value:
                raise self.fail(f"missing required field {key!r}", path)
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(f"expected a string, found {_kind(value)}", path)
        if not value.strip():
            raise self.fail("must not be empty", path)
        return value

    def array(self, value: Any, path: str, *, non_empty: bool = True) -> list:
        if not isinstance(value, list):
            raise self.fail(f"expected an array, found {_kind(value)}", path)
        if non_empty and not value:
            raise self.fail("must not be empty", path)
        return value

    def unique(self, ids: list[str], path: str, what: str) -> None:
        seen: set[str] = set()
        for index, value in enumerate(ids):
            if value in seen:
                raise self.fail(f"duplicate {what} {value!r}", _child(path, index))
            seen.add(value)

    # the document
    def catalog(self, data: Any) -> Catalog:
        root = self.obj(
            data,
            "$",
            ("schema_version", "apps", "rewards", "campaigns"),
            ("rate_limit_per_second", "images_dir", "account_monthly_budget_usd", *GATEWAY_FIELDS),
        )
        version = root["schema_version"]
        if version != SCHEMA_VERSION or isinstance(version, bool):
            raise self.fail(
                f"unsupported schema_version {version!r}; this sandbox reads version {SCHEMA_VERSION}",
                "$.schema_version",
            )
        rate = root.get("rate_limit_per_second", DEFAULT_RATE_LIMIT)
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
            raise self.fail(
                "expected a whole number of calls per second, at least 1", "$.rate_limit_per_second"
            )
        if "images_dir" in root:
            self.string(root["images_dir"], "$.images_dir")
        account_cents = ACCOUNT_BUDGET_MAX_CENTS
        if "account_monthly_budget_usd" in root:
            account_cents = self.money(
                root["account_monthly_budget_usd"], "$.account_monthly_budget_usd", 1, ACCOUNT_BUDGET_MAX_CENTS
            )

        apps = [self.app(a, _child("$.apps", i)) for i, a in enumerate(self.array(root["apps"], "$.apps"))]
        self.unique([a.id for a in apps], "$.apps", "app id")
        keys = [(i, k) for i, a in enumerate(apps) for k in a.api_keys]
        seen_keys: dict[str, int] = {}
        for app_index, key in keys:
            if key in seen_keys:
                raise self.fail(
                    f"API key {key!r} is also used by app {apps[seen_keys[key]].id!r}",
                    _child(_child("$.apps", app_index), "api_keys"),
                )
            seen_keys[key] = app_index

        rewards = [
            self.reward(r, _child("$.rewards", i))
            for i, r in enumerate(self.array(root["rewards"], "$.rewards"))
        ]
        self.unique([r.id for r in rewards], "$.rewards", "reward id")

        apps_by_id = {a.id: a for a in apps}
        reward_ids = {r.id for r in rewards}
        campaigns = [
            self.campaign(c, _child("$.campaigns", i), apps_by_id, reward_ids)
            for i, c in enumerate(self.array(root["campaigns"], "$.campaigns", non_empty=False))
        ]
        self.unique([c.id for c in campaigns], "$.campaigns", "campaign id")
        return Catalog(
            apps=tuple(apps),
            rewards=tuple(rewards),
            campaigns=tuple(campaigns),
            rate_limit_per_second=rate,
            source=self.source,
            account_monthly_budget_cents=account_cents,
            **self.gateway(root),
        )

    def gateway(self, root: dict) -> dict[str, Any]:
        """The root's GATEWAY_FIELDS, validated, as Catalog keyword arguments."""
        return {
            "quota": self.quota(root["quota"], "$.quota") if root.get("quota") is not None else None,
            "retry_after_header": self.boolean(root.get("retry_after_header", True), "$.retry_after_header"),
            "sandbox_extensions": self.boolean(root.get("sandbox_extensions", True), "$.sandbox_extensions"),
        }

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, found {_kind(value)}", path)
        return value

    def quota(self, value: Any, path: str) -> Quota:
        obj = self.obj(value, path, (), ("per_day", "per_month"))
        limits: dict[str, int | None] = {}
        for name in ("per_day", "per_month"):
            limit = obj.get(name)
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
                raise self.fail(
                    f"expected a whole number of calls, at least 1 (or null for no limit), found {_kind(limit)}",
                    _child(path, name),
                )
            limits[name] = limit
        return Quota(**limits)

    def app(self, value: Any, path: str) -> App:
        obj = self.obj(value, path, ("id", "api_keys", "moments"), ("name", "quota"))
        app_id = self.string(obj["id"], _child(path, "id"))
        keys_path = _child(path, "api_keys")
        keys = [
            self.string(k, _child(keys_path, i)) for i, k in enumerate(self.array(obj["api_keys"], keys_path))
        ]
        self.unique(keys, keys_path, "API key")
        moments_path = _child(path, "moments")
        moments = []
        for i, m in enumerate(self.array(obj["moments"], moments_path)):
            mpath = _child(moments_path, i)
            mobj = self.obj(m, mpath, ("id",), ("name",))
            mid = self.string(mobj["id"], _child(mpath, "id"))
            name = self.string(mobj["name"], _child(mpath, "name")) if "name" in mobj else mid
            moments.append(Moment(mid, name))
        self.unique([m.id for m in moments], moments_path, "moment id")
        name = self.string(obj["name"], _child(path, "name")) if "name" in obj else app_id
        quota = self.quota(obj["quota"], _child(path, "quota")) if obj.get("quota") is not None else None
        return App(app_id, name, tuple(keys), tuple(moments), quota)

    def reward(self, value: Any, path: str) -> Reward:
        obj = self.obj(value, path, ("id", "title", "image", "messages"))
        reward_id = self.string(obj["id"], _child(path, "id"))
        title = self.string(obj["title"], _child(path, "title"))
        image_field = _child(path, "image")
        image = self.string(obj["image"], image_field)
        if not _SAFE_FILE_NAME.fullmatch(image):
            raise self.fail("expected a plain file name such as 'prize.png' (no folders)", image_field)
        suffix = Path(image).suffix.lower()
        if suffix not in IMAGE_TYPES:
            raise self.fail(
                f"unsupported image type {suffix or '(none)'!r}; use one of {sorted(IMAGE_TYPES)}",
                image_field,
            )
        image_path = next((d / image for d in self.image_dirs if (d / image).is_file()), None)
        if image_path is None:
            looked = ", ".join(str(d) for d in self.image_dirs)
            raise self.fail(f"image file {image!r} not found (looked in: {looked})", image_field)
        messages_path = _child(path, "messages")
        raw_messages = obj["messages"]
        if not isinstance(raw_messages, dict):
            raise self.fail(
                f"expected an object of locale -> messages, found {_kind(raw_messages)}", messages_path
            )
        if not raw_messages:
            raise self.fail("must hold messages for at least one locale", messages_path)
        messages: dict[str, RewardText] = {}
        for locale, texts in raw_messages.items():
            lpath = _child(messages_path, locale)
            if locale.startswith("_"):
                continue
            if not _looks_like_locale(locale):
                raise self.fail(f"{locale!r} is not a locale such as 'en-US' or 'ja-JP'", lpath)
            tobj = self.obj(texts, lpath, ("announcement", "redemption"), ("title",))
            messages[locale] = RewardText(
                announcement=self.string(tobj["announcement"], _child(lpath, "announcement")),
                redemption=self.string(tobj["redemption"], _child(lpath, "redemption")),
                title=self.string(tobj["title"], _child(lpath, "title")) if "title" in tobj else None,
            )
        return Reward(reward_id, title, image, image_path, messages)

    def campaign(self, value: Any, path: str, apps: dict[str, App], reward_ids: set[str]) -> Campaign:
        obj = self.obj(
            value,
            path,
            ("id", "app_id", "state", "moments", "reward_groups"),
            ("name", "start_date", "end_date", "device_types", "budget"),
        )
        campaign_id = self.string(obj["id"], _child(path, "id"))
        app_id = self.string(obj["app_id"], _child(path, "app_id"))
        if app_id not in apps:
            raise self.fail(
                f"no app with id {app_id!r} (known: {', '.join(sorted(apps))})", _child(path, "app_id")
            )
        state = self.string(obj["state"], _child(path, "state"))
        if state not in CAMPAIGN_STATES:
            raise self.fail(
                f"unknown state {state!r}; use one of: {', '.join(CAMPAIGN_STATES)}", _child(path, "state")
            )
        end_date = obj.get("end_date")
        if end_date is not None and (
            isinstance(end_date, bool) or not isinstance(end_date, (str, int, float))
        ):
            raise self.fail(
                f"expected a date string, an epoch number or null, found {_kind(end_date)}",
                _child(path, "end_date"),
            )
        # campaignEndDate's format is unknown [doc], so an end_date the sandbox cannot read as a date
        # is still served unchanged (a tester may want to see how a client copes with it); it only
        # drives no transition (``ends_at`` None, shown in the admin catalog) [assumed].
        ends_at = _end_instant(end_date)
        start_date = obj.get("start_date")
        starts_at = None
        if start_date is not None:
            # The start date is the sandbox's own (no response field carries it): it must be readable.
            starts_at = _start_instant(start_date)
            if starts_at is None:
                raise self.fail(
                    "expected an ISO-8601 date ('2027-03-01') or date-time ('2027-03-01T09:00:00Z') string, "
                    f"or epoch seconds, between 1970 and 8999; found {_kind(start_date)}",
                    _child(path, "start_date"),
                )
            if ends_at is not None and starts_at >= ends_at:
                raise self.fail(
                    f"the campaign would go Live at {_iso(starts_at)} but be Finished from {_iso(ends_at)}: "
                    "the start must come before the end",
                    _child(path, "start_date"),
                )
        budget = self.budget(obj["budget"], _child(path, "budget")) if obj.get("budget") is not None else None
        moments_path = _child(path, "moments")
        moments = [
            self.string(m, _child(moments_path, i))
            for i, m in enumerate(self.array(obj["moments"], moments_path))
        ]
        known_moments = apps[app_id].moment_ids()
        for i, m in enumerate(moments):
            if m not in known_moments:
                raise self.fail(
                    f"app {app_id!r} has no moment {m!r} (known: {', '.join(known_moments)})",
                    _child(moments_path, i),
                )
        self.unique(moments, moments_path, "moment id")
        device_types = None
        if obj.get("device_types") is not None:
            dpath = _child(path, "device_types")
            device_types = tuple(
                self.string(d, _child(dpath, i)) for i, d in enumerate(self.array(obj["device_types"], dpath))
            )
            for i, d in enumerate(device_types):
                if d not in DEVICE_TYPES:
                    raise self.fail(
                        f"unknown device type {d!r}; use one of: {', '.join(DEVICE_TYPES)}", _child(dpath, i)
                    )
        groups_path = _child(path, "reward_groups")
        groups = []
        for i, g in enumerate(self.array(obj["reward_groups"], groups_path)):
            gpath = _child(groups_path, i)
            gobj = self.obj(g, gpath, ("id", "locale", "reward", "inventory"), ("monthly_allowance",))
            gid = self.string(gobj["id"], _child(gpath, "id"))
            locale = self.string(gobj["locale"], _child(gpath, "locale"))
            if not _looks_like_locale(locale):
                raise self.fail(
                    f"{locale!r} is not a locale such as 'en-US' or 'ja-JP'", _child(gpath, "locale")
                )
            reward_id = self.string(gobj["reward"], _child(gpath, "reward"))
            if reward_id not in reward_ids:
                raise self.fail(f"no reward with id {reward_id!r}", _child(gpath, "reward"))
            inventory = gobj["inventory"]
            if isinstance(inventory, bool) or not isinstance(inventory, int) or inventory < 0:
                raise self.fail(
                    f"expected a whole number of rewards (0 or more), found {json.dumps(inventory)}",
                    _child(gpath, "inventory"),
                )
            allowance = gobj.get("monthly_allowance")
            if allowance is not None and (
                isinstance(allowance, bool) or not isinstance(allowance, int) or allowance < 0
            ):
                raise self.fail(
                    f"expected a whole number of rewards per month (0 or more) or null, found {json.dumps(allowance)}",
                    _child(gpath, "monthly_allowance"),
                )
            groups.append(RewardGroup(gid, locale, reward_id, inventory, allowance))
        self.unique([g.id for g in groups], groups_path, "reward group id")
        name = self.string(obj["name"], _child(path, "name")) if "name" in obj else campaign_id
        return Campaign(
            id=campaign_id,
            app_id=app_id,
            name=name,
            state=state,
            end_date=end_date,
            moments=tuple(moments),
            device_types=device_types,
            reward_groups=tuple(groups),
            start_date=start_date,
            starts_at=starts_at,
            ends_at=ends_at,
            budget=budget,
        )

    def budget(self, value: Any, path: str) -> Budget:
        obj = self.obj(value, path, ("monthly_usd", "cost_per_action_usd"))
        monthly = self.money(
            obj["monthly_usd"], _child(path, "monthly_usd"), CAMPAIGN_BUDGET_MIN_CENTS, CAMPAIGN_BUDGET_MAX_CENTS
        )
        cost_path = _child(path, "cost_per_action_usd")
        cost = self.money(obj["cost_per_action_usd"], cost_path, 1, CAMPAIGN_BUDGET_MAX_CENTS)
        if cost > monthly:
            raise self.fail(
                f"a cost per action of {_usd_text(cost)} is more than the monthly budget of {_usd_text(monthly)}: "
                "no reward could ever be handed out",
                cost_path,
            )
        return Budget(monthly, cost)

    def money(self, value: Any, path: str, least_cents: int, most_cents: int) -> int:
        """A dollar amount (a JSON number, at most two decimals) → integer cents within the bounds."""
        bounds = f"between {_usd_text(least_cents)} and {_usd_text(most_cents)}"
        if least_cents == 1:
            bounds = f"more than $0 and at most {_usd_text(most_cents)}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"expected an amount in US dollars {bounds}, found {_kind(value)}", path)
        try:
            cents = Decimal(str(value)) * 100
        except InvalidOperation:
            raise self.fail(f"expected an amount in US dollars {bounds}, found {_kind(value)}", path) from None
        if not cents.is_finite() or cents != cents.to_integral_value():
            raise self.fail(f"expected whole cents (at most two decimals), found {_kind(value)}", path)
        if not least_cents <= cents <= most_cents:
            raise self.fail(f"expected an amount in US dollars {bounds}, found {_kind(value)}", path)
        return int(cents)


def _instant(value: Any) -> tuple[datetime, bool] | None:
    """A catalog date → (instant, is_plain_date), or None if the sandbox cannot read it.

    ISO-8601 dates (``2030-12-31``) and date-times (offset optional, UTC if none), epoch seconds
    (numbers or digit strings; above 1e11 they are milliseconds [assumed, as the app reads them]).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        # Eight digits are an ISO basic date (20350301), not epoch seconds of 1970 [assumed]; other
        # ASCII digit strings are epoch seconds or milliseconds ("²" and 5,000 digits are no number).
        if re.fullmatch(r"[0-9]{1,20}", text) and len(text) != 8:
            value = int(text)
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > _EPOCH_MILLIS_ABOVE else value
        try:
            moment = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return (moment, False) if MIN_TIME <= moment < MAX_TIME else None
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        pass
    else:
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return (moment, True) if MIN_TIME <= moment < MAX_TIME else None
    try:
        return parse_instant(value), False
    except ClockError:
        return None


def _start_instant(value: Any) -> datetime | None:
    """Live from here: a plain date from its midnight UTC [assumed], a date-time or epoch from that instant."""
    read = _instant(value)
    return read[0] if read else None


def _end_instant(value: Any) -> datetime | None:
    """Finished from here: a plain date runs through that whole UTC day [assumed: "On the end day …
    Finished" read as "after the end day"]; a date-time or an epoch number ends at that instant."""
    read = _instant(value)
    if read is None:
        return None
    moment, plain_date = read
    return moment + timedelta(days=1) if plain_date else moment


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _usd_text(cents: int) -> str:
    return f"${cents // 100:,}" if cents % 100 == 0 else f"${cents // 100:,}.{cents % 100:02d}"


def _looks_like_locale(value: str) -> bool:
    return re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", value) is not None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {json.dumps(value, ensure_ascii=False)[:60]}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
