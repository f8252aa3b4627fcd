"""``moments history``, ``export``, ``profiles`` and ``key``: the window's History, Copy as…, File ▸ Import/Export
and API-key field, for scripts.

Every rule is the Session's (which rows may be resolved, which profile may hold a key, what an export holds);
this module parses, asks, renders through the Session's renderer and picks the exit code. The API key is
read from a hidden prompt or from stdin only, and no output of these commands ever holds it: the journal
stores it redacted, exports carry a placeholder, profile files never have one.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moments_desktop.core.render import local_time

from .context import find_profile, open_session, run_async
from .exit_codes import ExitCode
from .output import Output, UsageError

if TYPE_CHECKING:
    from moments_desktop.core.journal import JournalEntry
    from moments_desktop.core.profiles import ImportReport, Profile
    from moments_desktop.core.session import Session

ENDPOINTS = {"info": "GetRewardInfo", "reward": "GetReward"}  # --endpoint's words: api_schema.Endpoint values
ENDPOINT_WORDS = {value: word for word, value in ENDPOINTS.items()}
ENDPOINT_LABELS = {"GetRewardInfo": "getRewardInfo", "GetReward": "getReward"}


# --- history -----------------------------------------------------------------------------------------


def parse_since(text: str) -> datetime:
    """``YYYY-MM-DD`` (midnight, local time) or ISO 8601 (local time unless it names its offset)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text!r} is not a date: write YYYY-MM-DD or an ISO 8601 time such as "
                         "2026-03-01T14:30 or 2026-03-01T14:30:00+01:00") from None
    return moment if moment.tzinfo is not None else moment.astimezone()  # naive: the computer's time zone


def history_filter(args: argparse.Namespace, session: Session | None = None) -> Any:
    from moments_desktop.api_schema import Outcome
    from moments_desktop.core.journal import JournalFilter

    outcome = None
    if args.outcome is not None:
        try:
            outcome = Outcome(args.outcome.strip().lower())
        except ValueError:
            raise UsageError(f"--outcome {args.outcome!r} is not an outcome: use one of "
                             f"{', '.join(o.value for o in Outcome)}") from None
    if args.unresolved:
        if outcome not in (None, Outcome.UNKNOWN):
            raise UsageError("--unresolved lists unknown outcomes only: leave out --outcome, or use "
                             "--outcome unknown")
        outcome = Outcome.UNKNOWN  # as the window's "Unresolved claims" choice
    since = parse_since(args.since) if args.since is not None else None
    profile_id = find_profile(session, args.profile).id if (session is not None and args.profile) else None
    return JournalFilter(profile_id=profile_id, endpoint=ENDPOINTS[args.endpoint] if args.endpoint else None,
                         outcome=outcome.value if outcome else None, since=since,
                         unresolved_only=bool(args.unresolved))


def history(args: argparse.Namespace, out: Output) -> int:
    if args.history_action == "resolve":  # `moments history --json resolve …`: the parent's handler runs
        return resolve(args, out)
    if args.limit < 1:
        raise UsageError(f"--limit must be 1 or more (not {args.limit})")
    history_filter(args)  # refuse a bad --since or --outcome before opening anything

    async def program() -> int:
        async with open_session(out, with_sandbox=args.sandbox) as session:
            entries = await session.history(history_filter(args, session), limit=args.limit)
            if args.json:
                out.json("history", {"entries": [history_json(e, session) for e in entries]})
            else:
                for line in history_lines(entries, session):
                    out.line(line)
        return ExitCode.SUCCESS
    return run_async(program())


def outcome_word(entry: JournalEntry) -> str:
    """The outcome's value; an unknown one says whether somebody has resolved it (grep for "unresolved")."""
    word = str(entry.outcome.value)
    if word == "unknown":
        return "unknown (resolved)" if entry.resolved_note else "unknown (unresolved)"
    return word


def summary(entry: JournalEntry, session: Session) -> str:
    """The five fields, then the reward URL, the message, or the resolution, through the renderer."""
    renderer = session.renderer
    parts = []
    if isinstance(entry.request_body, dict):
        parts.append(renderer.target(entry.request_body))
    if entry.reward_url:
        parts.append(renderer.url(entry.reward_url))
    elif entry.error_message:
        parts.append(entry.error_message)
    if entry.resolved_note:
        parts.append(f"resolved: {entry.resolved_note}")
    return _one_line(renderer.summary(parts))


