"""Everything the sandbox remembers between requests, in one object.

Thread safety: a SandboxState is touched only from the server's event loop (every
handler runs there, and nothing in it awaits while holding half-updated state), so it
needs no locks. Other threads talk to it over HTTP (the /__sandbox/ endpoints).
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from moments_desktop.api_schema import BODY_FIELDS
from moments_desktop.sandbox.catalog import App, Campaign, Catalog, RewardGroup
from moments_desktop.sandbox.clock import SandboxClock, iso
from moments_desktop.sandbox.faults import Fault, parse_fault

RATE_WINDOW_SECONDS = 1.0  # sliding window for the 5 calls/second limit [doc]
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
# The ledger keeps the newest entries only, and of each request only what a tester needs to see:
# a client sending junk must not grow the process (10 x 10 MB bodies once made /__sandbox/ledger
# answer 104 MB).
LEDGER_LIMIT = 10_000
# GetRewards with a key the catalog does not know are kept apart, in a ring of their own: anyone who
# can reach the port can send them without limit (the rate limit counts per known key), and they must
# never push the claims made with a real key out of the ledger [assumed limit].
UNKNOWN_KEY_LEDGER_LIMIT = 1_000
LEDGER_TEXT_CHARS = 200  # per body field, and for the excerpt of a body that is not a JSON object
ELLIPSIS = "…"  # marks a cut string


@dataclass(frozen=True)
class IssuedReward:
    code: str
    campaign_id: str
    reward_group_id: str
    reward_id: str
    locale: str
    test_mode: bool
    issued_at: str


class SandboxState:
    def __init__(
        self,
        catalog: Catalog,
        clock: Callable[[], float] = time.monotonic,
        sandbox_clock: SandboxClock | None = None,
    ):
        self.catalog = catalog
        self._clock = clock  # monotonic, for the rate limit only
        # The dated clock (campaign dates, months, the ledger): real time unless a tester moves it.
        self.clock = sandbox_clock if sandbox_clock is not None else SandboxClock()
        # Test-mode codes are derived from the campaign and group, so they are the same on
        # every call and survive resets [doc: "every call returns the same reward URL"].
        self.test_codes: dict[str, IssuedReward] = {}
        for campaign in catalog.campaigns:
            if campaign.test_mode:
                for group in campaign.reward_groups:
                    code = fixed_test_mode_code(campaign.id, group.id)
                    self.test_codes[code] = IssuedReward(
                        code, campaign.id, group.id, group.reward_id, group.locale, True, ""
                    )
        self.clear_ledger()
        self._restart()

    def now(self) -> datetime:
        """The sandbox's time (aware UTC): what every dated answer and the ledger use."""
        return self.clock.now()

    def now_iso(self) -> str:
        return iso(self.clock.now())

    def reset(self, *, ledger: bool = True) -> None:
        """Back to the catalog's start and real time; the ledger (the record of what was claimed) only
        with ``ledger``, and with it the live codes its reward URLs lead to (a kept ledger keeps working
        links)."""
        self.clock.real()
        if ledger:
            self.clear_ledger()
        self._restart()

    def _restart(self) -> None:
        """Inventory, counters, rate windows and faults as the catalog starts them (not the clock: a
        SandboxState built with a clock already set keeps it)."""
        self.remaining: dict[tuple[str, str], int] = {
            (c.id, g.id): g.inventory for c in self.catalog.campaigns for g in c.reward_groups
        }
        # Rewards handed out per (campaign, group, "YYYY-MM") and spend in cents per (campaign, "YYYY-MM"):
        # a new month of the sandbox clock simply has no counter yet, so nothing needs a timer.
        self.claimed: dict[tuple[str, str, str], int] = {}
        self.spent: dict[tuple[str, str], int] = {}
        self.rate_windows: dict[str, deque[float]] = {}
        # Calls counted against each key's quota: (api key, "2026-12-01" or "2026-12") -> calls.
        self.quota_used: dict[tuple[str, str], int] = {}
        self.faults: list[Fault] = []
        self._fault_seq = 0

    # --- rate limiting ---------------------------------------------------------------

    def throttle(self, api_key: str) -> int | None:
        """Count a call for ``api_key``; return Retry-After seconds if it is over the limit.

        Sliding window of accepted calls; a throttled call is not counted [assumed: like
        API Gateway's token bucket, a rejected request uses no capacity].
        """
        now = self._clock()
        window = self.rate_windows.setdefault(api_key, deque())
        while window and window[0] <= now - RATE_WINDOW_SECONDS:
            window.popleft()
        if len(window) >= self.catalog.rate_limit_per_second:
            wait = window[0] + RATE_WINDOW_SECONDS - now
            return max(1, math.ceil(wait))
        window.append(now)
        return None

    # --- quota (API Gateway usage plans) ---------------------------------------------

    def use_quota(self, api_key: str, app: App) -> int | None:
        """Count a call against ``api_key``'s quota; if a period's quota is used up, count nothing and
        return the seconds until the latest exhausted period ends (UTC day / month of ``now()``).

        [assumed] Only calls the quota lets through count: a call refused for the quota, a throttled
        call (checked first) and a refused key (403, no usage plan to charge) use none of it; a call
        with a bad body (400) does, since the gateway passed it on. Periods are UTC [assumed]."""
        quota = self.catalog.quota_for(app)
        if quota is None:
            return None
        now = self.now()
        day_end = datetime(now.year, now.month, now.day, tzinfo=now.tzinfo) + timedelta(days=1)
        month_end = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=now.tzinfo)
        periods = [
            ((api_key, now.strftime("%Y-%m-%d")), quota.per_day, day_end),
            ((api_key, now.strftime("%Y-%m")), quota.per_month, month_end),
        ]
        exhausted = [end for key, limit, end in periods if limit is not None and self.quota_used.get(key, 0) >= limit]
        if exhausted:
            return max(1, math.ceil((max(exhausted) - now).total_seconds()))
        for key, limit, _ in periods:
            if limit is not None:
                self.quota_used[key] = self.quota_used.get(key, 0) + 1
        return None

    # --- inventory ---------------------------------------------------------------------

    def remaining_for(self, campaign_id: str, group_id: str) -> int:
        return self.remaining[(campaign_id, group_id)]

    def consume(self, campaign_id: str, group_id: str) -> int:
        key = (campaign_id, group_id)
        if self.remaining[key] <= 0:
            raise RuntimeError("consume() called with no inventory left")
        self.remaining[key] -= 1
        return self.remaining[key]

    def month(self) -> str:
        """The sandbox clock's calendar month, ``"2027-03"`` (UTC [assumed])."""
        return self.now().strftime("%Y-%m")

    def claimed_this_month(self, campaign_id: str, group_id: str) -> int:
        return self.claimed.get((campaign_id, group_id, self.month()), 0)

    def allowance_left(self, campaign_id: str, group: RewardGroup) -> int | None:
        """Rewards the group may still hand out this month; None when it has no monthly allowance."""
        if group.monthly_allowance is None:
            return None
        return max(0, group.monthly_allowance - self.claimed_this_month(campaign_id, group.id))

    def available(self, campaign_id: str, group: RewardGroup) -> int:
        """remainingRewardCount: the inventory left, and no more than this month's allowance left [partner]."""
        left = self.remaining_for(campaign_id, group.id)
        allowance = self.allowance_left(campaign_id, group)
        return left if allowance is None else min(left, allowance)

    def claim(self, campaign: Campaign, group: RewardGroup) -> int:
        """Consume one reward (inventory, this month's allowance, and the campaign's cost per action);
        returns the new remainingRewardCount."""
        self.consume(campaign.id, group.id)
        month = self.month()
        key = (campaign.id, group.id, month)
        self.claimed[key] = self.claimed.get(key, 0) + 1
        if campaign.budget is not None:
            spend_key = (campaign.id, month)
            self.spent[spend_key] = self.spent.get(spend_key, 0) + campaign.budget.cost_per_action_cents
        return self.available(campaign.id, group)

    # --- budget (integer cents) ------------------------------------------------------------

    def campaign_spent_cents(self, campaign_id: str) -> int:
        return self.spent.get((campaign_id, self.month()), 0)

    def account_spent_cents(self) -> int:
        month = self.month()
        return sum(cents for (_, spent_month), cents in self.spent.items() if spent_month == month)

    def over_budget(self, campaign: Campaign) -> bool:
        """Whether one more Live claim would take the campaign's or the account's spend this month over
        its cap [doc, config-billing]. A campaign without a budget costs nothing here [assumed]."""
        if campaign.budget is None:
            return False
        cost = campaign.budget.cost_per_action_cents
        if self.campaign_spent_cents(campaign.id) + cost > campaign.budget.monthly_cents:
            return True
        return self.account_spent_cents() + cost > self.catalog.account_monthly_budget_cents

    def issue_live_code(self, campaign_id: str, group_id: str, reward_id: str, locale: str) -> IssuedReward:
        while True:
            raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
            code = f"LIVE-{raw[:4]}-{raw[4:8]}-{raw[8:]}"
            if code not in self.issued:
                break
        issued = IssuedReward(code, campaign_id, group_id, reward_id, locale, False, self.now_iso())
        self.issued[code] = issued
        return issued

    def lookup_code(self, code: str) -> IssuedReward | None:
        return self.issued.get(code) or self.test_codes.get(code)

    # --- faults ------------------------------------------------------------------------

    def add_fault(self, data: Any) -> Fault:
        fault = parse_fault(data, f"f{self._fault_seq + 1}")
        self._fault_seq += 1
        self.faults.append(fault)
        return fault

    def faults_need_body(self, endpoint: str) -> bool:
        """Whether a fault for ``endpoint`` has a ``match``: the body must be read to choose."""
        if not self.faults:
            return False
        return any(f.endpoint == endpoint and f.match is not None for f in self.faults)

    def claim_fault(self, endpoint: str, body: Any = None) -> Fault | None:
        """The fault that applies to this request (``body``: its parsed body, for faults with a
        ``match``), counted as used."""
        if not self.faults:
            return None
        for fault in self.faults:
            if fault.endpoint == endpoint and not fault.exhausted and fault.matches(body):
                fault.applied += 1
                if fault.exhausted:
                    self.faults.remove(fault)
                return fault
        return None

    def remove_fault(self, fault_id: str) -> bool:
        before = len(self.faults)
        self.faults = [f for f in self.faults if f.id != fault_id]
        return len(self.faults) != before

    def clear_faults(self) -> int:
        count = len(self.faults)
        self.faults = []
        return count

    # --- ledger ------------------------------------------------------------------------

    def clear_ledger(self) -> None:
        """An empty ledger, and no live codes: the URLs it listed lead nowhere any more."""
        self.ledger: deque[dict[str, Any]] = deque(maxlen=LEDGER_LIMIT)
        self.unknown_key_ledger: deque[dict[str, Any]] = deque(maxlen=UNKNOWN_KEY_LEDGER_LIMIT)
        self._ledger_seq = 0
        self.issued: dict[str, IssuedReward] = {}

    @property
    def ledger_dropped(self) -> int:
        """How many of the oldest entries were dropped to keep the ledger within its limits."""
        return self._ledger_seq - len(self.ledger) - len(self.unknown_key_ledger)

    def ledger_page(self) -> dict[str, Any]:
        """Every kept entry in ``seq`` order: those of known keys and those of unknown ones together."""
        entries = sorted((*self.ledger, *self.unknown_key_ledger), key=lambda entry: entry["seq"])
        return {
            "entries": entries,
            "dropped": self.ledger_dropped,
            "limit": LEDGER_LIMIT,
            "unknown_key_limit": UNKNOWN_KEY_LEDGER_LIMIT,
        }

    def record(self, request_body: Any, app_id: str | None) -> dict[str, Any]:
        """Start a ledger entry for a GetReward request; the handler fills in the outcome.

        ``request_body`` is the parsed JSON body or the raw bytes; the entry keeps it bounded
        (see ``ledger_request``). Past LEDGER_LIMIT the oldest entry goes; ``seq`` keeps counting.
        An unknown key (``app_id`` None) goes to a smaller ring of its own, so a flood of them never
        displaces a claim made with a real key.
        """
        self._ledger_seq += 1
        entry: dict[str, Any] = {
            "seq": self._ledger_seq,
            "time": self.now_iso(),
            "request": ledger_request(request_body),
            "app_id": app_id,
            "status": None,
            "reward_url": None,
            "consumed": False,
            "fault": None,
        }
        (self.ledger if app_id is not None else self.unknown_key_ledger).append(entry)
        return entry


