"""The sandbox: a Starlette app that behaves like the withdrawn Amazon Moments API.

Behaviour and its sources (see /work/shared/moments-api.md):
- POST /GetRewardInfo and POST /GetReward, paths case-sensitive [doc].
- Request: ``x-api-key`` header [doc], JSON body of five strings [code, partner].
- Served at ``/`` and under the stage prefix ``/prod/`` (the production base URL ends in /prod
  [partner, code]), so a production-shaped URL with only the host changed works.
- Missing/unknown key: 403 {"message":"Forbidden"}; unknown path or wrong method (under the stage
  prefix too, trailing slash included): 403 {"message":"Missing Authentication Token"} -- API
  Gateway's default gateway responses [AWS docs, "Gateway response types"].
- Body not a JSON object of the five strings: 400 {"message":"Invalid request body"} [assumed].
- More than 5 calls/second per key, both endpoints together: 429 {"message":"Too Many Requests"}
  [doc for the limit; body from API Gateway's defaults]; a key's quota (catalog ``quota``: calls per
  UTC day / month) used up: 429 {"message":"Limit Exceeded"} [AWS docs]. Both with a Retry-After
  header [assumed: not in API Gateway's defaults], unless the catalog sets ``retry_after_header``
  false.
- Reward that does not exist for this key's app: HTTP 200 ``[]`` [partner; status assumed].
- Approved = test mode: nothing consumed, the same URL every time. Live: one consumed per
  GetReward, a unique URL each time [doc]. Other states and zero inventory: HTTP 200 with an
  explanatory rewardNotificationText and no URL [assumed].
- Dates, monthly allowances and budgets read the sandbox clock (GET/POST /__sandbox/clock): the
  state a request meets is the campaign's effective state at that time (CATALOG.md, "Dates ...").

Sandbox-only extras: GET /images/<file>, GET /redeem/<code>, and the admin API under
/__sandbox/ (catalog, reset, ledger, faults, openapi.json). The admin API answers only a loopback
(or the bound address's) Host, refuses a foreign Origin and wants JSON writes (AdminGuard): a web
page in the user's browser must not drive it. The catalog's API keys need the admin token.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import secrets
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from moments_desktop import api_schema as api
from moments_desktop.api_schema import (
    API_KEY_HEADER,
    BODY_FIELDS,
    DEVICE_TYPES,
    JSON_MEDIA_TYPE,
    REWARD_LOCALE,
    REWARD_TITLE,
    SANDBOX_ADMIN_TOKEN_HEADER,
    STAGE_PREFIX,
    Endpoint,
)
from moments_desktop.sandbox import faults as F
from moments_desktop.sandbox.catalog import (
    CAMPAIGN_STATES,
    SERVING_STATES,
    STATE_APPROVED,
    STATE_LIVE,
    Campaign,
    Catalog,
    load_default_catalog,
)
from moments_desktop.sandbox.clock import ClockError, apply_request, iso
from moments_desktop.sandbox.faults import Fault, FaultError
from moments_desktop.sandbox.messages import (
    BUDGET_EXHAUSTED,
    MONTH_EXHAUSTED,
    OUT_OF_STOCK,
    page_texts,
    state_message,
)
from moments_desktop.sandbox.openapi import build_openapi
from moments_desktop.sandbox.pages import not_found_page, redeem_page
from moments_desktop.sandbox.state import SandboxState, fixed_test_mode_code


FORBIDDEN = {"message": "Forbidden"}
# [AWS docs, gateway response types] API Gateway answers an unknown resource or method with this 403.
MISSING_TOKEN = {"message": "Missing Authentication Token"}
INVALID_BODY = {"message": "Invalid request body"}  # [assumed]
TOO_MANY = {"message": "Too Many Requests"}  # [AWS docs] API Gateway's THROTTLED body (429)
LIMIT_EXCEEDED = {"message": "Limit Exceeded"}  # [AWS docs] API Gateway's QUOTA_EXCEEDED body (429)
# Every route is served at / and under STAGE_PREFIX (/prod, where the production base URL ends).
ADMIN_PREFIX = "/__sandbox"


# One encoder for every answer: json.dumps with any option builds a new JSONEncoder per call.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json_bytes(payload: Any) -> bytes:
    return _encode_json(payload).encode("utf-8")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_json_bytes(payload), status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)


def _json_bytes_response(body: bytes, status: int, headers: dict[str, str] | None) -> Response:
    return Response(body, status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)


def base_url(scope: dict) -> str:
    """``str(Request(scope).base_url)``, which builds a scope copy and two URL objects per request: here
    Starlette computes it once per distinct scheme, Host header, server address and root path."""
    host = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
            break
    server = scope.get("server")
    return _base_url_of(scope.get("scheme", "http"), host, tuple(server) if server is not None else None,
                        scope.get("root_path", ""), scope.get("app_root_path"))


# Bounded: the Host header is the client's to choose.
@functools.lru_cache(maxsize=64)
def _base_url_of(scheme: str, host: bytes | None, server: tuple | None, root_path: str,
                 app_root_path: str | None) -> str:
    scope: dict[str, Any] = {"type": "http", "scheme": scheme, "server": server, "root_path": root_path,
                             "path": "/", "query_string": b"", "headers": [] if host is None else [(b"host", host)]}
    if app_root_path is not None:
        scope["app_root_path"] = app_root_path
    return str(Request(scope).base_url)


def _header(scope: dict, name: bytes) -> str | None:
    """``Request(scope).headers.get(name)`` for a lower-case ``name``: the first value, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