HISTORY_COLUMNS = ("ID", "TIME", "PROFILE", "ENDPOINT", "OUTCOME", "STATUS", "SUMMARY")


def history_lines(entries: list[JournalEntry], session: Session) -> list[str]:
    """A header, then one line per row, columns padded to the widest value (the summary last, whole)."""
    rows = [[str(e.id), local_time(e.time), _one_line(session.renderer.profile_name(e.profile_name or e.profile_id
                                                                                    or "")) or "-",
             ENDPOINT_LABELS.get(e.endpoint, e.endpoint), outcome_word(e),
             str(e.status) if e.status is not None else "-", summary(e, session)] for e in entries]
    if not rows:
        return []
    return table_lines(HISTORY_COLUMNS, rows)


def table_lines(columns: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    """A header and the rows, each column padded to its widest cell but the last, which is written whole."""
    table = [list(columns), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns) - 1)]
    return ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[-1]]).rstrip()
            for row in table]


def history_json(entry: JournalEntry, session: Session) -> dict[str, Any]:
    """One row of ``moments history --json`` (SCHEMA.md): no header is given, so no key either way."""
    return {
        "id": entry.id,
        "time": entry.time,
        "profile_id": entry.profile_id,
        "profile_name": entry.profile_name,
        "endpoint": ENDPOINT_WORDS.get(entry.endpoint, entry.endpoint),
        "outcome": str(entry.outcome.value),
        "unresolved": str(entry.outcome.value) == "unknown" and not entry.resolved_note,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "request_url": entry.request_url,
        "request": entry.request_body if isinstance(entry.request_body, dict) else None,
        "response_body": entry.response_body,
        "reward_url": entry.reward_url,
        "error_message": entry.error_message,
        "resolved_note": entry.resolved_note,
        "resolved_at": entry.resolved_at,
        "summary": summary(entry, session),
    }


def resolve(args: argparse.Namespace, out: Output) -> int:
    from moments_desktop.core.session import HistoryEntryNotFoundError, NotResolvableError

    if not args.note.strip():
        raise UsageError("--note is empty: write what you found out (for example what the campaign's ledger shows)")

    async def program() -> int:
        async with open_session(out, need_writable_journal=True) as session:
            try:
                entry = await session.resolve_entry(args.id, args.note)
            except (HistoryEntryNotFoundError, NotResolvableError) as exc:
                raise UsageError(exc.message) from None  # the ID names no row that takes a note: exit 2
            if getattr(args, "json", False):
                out.json("history resolve", {"entry": history_json(entry, session)})
            else:
                out.line(f"Entry {entry.id} is marked resolved: {entry.resolved_note}")
        return ExitCode.SUCCESS
    return run_async(program())


# --- export ------------------------------------------------------------------------------------------


def export(args: argparse.Namespace, out: Output) -> int:
    async def program() -> int:
        async with open_session(out) as session:
            profile = find_profile(session, args.profile)
            if profile.uses_embedded_sandbox and not args.endpoint_url:
                raise UsageError(f"“{session.renderer.profile_name(profile.name)}” uses the built-in sandbox, which "
                                 "has no address once this command ends: pass --endpoint-url (for example the URL "
                                 "'moments sandbox' prints)")
            snippet = await session.export(profile.id, ENDPOINTS[args.endpoint], args.format,
                                           base_url=args.endpoint_url)  # never include_key: the placeholder
            for warning in snippet.warnings:
                out.warning(warning)
            out.line(snippet.text.removesuffix("\n"))  # byte for byte what Copy as copies, one newline after
        return ExitCode.SUCCESS
    return run_async(program())


# --- profiles ----------------------------------------------------------------------------------------


