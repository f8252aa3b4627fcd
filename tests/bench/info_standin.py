"""What one ``moments info --profile NAME --json`` does, without the CLI: core's own cost, for bench_cli.py.

    python tests/bench/info_standin.py --profile NAME [--endpoint-url URL] [--json]

The same path as the command line (parse arguments, load the profiles, open the journal, a
CredentialStore, ``core/http.make_client()``, a Session, ``Session.preview``, render, print), with
nothing of ``moments_desktop/cli/``. bench_cli.py times it beside ``moments info`` so that the CLI's own
overhead (its imports, its argument parser, its error mapping) shows apart from core's. Exit code 0 when an
answer with a reward arrived, 1 otherwise; errors are printed on one line, as the CLI does.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys

from moments_desktop.core import startup
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.errors import MomentsError
from moments_desktop.core.http import make_client
from moments_desktop.core.session import Session


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="info_standin")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--endpoint-url")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


async def info(args: argparse.Namespace) -> int:
    profiles = startup.load_profiles()
    profile = next((p for p in profiles.profiles() if p.name == args.profile), None)
    if profile is None:
        print(f"info_standin: no profile named {args.profile!r}", file=sys.stderr)
        return 2
    journal = startup.open_journal(startup.journal_location())
    session = Session(profiles, CredentialStore(), journal, make_client())
    try:
        result = await session.preview(profile.id, args.endpoint_url)
    except MomentsError as exc:
        print(f"info_standin: {exc.title}: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await session.aclose()
    reward = result.reward
    if result.error is not None or reward is None:
        print(f"info_standin: {result.error.title if result.error else 'no reward'}", file=sys.stderr)
        return 1
    renderer = session.renderer
    if args.json:
        print(json.dumps({"schema": 1, "status": result.exchange.status,
                          "notificationText": reward.notification_text,
                          "remainingCount": reward.remaining_count,
                          "campaignEnd": reward.campaign_end_text,
                          "imageUrl": renderer.url(reward.image_url)}, ensure_ascii=False))
    else:
        print(reward.notification_text or "")
        print(f"{reward.remaining_count} left · ends {reward.campaign_end_text}")
        print(renderer.url(reward.image_url))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    # What the imports made lives until exit: out of the collector's sight, so that the collections closing a
    # Session runs (core/tasks.py finish_async_generator_finalizers) walk only what the call made.
    gc.freeze()
    return asyncio.run(info(args))


if __name__ == "__main__":
    sys.exit(main())
