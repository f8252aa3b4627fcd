"""Real sandboxes on 127.0.0.1 with a catalog of their own: the shipped catalog with some root (or app)
fields changed, e.g. ``variant_sandbox(sandbox_extensions=False)`` or ``variant_sandbox(quota={"per_day": 3})``.

What they yield has the attributes of the ``sandbox`` fixture (base_url, admin, demo_key, demo_body), so
session_helpers.run_session and the GUI harness take them as they are.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import httpx
import leak_guard  # tests/leak_guard.py

from moments_desktop.sandbox.admin import SandboxAdmin
from moments_desktop.sandbox.catalog import default_catalog_path, parse_catalog
from moments_desktop.sandbox.clock import parse_instant
from moments_desktop.sandbox.server import SandboxServer


# One TLS context for every throwaway httpx call (building one costs ~50 ms), as in sandbox/sandbox_ids.py.
TLS = ssl.create_default_context()
get = partial(httpx.get, verify=TLS)


def http_client(base_url: str, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=base_url, verify=TLS, **kwargs)


@dataclass(frozen=True)
class VariantSandbox:
    base_url: str
    admin: SandboxAdmin
    demo_key: str
    demo_body: dict
    server: SandboxServer

    def freeze_clock(self, instant: str) -> None:
        """Freeze the sandbox clock at ``instant`` (ISO-8601), over HTTP as a tester would."""
        self.admin.set_clock(instant)

    def now(self) -> datetime:
        return parse_instant(self.admin.clock()["now"])


def shipped_catalog_json(**root_fields: Any) -> dict[str, Any]:
    data = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    data.update(root_fields)
    return data


@contextmanager
def variant_sandbox(data: dict[str, Any] | None = None, *, long_lived: bool = False,
                    **root_fields: Any) -> Iterator[VariantSandbox]:
    """Serve ``data`` (default: the shipped catalog) with ``root_fields`` set at its root.
    ``long_lived``: for a module-scoped fixture (its sockets are not one test's leak)."""
    catalog = parse_catalog({**(data or shipped_catalog_json()), **root_fields})
    server = SandboxServer(catalog=catalog)
    admin_of = leak_guard.outlives_tests if long_lived else (lambda obj: obj)
    admin_of(server)
    with server, admin_of(SandboxAdmin(server.base_url, server.admin_token)) as admin:
        demo = catalog.demo()
        yield VariantSandbox(server.base_url, admin, demo.api_key, demo.body(), server)
