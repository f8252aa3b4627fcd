"""The message preview's data: channels, the templates a profile saves, outcomes, problems, renderings.

Kept apart from the renderer (core/message_preview.py) so that loading profiles, which carry
templates, does not import python-liquid: the app's start-up pays for Liquid only when a message
is first checked or rendered. Plain Python, no Qt, no Liquid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from moments_desktop import api_schema

# --- the fixed interface ------------------------------------------------------------------


class Channel(StrEnum):
    PUSH = "push"
    EMAIL = "email"
    IN_APP = "in_app"


CHANNEL_FIELDS: dict[Channel, tuple[str, ...]] = {
    Channel.PUSH: ("title", "body", "image_url"),
    Channel.EMAIL: ("subject", "html"),
    Channel.IN_APP: ("header", "body", "image_url", "button"),
}

# What a person calls each field, for messages ("push body", "email HTML body").
FIELD_LABELS: dict[tuple[Channel, str], str] = {
    (Channel.PUSH, "title"): "push title",
    (Channel.PUSH, "body"): "push body",
    (Channel.PUSH, "image_url"): "push image URL",
    (Channel.EMAIL, "subject"): "email subject",
    (Channel.EMAIL, "html"): "email HTML body",
    (Channel.IN_APP, "header"): "in-app header",
    (Channel.IN_APP, "body"): "in-app body",
    (Channel.IN_APP, "image_url"): "in-app image URL",
    (Channel.IN_APP, "button"): "in-app button",
}

# Longest template a field may hold; a longer one is refused with a message, not rendered.
MAX_TEMPLATE_CHARS = 50_000
# Problems listed per field: past this many, one more line says how many follow.
MAX_PROBLEMS_PER_FIELD = 100
# Most sample attributes, and the longest name / value, a profile keeps.
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_CHARS = 1_000

# The variable that holds the answer when no connected_content tag names one [issue 13].
DEFAULT_VARIABLE = "moments"
# The variable Braze saves a JSON answer to when a tag has no :save [Braze docs,
# "Local Connected Content variables"].
BRAZE_DEFAULT_SAVE = "connected"

# The Braze reward outcome's URL when the preview has no real claim to show: the preview never
# calls GetReward (it is billed), so this address is labelled as a placeholder wherever shown.
PLACEHOLDER_REWARD_URL = "https://reward-url.preview.invalid/placeholder"


def _template_field_name(channel: Channel, name: str) -> str:
    return f"{channel.value}_{name}"


@dataclass(frozen=True)
class MessageTemplates:
    """The message templates of one profile, and the sample user attributes they read."""

    push_title: str
    push_body: str
    push_image_url: str
    email_subject: str
    email_html: str
    in_app_header: str
    in_app_body: str
    in_app_image_url: str
    in_app_button: str
    attributes: tuple[tuple[str, str], ...] = ()

    def field(self, channel: Channel, name: str) -> str:
        if name not in CHANNEL_FIELDS[Channel(channel)]:
            raise KeyError(f"{channel} has no field {name!r}")
        return getattr(self, _template_field_name(Channel(channel), name))

    def to_dict(self) -> dict:
        data: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "attributes"
        }
        data["attributes"] = [[name, value] for name, value in self.attributes]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> MessageTemplates:
        """Build from a saved / imported dict; raises ValueError naming what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError("message templates must be an object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "attributes":
                continue
            value = data.get(f.name)
            if not isinstance(value, str):
                raise ValueError(f"message template {f.name!r} must be text")
            if len(value) > MAX_TEMPLATE_CHARS:
                raise ValueError(
                    f"message template {f.name!r} is longer than {MAX_TEMPLATE_CHARS:,} characters"
                )
            values[f.name] = value
        raw_attributes = data.get("attributes", [])
        if not isinstance(raw_attributes, list | tuple):
            raise ValueError("sample attributes must be a list of [name, value] pairs")
        if len(raw_attributes) > MAX_ATTRIBUTES:
            raise ValueError(f"more than {MAX_ATTRIBUTES} sample attributes")
        attributes: list[tuple[str, str]] = []
        for pair in raw_attributes:
            if (
                not isinstance(pair, list | tuple)
                or len(pair) != 2
                or not all(isinstance(part, str) for part in pair)
            ):
                raise ValueError("each sample attribute must be a [name, value] pair of texts")
            name, value = pair
            if not name.strip() or len(name) > MAX_ATTRIBUTE_CHARS or len(value) > MAX_ATTRIBUTE_CHARS:
                raise ValueError("a sample attribute has an empty or over-long name or value")
            attributes.append((name, value))
        return cls(**values, attributes=tuple(attributes))

    @classmethod
    def defaults(cls) -> MessageTemplates:
        return DEFAULT_TEMPLATES


class OutcomeKind(StrEnum):
    REWARD = "reward"
    NO_REWARD = "no_reward"
    ERROR_TEXT = "error_text"
    TIMEOUT = "timeout"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class PreviewOutcome:
    kind: OutcomeKind
    label: str
    explanation: str
    response: Any
    # Where the answer came from, in plain words ("the sandbox's real answer", "the documented
    # shape: this endpoint was not asked"), and any value the preview filled in itself.
    source: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateProblem:
    kind: str  # "undefined" | "stray_brace" | "syntax" | "unsupported"
    message: str
    channel: Channel
    field: str
    line: int
    column: int
    suggestion: str | None


@dataclass(frozen=True)
class RenderedMessage:
    channel: Channel
    outcome: PreviewOutcome
    fields: dict[str, str]
    aborted: str | None
    problems: tuple[TemplateProblem, ...]


# --- outcomes in their documented shapes ---------------------------------------------------

OUTCOME_LABELS: dict[OutcomeKind, str] = {
    OutcomeKind.REWARD: "Reward",
    OutcomeKind.NO_REWARD: "No reward ([])",
    OutcomeKind.ERROR_TEXT: "Error text",
    OutcomeKind.TIMEOUT: "No answer within 2 s",
    OutcomeKind.NOT_FOUND: "404",
}

OUTCOME_EXPLANATIONS: dict[OutcomeKind, str] = {
    OutcomeKind.REWARD: "The customer gets the reward: the answer's fields fill the message.",
    OutcomeKind.NO_REWARD: (
        "The API answers an empty list: every reward field is blank, so the message must test "
        "a field (e.g. moments.rewardNotificationUrl == blank) and abort."
    ),
    OutcomeKind.ERROR_TEXT: (
        "The API answers an error text in rewardNotificationText and no reward URL: without a "
        "guard the customer reads the error."
    ),
    OutcomeKind.TIMEOUT: (
        "Braze waits at most 2 s: with no answer by then the content is not inserted and the "
        "saved variable stays blank."
    ),
    OutcomeKind.NOT_FOUND: (
        "The URL answers 404: Braze renders an empty string and saves nothing, so every field "
        "is blank."
    ),
}

# [assumed] the sandbox's and the docs' error texts are not public; this one is only the shape.
DOCUMENTED_ERROR_TEXT = "This reward is not available right now."


def documented_outcome(kind: OutcomeKind, reward: Mapping[str, Any] | None = None) -> PreviewOutcome:
    """An outcome in the shape the docs give, for endpoints the preview cannot steer."""
    response: Any
    if kind is OutcomeKind.REWARD:
        response = dict(reward or {})
    elif kind is OutcomeKind.NO_REWARD:
        response = []
    elif kind is OutcomeKind.ERROR_TEXT:
        response = {api_schema.REWARD_NOTIFICATION_TEXT: DOCUMENTED_ERROR_TEXT}
    else:
        response = None
    return PreviewOutcome(
        kind=kind,
        label=OUTCOME_LABELS[kind],
        explanation=OUTCOME_EXPLANATIONS[kind],
        response=response,
        source="the documented shape (this endpoint was not asked)",
    )


# --- default templates ---------------------------------------------------------------------

_GUARD = (
    "{% if moments.rewardNotificationUrl == blank %}"
    "{% abort_message('no Moments reward') %}{% endif %}"
)

DEFAULT_TEMPLATES = MessageTemplates(
    push_title="{{${first_name} | default: 'Hello'}}, you earned a reward!",
    push_body=_GUARD + "{{moments.rewardNotificationText}}",
    push_image_url="{{moments.rewardImageUrl}}",
    email_subject="{{${first_name} | default: 'Hello'}}, a reward is waiting for you",
    email_html=(
        _GUARD + "\n"
        "<p>Hi {{${first_name} | default: 'there'}},</p>\n"
        "<p>{{moments.rewardNotificationText}}</p>\n"
        '<img src="{{moments.rewardImageUrl}}" width="600" height="120" alt="Your reward">\n'
        '<p><a href="{{moments.rewardNotificationUrl}}">Redeem now</a></p>\n'
        "{% if moments.remainingRewardCount %}"
        "<p>Only {{moments.remainingRewardCount}} rewards left.</p>{% endif %}"
    ),
    in_app_header=_GUARD + "A reward for you",
    in_app_body="{{moments.rewardNotificationText}}",
    in_app_image_url="{{moments.rewardImageUrl}}",
    in_app_button="Redeem now",
    attributes=(("first_name", "Ana"),),
)