_API_KEY_HEADER = API_KEY_HEADER.lower().encode("latin-1")


@dataclass
class Result:
    """What the Moments handler decided, before any fault distorts the delivery."""

    status: int
    payload: Any
    headers: dict[str, str] | None = None
    reward_url: str | None = None
    consumed: bool = False


class _Sandbox:
    def __init__(self, state: SandboxState, admin_token: str | None = None):
        self.state = state
        self.catalog = state.catalog
        self.admin_token = admin_token  # shows the API keys in the admin catalog; None: never shown
        self._images: dict[str, bytes] = {}
        # Set by SandboxServer when it stops: deliberately slow responses give up at once.
        self.stopping = asyncio.Event()

    # --- the Moments API ------------------------------------------------------------------

    async def get_reward_info(self, request: Request) -> Any:
        return await self._moments(request, Endpoint.GET_REWARD_INFO)

    async def get_reward(self, request: Request) -> Any:
        return await self._moments(request, Endpoint.GET_REWARD)

    async def _moments(self, request: Request, endpoint: Endpoint) -> Any:
        state = self.state
        raw: bytes | None = None
        data: Any = None
        if state.faults_need_body(endpoint):
            # A fault with a `match` applies to some bodies only: read it to choose.
            raw = await _read_body(request)
            data = _parse_json(raw)
            fault = state.claim_fault(endpoint, _five_strings(data))
        else:
            fault = state.claim_fault(endpoint)
        if fault is not None and fault.kind == F.DROP_BEFORE_READ:
            # Closed before the body is read: nothing processed, nothing consumed, no ledger entry.
            return F.DropConnection()

        if raw is None:
            raw = await _read_body(request)
            data = _parse_json(raw)
        scope = request.scope
        api_key = _header(scope, _API_KEY_HEADER)
        app = self.catalog.app_for_key(api_key)
        body = _five_strings(data)
        entry = None
        if endpoint is Endpoint.GET_REWARD:
            # The ledger takes a JSON object as it is (state.ledger_request bounds it), anything else as bytes.
            entry = state.record(data if isinstance(data, dict) else raw, app.id if app else None)

        if fault is not None and fault.kind == F.STATUS and not fault.params.get("consume"):
            # A gateway-level error: the backend never saw the request.
            result = Result(fault.params["status"], fault.params.get("body", {"message": _phrase(fault)}))
        elif app is None:
            result = Result(403, FORBIDDEN)
        elif (retry_after := state.throttle(api_key or "")) is not None:
            result = Result(429, TOO_MANY, headers=self._retry_after(retry_after))
        # [assumed] the rate limit is checked before the quota, so a throttled call uses none of it.
        elif (quota_wait := state.use_quota(api_key or "", app)) is not None:
            result = Result(429, LIMIT_EXCEEDED, headers=self._retry_after(quota_wait))
        elif body is None:
            result = Result(400, INVALID_BODY)
        else:
            result = self._evaluate(app.id, body, endpoint, base_url(scope))

        response = self._deliver(result, fault, api_key)
        if entry is not None:
            entry["reward_url"] = result.reward_url
            entry["consumed"] = result.consumed
            entry["fault"] = fault.kind if fault else None
            entry["status"] = _status_sent(result, fault)
        return response

    def _retry_after(self, seconds: int) -> dict[str, str] | None:
        # [assumed] API Gateway's default 429s carry no Retry-After; the catalog can leave it out.
        return {"Retry-After": str(seconds)} if self.catalog.retry_after_header else None

    def _evaluate(self, app_id: str, body: dict[str, str], endpoint: Endpoint, base_url: str) -> Result:
        catalog = self.catalog
        # "If the reward doesn't exist, the request returns an empty list" [partner]; HTTP 200 [assumed].
        nothing = Result(200, [])
        if body["appId"] != app_id:
            return nothing
        campaign = catalog.campaign(body["campaignId"])
        if campaign is None or campaign.app_id != app_id:
            return nothing
        if body["momentId"] not in campaign.moments:
            return nothing
        group = campaign.group(body["rewardGroupId"])
        if group is None:
            return nothing
        device = body["deviceType"]
        if device not in DEVICE_TYPES or (
            campaign.device_types is not None and device not in campaign.device_types
        ):
            return nothing  # [assumed] an unsupported device gets no reward, like an unknown one

        state = self.state
        # The effective state: the configured one moved on by the campaign's dates at the sandbox
        # clock's time, computed per request (no timers) [doc, create-campaign].
        effective = campaign.state_at(state.now())
        common: dict[str, Any] = {}
        if campaign.end_date is not None:
            common[api.CAMPAIGN_END_DATE] = campaign.end_date
        if effective not in SERVING_STATES:
            # [assumed] undocumented: explain in the customer's language, no URL.
            return Result(
                200, {api.REWARD_NOTIFICATION_TEXT: state_message(effective, group.locale), **common}
            )
        test_mode = effective == STATE_APPROVED
        remaining = state.available(campaign.id, group)
        if remaining <= 0:
            # [assumed] out of stock, or this month's allowance used up [partner: "in the current
            # month"]: explain, report the count, no URL.
            reason = MONTH_EXHAUSTED if state.remaining_for(campaign.id, group.id) > 0 else OUT_OF_STOCK
            return Result(
                200,
                {
                    api.REWARD_NOTIFICATION_TEXT: state_message(reason, group.locale),
                    api.REMAINING_REWARD_COUNT: 0,
                    **common,
                },
            )
        if not test_mode and state.over_budget(campaign):
            # [assumed] One more claim would go over the campaign's or the account's monthly cap
            # [doc, config-billing]: nothing consumed, no URL, and getRewardInfo says the same, so it
            # never announces a reward getReward would refuse; the count is 0 "in the current month".
            # Test mode costs nothing [doc], so a budget never stops it.
            return Result(
                200,
                {
                    api.REWARD_NOTIFICATION_TEXT: state_message(BUDGET_EXHAUSTED, group.locale),
                    api.REMAINING_REWARD_COUNT: 0,
                    **common,
                },
            )

        reward = catalog.reward(group.reward_id)
        assert reward is not None  # the catalog loader checked the reference
        locale_used, text = reward.text_for(group.locale)
        # x-sandbox-extension: no public source shows these fields; the app never depends on them,
        # and the catalog's "sandbox_extensions": false leaves them out.
        extras = {REWARD_TITLE: text.title or reward.title, REWARD_LOCALE: locale_used}
        if not catalog.sandbox_extensions:
            extras = {}
        image_url = f"{base_url}images/{reward.image}"
        if endpoint is Endpoint.GET_REWARD_INFO:
            payload = {
                api.REWARD_NOTIFICATION_TEXT: text.announcement,
                api.REWARD_IMAGE_URL: image_url,
                api.REMAINING_REWARD_COUNT: remaining,
                **common,
                **extras,
            }
            return Result(200, payload)

        if test_mode:
            code = fixed_test_mode_code(campaign.id, group.id)
            consumed = False
        else:
            remaining = state.claim(campaign, group)
            code = state.issue_live_code(campaign.id, group.id, reward.id, group.locale).code
            consumed = True
        url = f"{base_url}redeem/{code}"
        payload = {
            api.REWARD_NOTIFICATION_TEXT: text.redemption,
            api.REWARD_NOTIFICATION_URL: url,
            api.REWARD_IMAGE_URL: image_url,
            api.REMAINING_REWARD_COUNT: remaining,
            **common,
            **extras,
        }
        return Result(200, payload, reward_url=url, consumed=consumed)

    def _deliver(self, result: Result, fault: Fault | None, api_key: str | None = None) -> Any:
        if fault is None:
            return json_response(result.payload, result.status, result.headers)
        kind = fault.kind
        body = _json_bytes(result.payload)
        params = fault.params
        if kind == F.STATUS:
            # Without consume the backend never saw the request; with it, it did its work and
            # then the gateway failed. Either way the client gets the fault's answer.
            return status_response(fault, api_key)
        if kind == F.LATENCY:
            return Delayed(
                params["seconds"], _json_bytes_response(body, result.status, result.headers), self.stopping
            )
        if kind == F.MALFORMED:
            return Response(F.malformed_json(body), status_code=200, media_type=JSON_MEDIA_TYPE)
        if kind == F.TRUNCATED:
            return F.TruncatedResponse(result.status, JSON_MEDIA_TYPE, body, result.headers)
        if kind == F.DROP_AFTER_READ:
            return F.DropConnection()
        if kind == F.SLOW_DRIP:
            return F.SlowDripResponse(
                result.status,
                JSON_MEDIA_TYPE,
                body,
                params["seconds"],
                params["chunk_bytes"],
                result.headers,
                self.stopping,
            )
        if kind == F.OVERSIZED:
            return F.oversized_json(result.payload, params["bytes"], result.status, params.get("framing", "length"))
        raise AssertionError(f"unhandled fault kind {kind}")  # pragma: no cover

    # --- images and the redemption page ---------------------------------------------------

    async def image(self, request: Request) -> Any:
        fault = self.state.claim_fault(F.ENDPOINT_IMAGES)
        kind = fault.kind if fault else None
        if kind in (F.DROP_BEFORE_READ, F.DROP_AFTER_READ):
            return F.DropConnection()
        reward = self.catalog.reward_by_image(request.path_params["file"])
        if reward is None:
            return json_response({"message": "Not Found"}, 404)
        data = self._image_bytes(reward.image, reward.image_path)
        ctype = reward.content_type
        headers = {"Cache-Control": "no-store"}
        if kind is None:
            return Response(data, media_type=ctype, headers=headers)
        params = fault.params
        if kind == F.LATENCY:
            return Delayed(
                params["seconds"], Response(data, media_type=ctype, headers=headers), self.stopping
            )
        if kind == F.STATUS:
            return status_response(fault)
        if kind == F.MALFORMED:
            return Response(F.corrupt_image(data), media_type=ctype, headers=headers)
        if kind == F.TRUNCATED:
            return F.TruncatedResponse(200, ctype, data)
        if kind == F.SLOW_DRIP:
            return F.SlowDripResponse(
                200, ctype, data, params["seconds"], params["chunk_bytes"], stopping=self.stopping
            )
        if kind == F.OVERSIZED:
            return F.oversized_image(data, ctype, params["bytes"], params.get("framing", "length"))
        if kind == F.WRONG_TYPE:
            return HTMLResponse(F.WRONG_TYPE_BODY)
        raise AssertionError(f"unhandled fault kind {kind}")  # pragma: no cover

    def _image_bytes(self, name: str, path: Any) -> bytes:
        if name not in self._images:
            self._images[name] = path.read_bytes()
        return self._images[name]

    async def redeem(self, request: Request) -> Response:
        code = request.path_params["code"]
        issued = self.state.lookup_code(code)
        reward = self.catalog.reward(issued.reward_id) if issued else None
        if issued is None or reward is None:
            return HTMLResponse(not_found_page(code), status_code=404)
        locale_used, text = reward.text_for(issued.locale)
        _, texts = page_texts(issued.locale)
        return HTMLResponse(
            redeem_page(
                lang=locale_used,
                texts=texts,
                reward_title=text.title or reward.title,
                message=text.redemption,
                image_url=f"/images/{reward.image}",
                code=code,
                test_mode=issued.test_mode,
            )
        )

    # --- admin ----------------------------------------------------------------------------------

    async def admin_catalog(self, request: Request) -> Response:
        return json_response(self.catalog_json(str(request.base_url), with_keys=self._has_admin_token(request)))

    def _has_admin_token(self, request: Request) -> bool:
        presented = request.headers.get(SANDBOX_ADMIN_TOKEN_HEADER)
        if self.admin_token is None or presented is None:
            return False
        return secrets.compare_digest(presented.encode(), self.admin_token.encode())

    def catalog_json(self, base_url: str, *, with_keys: bool = False) -> dict[str, Any]:
        """The catalog as the admin API shows it; the API keys only ``with_keys`` (the admin token):
        a page that reached the port by DNS rebinding must not read them."""
        catalog = self.catalog
        demo = catalog.demo()
        now = self.state.now()
        return {
            "schema_version": 1,
            "source": catalog.source,
            "rate_limit_per_second": catalog.rate_limit_per_second,
            "quota": catalog.quota.to_json() if catalog.quota is not None else None,
            "retry_after_header": catalog.retry_after_header,
            "sandbox_extensions": catalog.sandbox_extensions,
            "api_keys_shown": with_keys,
            "device_types": list(DEVICE_TYPES),
            "campaign_states": list(CAMPAIGN_STATES),
            "clock": self.state.clock.to_json(),
            "billing": {
                "month": self.state.month(),
                "account_spent_usd": _usd(self.state.account_spent_cents()),
                "account_cap_usd": _usd(catalog.account_monthly_budget_cents),
            },
            "demo": {
                "app_id": demo.app_id,
                **({"api_key": demo.api_key} if with_keys else {}),
                "moment_id": demo.moment_id,
                "campaign_id": demo.campaign_id,
                "reward_group_id": demo.reward_group_id,
                "device_type": demo.device_type,
            },
            "apps": [
                {
                    "id": a.id,
                    "name": a.name,
                    **({"api_keys": list(a.api_keys)} if with_keys else {}),
                    **({"quota": a.quota.to_json()} if a.quota is not None else {}),
                    "moments": [{"id": m.id, "name": m.name} for m in a.moments],
                }
                for a in catalog.apps
            ],
            "campaigns": [
                {
                    "id": c.id,
                    "app_id": c.app_id,
                    "name": c.name,
                    "state": c.state_at(now),
                    "configured_state": c.state,
                    "test_mode": c.state_at(now) == STATE_APPROVED,
                    "start_date": c.start_date,
                    "end_date": c.end_date,
                    **self._dates_json(c, now),
                    "moments": list(c.moments),
                    "device_types": list(c.device_types)
                    if c.device_types is not None
                    else list(DEVICE_TYPES),
                    "reward_groups": [
                        {
                            "id": g.id,
                            "locale": g.locale,
                            "reward_id": g.reward_id,
                            "inventory": g.inventory,
                            "remaining": self.state.remaining_for(c.id, g.id),
                            "monthly_allowance": g.monthly_allowance,
                            "claimed_this_month": self.state.claimed_this_month(c.id, g.id),
                            # What getRewardInfo's remainingRewardCount says now: 0 once the budget
                            # cannot pay one more Live claim (the answer then is the budget text).
                            "available_this_month": 0
                            if c.state_at(now) == STATE_LIVE and self.state.over_budget(c)
                            else self.state.available(c.id, g),
                        }
                        for g in c.reward_groups
                    ],
                }
                for c in catalog.campaigns
            ],
            "rewards": [
                {
                    "id": r.id,
                    "title": r.title,
                    "image": r.image,
                    "image_url": f"{base_url}images/{r.image}",
                    "content_type": r.content_type,
                    "locales": sorted(r.messages),
                }
                for r in catalog.rewards
            ],
        }

    def _dates_json(self, campaign: Campaign, now: Any) -> dict[str, Any]:
        """When the dates take effect (null: no date, or an end date the sandbox cannot read), the next
        transition they schedule, and the campaign's budget with this month's spend."""
        transition = campaign.next_transition(now)
        budget = campaign.budget
        return {
            "live_from": iso(campaign.starts_at) if campaign.starts_at else None,
            "finished_from": iso(campaign.ends_at) if campaign.ends_at else None,
            "next_transition": {"state": transition.state, "at": iso(transition.at)} if transition else None,
            "budget": {
                "monthly_usd": _usd(budget.monthly_cents),
                "cost_per_action_usd": _usd(budget.cost_per_action_cents),
                "spent_this_month_usd": _usd(self.state.campaign_spent_cents(campaign.id)),
            }
            if budget
            else None,
        }

    async def admin_clock(self, request: Request) -> Response:
        """GET: the sandbox clock. POST: set, advance or return it to real time (see clock.apply_request)."""
        if request.method == "POST":
            try:
                apply_request(self.state.clock, _parse_json(await request.body()))
            except ClockError as exc:
                return json_response({"message": str(exc)}, 400)
        return json_response({**self.state.clock.to_json(), "month": self.state.month()})

    async def admin_reset(self, request: Request) -> Response:
        # The ledger is what the README tells users to consult: a reset keeps it unless asked.
        raw = await request.body()
        data = _parse_json(raw) if raw.strip() else {}
        # Strict: a typo such as {"legder": true} must not answer 200 and quietly keep the ledger.
        if not isinstance(data, dict) or set(data) - {"ledger"} or not isinstance(data.get("ledger", False), bool):
            return json_response({"message": 'Expected an empty body or {"ledger": true|false}'}, 400)
        clear_ledger = data.get("ledger", False)
        self.state.reset(ledger=clear_ledger)
        return json_response({"reset": True, "ledger_cleared": clear_ledger})

    async def admin_ledger(self, request: Request) -> Response:
        return json_response(self.state.ledger_page())

    async def admin_faults(self, request: Request) -> Response:
        if request.method == "GET":
            return json_response([f.to_json() for f in self.state.faults])
        if request.method == "DELETE":
            return json_response({"cleared": self.state.clear_faults()})
        data = _parse_json(await request.body())
        try:
            fault = self.state.add_fault(data)
        except FaultError as exc:
            return json_response({"message": str(exc)}, 400)
        return json_response(fault.to_json(), 201)

    async def admin_fault(self, request: Request) -> Response:
        if self.state.remove_fault(request.path_params["fault_id"]):
            return json_response({"removed": request.path_params["fault_id"]})
        return json_response({"message": "No such fault"}, 404)

    async def admin_openapi(self, request: Request) -> Response:
        return json_response(build_openapi(str(request.base_url)))