def profiles_list(args: argparse.Namespace, out: Output) -> int:
    if getattr(args, "profiles_action", None) == "import":  # the parent's handler runs for `profiles --json import`
        return profiles_import(args, out)
    if getattr(args, "profiles_action", None) == "export":
        return profiles_export(args, out)

    async def program() -> int:
        from moments_desktop.core.credentials import KeyringUnavailableError

        async with open_session(out) as session:
            profiles = session.profile_list()
            stored: dict[str, bool | None] = {}
            keychain_problem = None
            for profile in profiles:
                if not session.rules(profile.id).store_key:
                    stored[profile.id] = None  # the built-in sandbox's key: nothing is stored
                    continue
                if keychain_problem is None:
                    try:
                        stored[profile.id] = await session.has_key(profile.id)
                        continue
                    except KeyringUnavailableError as exc:
                        keychain_problem = exc
                stored[profile.id] = None
            if keychain_problem is not None:
                out.warning(f"whether keys are stored is not known: {keychain_problem.message}")
            rows = [profile_json(p, session, stored[p.id]) for p in profiles]
            if getattr(args, "json", False):
                out.json("profiles list", {"profiles": rows})
            else:
                for line in profile_lines(rows, keychain_known=keychain_problem is None):
                    out.line(line)
        return ExitCode.SUCCESS
    return run_async(program())


def profile_json(profile: Profile, session: Session, key_stored: bool | None) -> dict[str, Any]:
    return {
        "name": profile.name,
        "id": profile.id,
        "endpoint": session.renderer.url(session.base_url_for(profile)),
        "mode": "live" if profile.live else "test",
        "builtin": profile.is_builtin,
        "embedded_sandbox": profile.uses_embedded_sandbox,
        "key_stored": key_stored,  # null: the built-in sandbox's key (nothing to store), or keychain unknown
    }


PROFILE_COLUMNS = ("NAME", "ID", "MODE", "KEY", "ENDPOINT")


def profile_lines(rows: list[dict[str, Any]], *, keychain_known: bool) -> list[str]:
    def key_word(row: dict[str, Any]) -> str:
        if row["embedded_sandbox"]:
            return "built-in"
        if row["key_stored"] is None or not keychain_known:
            return "unknown"
        return "stored" if row["key_stored"] else "none"

    cells = []
    for row in rows:
        name = _one_line(row["name"]) + (" (built-in)" if row["builtin"] else "")
        endpoint = "the built-in sandbox (--sandbox)" if row["embedded_sandbox"] else row["endpoint"]
        cells.append([name, row["id"], row["mode"], key_word(row), endpoint])
    return table_lines(PROFILE_COLUMNS, cells)


def profiles_import(args: argparse.Namespace, out: Output) -> int:
    """Import the file's valid profiles (as the window's "Import N valid profiles" does). Exit 0 when every
    profile of the file was added; 6 when the file cannot be used or some of its profiles were left out
    (the valid ones are added all the same, and the report says which were not and why)."""
    async def program() -> int:
        async with open_session(out) as session:
            report = await session.read_import(args.file)
            added = await session.apply_import(report) if (report.valid and not report.file_error) else []
            document = import_json(report, added)
            if getattr(args, "json", False):
                out.json("profiles import", document)
            else:
                for line in import_lines(document):
                    out.line(line)
            if report.file_error:
                out.error(f"{args.file} cannot be imported: {report.file_error}")
                return ExitCode.LOCAL
            if document["skipped"]:
                out.error(f"{len(document['skipped'])} of the file's {len(report.candidates)} profiles were not "
                          "imported (see above)")
                return ExitCode.LOCAL
        return ExitCode.SUCCESS
    return run_async(program())


def import_json(report: ImportReport, added: list[Profile]) -> dict[str, Any]:
    """What happened to each profile of the file. ``added`` pairs with the valid candidates (all or none)."""
    valid = [c for c in report.candidates if c.valid and c.profile is not None]  # report.valid's order
    imported = [{"name": new.name, "id": new.id, "name_in_file": candidate.profile.name.strip(),
                 "renamed": new.name != candidate.profile.name.strip(), "new_id": new.id != candidate.profile.id,
                 "mode": "live" if new.live else "test", "notes": list(candidate.notes)}
                for candidate, new in zip(valid, added)]
    skipped = [{"name_in_file": c.label, "problems": dict(c.problems), "notes": list(c.notes)}
               for c in report.invalid]
    return {"file": str(report.path), "file_error": report.file_error, "imported": imported, "skipped": skipped}


