"""``moments``: the parser, the dispatch, and the one place that turns failures into a line and an exit code.

As in HTTPie's ``core.main``: ``run()`` owns error handling and exit codes, each command only does its work.
A command is ``handler(args, out) -> int``, found by name when it runs, so ``moments info`` imports nothing
of ``history``, the sandbox stack or the exports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from .exit_codes import ExitCode, exit_code_help
from .output import PROG, Output, UsageError

ENDPOINT_CHOICES = ("info", "reward")  # getRewardInfo, getReward
EXPORT_FORMATS = ("curl", "httpie", "python", "powershell", "braze")


# The key commands never repeat what was typed: a key pasted onto the command line by mistake must not
# reach the terminal's scrollback or a CI log as well.
KEY_NOT_AN_ARGUMENT = ("the API key is never taken from the command line (the shell's history and the process "
                       "list would keep it): type it at the prompt, or pipe it on stdin; what was typed is not "
                       "repeated here")
# argparse errors that name only options, never a typed value ("the following arguments are required: --profile")
_NAMES_OPTIONS_ONLY = ("arguments are required", "expected one argument")


class _Parser(argparse.ArgumentParser):
    never_echo = False  # set on the key commands' parsers

    def error(self, message: str) -> NoReturn:
        """One line (argparse prints the whole usage first), naming where the help is."""
        if self.never_echo and not any(words in message for words in _NAMES_OPTIONS_ONLY):
            message = KEY_NOT_AN_ARGUMENT
        sys.stderr.write(f"{PROG}: {message} (see '{self.prog} --help')\n")
        sys.exit(ExitCode.USAGE)


def _command(sub: argparse._SubParsersAction, name: str, handler: str, help_text: str,
             description: str | None = None) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=description or help_text,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler)
    return parser


def _profile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", required=True, metavar="NAME", help="the saved profile to use (its name)")


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON document (\"schema\": 1) instead of text")


def _sandbox_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sandbox", action="store_true",
                        help="start the built-in sandbox in this process for the call (for the \"Sandbox demo\" "
                             "profile, which needs nothing else running)")


def _endpoint_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint-url", metavar="URL",
                        help="send to this endpoint instead of the profile's, for this call only")


def _proxy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--proxy", metavar="URL",
                        help="go through this proxy (http://host:port, or 'system' or 'none') instead of the one "
                             "set in Moments Desktop's File > Network settings, for this call only")


def build_parser() -> argparse.ArgumentParser:
    from moments_desktop import __version__

    parser = _Parser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Preview and claim Amazon Moments rewards with the profiles, keychain and history of "
                    "Moments Desktop.",
        epilog=exit_code_help())
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    info = _command(sub, "info", "moments_desktop.cli.calls:info",
                    "getRewardInfo (free): the reward's texts, remaining count, end date and image URL")
    _profile(info), _json(info), _sandbox_flag(info), _endpoint_url(info), _proxy(info)

    claim = _command(sub, "claim", "moments_desktop.cli.calls:claim",
                     "getReward (billed): consume one reward and print its URL, after an explicit confirmation",
                     "getReward (billed): consume one reward and print its redemption URL.\n\n"
                     "A live profile needs --confirm with its campaign ID typed exactly; a test-mode profile "
                     "needs --yes\n(--yes alone never confirms a live claim). Without them the request that "
                     f"would be sent is printed and\nnothing is sent (exit {int(ExitCode.USAGE)}); a --confirm "
                     "that does not match is refused the same way.\n"
                     "With an --endpoint-url that differs from the profile's saved endpoint the claim counts "
                     "as live\nwhatever the profile says: it needs --confirm.\n\n"
                     "A claim is sent once, never retried, and journaled like one from the window. Ctrl+C while "
                     f"it is in\nflight exits {int(ExitCode.INTERRUPTED)}: its outcome is unknown (recorded so in "
                     "the history, see 'moments history --unresolved').")
    _profile(claim)
    claim.add_argument("--confirm", metavar="CAMPAIGN_ID",
                       help="a live profile's campaign ID, typed exactly (case and spaces count)")
    claim.add_argument("--yes", action="store_true", help="confirm a test-mode profile's claim")
    _json(claim), _sandbox_flag(claim), _proxy(claim)
    claim.add_argument("--endpoint-url", metavar="URL",
                       help="send to this endpoint instead of the profile's, for this call only; when it differs from "
                            "the saved one the claim counts as live and needs --confirm")

    sweep = _command(sub, "sweep", "moments_desktop.cli.sweep:sweep",
                     "getRewardInfo (free) for every combination of field values: a campaign check for CI",
                     "getRewardInfo (free) for every combination of the chosen field values, as one campaign "
                     "check:\nthe plan first (how many combinations, how long at the key's rate limit), then "
                     "the counts per\nstatus, the failing combinations and, with --baseline, what changed. "
                     "A sweep never sends getReward\n(it cannot claim anything) and journals each call like a "
                     "preview.\n\n"
                     "Fields the sweep does not name keep the profile's value. Nothing is sent when a --field, "
                     "a value or\nthe number of combinations is wrong (exit "
                     f"{int(ExitCode.USAGE)}) or the baseline cannot be read (exit {int(ExitCode.LOCAL)}).\n\n"
                     f"Exit {int(ExitCode.SUCCESS)} when every combination has a reward (and, with "
                     "--fail-on-change, none changed); "
                     f"{int(ExitCode.SWEEP_FAILED)} when at\nleast one is an error, declined or no reward (or "
                     f"changed, with --fail-on-change); {int(ExitCode.LOCAL)} when a report or the\nbaseline "
                     "could not be written (the results are printed all the same); "
                     f"{int(ExitCode.NETWORK)} when the endpoint\nanswered none, or stopped answering (the sweep "
                     "stops by itself then, with what came back\nprinted). Ctrl+C stops at once "
                     f"(exit {int(ExitCode.INTERRUPTED)}):\nthe reports asked for are written with the "
                     "combinations that came back (JUnit marks the rest skipped);\n--save-baseline is not "
                     "written from an interrupted sweep.")
    _profile(sweep)
    sweep.add_argument("--field", action="append", default=[], metavar="NAME=V1,V2",
                       help="sweep these values of a body field (appId, momentId, deviceType, campaignId, "
                            "rewardGroupId); repeat it for more fields (the same field twice adds values)")
    sweep.add_argument("--all-devices", action="store_true",
                       help="sweep every device type (Android, iOS, FireOS, Web)")
    _sandbox_flag(sweep), _endpoint_url(sweep), _proxy(sweep)
    sweep.add_argument("--baseline", metavar="FILE", help="compare with this baseline (a file --save-baseline wrote)")
    sweep.add_argument("--save-baseline", metavar="FILE", help="save this sweep as a baseline (replacing FILE)")
    sweep.add_argument("--junit", metavar="FILE", help="write a JUnit XML report: one testcase per combination")
    sweep.add_argument("--html", metavar="FILE", help="write a self-contained HTML report (cards with images)")
    sweep.add_argument("--csv", metavar="FILE", help="write a CSV report: one row per combination")
    _json(sweep)
    sweep.add_argument("--fail-on-change", action="store_true",
                       help=f"a combination that changed since --baseline fails the check (exit "
                            f"{int(ExitCode.SWEEP_FAILED)}, a JUnit failure)")

    history = _command(sub, "history", "moments_desktop.cli.records:history",
                       "list the journal of previews and claims (newest first)")
    _json(history)
    history.add_argument("--profile", metavar="NAME", help="only this profile's rows")
    history.add_argument("--endpoint", choices=ENDPOINT_CHOICES, help="only getRewardInfo (info) or getReward (reward)")
    history.add_argument("--outcome", metavar="OUTCOME",
                         help="only this outcome: success, no_reward, error, unknown, not_sent, pending")
    history.add_argument("--since", metavar="DATE", help="only rows at or after DATE (YYYY-MM-DD or ISO 8601)")
    history.add_argument("--unresolved", action="store_true", help="only unknown outcomes nobody has resolved")
    history.add_argument("--limit", type=int, default=50, metavar="N", help="at most N rows (default: 50)")
    _sandbox_flag(history)
    history_sub = history.add_subparsers(dest="history_action", metavar="ACTION", parser_class=_Parser)
    resolve = _command(history_sub, "resolve", "moments_desktop.cli.records:resolve",
                       "record what you found out about an unknown outcome",
                       "Record what you found out about an unknown outcome (the window's Mark resolved…).\n\n"
                       "Only an unknown outcome nobody has resolved takes a note, and the first note is kept; any "
                       f"other ID\nis refused (exit {int(ExitCode.USAGE)}).")
    resolve.add_argument("id", type=int, metavar="ID", help="the journal row's number (from `moments history`)")
    resolve.add_argument("--note", required=True, metavar="TEXT", help="what you found out")
    _json(resolve)

    export = _command(sub, "export", "moments_desktop.cli.records:export",
                      "print a profile's request as a snippet (the API key as a placeholder)")
    export.add_argument("format", choices=EXPORT_FORMATS, metavar="FORMAT", help=", ".join(EXPORT_FORMATS))
    _profile(export)
    export.add_argument("--endpoint", choices=ENDPOINT_CHOICES, default="info",
                        help="getRewardInfo (info, the default) or getReward (reward)")
    _endpoint_url(export)

    profiles = _command(sub, "profiles", "moments_desktop.cli.records:profiles_list", "list, import or export profiles")
    _json(profiles)
    profiles_sub = profiles.add_subparsers(dest="profiles_action", metavar="ACTION", parser_class=_Parser)
    listing = _command(profiles_sub, "list", "moments_desktop.cli.records:profiles_list", "list the saved profiles")
    _json(listing)
    importing = _command(profiles_sub, "import", "moments_desktop.cli.records:profiles_import",
                         "add the profiles of an exported file (keys are never in such a file)",
                         "Add the valid profiles of an exported file (names already taken get \" (2)\"), and say "
                         "what was\nimported, renamed or skipped. Exit 0 when every profile was imported; "
                         f"{int(ExitCode.LOCAL)} when the file cannot\nbe used or some of its profiles were skipped "
                         "(the valid ones are imported all the same).")
    importing.add_argument("file", metavar="FILE")
    _json(importing)
    exporting = _command(profiles_sub, "export", "moments_desktop.cli.records:profiles_export",
                         "write every profile to a file (without keys)",
                         "Write every profile of your own to FILE, never a key. An existing FILE is replaced "
                         "(as cp does; atomically).")
    exporting.add_argument("file", metavar="FILE")

    key = _command(sub, "key", "moments_desktop.cli.records:key_set", "store, delete or test a profile's API key")
    key_sub = key.add_subparsers(dest="key_action", metavar="ACTION", required=True, parser_class=_Parser)
    key_set = _command(key_sub, "set", "moments_desktop.cli.records:key_set",
                       "store the key in the OS keychain: typed at a hidden prompt, or read from stdin",
                       "Store the profile's API key in the OS keychain.\n\nOn a terminal the key is typed at a "
                       "hidden prompt; otherwise the first line of stdin is the key\n(printf '%s\\n' \"$KEY\" | "
                       "moments key set --profile NAME). It is never taken from an argument\nor an environment "
                       f"variable: one given as an argument is refused (exit {int(ExitCode.USAGE)}) and not repeated.")
    key_delete = _command(key_sub, "delete", "moments_desktop.cli.records:key_delete", "delete the stored key",
                          "Delete the profile's API key from the OS keychain (exit 0 also when none was stored: "
                          "it says so).")
    key_test = _command(key_sub, "test", "moments_desktop.cli.records:key_test",
                        "send one free getRewardInfo to check that the key is accepted",
                        "Send one free getRewardInfo (journaled) to check that the stored key is accepted: exit 0\n"
                        "when it is, else the exit code of why not (see 'moments --help').")
    for parser_ in (key, key_set, key_delete, key_test):
        parser_.never_echo = True
    for parser_ in (key_set, key_delete, key_test):
        _profile(parser_)
    _endpoint_url(key_test), _sandbox_flag(key_test), _proxy(key_test)

    sandbox = _command(sub, "sandbox", "moments_desktop.cli.sandbox:serve",
                       "serve the sandbox (the same server as moments-sandbox) until Ctrl+C")
    sandbox.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one (default)")
    sandbox.add_argument("--catalog", metavar="FILE", help="catalog JSON file (default: the built-in catalog)")
    return parser


def _handler(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def run(argv: Sequence[str] | None = None, out: Output | None = None) -> int:
    out = out or Output()
    try:
        return _run(argv, out)
    except KeyboardInterrupt:  # Ctrl+C anywhere: while parsing, or while a handler below was reporting
        out.error("interrupted")
        return ExitCode.INTERRUPTED


def _run(argv: Sequence[str] | None, out: Output) -> int:
    command = "moments"
    try:
        parser = build_parser()
        args, stray = parser.parse_known_args(argv)
        command = f"moments {args.command}"
        if stray:  # what parse_args does, except that a key command's stray argument is never repeated
            parser.error(KEY_NOT_AN_ARGUMENT if args.command == "key" else f"unrecognized arguments: {' '.join(stray)}")
        from . import context

        context.proxy_override = getattr(args, "proxy", None)
        return int(_handler(args.handler)(args, out))
    except UsageError as exc:
        out.error(str(exc))
        return ExitCode.USAGE
    except Exception as exc:  # noqa: BLE001 - one line and the log, never a traceback
        from moments_desktop.core.errors import MomentsError

        from .verdicts import exit_code_for_error

        if isinstance(exc, MomentsError):
            out.error(exc.message)
            return exit_code_for_error(exc)
        out.error(unexpected_message(exc, command))
        return ExitCode.INTERNAL


def unexpected_message(exc: BaseException, command: str) -> str:
    """A bug of ours, in one line: what to do from a command line is to read (and report) the log."""
    from moments_desktop.core import errorlog

    written = errorlog.log_exception(exc, command)
    where = (f"the details are in {written}: please report them" if written
             else f"the log could not be written ({errorlog.log_path()})")
    return f"Something unexpected went wrong in '{command}' ({type(exc).__name__}); {where}."