class Delayed:
    """Send ``inner`` after ``seconds``. For GetReward the reward is already consumed: "paid but slow"."""

    def __init__(self, seconds: float, inner: Response, stopping: asyncio.Event):
        self.seconds = seconds
        self.inner = inner
        self.stopping = stopping

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if await F.pause(self.seconds, self.stopping):
            await self.inner(scope, receive, send)
        else:
            await F.abandon(scope, receive)


async def _read_body(request: Request) -> bytes:
    """``await request.body()`` for a body read once, without Starlette's async-generator stream (its
    hooks and aclosing cost more than the read): the chunks up to the last, ClientDisconnect if the client
    left. The sandbox's protocol hands the app the whole body in one message."""
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


def _parse_json(raw: bytes) -> Any:
    """The JSON value of a body, or None if it is not JSON. A body nested too deeply for the
    parser (``[[[[...`` 10,000 deep fits in 64 KiB) is not JSON the sandbox accepts: None, not a 500."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _five_strings(data: Any) -> dict[str, str] | None:
    """A parsed body if it is a JSON object holding the five strings, else None."""
    if not isinstance(data, dict):
        return None
    for name in BODY_FIELDS:
        if not isinstance(data.get(name), str):
            return None
    return data


def _usd(cents: int) -> int | float:
    """Integer cents as a JSON number of dollars, for display only (arithmetic stays in cents)."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def status_response(fault: Fault, api_key: str | None = None) -> Response:
    """A ``status`` fault's answer: its ``body`` as JSON (default ``{"message": <reason>}``) or its raw
    ``text`` (an HTML gateway page, plain text), with its ``headers`` (Retry-After, Location, ...).
    With ``echo_key``, the message and an ``x-echoed-key`` header quote the request's key."""
    params = fault.params
    if params.get("echo_key"):
        key = api_key or ""
        headers = {**params.get("headers", {}), "x-echoed-key": key}
        return json_response({"message": f"{_phrase(fault)}: the API key {key} is not valid for this request"},
                             params["status"], headers)
    if "text" in params:
        return Response(
            params["text"].encode("utf-8"),
            status_code=params["status"],
            headers=params.get("headers"),
            media_type=params.get("content_type", F.DEFAULT_TEXT_TYPE),
        )
    return json_response(params.get("body", {"message": _phrase(fault)}), params["status"], params.get("headers"))


