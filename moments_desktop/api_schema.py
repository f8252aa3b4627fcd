"""The Moments Rewards API's names, declared once: endpoints, fields, headers, outcomes.

The client (core/) and the sandbox (sandbox/) both read them from here, so the app and
the server it is tested against cannot drift apart. This module imports nothing from the
rest of the package, nor Qt, nor httpx: the sandbox depends on it and on nothing else.

Sources, as in /work/shared/moments-api.md: [doc] Amazon's Moments developer docs,
[partner] the Braze partner page, [code] public code that called the live API,
[assumed] a reasoned choice where nothing public says more.
"""

from __future__ import annotations

from enum import StrEnum

# [partner, code] the only base URL public callers ever used; kept so an imported
# profile from the old days still means something.
DEFAULT_BASE_URL = "https://dnxr7vm27d.execute-api.us-east-1.amazonaws.com/prod"
# The API Gateway stage that URL ends in: the sandbox serves the API at / and under it, so a
# production-shaped URL with only the host changed works.
STAGE_PREFIX = "/prod"


class Endpoint(StrEnum):
    """The two endpoints [doc]; the value is the path segment, case-sensitive as written."""

    GET_REWARD_INFO = "GetRewardInfo"
    """Describes the reward to show a customer; consumes nothing [doc]."""
    GET_REWARD = "GetReward"
    """Consumes one reward and returns its URL; billed per call [doc]."""

    @property
    def billed(self) -> bool:
        return self is Endpoint.GET_REWARD

    @property
    def path(self) -> str:
        """The path under the base URL, e.g. ``/GetReward`` (POST) [doc]."""
        return "/" + self.value


# --- request (identical for both endpoints [doc]) -----------------------------------------

API_KEY_HEADER = "x-api-key"  # [doc]
# Content-Type: application/json [code]; Accept: application/json [partner].
JSON_MEDIA_TYPE = "application/json"

# The body: a JSON object of five strings [code, partner], in the order the docs list them.
# All five are treated as required [assumed: every public caller sends all five].
# `campaignId` has a lower-case d (the partner page's `campaignID` is a typo).
BODY_FIELDS: tuple[str, ...] = ("appId", "momentId", "deviceType", "campaignId", "rewardGroupId")

# [doc] names Android, iOS, FireOS and websites; the spellings beyond Android/Web are [assumed].
DEVICE_TYPES: tuple[str, ...] = ("Android", "iOS", "FireOS", "Web")


# --- response -----------------------------------------------------------------------------

# [partner, code] the customer-facing message; on failure it holds the error text [partner].
REWARD_NOTIFICATION_TEXT = "rewardNotificationText"
# [code, GetReward] the reward / redemption URL ("Reward URL" in the docs).
REWARD_NOTIFICATION_URL = "rewardNotificationUrl"
# [partner] the reward image.
REWARD_IMAGE_URL = "rewardImageUrl"
# [partner] rewards left.
REMAINING_REWARD_COUNT = "remainingRewardCount"
# [code, GetReward] end of the campaign; format unknown [assumed: ISO date or epoch number].
CAMPAIGN_END_DATE = "campaignEndDate"

# Every response field a public source shows. Any other field is kept and shown, never dropped.
RESPONSE_FIELDS: tuple[str, ...] = (
    REWARD_NOTIFICATION_TEXT,
    REWARD_NOTIFICATION_URL,
    REWARD_IMAGE_URL,
    REMAINING_REWARD_COUNT,
    CAMPAIGN_END_DATE,
)


# --- sandbox extensions (no public source; the app must work without them) ---------------

# The sandbox's catalog, which the request form reads to offer ids as choices [sandbox only].
SANDBOX_CATALOG_PATH = "/__sandbox/catalog"
# The header that carries the sandbox's local admin token; with it the catalog shows the API keys.
SANDBOX_ADMIN_TOKEN_HEADER = "x-sandbox-admin-token"

# Response fields only the sandbox sends (x-sandbox-extension in its OpenAPI document): no public
# source shows them, the catalog's "sandbox_extensions": false leaves them out, and the app must
# work the same without them (it keeps them as extra fields, like any unknown field).
REWARD_TITLE = "rewardTitle"  # the reward's title in the locale used
REWARD_LOCALE = "rewardLocale"  # the locale whose texts were used
SANDBOX_EXTENSION_FIELDS: tuple[str, ...] = (REWARD_TITLE, REWARD_LOCALE)


# --- what happened to one call --------------------------------------------------------------


class Outcome(StrEnum):
    """What one call came to: set by the client on the Exchange, stored by the journal,
    shown by the history. The values are what the journal's database holds."""

    SUCCESS = "success"
    """The answer is a reward (for getReward: with its URL)."""
    NO_REWARD = "no_reward"
    """An empty list, or an answer that explains why there is no reward."""
    ERROR = "error"
    """The server answered, and it is clear nothing useful happened."""
    UNKNOWN = "unknown"
    """Sent, but no complete answer came back: a reward may have been consumed."""
    NOT_SENT = "not_sent"
    """Nothing left this machine: nothing was spent."""
    PENDING = "pending"
    """Journal only: the intent committed before a getReward is sent; never a call's result."""