def import_lines(document: dict[str, Any]) -> list[str]:
    lines = []
    for row in document["imported"]:
        name = _one_line(row["name"])
        renamed = f" (renamed from {_one_line(row['name_in_file'])!r}: that name was taken)" if row["renamed"] else ""
        lines.append(f"imported: {name}{renamed} [{row['mode']}]")
        lines.extend(f"  note: {note}" for note in row["notes"])
    for row in document["skipped"]:
        problems = "; ".join(f"{field}: {problem}" for field, problem in row["problems"].items())
        lines.append(f"skipped: {_one_line(row['name_in_file'])}: {_one_line(problems)}")
    if document["imported"]:
        lines.append("API keys are never imported: store each new profile's key with 'moments key set --profile NAME'.")
    elif not document["skipped"] and not document["file_error"]:
        lines.append("The file contains no profiles: nothing was imported.")
    return lines


def profiles_export(args: argparse.Namespace, out: Output) -> int:
    """Write the profiles (never a key) to FILE, replacing it if it exists, as ``cp`` would (atomically: a
    failed write leaves the old file)."""
    async def program() -> int:
        async with open_session(out) as session:
            if not session.exportable_profiles():
                out.error("There are no profiles of your own to export yet: the built-in “Sandbox demo” is in "
                          "every installation. Import or create a profile first.")
                return ExitCode.LOCAL
            written = await session.export_profiles(args.file)
            out.line(f"Exported {written} profile{'s' if written != 1 else ''} to {args.file} (without API keys).")
        return ExitCode.SUCCESS
    return run_async(program())


# --- key ---------------------------------------------------------------------------------------------


def _key_profile(session: Session, name: str) -> Profile:
    """find_profile, without repeating the name: a key typed in place of the name must not be printed."""
    try:
        return find_profile(session, name)
    except UsageError:
        raise UsageError("no profile has the name given to --profile (it is not repeated here, in case it was "
                         "a key); see 'moments profiles list'") from None


def _refuse_builtin(session: Session, profile: Profile) -> None:
    if not session.rules(profile.id).store_key:
        raise UsageError(f"“{session.renderer.profile_name(profile.name)}” uses the built-in sandbox's own key: "
                         "there is no key to store or delete (run it with --sandbox)")


def read_key(stdin: Any = None) -> str:
    """The key: at a hidden prompt when stdin is a terminal, else the first line of stdin."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        import getpass

        try:
            key = getpass.getpass("API key (not shown): ")
        except EOFError:
            key = ""
    else:
        key = stdin.readline()
    key = key.strip()
    if not key:
        raise UsageError("no API key was given: type it at the prompt, or pipe it on stdin "
                         "(for example from your CI's secret store)")
    return key


def key_set(args: argparse.Namespace, out: Output) -> int:
    async def program() -> int:
        async with open_session(out) as session:
            profile = _key_profile(session, args.profile)
            _refuse_builtin(session, profile)
            key = read_key()
            try:
                keychain = await session.store_key(profile.id, key)
            finally:
                del key
            out.line(f"The API key of “{session.renderer.profile_name(profile.name)}” is stored in {keychain}.")
        return ExitCode.SUCCESS
    return run_async(program())


def key_delete(args: argparse.Namespace, out: Output) -> int:
    """Exit 0 whether or not a key was stored (as ``rm -f``: afterwards there is none); the line says which."""
    async def program() -> int:
        async with open_session(out) as session:
            profile = _key_profile(session, args.profile)
            _refuse_builtin(session, profile)
            deleted = await session.delete_key(profile.id)
            name = session.renderer.profile_name(profile.name)
            keychain = await session.keychain_name()
            out.line(f"The API key of “{name}” was deleted from {keychain}." if deleted
                     else f"No API key was stored for “{name}” in {keychain}: nothing to delete.")
        return ExitCode.SUCCESS
    return run_async(program())


def key_test(args: argparse.Namespace, out: Output) -> int:
    """One free getRewardInfo (journaled like the window's Test key): 0 when the key is accepted, else the
    exit code of why not (4 refused, 6 no key or keychain, 7 network…), with the error's words."""
    from .verdicts import exit_code_for_error

    async def program() -> int:
        async with open_session(out, with_sandbox=getattr(args, "sandbox", False)) as session:
            profile = _key_profile(session, args.profile)
            out.progress("Sending getRewardInfo…")
            problem = await session.test_key(profile.id, base_url=args.endpoint_url)
            name = session.renderer.profile_name(profile.name)
            if problem is None:
                out.line(f"The API key of “{name}” was accepted.")
                return ExitCode.SUCCESS
            out.error(problem.message)
            return exit_code_for_error(problem)
    return run_async(program())


def _one_line(text: str) -> str:
    return " ".join(str(text).split())

