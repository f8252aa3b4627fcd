"""A reward group's monthly allowance: remainingRewardCount is "in the current month" [partner]."""

from dated_catalog import dated  # noqa: F401  (fixtures)
from dated_catalog import _dated_server  # noqa: F401

from moments_desktop.sandbox.messages import MONTH_EXHAUSTED, OUT_OF_STOCK, state_message

MONTH_GONE = state_message(MONTH_EXHAUSTED, "en-US")


def test_the_allowance_caps_the_month_and_a_new_month_resets_it(dated):
    dated.admin.set_clock("2027-03-31T23:00:00Z")
    assert dated.info("MONTHLY")["remainingRewardCount"] == 2  # min(5 in stock, 2 this month)
    assert [dated.claim("MONTHLY")["remainingRewardCount"] for _ in range(2)] == [1, 0]
    refused = dated.claim("MONTHLY")
    assert refused == {"rewardNotificationText": MONTH_GONE, "remainingRewardCount": 0}
    assert dated.info("MONTHLY") == refused
    assert dated.admin.ledger()[-1]["consumed"] is False and dated.admin.ledger()[-1]["reward_url"] is None
    group = dated.group("MONTHLY")
    assert (group["monthly_allowance"], group["claimed_this_month"], group["remaining"]) == (2, 2, 3)
    assert group["available_this_month"] == 0

    # The clock enters April: a fresh allowance, out of what is left in stock.
    dated.admin.advance_clock("PT1H")
    assert dated.info("MONTHLY")["remainingRewardCount"] == 2
    assert dated.group("MONTHLY")["claimed_this_month"] == 0
    assert [dated.claim("MONTHLY")["remainingRewardCount"] for _ in range(2)] == [1, 0]
    # May: one left in stock, so the count is 1, and after it the stock (not the month) is gone.
    dated.admin.set_clock("2027-05-01")
    assert dated.info("MONTHLY")["remainingRewardCount"] == 1
    assert "rewardNotificationUrl" in dated.claim("MONTHLY")
    assert dated.claim("MONTHLY")["rewardNotificationText"] == state_message(OUT_OF_STOCK, "en-US")
    # Going back to March shows March's count again: counters are per month, not reset by timers.
    dated.admin.set_clock("2027-03-15")
    assert dated.group("MONTHLY")["claimed_this_month"] == 2


def test_an_allowance_of_zero_gives_nothing_and_says_so_in_the_groups_language(dated):
    answer = dated.claim("MONTHLY", "DE")
    assert answer == {"rewardNotificationText": state_message(MONTH_EXHAUSTED, "de-DE"), "remainingRewardCount": 0}
    assert dated.group("MONTHLY", "DE")["remaining"] == 10


def test_test_mode_reports_the_allowance_but_uses_none_of_it(dated):
    assert dated.info("TESTMONTHLY")["remainingRewardCount"] == 2
    claims = [dated.claim("TESTMONTHLY") for _ in range(4)]
    assert {c["rewardNotificationUrl"] for c in claims} == {claims[0]["rewardNotificationUrl"]}
    assert [c["remainingRewardCount"] for c in claims] == [2, 2, 2, 2]
    assert dated.group("TESTMONTHLY")["claimed_this_month"] == 0


def test_a_reset_clears_the_months_usage_with_the_inventory(dated):
    dated.admin.set_clock("2027-03-10")
    dated.claim("MONTHLY")
    dated.claim("MONTHLY")
    dated.admin.reset()
    dated.admin.set_clock("2027-03-10")
    group = dated.group("MONTHLY")
    assert (group["claimed_this_month"], group["remaining"]) == (0, 5)
    assert dated.info("MONTHLY")["remainingRewardCount"] == 2
