"""SandboxState without a server: the shapes of the codes it issues, what the ledger keeps of odd
bodies, and its guards (the HTTP behaviour is in the other sandbox tests)."""

import re

import pytest

from moments_desktop.sandbox.catalog import load_default_catalog
from moments_desktop.sandbox.state import (
    ELLIPSIS,
    LEDGER_LIMIT,
    LEDGER_TEXT_CHARS,
    UNKNOWN_KEY_LEDGER_LIMIT,
    SandboxState,
    fixed_test_mode_code,
)

CODE_PART = "[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}"


@pytest.fixture
def state():
    return SandboxState(load_default_catalog())


def test_the_ledger_limits_are_the_documented_ones():
    assert (LEDGER_LIMIT, UNKNOWN_KEY_LEDGER_LIMIT, LEDGER_TEXT_CHARS) == (10_000, 1_000, 200)  # CATALOG.md


def test_live_codes_are_three_groups_of_four_unambiguous_characters(state):
    codes = {state.issue_live_code("LIVECAMP1", "US", "headphones", "en-US").code for _ in range(50)}
    assert len(codes) == 50
    assert all(re.fullmatch(f"LIVE-{CODE_PART}-{CODE_PART}-{CODE_PART}", code) for code in codes)


def test_test_mode_codes_are_fixed_hex_groups_known_only_for_test_mode_campaigns(state):
    code = fixed_test_mode_code("DEMOCAMP1", "US")
    assert re.fullmatch("TEST-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", code)
    assert code == fixed_test_mode_code("DEMOCAMP1", "US") != fixed_test_mode_code("DEMOCAMP1", "JP")
    assert state.lookup_code(code).campaign_id == "DEMOCAMP1"
    assert state.lookup_code(fixed_test_mode_code("LIVECAMP1", "US")) is None  # a Live campaign has none


def test_consuming_with_nothing_left_is_a_bug_caught_not_a_negative_count(state):
    while state.remaining_for("LIVECAMP1", "US") > 0:
        state.consume("LIVECAMP1", "US")
    with pytest.raises(RuntimeError):
        state.consume("LIVECAMP1", "US")
    assert state.remaining_for("LIVECAMP1", "US") == 0


def test_removing_a_fault_removes_only_that_one(state):
    first = state.add_fault({"endpoint": "GetReward", "kind": "latency"})
    second = state.add_fault({"endpoint": "GetReward", "kind": "malformed"})
    assert state.remove_fault(first.id) and not state.remove_fault(first.id)
    assert [f.id for f in state.faults] == [second.id]


def test_a_new_entry_is_not_consumed_until_the_handler_says_so(state):
    entry = state.record({"appId": "DEMO1"}, "DEMO1")
    assert (entry["consumed"], entry["status"], entry["reward_url"], entry["fault"]) == (False, None, None, None)


def test_of_a_body_that_is_not_an_object_the_ledger_keeps_a_summary_or_an_excerpt(state):
    assert state.record([1, 2, 3], None)["request"] == "<array of 3 items>"
    assert state.record("short", None)["request"] == "short"
    # Raw bytes: 200 characters are shown, even of four-byte characters (800 bytes) ...
    exact = state.record(("😀" * LEDGER_TEXT_CHARS).encode(), None)["request"]
    assert exact == "😀" * LEDGER_TEXT_CHARS
    # ... and one more character than that is marked as cut.
    longer = state.record(("😀" * (LEDGER_TEXT_CHARS + 1)).encode(), None)["request"]
    assert longer == "😀" * LEDGER_TEXT_CHARS + ELLIPSIS
    ascii_long = state.record(b"x" * 5000, None)["request"]
    assert ascii_long == "x" * LEDGER_TEXT_CHARS + ELLIPSIS
