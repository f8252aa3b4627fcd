"""Faults with ``match``: they apply only to requests whose body holds the given values, so a tool
(the message preview) can fault its own call without hitting anyone else's."""

import pytest
from sandbox_ids import post


def _post(sandbox, endpoint="GetRewardInfo", **fields):
    return post(
        f"{sandbox.base_url}/{endpoint}",
        json={**sandbox.demo_body, **fields},
        headers={"x-api-key": sandbox.demo_key},
        timeout=10.0,
    )


def test_a_matched_fault_leaves_other_requests_alone_and_waits_for_its_own(sandbox):
    fault = sandbox.admin.add_fault("GetRewardInfo", "status", status=404, times=1,
                                    match={"momentId": "preview-own"})
    assert fault["match"] == {"momentId": "preview-own"}

    # Someone else's call, before and after: the real answer, and the fault still waits.
    assert _post(sandbox).status_code == 200
    assert [f["id"] for f in sandbox.admin.faults()] == [fault["id"]]

    own = _post(sandbox, momentId="preview-own")
    assert own.status_code == 404
    assert sandbox.admin.faults() == []  # one-shot: used up by its own call only
    assert _post(sandbox, momentId="preview-own").status_code == 200  # the sandbox's real [] answer


def test_an_unmatched_fault_after_a_matched_one_still_applies_to_everyone_else(sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=404, match={"appId": "nobody"})
    sandbox.admin.add_fault("GetRewardInfo", "status", status=503, times=1)
    assert _post(sandbox).status_code == 503


def test_match_on_getreward_counts_only_matching_claims(sandbox):
    sandbox.admin.add_fault("GetReward", "status", status=502, times=1, match={"deviceType": "iOS"})
    assert _post(sandbox, endpoint="GetReward").status_code == 200
    assert _post(sandbox, endpoint="GetReward", deviceType="iOS").status_code == 502


def test_every_fault_lists_its_match_even_when_it_has_none(sandbox):
    assert sandbox.admin.add_fault("GetReward", "latency", seconds=0.1)["match"] is None


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        ({"endpoint": "images", "kind": "latency", "match": {"appId": "x"}}, "images have no body"),
        ({"endpoint": "GetReward", "kind": "drop_before_read", "match": {"appId": "x"}}, "never reads"),
        ({"endpoint": "GetReward", "kind": "latency", "match": {}}, "'match' must be an object"),
        ({"endpoint": "GetReward", "kind": "latency", "match": ["appId"]}, "'match' must be an object"),
        ({"endpoint": "GetReward", "kind": "latency", "match": {"campaignID": "x"}}, "request body fields"),
        ({"endpoint": "GetReward", "kind": "latency", "match": {"appId": 1}}, "must be a string"),
    ],
)
def test_a_bad_match_is_refused_with_the_reason(sandbox, definition, fragment):
    response = post(f"{sandbox.base_url}/__sandbox/faults", json=definition)
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert sandbox.admin.faults() == []