def _phrase(fault: Fault) -> str:
    try:
        return HTTPStatus(fault.params["status"]).phrase
    except ValueError:
        return "Error"


def _status_sent(result: Result, fault: Fault | None) -> int | None:
    """The HTTP status line the sandbox sent; None when the connection was closed without one."""
    if fault is None:
        return result.status
    if fault.kind == F.DROP_AFTER_READ:
        return None
    if fault.kind == F.STATUS:
        return fault.params["status"]
    if fault.kind == F.MALFORMED:
        return 200
    return result.status


async def _missing_token(request: Request, exc: Exception) -> Response:
    return json_response(MISSING_TOKEN, 403)


# --- the admin API's guard against web pages -------------------------------------------------

MISDIRECTED = {
    "message": "Misdirected Request: the sandbox's admin API answers only requests addressed to "
    "localhost, 127.0.0.1, [::1] or the address it listens on"
}
FOREIGN_ORIGIN = {"message": "Forbidden: the sandbox's admin API does not accept requests from web pages"}
NOT_JSON = {"message": "Unsupported Media Type: admin writes need Content-Type: application/json"}
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")
_WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def is_admin_path(path: str) -> bool:
    if path.startswith(STAGE_PREFIX + "/"):
        path = path[len(STAGE_PREFIX):]
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def _url_host(url: str) -> tuple[str, str | None]:
    """The scheme and the lower-case host name of a URL (``http://[::1]:8080`` -> ``("http", "::1")``);
    no name when it is malformed (a bad port, an unclosed bracket). A Host header is read as ``//`` +
    its value."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "", None
    return parts.scheme, parts.hostname


class AdminGuard:
    """ASGI middleware in front of every ``/__sandbox/`` route (at / and under the stage prefix).

    A web page the user opens can make their browser send "simple requests" (POST text/plain,
    no preflight) to the sandbox's port, and with DNS rebinding (evil.example resolving to
    127.0.0.1) read the answers. So: a Host that is not loopback or the bound address -> 421
    (rebinding needs a name; for a wildcard bind any IP literal is fine); an Origin header that is
    not a loopback or bound origin (``null`` included: sandboxed frames send it) -> 403; an admin
    write without ``Content-Type: application/json`` (which a page cannot send without a CORS
    preflight the sandbox never answers) -> 415. The Moments endpoints are not guarded: a tunnel
    for Braze testing must reach them with any Host, and they need an API key anyway."""

    def __init__(self, app: Any, bind_host: str = "127.0.0.1"):
        self.app = app
        self.bind_host = bind_host.strip("[]").lower()
        self.wildcard = self.bind_host in _WILDCARD_HOSTS

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        # ``in`` first: a quick no for every Moments call (an admin path always holds ADMIN_PREFIX).
        if scope["type"] == "http" and ADMIN_PREFIX in scope["path"] and is_admin_path(scope["path"]):
            refusal = self.refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: dict) -> Response | None:
        headers: dict[str, list[str]] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        hosts = headers.get("host", [])
        if len(hosts) != 1 or not self.local_name(_url_host("//" + hosts[0])[1]):
            return json_response(MISDIRECTED, 421)
        origins = headers.get("origin", [])
        if origins and not all(self.local_origin(o) for o in origins):
            return json_response(FOREIGN_ORIGIN, 403)
        if scope["method"] in _WRITE_METHODS:
            types = headers.get("content-type", [])
            if len(types) != 1 or types[0].split(";", 1)[0].strip().lower() != JSON_MEDIA_TYPE:
                return json_response(NOT_JSON, 415)
        return None

    def local_name(self, name: str | None) -> bool:
        if not name:
            return False
        if name == "localhost" or name == self.bind_host:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False  # a name other than localhost: what DNS rebinding uses
        return address.is_loopback or self.wildcard

    def local_origin(self, origin: str) -> bool:
        scheme, name = _url_host(origin)
        return scheme in ("http", "https") and self.local_name(name)


def create_app(
    catalog: Catalog | None = None, *, admin_token: str | None = None, bind_host: str = "127.0.0.1"
) -> Starlette:
    """The sandbox as an ASGI app; ``None`` serves the shipped catalog. ``admin_token`` shows the API
    keys in ``/__sandbox/catalog`` to whoever presents it (None: to nobody); ``bind_host`` is the
    address the server listens on, an acceptable Host for the admin API besides loopback."""
    state = SandboxState(catalog if catalog is not None else load_default_catalog())
    sandbox = _Sandbox(state, admin_token)
    routes = [
        Route(Endpoint.GET_REWARD_INFO.path, sandbox.get_reward_info, methods=["POST"]),
        Route(Endpoint.GET_REWARD.path, sandbox.get_reward, methods=["POST"]),
        Route("/images/{file}", sandbox.image, methods=["GET"]),
        Route("/redeem/{code}", sandbox.redeem, methods=["GET"]),
        Route(api.SANDBOX_CATALOG_PATH, sandbox.admin_catalog, methods=["GET"]),
        Route("/__sandbox/reset", sandbox.admin_reset, methods=["POST"]),
        Route("/__sandbox/clock", sandbox.admin_clock, methods=["GET", "POST"]),
        Route("/__sandbox/ledger", sandbox.admin_ledger, methods=["GET"]),
        Route("/__sandbox/faults", sandbox.admin_faults, methods=["GET", "POST", "DELETE"]),
        Route("/__sandbox/faults/{fault_id}", sandbox.admin_fault, methods=["DELETE"]),
        Route("/__sandbox/openapi.json", sandbox.admin_openapi, methods=["GET"]),
    ]
    # Every route again under the stage prefix: a production-shaped endpoint (…/prod) works as it is.
    routes += [Route(STAGE_PREFIX + r.path, r.endpoint, methods=r.methods) for r in list(routes)]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(AdminGuard, bind_host=bind_host)],
        exception_handlers={404: _missing_token, 405: _missing_token},
    )
    # API Gateway does not redirect /GetReward/ to /GetReward; it answers 403 [assumed].
    app.router.redirect_slashes = False
    app.state.sandbox = state
    app.state.stopping = sandbox.stopping  # SandboxServer sets it on shutdown
    return app
