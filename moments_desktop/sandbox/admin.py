"""A small synchronous client for the sandbox's admin API (``/__sandbox/``), used by tests."""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any, Self

import httpx

from moments_desktop.api_schema import JSON_MEDIA_TYPE, SANDBOX_ADMIN_TOKEN_HEADER


@cache
def _tls_context() -> ssl.SSLContext:
    # Building a context costs ~50 ms; tests create many admins.
    return ssl.create_default_context()


class SandboxAdmin:
    """``admin_token`` (``SandboxServer.admin_token``, printed by ``moments-sandbox``) lets ``catalog()``
    show the API keys; without it they are left out."""

    def __init__(self, base_url: str, admin_token: str | None = None, *, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        headers = {SANDBOX_ADMIN_TOKEN_HEADER: admin_token} if admin_token is not None else {}
        self._http = httpx.Client(
            base_url=self.base_url + "/__sandbox", timeout=timeout, verify=_tls_context(), headers=headers
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if method in ("POST", "DELETE"):
            # The sandbox refuses admin writes of any other type (a web page's "simple request").
            kwargs.setdefault("headers", {})["Content-Type"] = JSON_MEDIA_TYPE
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def catalog(self) -> dict[str, Any]:
        """The loaded catalog, with each reward group's current ``remaining`` inventory (and the API
        keys if this admin holds the admin token)."""
        return self._call("GET", "/catalog")

    def remaining(self, campaign_id: str, reward_group_id: str) -> int:
        for campaign in self.catalog()["campaigns"]:
            if campaign["id"] == campaign_id:
                for group in campaign["reward_groups"]:
                    if group["id"] == reward_group_id:
                        return group["remaining"]
        raise KeyError(f"{campaign_id}/{reward_group_id}")

    def reset(self, ledger: bool = False) -> None:
        """Restore inventory; clear rate-limit windows, quota counters, issued codes and faults; the
        ledger only with ``ledger=True``."""
        self._call("POST", "/reset", json={"ledger": ledger})

    def clock(self) -> dict[str, Any]:
        """The sandbox clock: ``{"now": ISO, "frozen": bool, "real": bool, "month": "YYYY-MM"}``."""
        return self._call("GET", "/clock")

    def set_clock(self, iso: str, frozen: bool = True) -> dict[str, Any]:
        """Set the clock to ``iso``, frozen there (or, with ``frozen=False``, running on from it)."""
        return self._call("POST", "/clock", json={"set": iso, "frozen": frozen})

    def advance_clock(self, duration: str) -> dict[str, Any]:
        """Move the clock by an ISO-8601 duration such as ``"P1D"``, ``"PT2H"``, ``"P1M"``."""
        return self._call("POST", "/clock", json={"advance": duration})

    def real_clock(self) -> dict[str, Any]:
        """Return the clock to real time."""
        return self._call("POST", "/clock", json={"real": True})

    def ledger(self) -> list[dict[str, Any]]:
        """The ledger's entries, oldest first (at most its ``limit``; see ledger_page)."""
        return self.ledger_page()["entries"]

    def ledger_page(self) -> dict[str, Any]:
        """The whole answer: ``{"entries": [...], "dropped": N, "limit": 10000}``."""
        return self._call("GET", "/ledger")

    def add_fault(self, endpoint: str, kind: str, **params: Any) -> dict[str, Any]:
        """E.g. ``add_fault("GetReward", "latency", seconds=2, times=1)``; returns the fault with its id."""
        return self._call("POST", "/faults", json={"endpoint": endpoint, "kind": kind, **params})

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")

    def remove_fault(self, fault_id: str) -> None:
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> int:
        return self._call("DELETE", "/faults")["cleared"]

    def openapi(self) -> dict[str, Any]:
        return self._call("GET", "/openapi.json")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
