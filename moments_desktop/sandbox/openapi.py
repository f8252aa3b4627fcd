"""OpenAPI 3.0 description of the two Moments endpoints, as the sandbox serves them.

Served at ``GET /__sandbox/openapi.json``. It describes the contract in
/work/shared/moments-api.md: field names are [doc]/[partner]/[code]; the 403 and 429 bodies are
API Gateway's default gateway responses [AWS docs]; the 400 body and the 429 Retry-After header
are [assumed]. Fields no public source shows carry ``x-sandbox-extension: true``.
"""

from __future__ import annotations

from typing import Any

from moments_desktop import api_schema as api
from moments_desktop.api_schema import API_KEY_HEADER, BODY_FIELDS, DEVICE_TYPES, STAGE_PREFIX, Endpoint
from moments_desktop.sandbox.protocol import MAX_BODY_BYTES

EXTENSION = "x-sandbox-extension"  # marks what no public source shows


def _error(description: str, example: str, *more: tuple[str, str]) -> dict[str, Any]:
    """An error answer with its ``{"message": …}`` example; ``more``: further (name, message) examples."""
    content: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/Error"}}
    if more:
        content["examples"] = {
            name: {"value": {"message": message}} for name, message in (("default", example), *more)
        }
    else:
        content["example"] = {"message": example}
    return {"description": description, "content": {"application/json": content}}


def _operation(operation_id: str, summary: str, description: str, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RewardRequest"}}},
        },
        "responses": {
            "200": {
                "description": (
                    "The reward (an object), or an empty list if the reward does not exist. "
                    "Business errors (campaign ended, out of stock) are objects whose "
                    "rewardNotificationText explains them."
                ),
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/RewardResponse"},
                                {"$ref": "#/components/schemas/EmptyList"},
                            ]
                        },
                        "example": example,
                    }
                },
            },
            "400": _error(
                "The body is not a JSON object of five strings, or is nested too deeply to parse [assumed].",
                "Invalid request body",
            ),
            "403": _error(
                "Missing or unknown API key (Forbidden). An unknown path or method, under the stage "
                "prefix too, gets API Gateway's Missing Authentication Token [AWS docs].",
                "Forbidden",
                ("missingAuthenticationToken", "Missing Authentication Token"),
            ),
            # [assumed] API Gateway's own payload limit is 10 MB and its 413 text is not public.
            "413": _error(
                f"The body is over the sandbox's limit of {MAX_BODY_BYTES:,} bytes [assumed]; a declared "
                "length over it is refused before the body is read.",
                "Request Entity Too Large",
            ),
            "429": {
                **_error(
                    "More than 5 calls per second for this API key (Too Many Requests [doc, AWS docs]), "
                    "or the key's quota for the UTC day or month is used up (Limit Exceeded [AWS docs]; "
                    "the catalog's quota). Only calls the rate limit and the quota let through count "
                    "against the quota [assumed].",
                    "Too Many Requests",
                    ("limitExceeded", "Limit Exceeded"),
                ),
                "headers": {
                    "Retry-After": {
                        "description": (
                            "Seconds to wait before calling again: to the end of the rate window, or "
                            "for Limit Exceeded to the end of the UTC day or month [assumed: API "
                            "Gateway's defaults send none; absent when the catalog sets "
                            "retry_after_header false]."
                        ),
                        "schema": {"type": "integer", "minimum": 1},
                        "required": False,
                    }
                },
            },
        },
    }


def build_openapi(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Amazon Moments Rewards API (Moments Desktop sandbox)",
            "version": "1",
            "description": (
                "The two endpoints of the withdrawn Amazon Moments API as simulated by the "
                "Moments Desktop sandbox, served at / and under the stage prefix /prod (as the "
                "production base URL ends). Sandbox-only endpoints under /__sandbox/ are not described. "
                "Response fields marked x-sandbox-extension are not in any public source."
            ),
        },
        "servers": [
            {"url": server_url.rstrip("/")},
            {
                "url": server_url.rstrip("/") + STAGE_PREFIX,
                "description": "The same API under the stage prefix, like "
                "https://dnxr7vm27d.execute-api.us-east-1.amazonaws.com/prod [partner, code].",
            },
        ],
        "security": [{"apiKey": []}],
        "paths": {
            Endpoint.GET_REWARD_INFO.path: {
                "post": _operation(
                    "getRewardInfo",
                    "Describe the reward to show a customer",
                    "Consumes nothing.",
                    {
                        api.REWARD_NOTIFICATION_TEXT: "Congratulations! You've earned Wireless Headphones.",
                        api.REWARD_IMAGE_URL: "http://127.0.0.1:8080/images/headphones.png",
                        api.REMAINING_REWARD_COUNT: 100,
                        api.CAMPAIGN_END_DATE: "2030-12-31",
                    },
                )
            },
            Endpoint.GET_REWARD.path: {
                "post": _operation(
                    "getReward",
                    "Claim a reward and get its URL",
                    "Consumes one reward in a Live campaign (billed per call). In test mode "
                    "(Approved) nothing is consumed and the URL is the same every time.",
                    {
                        api.REWARD_NOTIFICATION_TEXT: "Your Wireless Headphones are on the way.",
                        api.REWARD_NOTIFICATION_URL: "http://127.0.0.1:8080/redeem/LIVE-ABCD-EFGH-JKMN",
                        api.REWARD_IMAGE_URL: "http://127.0.0.1:8080/images/headphones.png",
                        api.REMAINING_REWARD_COUNT: 24,
                        api.CAMPAIGN_END_DATE: 1924991999,
                    },
                )
            },
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}},
            "schemas": {
                "RewardRequest": {
                    "type": "object",
                    "required": list(BODY_FIELDS),
                    "properties": {
                        "appId": {"type": "string", "example": "DEMO1"},
                        "momentId": {"type": "string", "example": "GAME_COMPLETE"},
                        "deviceType": {
                            "type": "string",
                            "example": "Android",
                            "description": f"One of {', '.join(DEVICE_TYPES)}; any other value gets an empty list.",
                        },
                        "campaignId": {"type": "string", "example": "DEMOCAMP1"},
                        "rewardGroupId": {"type": "string", "example": "US"},
                    },
                },
                "RewardResponse": {
                    "type": "object",
                    "required": [api.REWARD_NOTIFICATION_TEXT],
                    "additionalProperties": True,
                    "properties": {
                        api.REWARD_NOTIFICATION_TEXT: {"type": "string"},
                        api.REWARD_NOTIFICATION_URL: {"type": "string"},
                        api.REWARD_IMAGE_URL: {"type": "string"},
                        api.REMAINING_REWARD_COUNT: {"type": "integer", "minimum": 0},
                        api.CAMPAIGN_END_DATE: {
                            "description": "Format unknown [doc]: an ISO date string or an epoch number.",
                            "oneOf": [{"type": "string"}, {"type": "number"}],
                        },
                        api.REWARD_TITLE: {
                            "type": "string",
                            "description": "Sandbox extension: the reward's title in the locale used. "
                            "Absent when the catalog sets sandbox_extensions false.",
                            EXTENSION: True,
                        },
                        api.REWARD_LOCALE: {
                            "type": "string",
                            "description": "Sandbox extension: the locale whose texts were used. "
                            "Absent when the catalog sets sandbox_extensions false.",
                            EXTENSION: True,
                        },
                    },
                },
                "EmptyList": {"type": "array", "maxItems": 0, "items": {}},
                "Error": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {"message": {"type": "string"}},
                },
            },
        },
    }