def ledger_request(body: Any) -> Any:
    """What the ledger keeps of a request body: of a JSON object the five Moments fields present
    (strings cut to LEDGER_TEXT_CHARS, other values summarised); of anything else a short excerpt."""
    if isinstance(body, dict):
        return {name: _bounded_value(body[name]) for name in BODY_FIELDS if name in body}
    if isinstance(body, (bytes, bytearray)):
        # Decode only what can be shown (a UTF-8 character is at most 4 bytes).
        shown = bytes(body[: LEDGER_TEXT_CHARS * 4]).decode("utf-8", errors="replace")
        excerpt = _cut(shown)
        if len(body) > LEDGER_TEXT_CHARS * 4 and not excerpt.endswith(ELLIPSIS):
            excerpt += ELLIPSIS
        return excerpt
    if isinstance(body, str):
        return _cut(body)
    return _bounded_value(body)


def _cut(text: str) -> str:
    if len(text) <= LEDGER_TEXT_CHARS:
        return text
    return text[:LEDGER_TEXT_CHARS] + ELLIPSIS


def _bounded_value(value: Any) -> Any:
    if isinstance(value, str):
        return _cut(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        text = repr(value)
        return value if len(text) <= 40 else f"<number of {len(text)} characters>"
    if isinstance(value, list):
        return f"<array of {len(value)} items>"
    if isinstance(value, dict):
        return f"<object of {len(value)} members>"
    return f"<{type(value).__name__}>"


@functools.lru_cache(maxsize=1024)  # a pure function of catalog ids, asked on every test-mode GetReward
def fixed_test_mode_code(campaign_id: str, group_id: str) -> str:
    digest = hashlib.sha256(f"{campaign_id}\0{group_id}".encode()).hexdigest().upper()
    return f"TEST-{digest[:4]}-{digest[4:8]}-{digest[8:12]}"
