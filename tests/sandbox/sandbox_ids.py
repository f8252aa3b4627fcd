"""Ids from the shipped catalog (resources/catalog.json) and small HTTP helpers for the sandbox tests."""

import ssl
from functools import partial

import httpx

FIT_APP = "3f6c2a8e-5b1d-4e7f-9a0c-7d2e4b6f8a10"
FIT_KEY = "sandbox-fit-key-0001"
DEMO_KEY_2 = "sandbox-demo-key-0002"
LIVE = {"campaignId": "LIVECAMP1", "rewardGroupId": "US"}

# One TLS context for every throwaway httpx call: building one per call costs ~50 ms.
TLS = ssl.create_default_context()
get = partial(httpx.get, verify=TLS)
post = partial(httpx.post, verify=TLS)
delete = partial(httpx.delete, verify=TLS)
stream = partial(httpx.stream, verify=TLS)


def client(base_url: str, **kwargs) -> httpx.Client:
    return httpx.Client(base_url=base_url, verify=TLS, **kwargs)
