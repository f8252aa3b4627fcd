"""Golden files of the exports for awkward values: what each format writes, character for character.

A change to a snippet shows up here as a diff to review. When the change is meant, regenerate with

    MOMENTS_REGENERATE_GOLDEN=1 python3 scripts/dev.py test tests/core/test_exports_golden.py

and read the diff of tests/core/golden/exports/ before committing it. (The other export tests prove the
snippets work: they run them; these pin down how they read.)
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.exports import ExportFormat, export_request
from moments_desktop.core.request import RewardRequest
from moments_desktop.core.wire import build_request

GOLDEN = Path(__file__).parent / "golden" / "exports"
REGENERATE = os.environ.get("MOMENTS_REGENERATE_GOLDEN") == "1"
BASE_URL = "https://dnxr7vm27d.execute-api.us-east-1.amazonaws.com/prod"
DEMO = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android", "campaignId": "DEMOCAMP1",
        "rewardGroupId": "amz1yprime"}
CASES = {
    "demo": DEMO,
    "quotes": {**DEMO, "appId": "it's", "momentId": 'say "hi"', "campaignId": "‘curly’ ‚low‛ ’"},
    "form_separators": {**DEMO, "momentId": "a&b=c", "campaignId": "two words", "rewardGroupId": "100%+1"},
    "shell": {**DEMO, "appId": "$HOME", "momentId": "`id` $(id)", "campaignId": "back\\slash \\\\ !!"},
    "emoji_arabic": {**DEMO, "momentId": "🎉😀", "campaignId": "حملة رمضان", "rewardGroupId": "مرحبا"},
    "liquid": {**DEMO, "momentId": "{{ moments.x }}", "campaignId": "{% abort_message('x') %}",
               "rewardGroupId": "}}%}"},
}


def cases():
    for case in CASES:
        for fmt in ExportFormat:
            for endpoint in Endpoint:
                if case == "demo" or endpoint is Endpoint.GET_REWARD_INFO:
                    yield pytest.param(case, fmt, endpoint, id=f"{case}-{endpoint.value}-{fmt.value}")


@pytest.mark.parametrize(("case", "fmt", "endpoint"), list(cases()))
def test_golden(case, fmt, endpoint):
    request = RewardRequest(base_url=BASE_URL, **CASES[case]).validated()
    export = export_request(build_request(request, endpoint, ""), fmt, cost_per_action=Decimal("2.50"))
    path = GOLDEN / f"{case}.{endpoint.value}.{fmt.value}.txt"
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(export.text, encoding="utf-8", newline="")
    assert path.is_file(), f"{path.name} is missing: regenerate (see this file's docstring)"
    assert export.text == path.read_bytes().decode("utf-8"), f"{path.name} differs"
