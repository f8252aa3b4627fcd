"""Helpers for the sandbox tests: raw httpx calls, nothing from the app's client."""

import httpx
import pytest
from sandbox_ids import client as http_client

_DEMO = object()


class Api:
    """POSTs Moments requests: the demo body, with ``fields`` overriding any of its values."""

    def __init__(self, sandbox, client: httpx.Client):
        self.sandbox = sandbox
        self.client = client

    def post(self, endpoint: str, *, key=_DEMO, body=None, **fields) -> httpx.Response:
        headers = {}
        if key is _DEMO:
            key = self.sandbox.demo_key
        if key is not None:
            headers["x-api-key"] = key
        if body is None:
            body = {**self.sandbox.demo_body, **fields}
        if isinstance(body, (bytes, str)):
            return self.client.post(f"/{endpoint}", content=body, headers=headers)
        return self.client.post(f"/{endpoint}", json=body, headers=headers)

    def info(self, **kwargs) -> httpx.Response:
        return self.post("GetRewardInfo", **kwargs)

    def claim(self, **kwargs) -> httpx.Response:
        return self.post("GetReward", **kwargs)


@pytest.fixture
def api(sandbox):
    with http_client(sandbox.base_url, timeout=10) as client:
        yield Api(sandbox, client)
