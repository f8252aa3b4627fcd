"""``moments sandbox``: the server ``moments-sandbox`` runs (moments_desktop/sandbox/__main__.py), not a copy."""

from __future__ import annotations

import argparse

from .output import PROG, Output


def serve(args: argparse.Namespace, out: Output) -> int:
    from moments_desktop.sandbox.__main__ import serve as serve_sandbox

    return serve_sandbox(catalog_path=args.catalog, port=args.port, prog=PROG)
