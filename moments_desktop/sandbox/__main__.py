"""``moments-sandbox`` / ``python -m moments_desktop.sandbox``: serve the sandbox until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from moments_desktop.api_schema import SANDBOX_ADMIN_TOKEN_HEADER
from moments_desktop.sandbox.catalog import CatalogError
from moments_desktop.sandbox.server import SandboxServer, SandboxStartError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moments-sandbox",
        description="Serve a local simulation of the Amazon Moments API (GetRewardInfo, GetReward).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on; 0 picks a free one (default: 0)"
    )
    parser.add_argument("--catalog", metavar="FILE", help="catalog JSON file (default: the built-in catalog)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return serve(catalog_path=args.catalog, host=args.host, port=args.port)


def serve(*, catalog_path: str | None = None, host: str = "127.0.0.1", port: int = 0,
          prog: str = "moments-sandbox") -> int:
    """Serve until Ctrl+C or SIGTERM; the exit code. ``moments sandbox`` is this too (``prog`` names which
    command speaks in its error lines)."""
    server = SandboxServer(catalog_path=catalog_path, host=host, port=port)
    try:
        base_url = server.start()
    except CatalogError as exc:
        print(f"{prog}: the catalog cannot be used: {exc}", file=sys.stderr)
        return 2
    except SandboxStartError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"Moments sandbox listening on {base_url}", flush=True)
        print(
            f"Admin API and OpenAPI document: {base_url}/__sandbox/openapi.json (Ctrl+C to stop)", flush=True
        )
        # Only this process's user sees its output: the token shows the API keys in /__sandbox/catalog.
        print(f"Admin token (header {SANDBOX_ADMIN_TOKEN_HEADER}): {server.admin_token}", flush=True)
        while not stop.wait(0.5):  # a timed wait keeps Ctrl+C responsive on Windows
            if not server.running:
                print(f"{prog}: the server stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    return 0

if __name__ == "__main__":
    sys.exit(main())
