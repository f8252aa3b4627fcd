"""The reward image's own GET: a whole-download deadline, not only per read."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from moments_desktop.ui.image_loader import ImageLoadError, fetch_image

pytestmark = pytest.mark.gui


def test_the_image_still_loads_within_the_deadline(qapp, sandbox):
    async def run():
        async with httpx.AsyncClient() as http:
            return await fetch_image(http, f"{sandbox.base_url}/images/headphones.png")

    assert not asyncio.run(run()).isNull()


def test_a_dripping_image_server_is_cut_off_by_the_deadline(qapp, sandbox):
    sandbox.admin.add_fault("images", "slow_drip", seconds=5, chunk_bytes=64, times=1)

    async def run():
        async with httpx.AsyncClient() as http:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(ImageLoadError, match="did not answer in time"):
                await fetch_image(http, f"{sandbox.base_url}/images/headphones.png", deadline=0.5)
            return loop.time() - started

    assert asyncio.run(run()) < 3  # every chunk arrived well within the 10 s read timeout
