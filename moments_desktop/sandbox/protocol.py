"""A uvicorn h11 protocol that lets the sandbox app reach the TCP transport.

Fault injection needs to close a connection *without any HTTP response*: if an ASGI app
raises or returns before responding, uvicorn answers 500 instead. With the transport
in the scope (``scope["extensions"][TRANSPORT_KEY]``) the app can close the socket
itself, then wait for uvicorn to notice the disconnect so it sends nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

TRANSPORT_KEY = "moments_desktop.sandbox.transport"


class SandboxH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app_with_transport(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[TRANSPORT_KEY] = self.transport
            await inner(scope, receive, send)

        self.app = app_with_transport


def transport_of(scope: dict) -> asyncio.Transport | None:
    return (scope.get("extensions") or {}).get(TRANSPORT_KEY)
