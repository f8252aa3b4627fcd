"""Budgets: a campaign's monthly budget and cost per action, the account's monthly cap
[doc, config-billing]. Over a cap, a Live getReward consumes nothing and explains [assumed]."""

from dated_catalog import dated  # noqa: F401  (fixtures)
from dated_catalog import _dated_server  # noqa: F401
from dated_catalog import _campaign, catalog_with, serve
from sandbox_ids import FIT_APP, FIT_KEY

from moments_desktop.sandbox.messages import BUDGET_EXHAUSTED, state_message

OVER_BUDGET = state_message(BUDGET_EXHAUSTED, "en-US")


def test_a_claim_that_would_go_over_the_campaign_budget_consumes_nothing(dated):
    dated.admin.set_clock("2027-03-31T23:59:00Z")
    assert [dated.claim("BUDGET")["remainingRewardCount"] for _ in range(2)] == [9, 8]  # $40 of $50
    assert dated.campaign("BUDGET")["budget"] == {"monthly_usd": 50, "cost_per_action_usd": 20, "spent_this_month_usd": 40}
    refused = dated.claim("BUDGET")  # a third $20 would make $60
    assert refused == {"rewardNotificationText": OVER_BUDGET, "remainingRewardCount": 0}
    assert dated.claim("BUDGET", "JP")["rewardNotificationText"] == state_message(BUDGET_EXHAUSTED, "ja-JP")
    # getRewardInfo never announces a reward getReward would refuse.
    assert dated.info("BUDGET") == refused
    last = dated.admin.ledger()[-1]
    assert (last["status"], last["consumed"], last["reward_url"]) == (200, False, None)
    assert dated.group("BUDGET")["remaining"] == 8
    assert dated.campaign("BUDGET")["budget"]["spent_this_month_usd"] == 40
    assert dated.admin.catalog()["billing"] == {"month": "2027-03", "account_spent_usd": 40, "account_cap_usd": 15000}

    # "charged on the first of each month for the previous month's activity" [doc]: April starts at $0.
    dated.admin.advance_clock("PT1M")
    assert dated.info("BUDGET")["remainingRewardCount"] == 8
    assert "rewardNotificationUrl" in dated.claim("BUDGET")
    assert dated.admin.catalog()["billing"] == {"month": "2027-04", "account_spent_usd": 20, "account_cap_usd": 15000}


def test_spend_is_kept_in_whole_cents(dated):
    for _ in range(3):
        dated.claim("CENTS")
    # 0.1 + 0.1 + 0.1 in floating point is 0.30000000000000004.
    assert dated.campaign("CENTS")["budget"]["spent_this_month_usd"] == 0.3
    assert dated.admin.catalog()["billing"]["account_spent_usd"] == 0.3


def test_test_mode_claims_cost_nothing(dated):
    claims = [dated.claim("TESTBUDGET") for _ in range(3)]  # each would cost the whole $50 budget
    assert all("rewardNotificationUrl" in c for c in claims)
    assert dated.campaign("TESTBUDGET")["budget"]["spent_this_month_usd"] == 0


def test_a_reset_clears_the_spend(dated):
    dated.claim("BUDGET")
    dated.claim("BUDGET")
    dated.admin.reset()
    assert dated.campaign("BUDGET")["budget"]["spent_this_month_usd"] == 0
    assert "rewardNotificationUrl" in dated.claim("BUDGET")


def test_the_account_cap_stops_every_campaign_of_the_catalog():
    budget = {"monthly_usd": 80, "cost_per_action_usd": 30}
    data = catalog_with(
        account_monthly_budget_usd=100,
        campaigns=[_campaign("A", "Live", budget=budget), _campaign("B", "Live", budget=budget), _campaign("FREE", "Live"),
                   _campaign("TRIAL", "Approved", budget=budget)],
    )
    with serve(data) as sandbox:
        assert "rewardNotificationUrl" in sandbox.claim("A")
        assert "rewardNotificationUrl" in sandbox.claim("A")  # $60 of A's $80
        assert "rewardNotificationUrl" in sandbox.claim("B")  # $90 of the account's $100
        # B has spent $30 of its own $80, but a $30 claim would take the account to $120.
        assert sandbox.claim("B") == {"rewardNotificationText": OVER_BUDGET, "remainingRewardCount": 0}
        assert sandbox.claim("A")["rewardNotificationText"] == OVER_BUDGET
        # A campaign without a budget costs nothing in the sandbox [assumed] and is not stopped.
        assert "rewardNotificationUrl" in sandbox.claim("FREE")
        # Test mode costs nothing [doc], so an account over its cap still serves it (and its info).
        assert "/redeem/TEST-" in sandbox.claim("TRIAL")["rewardNotificationUrl"]
        assert sandbox.info("TRIAL")["remainingRewardCount"] == 10
        billing = sandbox.admin.catalog()["billing"]
        assert (billing["account_spent_usd"], billing["account_cap_usd"]) == (90, 100)
        assert [e["consumed"] for e in sandbox.admin.ledger()] == [True, True, True, False, False, True, False]
        assert sandbox.group("B")["remaining"] == 9


def test_the_shipped_budget_demo_allows_four_claims_a_month(api, sandbox):
    fields = {"appId": FIT_APP, "momentId": "WORKOUT_DONE", "campaignId": "FITBUDGET1", "rewardGroupId": "US"}
    claims = [api.claim(key=FIT_KEY, **fields).json() for _ in range(5)]  # $12.50 each of $50
    assert [("rewardNotificationUrl" in c) for c in claims] == [True, True, True, True, False]
    assert claims[-1]["rewardNotificationText"] == OVER_BUDGET
    campaign = next(c for c in sandbox.admin.catalog()["campaigns"] if c["id"] == "FITBUDGET1")
    assert campaign["budget"] == {"monthly_usd": 50, "cost_per_action_usd": 12.5, "spent_this_month_usd": 50}
