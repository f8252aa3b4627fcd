"""Reward images and the redemption page, which the sandbox serves itself."""

import re

import httpx
import pytest
from sandbox_ids import LIVE, get

MAGIC = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "image/webp": b"RIFF",
}


def test_catalog_offers_png_jpeg_and_webp(sandbox):
    types = {r["content_type"] for r in sandbox.admin.catalog()["rewards"]}
    assert {"image/png", "image/jpeg", "image/webp"} <= types


def test_every_reward_image_is_served_with_its_type_and_decodes(sandbox, qapp):
    from PySide6.QtGui import QImage

    for reward in sandbox.admin.catalog()["rewards"]:
        response = get(reward["image_url"])
        assert response.status_code == 200, reward["image"]
        assert response.headers["content-type"] == reward["content_type"]
        assert response.content.startswith(MAGIC[reward["content_type"]])
        assert len(response.content) < 150 * 1024
        image = QImage.fromData(response.content)
        assert (image.width(), image.height()) == (600, 400), reward["image"]


def test_reward_image_url_is_fetchable(api):
    url = api.info().json()["rewardImageUrl"]
    response = get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"


@pytest.mark.parametrize("name", ["nope.png", "catalog.json", "HEADPHONES.PNG"])
def test_unknown_image_is_404(sandbox, name):
    response = get(f"{sandbox.base_url}/images/{name}")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


@pytest.mark.parametrize("name", ["..%2Fcatalog.json", "..%2F..%2Fresources%2Fcatalog.json"])
def test_image_path_cannot_leave_the_image_folder(sandbox, name):
    response = get(f"{sandbox.base_url}/images/{name}")
    assert response.status_code in (403, 404)
    assert "schema_version" not in response.text


def _redeem(url: str) -> httpx.Response:
    response = get(url)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response


def test_test_mode_redeem_page(api):
    url = api.claim().json()["rewardNotificationUrl"]
    response = _redeem(url)
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en-US">' in html
    assert "Your reward is on its way" in html
    assert "Wireless Headphones" in html
    assert "Your Wireless Headphones are on the way. Tap Redeem now to claim them." in html
    assert url.rsplit("/", 1)[1] in html
    assert "Test mode" in html
    img = re.search(r'<img src="([^"]+)"', html).group(1)
    assert get(httpx.URL(url).join(img)).status_code == 200


def test_live_redeem_page_in_japanese(api):
    url = api.claim(campaignId="LIVECAMP1", rewardGroupId="JP").json()["rewardNotificationUrl"]
    response = _redeem(url)
    assert response.status_code == 200
    html = response.text
    assert '<html lang="ja-JP">' in html
    assert "特典をお届けします" in html
    assert "ワイヤレスヘッドホン" in html
    assert "Test mode" not in html and "テストモード" not in html


@pytest.mark.parametrize(
    "code", ["LIVE-AAAA-BBBB-CCCC", "TEST-0000-0000-0000", "<img src=x onerror=alert(1)>"]
)
def test_unknown_code_gives_a_404_page(sandbox, code):
    response = _redeem(f"{sandbox.base_url}/redeem/{code}")
    assert response.status_code == 404
    assert "This reward link is not valid" in response.text
    assert "<img src=x" not in response.text  # the code is shown escaped


def test_live_codes_are_forgotten_with_the_ledger(api, sandbox):
    url = api.claim(**LIVE).json()["rewardNotificationUrl"]
    assert get(url).status_code == 200
    sandbox.admin.reset()  # keeps the ledger, so the URL it lists still opens
    assert get(url).status_code == 200
    sandbox.admin.reset(ledger=True)
    assert get(url).status_code == 404
