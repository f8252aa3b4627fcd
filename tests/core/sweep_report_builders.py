"""Sweep results built by hand with core/sweep.py's dataclasses, for the baseline and report tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moments_desktop.api_schema import BODY_FIELDS
from moments_desktop.core.sweep import SweepCard, SweepPlan, SweepResult, SweepStatus

STARTED = datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC)
IMAGE_A = "https://images.example-cdn.test/campaigns/SPRINGCAMP77/headphones.png"
IMAGE_B = "https://images.example-cdn.test/campaigns/SPRINGCAMP77/voucher.png"


def plan_of(values: dict[str, tuple[str, ...]] | None = None, *, profile_name: str = "Spring QA",
            base_url: str = "https://api.moments-staging.test/prod") -> SweepPlan:
    base = {"appId": ("APPALPHA91",), "momentId": ("LEVEL_FINISHED",), "deviceType": ("Android", "iOS"),
            "campaignId": ("SPRINGCAMP77",), "rewardGroupId": ("GROUPONE11", "GROUPTWO22")}
    base.update(values or {})
    return SweepPlan(profile_id="p-1", profile_name=profile_name, base_url=base_url,
                     values={name: tuple(base[name]) for name in BODY_FIELDS}, calls=5, window=1.1)


_DEFAULT = object()


def card_of(plan: SweepPlan, index: int, status: SweepStatus = SweepStatus.REWARD, *,
            text=_DEFAULT, image=_DEFAULT, count=_DEFAULT, problem: str | None = None,
            http_status: int | None = 200) -> SweepCard:
    """A card of ``plan``'s combination ``index``; a reward has a text, an image and a count unless told,
    any other status has none of them unless told, and a problem."""
    reward = status is SweepStatus.REWARD
    if not reward and problem is None:
        problem = {SweepStatus.NO_REWARD: "No reward for this customer",
                   SweepStatus.DECLINED: "The API declined the request: HTTP 403",
                   SweepStatus.ERROR: "Could not reach the endpoint"}[status]
    return SweepCard(
        index=index, combination=list(plan.combinations())[index], status=status,
        notification_text=("You won headphones!" if reward else None) if text is _DEFAULT else text,
        image_url=(IMAGE_A if reward else None) if image is _DEFAULT else image,
        remaining_count=(10 if reward else None) if count is _DEFAULT else count,
        problem=problem, http_status=http_status)


def result_of(plan: SweepPlan, cards: list[SweepCard], *, cancelled: bool = False) -> SweepResult:
    counts: dict[SweepStatus, int] = {}
    for card in cards:
        counts[card.status] = counts.get(card.status, 0) + 1
    return SweepResult(plan=plan, cards=sorted(cards, key=lambda c: c.index), started_at=STARTED,
                       finished_at=STARTED + timedelta(seconds=2.5), cancelled=cancelled, counts=counts)


def four_statuses(plan: SweepPlan | None = None) -> SweepResult:
    """The default plan's 4 combinations, one of each status."""
    plan = plan or plan_of()
    return result_of(plan, [
        card_of(plan, 0),
        card_of(plan, 1, SweepStatus.NO_REWARD),
        card_of(plan, 2, SweepStatus.DECLINED, http_status=403),
        card_of(plan, 3, SweepStatus.ERROR, http_status=None),
    ])
