"""Customer-facing texts the sandbox answers with when no reward can be handed out.

[assumed] The real API's answer for these cases is undocumented; the partner page only
says business errors come back as JSON whose ``rewardNotificationText`` explains them.
So the sandbox answers HTTP 200 with an explanatory ``rewardNotificationText`` in the
reward group's locale, and no reward URL.
"""

from __future__ import annotations

from moments_desktop.sandbox.catalog import (
    STATE_DRAFT,
    STATE_FINISHED,
    STATE_PENDING,
    STATE_REJECTED,
    STATE_SUSPENDED,
    pick_locale,
)

OUT_OF_STOCK = "out_of_stock"
# [assumed] A reward group's monthly allowance is used up ("remainingRewardCount ... in the current
# month" [partner]); the answer has the out-of-stock shape, with this text.
MONTH_EXHAUSTED = "month_exhausted"
# [assumed] One more claim would take the campaign's or the account's spend this month over its cap
# [doc, config-billing]; no public source says what the API then answers.
BUDGET_EXHAUSTED = "budget_exhausted"

# [assumed] Every text below: the docs' table of error texts ("Error Messages") is preserved nowhere
# public, so none of these is the real API's wording; each locale's texts are the sandbox's own.
STATE_MESSAGES: dict[str, dict[str, str]] = {
    "en-US": {  # [assumed] error texts, not the real API's
        OUT_OF_STOCK: "Sorry, all rewards for this campaign have been claimed. Please check back later.",
        STATE_FINISHED: "This reward campaign has ended. Thanks for playing!",
        STATE_SUSPENDED: "This reward campaign is paused right now. Please try again later.",
        STATE_DRAFT: "This reward campaign is not available yet.",
        STATE_PENDING: "This reward campaign is waiting for approval and is not available yet.",
        STATE_REJECTED: "This reward campaign is not available.",
        MONTH_EXHAUSTED: "Sorry, all rewards for this month have been claimed. Please check back next month.",
        BUDGET_EXHAUSTED: "Sorry, this reward campaign has reached its budget for this month. Please check back next month.",
    },
    "ja-JP": {  # [assumed] error texts, not the real API's
        OUT_OF_STOCK: "申し訳ありません。このキャンペーンの特典はすべて受け取られました。後でもう一度お試しください。",
        STATE_FINISHED: "この特典キャンペーンは終了しました。ご参加ありがとうございました。",
        STATE_SUSPENDED: "この特典キャンペーンは現在一時停止中です。後でもう一度お試しください。",
        STATE_DRAFT: "この特典キャンペーンはまだご利用いただけません。",
        STATE_PENDING: "この特典キャンペーンは承認待ちのため、まだご利用いただけません。",
        STATE_REJECTED: "この特典キャンペーンはご利用いただけません。",
        MONTH_EXHAUSTED: "申し訳ありません。今月の特典はすべて受け取られました。来月もう一度お試しください。",
        BUDGET_EXHAUSTED: "申し訳ありません。この特典キャンペーンは今月の予算に達しました。来月もう一度お試しください。",
    },
    "de-DE": {  # [assumed] error texts, not the real API's
        OUT_OF_STOCK: "Leider wurden alle Prämien dieser Kampagne bereits eingelöst. Bitte schau später wieder vorbei.",
        STATE_FINISHED: "Diese Prämienkampagne ist beendet. Danke fürs Mitmachen!",
        STATE_SUSPENDED: "Diese Prämienkampagne ist derzeit pausiert. Bitte versuche es später erneut.",
        STATE_DRAFT: "Diese Prämienkampagne ist noch nicht verfügbar.",
        STATE_PENDING: "Diese Prämienkampagne wartet auf Freigabe und ist noch nicht verfügbar.",
        STATE_REJECTED: "Diese Prämienkampagne ist nicht verfügbar.",
        MONTH_EXHAUSTED: "Leider wurden alle Prämien für diesen Monat bereits eingelöst. Bitte schau nächsten Monat wieder vorbei.",
        BUDGET_EXHAUSTED: "Diese Prämienkampagne hat ihr Budget für diesen Monat erreicht. Bitte schau nächsten Monat wieder vorbei.",
    },
}

# Chrome of the sandbox's own redemption page (not API messages) [assumed: the sandbox's own page].
PAGE_TEXTS: dict[str, dict[str, str]] = {
    "en-US": {
        "heading": "Your reward is on its way",
        "code": "Reward code",
        "test": "Test mode: this link is the same for every claim and nothing was consumed.",
        "footer": "Served by the Moments Desktop sandbox. No real reward is delivered.",
    },
    "ja-JP": {
        "heading": "特典をお届けします",
        "code": "特典コード",
        "test": "テストモード：このリンクは毎回同じで、在庫は消費されていません。",
        "footer": "Moments Desktop サンドボックスによる表示です。実際の特典は届きません。",
    },
    "de-DE": {
        "heading": "Deine Prämie ist unterwegs",
        "code": "Prämiencode",
        "test": "Testmodus: Dieser Link ist bei jedem Abruf gleich, und es wurde nichts verbraucht.",
        "footer": "Bereitgestellt von der Moments-Desktop-Sandbox. Es wird keine echte Prämie geliefert.",
    },
}


def state_message(key: str, locale: str) -> str:
    return STATE_MESSAGES[pick_locale(locale, STATE_MESSAGES)][key]


def page_texts(locale: str) -> tuple[str, dict[str, str]]:
    used = pick_locale(locale, PAGE_TEXTS)
    return used, PAGE_TEXTS[used]
