"""Campaign dates drive states at the sandbox clock's time [doc, create-campaign]: Approved with a
start date turns Live on that day, Live turns Finished after the end date."""

from dated_catalog import dated  # noqa: F401  (fixtures)
from dated_catalog import _dated_server  # noqa: F401
from sandbox_ids import FIT_APP, FIT_KEY

from moments_desktop.sandbox.messages import state_message

ENDED = state_message("Finished", "en-US")


def _is_test_url(url: str) -> bool:
    return "/redeem/TEST-" in url


def test_approved_turns_live_on_its_start_day_and_finished_after_its_end_day(dated):
    # The last moment before the start day: test mode, the same URL, nothing consumed.
    dated.admin.set_clock("2027-02-28T23:59:59.999Z")
    assert dated.info("SOON")["remainingRewardCount"] == 10
    first, second = dated.claim("SOON"), dated.claim("SOON")
    assert _is_test_url(first["rewardNotificationUrl"])
    assert first["rewardNotificationUrl"] == second["rewardNotificationUrl"]
    assert second["remainingRewardCount"] == 10
    admin = dated.campaign("SOON")
    assert (admin["state"], admin["configured_state"], admin["test_mode"]) == ("Approved", "Approved", True)
    assert admin["start_date"] == "2027-03-01" and admin["end_date"] == "2027-03-31"
    assert admin["next_transition"] == {"state": "Live", "at": "2027-03-01T00:00:00.000Z"}

    # From midnight UTC of the start day: Live, a unique URL per claim, one consumed each.
    dated.admin.set_clock("2027-03-01T00:00:00Z")
    live = [dated.claim("SOON") for _ in range(2)]
    urls = [c["rewardNotificationUrl"] for c in live]
    assert len(set(urls)) == 2 and not any(_is_test_url(u) for u in urls)
    assert [c["remainingRewardCount"] for c in live] == [9, 8]
    assert dated.info("SOON")["remainingRewardCount"] == 8
    admin = dated.campaign("SOON")
    assert (admin["state"], admin["configured_state"], admin["test_mode"]) == ("Live", "Approved", False)
    assert admin["next_transition"] == {"state": "Finished", "at": "2027-04-01T00:00:00.000Z"}

    # The end day runs to its last millisecond.
    dated.admin.set_clock("2027-03-31T23:59:59.999Z")
    assert "rewardNotificationUrl" in dated.claim("SOON")

    # After the end day: Finished, the end date still sent unchanged, nothing consumed, no URL.
    dated.admin.advance_clock("PT0.001S")
    ended = dated.claim("SOON")
    assert ended == {"rewardNotificationText": ENDED, "campaignEndDate": "2027-03-31"}
    assert dated.info("SOON") == ended
    admin = dated.campaign("SOON")
    assert (admin["state"], admin["next_transition"]) == ("Finished", None)
    assert dated.group("SOON")["remaining"] == 7
    assert [(e["consumed"], e["reward_url"] is not None) for e in dated.admin.ledger()] == [
        (False, True), (False, True), (True, True), (True, True), (True, True), (False, False)]
    assert [e["time"] for e in dated.admin.ledger()][-1] == "2027-04-01T00:00:00.000Z"


def test_the_state_is_computed_at_each_request_so_the_clock_can_go_back(dated):
    dated.admin.set_clock("2027-04-02")
    assert dated.claim("SOON")["rewardNotificationText"] == ENDED
    dated.admin.set_clock("2027-03-15")
    assert "rewardNotificationUrl" in dated.claim("SOON") and dated.campaign("SOON")["state"] == "Live"
    dated.admin.set_clock("2027-01-15")
    assert _is_test_url(dated.claim("SOON")["rewardNotificationUrl"])


def test_a_date_time_starts_at_its_instant_and_an_epoch_end_at_its_second(dated):
    dated.admin.set_clock("2027-03-01T09:29:59Z")
    assert dated.campaign("TIMED")["state"] == "Approved"
    assert _is_test_url(dated.claim("TIMED")["rewardNotificationUrl"])
    dated.admin.set_clock("2027-03-01T09:30:00Z")
    assert not _is_test_url(dated.claim("TIMED")["rewardNotificationUrl"])
    assert dated.campaign("TIMED")["next_transition"] == {"state": "Finished", "at": "2027-03-30T10:00:00.000Z"}
    dated.admin.set_clock("2027-03-30T09:59:59Z")
    assert "rewardNotificationUrl" in dated.claim("TIMED")
    dated.admin.set_clock("2027-03-30T10:00:00Z")
    assert dated.claim("TIMED") == {"rewardNotificationText": ENDED, "campaignEndDate": 1806400800}


def test_a_live_campaign_finishes_after_its_end_day_in_the_customers_language(dated):
    dated.admin.set_clock("2027-03-31T12:00:00Z")
    assert "rewardNotificationUrl" in dated.claim("LIVEEND", "JP")
    dated.admin.set_clock("2027-04-01T00:00:00Z")
    assert dated.claim("LIVEEND", "JP")["rewardNotificationText"] == state_message("Finished", "ja-JP")


def test_an_end_date_the_sandbox_cannot_read_is_passed_through_and_drives_nothing(dated):
    dated.admin.set_clock("8999-12-31T23:59:59Z")
    answer = dated.claim("ODDEND")
    assert "rewardNotificationUrl" in answer and answer["campaignEndDate"] == "end of March"
    admin = dated.campaign("ODDEND")
    assert (admin["state"], admin["finished_from"], admin["next_transition"]) == ("Live", None, None)


def test_approved_without_a_start_date_stays_in_test_mode_after_its_end_date(dated):
    dated.admin.set_clock("2027-05-01")
    answer = dated.claim("NOSTART")
    assert _is_test_url(answer["rewardNotificationUrl"]) and answer["remainingRewardCount"] == 10
    assert dated.campaign("NOSTART")["state"] == "Approved"


def test_a_suspended_campaign_ignores_its_dates(dated):
    for moment in ("2027-02-01", "2027-03-15", "2027-05-01"):
        dated.admin.set_clock(moment)
        assert dated.claim("PAUSED")["rewardNotificationText"] == state_message("Suspended", "en-US")
        assert dated.campaign("PAUSED")["next_transition"] is None


def test_the_shipped_dated_demo_goes_live_on_its_start_day(api, sandbox):
    fields = {"appId": FIT_APP, "momentId": "WORKOUT_DONE", "campaignId": "FITSPRING1", "rewardGroupId": "US"}
    assert _is_test_url(api.claim(key=FIT_KEY, **fields).json()["rewardNotificationUrl"])  # real time: test mode
    sandbox.admin.set_clock("2035-03-01")
    live = api.claim(key=FIT_KEY, **fields).json()
    assert not _is_test_url(live["rewardNotificationUrl"]) and live["remainingRewardCount"] == 4  # 5 a month
    sandbox.admin.set_clock("2035-06-01")
    assert api.claim(key=FIT_KEY, **fields).json()["rewardNotificationText"] == ENDED
