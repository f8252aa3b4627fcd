"""What presenter mode's customer stage shows for a preview (no Qt).

The stage (ui/presenter_stage.py) draws the phone notification, the email and the in-app message side by side,
with the reward's announcement and a "Redeem now". Which texts fill them is decided here:

- a profile whose Braze message templates are its own (not the built-in defaults) gets what they render for the
  "reward available" outcome (core/message_preview.py, the Message tab's renderer), against this preview's real
  answer; a channel whose template stops the message (``abort_message``) is shown as not sent, as Braze would;
- any other profile gets plain defaults made from the reward itself (its announcement and image).

A preview carries no reward URL (getReward is billed and never called for it), so the rendering's
``rewardNotificationUrl`` is the Message tab's labelled placeholder, never a real reward URL.

A preview that answered without a reward to give (the sandbox's out-of-stock or "campaign ended" texts come as an
announcement without an image and with no rewards left) is ``available=False``: the stage shows the API's own text
and offers no Redeem.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from moments_desktop import api_schema

from .message_templates import (
    OUTCOME_EXPLANATIONS,
    OUTCOME_LABELS,
    PLACEHOLDER_REWARD_URL,
    Channel,
    MessageTemplates,
    OutcomeKind,
    PreviewOutcome,
)
from .reward import RewardInfo

NO_ANNOUNCEMENT = "(The reward has no announcement text.)"
DEFAULT_PUSH_TITLE = "You earned a reward!"
DEFAULT_EMAIL_SUBJECT = "A reward is waiting for you"
DEFAULT_IN_APP_HEADER = "A reward for you"
DEFAULT_BUTTON = "Redeem now"
TEMPLATES_SOURCE = "the profile's message templates, rendered for this preview's reward"
DEFAULTS_SOURCE = "the reward's own announcement and image (the profile has no message templates of its own)"


@dataclass(frozen=True)
class StageFrame:
    """One channel as the customer would get it: its fields by name (core/message_templates.CHANNEL_FIELDS),
    or ``aborted`` (the reason) when the template stops the message for this customer."""

    channel: Channel
    fields: dict[str, str]
    aborted: str | None = None

    def field(self, name: str) -> str:
        return self.fields.get(name, "")


@dataclass(frozen=True)
class StageContent:
    available: bool  # a reward a customer could redeem now; False: ``announcement`` is the API's explanation
    announcement: str  # the reward's rewardNotificationText (or NO_ANNOUNCEMENT)
    image_url: str | None
    remaining: int | None
    frames: tuple[StageFrame, ...]  # push, email, in-app (empty when not available)
    source: str  # where the frames' texts come from, in plain words
    problems: int = 0  # template problems the rendering found (the Message tab lists them)

    def frame(self, channel: Channel) -> StageFrame | None:
        return next((frame for frame in self.frames if frame.channel is Channel(channel)), None)

    @property
    def image_urls(self) -> tuple[str, ...]:
        """Every image the frames show, the reward's first, each once."""
        urls: list[str] = [self.image_url] if self.image_url else []
        for frame in self.frames:
            for name in ("image_url",):
                url = frame.field(name).strip()
                if url and url not in urls:
                    urls.append(url)
        return tuple(urls)


def reward_available(reward: RewardInfo) -> bool:
    """A reward a customer could redeem now: it has an image (the sandbox's and the service's "no reward now"
    answers carry only a text) and rewards left, when the answer says how many."""
    if reward.remaining_count is not None and reward.remaining_count <= 0:
        return False
    return bool(reward.image_url)


def has_own_templates(templates: MessageTemplates | None) -> bool:
    return templates is not None and templates != MessageTemplates.defaults()


def reward_outcome(reward: RewardInfo) -> PreviewOutcome:
    """The "reward available" outcome for the templates: this preview's real answer, with the placeholder URL."""
    response = dict(reward.raw) if reward.raw else {
        api_schema.REWARD_NOTIFICATION_TEXT: reward.notification_text,
        api_schema.REWARD_IMAGE_URL: reward.image_url,
        api_schema.REMAINING_REWARD_COUNT: reward.remaining_count,
    }
    if not response.get(api_schema.REWARD_NOTIFICATION_URL):
        response[api_schema.REWARD_NOTIFICATION_URL] = PLACEHOLDER_REWARD_URL
    return PreviewOutcome(OutcomeKind.REWARD, OUTCOME_LABELS[OutcomeKind.REWARD],
                          OUTCOME_EXPLANATIONS[OutcomeKind.REWARD], response,
                          "this preview's real getRewardInfo answer",
                          ("rewardNotificationUrl: a placeholder; a preview never calls GetReward, which is billed",))


def default_frames(reward: RewardInfo) -> tuple[StageFrame, ...]:
    announcement = reward.notification_text or NO_ANNOUNCEMENT
    image = reward.image_url or ""
    body = [f"<p>{html.escape(announcement)}</p>"]
    if image:
        body.append(f'<p><img src="{html.escape(image, quote=True)}" width="600" alt="Your reward"></p>')
    body.append(f"<p><b>{DEFAULT_BUTTON}</b></p>")
    if reward.remaining_count:
        body.append(f"<p>Only {reward.remaining_count} rewards left.</p>")
    return (
        StageFrame(Channel.PUSH, {"title": DEFAULT_PUSH_TITLE, "body": announcement, "image_url": image}),
        StageFrame(Channel.EMAIL, {"subject": DEFAULT_EMAIL_SUBJECT, "html": "\n".join(body)}),
        StageFrame(Channel.IN_APP, {"header": DEFAULT_IN_APP_HEADER, "body": announcement, "image_url": image,
                                    "button": DEFAULT_BUTTON}),
    )


def stage_content(reward: RewardInfo, templates: MessageTemplates | None = None) -> StageContent:
    """The stage for one preview's reward; never raises (a template that fails shows its marker, as in the
    Message tab)."""
    announcement = reward.notification_text or NO_ANNOUNCEMENT
    available = reward_available(reward)
    if not available:
        return StageContent(False, announcement, reward.image_url, reward.remaining_count, (),
                            "the API's own answer")
    if not has_own_templates(templates):
        return StageContent(True, announcement, reward.image_url, reward.remaining_count, default_frames(reward),
                            DEFAULTS_SOURCE)
    from .message_preview import render_message  # python-liquid: imported on the first rendering

    assert templates is not None
    outcome = reward_outcome(reward)
    frames: list[StageFrame] = []
    problems = 0
    for channel in Channel:
        rendered = render_message(templates, channel, outcome)
        problems += len(rendered.problems)
        frames.append(StageFrame(channel, dict(rendered.fields), rendered.aborted))
    return StageContent(True, announcement, reward.image_url, reward.remaining_count, tuple(frames),
                        TEMPLATES_SOURCE, problems)


__all__ = ["StageContent", "StageFrame", "default_frames", "has_own_templates", "reward_available",
           "reward_outcome", "stage_content"]
