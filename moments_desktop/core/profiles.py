"""Saved endpoint profiles: the request fields, the test/live flag and cost, never the key.

Profiles live in profiles.json (config dir), written atomically. API keys live in the
system keychain (credentials.py), keyed by the profile's stable id, so nothing secret is
in this file or in an export.
"""

from __future__ import annotations

import glob
import json
import math
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..api_schema import BODY_FIELDS, DEFAULT_BASE_URL
from . import paths
from .deadlines import MAX_DEADLINE_S, MIN_DEADLINE_S
from .errors import MomentsError, ValidationError
from .message_templates import MessageTemplates
from .request import UNENCODABLE_MESSAGE, RewardRequest, is_encodable, validate_base_url, validate_field

# 2: each profile carries its Braze message templates (``message_templates``); a version-1 file
# loads with the default templates. The highest version this app reads; a file (or an export) is
# written in the lowest version that holds its data (``schema_for``): 1 while every profile has the
# default templates, so the previous release still reads it (its reader ignores the
# ``message_templates: null`` it does not know), 2 once a profile has templates of its own.
SCHEMA_VERSION = 2
# The version before message templates: what a file without templates of its own is written as.
SCHEMA_WITHOUT_TEMPLATES = 1
EXPORT_FORMAT = "moments-desktop-profiles"

# The base URL of the built-in demo profile. Not a URL: the app substitutes the embedded
# sandbox's real http://127.0.0.1:<port> when it builds the request (Profile.to_request).
EMBEDDED_SANDBOX_URL = "sandbox:embedded"
DEMO_PROFILE_ID = "sandbox-demo"
DEMO_PROFILE_NAME = "Sandbox demo"

MAX_NAME_LENGTH = 100
MAX_NOTES_LENGTH = 10_000
# Per-profile overall deadlines (seconds); None: the app's default (core/deadlines.py).
DEADLINE_FIELDS = ("preview_deadline_s", "image_deadline_s", "claim_deadline_s")
# An export of even thousands of profiles is far smaller; a bigger file was picked by mistake.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
# profiles.json itself: 150,000 profiles take about 70 MiB; a bigger file is not one the app wrote.
MAX_STORE_BYTES = 512 * 1024 * 1024
# Keys an import file might carry by mistake; never stored, reported instead.
_SECRET_KEYS = {"api_key", "apikey", "x-api-key", "key", "secret", "password", "apiKey"}
_SECRET_KEYS_LOWER = {k.lower() for k in _SECRET_KEYS}


class ProfileError(MomentsError):
    title = "The profile could not be changed"


class ProfileNotFoundError(ProfileError):
    title = "No such profile"
    advice = "It may have been deleted in another window. Reload the profile list."


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Profile:
    """One saved target: endpoint + the five body fields + how careful a claim must be."""

    name: str
    base_url: str = DEFAULT_BASE_URL
    appId: str = ""
    momentId: str = ""
    deviceType: str = "Android"
    campaignId: str = ""
    rewardGroupId: str = ""
    # User-declared: True means real money. Decides the claim confirmation strength.
    live: bool = False
    allow_insecure: bool = False
    # The user says this endpoint is a sandbox of the Moments API: the app may ask it for its catalog
    # (GET /__sandbox/catalog), as it does a sandbox on this computer. Never asked of any other endpoint.
    is_sandbox: bool = False
    cost_per_action: Decimal | None = None
    currency: str = "USD"
    notes: str = ""
    id: str = field(default_factory=_new_id)
    preview_deadline_s: float | None = None
    image_deadline_s: float | None = None
    claim_deadline_s: float | None = None
    # The Message tab's push / email / in-app templates and sample attributes.
    message_templates: MessageTemplates = field(default_factory=MessageTemplates.defaults)

    @property
    def is_builtin(self) -> bool:
        return self.id == DEMO_PROFILE_ID

    @property
    def uses_embedded_sandbox(self) -> bool:
        return self.base_url.strip() == EMBEDDED_SANDBOX_URL

    def to_request(self, embedded_sandbox_url: str | None = None) -> RewardRequest:
        """The request this profile describes.

        A profile pointing at the embedded sandbox needs the sandbox's real URL; without
        one the sentinel is kept and the request fails validation (it is never sent).
        """
        base_url = self.base_url.strip()
        if base_url == EMBEDDED_SANDBOX_URL and embedded_sandbox_url:
            base_url = embedded_sandbox_url
        return RewardRequest(
            base_url=base_url,
            appId=self.appId,
            momentId=self.momentId,
            deviceType=self.deviceType,
            campaignId=self.campaignId,
            rewardGroupId=self.rewardGroupId,
            allow_insecure=self.allow_insecure,
        )

    def field_errors(self, others: Iterable[Profile] = ()) -> dict[str, str]:
        """Problems per field; `others` are the other saved profiles (for the unique name)."""
        errors: dict[str, str] = {}
        name_problem = validate_name(self.name, others, self.id)
        if name_problem:
            errors["name"] = name_problem
        if not isinstance(self.base_url, str):
            errors["base_url"] = "Must be text."
        elif self.base_url.strip() != EMBEDDED_SANDBOX_URL:
            problem = validate_base_url(self.base_url, allow_insecure=bool(self.allow_insecure))
            if problem:
                errors["base_url"] = problem
        for name in BODY_FIELDS:
            problem = validate_field(name, getattr(self, name))
            if problem:
                errors[name] = problem
        for flag in ("live", "allow_insecure", "is_sandbox"):
            if not isinstance(getattr(self, flag), bool):
                errors[flag] = "Must be true or false."
        cost_problem = validate_cost(self.cost_per_action)
        if cost_problem:
            errors["cost_per_action"] = cost_problem
        currency_problem = validate_currency(self.currency)
        if currency_problem:
            errors["currency"] = currency_problem
        for name in DEADLINE_FIELDS:
            problem = validate_deadline(getattr(self, name))
            if problem:
                errors[name] = problem
        if not isinstance(self.notes, str):
            errors["notes"] = "Must be text."
        elif len(self.notes) > MAX_NOTES_LENGTH:
            errors["notes"] = f"At most {MAX_NOTES_LENGTH} characters."
        elif not is_encodable(self.notes):
            errors["notes"] = UNENCODABLE_MESSAGE
        if not isinstance(self.id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", self.id):
            errors["id"] = "The profile id is not valid."
        templates_problem = validate_message_templates(self.message_templates)
        if templates_problem:
            errors["message_templates"] = templates_problem
        return errors

    def normalized(self) -> Profile:
        """A copy with surrounding whitespace trimmed from the text fields."""
        return replace(
            self,
            name=self.name.strip(),
            base_url=self.base_url.strip(),
            currency=self.currency.strip().upper(),
            **{name: getattr(self, name).strip() for name in BODY_FIELDS},
        )

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["cost_per_action"] = None if self.cost_per_action is None else str(self.cost_per_action)
        # null: the app's default templates, as a version-1 file has them (and the file stays small:
        # templates are written only for the profiles whose templates were changed).
        data["message_templates"] = (None if self.message_templates == MessageTemplates.defaults()
                                     else self.message_templates.to_dict())
        return data


def validate_name(name: Any, others: Iterable[Profile] = (), own_id: str | None = None) -> str | None:
    if not isinstance(name, str):
        return "Must be text."
    stripped = name.strip()
    if not stripped:
        return "Give the profile a name."
    if len(stripped) > MAX_NAME_LENGTH:
        return f"At most {MAX_NAME_LENGTH} characters."
    if not is_encodable(stripped):
        return UNENCODABLE_MESSAGE
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in stripped):
        return "Contains control characters."
    key = stripped.casefold()
    for other in others:
        if other.id != own_id and other.name.strip().casefold() == key:
            return f"Another profile is already called “{other.name.strip()}”."
    return None


def _name_key(name: str) -> str:
    return name.strip().casefold()


def validate_cost(cost: Any) -> str | None:
    if cost is None:
        return None
    if not isinstance(cost, Decimal) or not cost.is_finite():
        return "Enter a number, e.g. 0.25."
    if cost < 0:
        return "The cost cannot be negative."
    if cost > Decimal(1000000):
        return "The cost is implausibly large."
    return None


def validate_message_templates(templates: Any) -> str | None:
    if not isinstance(templates, MessageTemplates):
        return "The message templates are damaged (expected the push, email and in-app templates)."
    try:
        MessageTemplates.from_dict(templates.to_dict())
    except ValueError as exc:
        return f"The message templates are damaged: {exc}."
    texts = [value for value in templates.to_dict().values() if isinstance(value, str)]
    texts += [part for pair in templates.attributes for part in pair]
    if not all(is_encodable(text) for text in texts):
        return f"The message templates: {UNENCODABLE_MESSAGE}"
    return None


def validate_deadline(seconds: Any) -> str | None:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return "Enter a number of seconds."
    if not MIN_DEADLINE_S <= seconds <= MAX_DEADLINE_S:
        return f"Between {MIN_DEADLINE_S} and {MAX_DEADLINE_S} seconds."
    return None


def validate_currency(currency: Any) -> str | None:
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency.strip()):
        return "Use a three-letter currency code such as USD or EUR."
    return None


def parse_cost(value: Any) -> tuple[Decimal | None, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, "Enter a number, e.g. 0.25."
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, "Enter a number, e.g. 0.25."
        value = repr(value)
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None, "Enter a number, e.g. 0.25."
    try:
        cost = Decimal(value.strip())
    except InvalidOperation:
        return None, "Enter a number, e.g. 0.25."
    return cost, validate_cost(cost)


def parse_profile(data: Any, others: Iterable[Profile] = ()) -> tuple[Profile | None, dict[str, str]]:
    """Tolerant reader: returns (profile or None, per-field problems).

    Unknown keys are ignored; keys that look like secrets are ignored and never stored.
    """
    if not isinstance(data, dict):
        return None, {"profile": "Not a profile (expected an object with named fields)."}
    problems: dict[str, str] = {}
    values: dict[str, Any] = {}
    text_fields = ("name", "base_url", *BODY_FIELDS, "currency", "notes", "id")
    defaults = Profile(name="")
    for name in text_fields:
        if name not in data or data[name] is None:
            if name in ("name", *BODY_FIELDS):
                problems[name] = f"{name} is missing." if name != "name" else "The profile has no name."
            continue
        value = data[name]
        if not isinstance(value, str):
            problems[name] = "Must be text."
            continue
        values[name] = value
    for flag in ("live", "allow_insecure", "is_sandbox"):
        if flag in data:
            if isinstance(data[flag], bool):
                values[flag] = data[flag]
            else:
                problems[flag] = "Must be true or false."
    if "live" not in data:
        # [assumed] an import that does not say is treated as live: the stronger confirmation.
        values["live"] = True
    for name in DEADLINE_FIELDS:
        if data.get(name) is not None:
            values[name] = data[name]  # checked by field_errors below
    cost, cost_problem = parse_cost(data.get("cost_per_action"))
    if cost_problem:
        problems["cost_per_action"] = cost_problem
    else:
        values["cost_per_action"] = cost
    # Absent (a version-1 file or export): the defaults. Present but damaged: reported like any other
    # damaged field, never silently replaced by the defaults (that would lose the user's work).
    if data.get("message_templates") is not None:
        try:
            values["message_templates"] = MessageTemplates.from_dict(data["message_templates"])
        except ValueError as exc:
            problems["message_templates"] = f"The message templates are damaged: {exc}."
    for name in text_fields:
        values.setdefault(name, getattr(defaults, name) if name != "id" else _new_id())
    profile = Profile(**values)
    for name, problem in profile.field_errors(others).items():
        problems.setdefault(name, problem)
    if problems:
        return (profile if set(problems) <= {"name"} else None), problems
    return profile.normalized(), {}


def demo_profile() -> Profile:
    return Profile(
        id=DEMO_PROFILE_ID,
        name=DEMO_PROFILE_NAME,
        base_url=EMBEDDED_SANDBOX_URL,
        appId="DEMO1",
        momentId="GAME_COMPLETE",
        deviceType="Android",
        campaignId="DEMOCAMP1",
        rewardGroupId="US",
        live=False,
        allow_insecure=False,
        cost_per_action=None,
        currency="USD",
        notes="Talks to the sandbox built into the app. Nothing real is spent.",
    )


def schema_for(profiles: Iterable[Profile]) -> int:
    """The lowest schema version that holds these profiles: 1 (readable by the previous release) while
    every one has the default templates, else 2 (the previous release sets such a file aside)."""
    defaults = MessageTemplates.defaults()
    if all(p.message_templates == defaults for p in profiles):
        return SCHEMA_WITHOUT_TEMPLATES
    return SCHEMA_VERSION


def export_document(profiles: Iterable[Profile]) -> str:
    """The JSON text of an export of ``profiles``: every field but secrets (profiles hold none,
    and a key-like field is dropped all the same)."""
    profiles = list(profiles)
    entries = []
    for profile in profiles:
        entry = profile.to_dict()
        for key in list(entry):
            if key.lower() in _SECRET_KEYS_LOWER:
                del entry[key]
        entries.append(entry)
    document = {
        "format": EXPORT_FORMAT,
        "schema_version": schema_for(profiles),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": "API keys are not included; enter them again after importing.",
        "profiles": entries,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _unwritable_fields(profile: Profile) -> dict[str, str]:
    """Text fields that cannot be written to profiles.json as UTF-8 (a lone surrogate such as an escaped
    ``\\ud800`` in the file): refused at import, or apply_import would fail writing them."""
    problems = {}
    for name, value in profile.to_dict().items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                problems[name] = "Contains a broken character (half of an emoji, or a damaged file)."
    return problems


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


@dataclass
class ImportCandidate:
    index: int  # position in the file, from 0
    label: str  # the name as written in the file, or "Profile #n"
    profile: Profile | None
    problems: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.profile is not None and not self.problems


@dataclass
class ImportReport:
    path: Path
    candidates: list[ImportCandidate] = field(default_factory=list)
    file_error: str | None = None

    @property
    def valid(self) -> list[Profile]:
        return [c.profile for c in self.candidates if c.valid and c.profile is not None]

    @property
    def invalid(self) -> list[ImportCandidate]:
        return [c for c in self.candidates if not c.valid]


def _unique_name(name: str, taken: set[str]) -> str:
    if name.casefold() not in taken:
        return name
    n = 2
    while True:
        suffix = f" ({n})"
        # Shortened to make room for the suffix: a name of the longest length allowed must not become too long.
        candidate = name[: MAX_NAME_LENGTH - len(suffix)].rstrip() + suffix
        if candidate.casefold() not in taken:
            return candidate
        n += 1


class ProfileStore:
    """profiles.json: load, validate, CRUD, atomic save, import/export.

    Safe to change from a worker thread while another thread reads. A change builds a new
    dict, writes it to disk and only then publishes it (one reference assignment); a
    published dict is never mutated. So readers take no lock and never wait for a disk
    write: they see the state before the change until the file holds the new one, and a
    failed write changes nothing. Changes are serialized by ``_write_lock``, so two of them
    cannot both start from the same state and lose one another's update.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else paths.profiles_path()
        self.load_warnings: list[str] = []  # what the user is told about the last load (a banner)
        self.set_aside_copies: list[Path] = []  # copies of a damaged file kept by the last load
        # Reentrant: rename() and duplicate() hold it across the update()/add() they call.
        self._write_lock = threading.RLock()
        self._profiles: dict[str, Profile] = {}
        self.load()

    # --- persistence ---------------------------------------------------------------

    def load(self) -> None:
        with self._write_lock:
            self.load_warnings = []
            self.set_aside_copies = []
            loaded = {DEMO_PROFILE_ID: demo_profile()}
            self._read_file(loaded)
            self._profiles = loaded

    def _read_file(self, loaded: dict[str, Profile]) -> None:
        """Add the profiles of profiles.json to ``loaded``; set a damaged file or entry aside.

        Linear in the number of profiles: names are checked for uniqueness against a dict of the
        names taken so far, not against every other profile. A damaged file is moved aside; a file
        with some damaged entries is copied aside once and rewritten with the entries that were read,
        so the next start finds a clean file and makes no new copy."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        except OSError as exc:
            self._set_aside(f"could not be read ({exc.__class__.__name__})")
            return
        if size > MAX_STORE_BYTES:
            self._set_aside(f"is {size // (1024 * 1024)} MiB, far larger than any set of profiles "
                            f"(the limit is {MAX_STORE_BYTES // (1024 * 1024)} MiB)")
            return
        try:
            raw = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._set_aside(f"could not be read ({exc.__class__.__name__})")
            return
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            self._set_aside(f"is not valid JSON (line {exc.lineno})")
            return
        except RecursionError:
            self._set_aside("is nested too deeply to be a profiles file")
            return
        except (ValueError, MemoryError) as exc:  # e.g. an integer of more digits than Python reads
            self._set_aside(f"cannot be read as JSON ({exc.__class__.__name__})")
            return
        del raw
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), list):
            self._set_aside("does not have the expected layout")
            return
        version = data.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self._set_aside("has no valid schema_version")
            return
        if version > SCHEMA_VERSION:
            self._set_aside(f"was written by a newer version of the app (schema {version})")
            return
        damaged: list[str] = []
        damaged_templates: list[str] = []  # the names of the profiles loaded with the default templates
        # casefolded name -> id of the profile holding it (the built-in one's name is taken from the start)
        taken = {_name_key(p.name): p.id for p in loaded.values()}
        for index, entry in enumerate(data["profiles"]):
            entry_id = entry.get("id") if isinstance(entry, dict) else None
            label = entry.get("name") if isinstance(entry, dict) else None
            described = f"#{index + 1}" + (f" ({label})" if isinstance(label, str) else "")
            try:
                profile, problems = parse_profile(entry)
                if "message_templates" in problems:
                    # Damaged templates must not cost the whole profile: it loads with the default
                    # templates, and the copy of the file set aside below keeps the user's own.
                    without, other_problems = parse_profile({**entry, "message_templates": None})
                    if without is not None and not other_problems:
                        profile, problems = without, {}
                        damaged_templates.append(f"“{without.name}”")
            except Exception:  # noqa: BLE001 - one odd entry must not keep the others from loading
                profile, problems = None, {"profile": "could not be read"}
            if entry_id == DEMO_PROFILE_ID:
                if profile is not None and not problems:
                    taken.pop(_name_key(loaded[DEMO_PROFILE_ID].name), None)
                    taken[_name_key(profile.name)] = DEMO_PROFILE_ID
                    loaded[DEMO_PROFILE_ID] = profile
                else:
                    damaged.append(f"#{index + 1} ({DEMO_PROFILE_NAME}, reset to its defaults)")
                continue
            if profile is not None and not problems and taken.get(_name_key(profile.name), profile.id) != profile.id:
                problems = {"name": f"Another profile is already called “{profile.name}”."}
            if profile is None or problems or not isinstance(entry_id, str) or entry_id in loaded:
                damaged.append(described)
                continue
            loaded[profile.id] = profile
            taken[_name_key(profile.name)] = profile.id
        # A file of an older schema is not rewritten just to bump its version: it is read with the new
        # fields' defaults, and written (in the lowest version that holds it) only when something changes.
        if damaged or damaged_templates:
            self._set_aside_damaged_entries(damaged, loaded, damaged_templates)

    def _set_aside_damaged_entries(self, damaged: list[str], loaded: dict[str, Profile],
                                   damaged_templates: list[str] = ()) -> None:
        """Keep a copy of the file as it was, then rewrite it with what was read: the copy is made once.
        ``damaged``: the entries left out; ``damaged_templates``: the profiles loaded with the default
        templates instead of their damaged own (still in the copy)."""
        def listed(items: list[str]) -> str:
            return ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")

        told = []
        if damaged:
            told.append(f"Some saved profiles could not be read and were left out: {listed(damaged)}.")
        if damaged_templates:
            told.append(f"The message templates of {listed(damaged_templates)} could not be read; "
                        f"{'that profile uses' if len(damaged_templates) == 1 else 'those profiles use'} "
                        "the default templates.")
        shown = " ".join(told)
        try:
            original = self.path.read_bytes()
            backup = self._existing_copy(original) or self._backup_path()
            if not backup.exists():
                backup.write_bytes(original)
                paths.restrict_file(backup)
        except OSError as exc:
            self.load_warnings.append(
                f"{shown} No copy of the file could be kept ({exc.__class__.__name__}), so it was left "
                "as it is.")
            return
        self.set_aside_copies.append(backup)
        try:
            self._write_file(loaded)
            rewritten = " The profiles that could be read were saved again, without the damaged ones." \
                if damaged else ""
        except OSError:
            rewritten = ""
        kept = "The original file, with those templates, was kept as" if damaged_templates else \
            "The original file was kept as"
        restore = " The templates can be copied back from it." if damaged_templates else ""
        self.load_warnings.append(f"{shown} {kept} {backup}.{rewritten}{restore}")

    def _existing_copy(self, original: bytes) -> Path | None:
        """A copy set aside earlier with exactly these bytes (the file could not be rewritten then)."""
        for candidate in self.path.parent.glob(f"{glob.escape(self.path.name)}.corrupt-*"):
            try:
                if candidate.stat().st_size == len(original) and candidate.read_bytes() == original:
                    return candidate
            except OSError:
                continue
        return None

    def _backup_path(self) -> Path:
        return self.path.with_name(f"{self.path.name}.corrupt-{_timestamp()}")

    def _set_aside(self, why: str) -> None:
        backup = self._backup_path()
        try:
            self.path.replace(backup)
            self.set_aside_copies.append(backup)
            moved = f"It was moved aside to {backup} so nothing is lost"
        except OSError as exc:
            moved = f"It could not be moved aside ({exc.__class__.__name__})"
        self.load_warnings.append(
            f"The saved profiles file {why}. {moved}; the app started with only the built-in "
            f"“{DEMO_PROFILE_NAME}” profile."
        )

    def save(self) -> None:
        with self._write_lock:
            self._write_file(self._profiles)

    def _write_file(self, profiles: dict[str, Profile]) -> None:
        document = {
            "schema_version": schema_for(profiles.values()),
            "profiles": [p.to_dict() for p in profiles.values()],
        }
        paths.atomic_write_text(self.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")

    def _commit(self, profiles: dict[str, Profile]) -> None:
        """Write ``profiles`` (a new dict), then publish it. Callers hold ``_write_lock``."""
        self._write_file(profiles)
        self._profiles = profiles

    # --- reading -------------------------------------------------------------------

    def profiles(self) -> list[Profile]:
        """All profiles, the built-in demo first, then in creation order."""
        return list(self._profiles.values())

    def __iter__(self):
        return iter(self.profiles())

    def __len__(self) -> int:
        return len(self._profiles)

    def __contains__(self, profile_id: object) -> bool:
        return profile_id in self._profiles

    def get(self, profile_id: str) -> Profile:
        try:
            return self._profiles[profile_id]
        except KeyError:
            raise ProfileNotFoundError(str(profile_id)) from None

    def find_by_name(self, name: str) -> Profile | None:
        key = name.strip().casefold()
        return next((p for p in self._profiles.values() if p.name.strip().casefold() == key), None)

    # --- changing (each one holds _write_lock from reading the state to publishing the new one) ---

    def _checked(self, profile: Profile, among: dict[str, Profile] | None = None) -> Profile:
        """The profile normalized, or ValidationError; names must be unique ``among`` (default: the store)."""
        existing = self._profiles if among is None else among
        errors = profile.field_errors([p for p in existing.values() if p.id != profile.id])
        if errors:
            raise ValidationError(errors)
        return profile.normalized()

    def add(self, profile: Profile) -> Profile:
        with self._write_lock:
            if profile.id in self._profiles:
                profile = replace(profile, id=_new_id())
            profile = self._checked(profile)
            self._commit({**self._profiles, profile.id: profile})
            return profile

    def update(self, profile: Profile) -> Profile:
        with self._write_lock:
            if profile.id not in self._profiles:
                raise ProfileNotFoundError(profile.name)
            profile = self._checked(profile)
            self._commit({**self._profiles, profile.id: profile})
            return profile

    def edit(self, profile_id: str, **changes: Any) -> Profile:
        """Change some fields of the stored profile, keeping the others as they are now."""
        with self._write_lock:
            return self.update(replace(self.get(profile_id), **changes))

    def rename(self, profile_id: str, new_name: str) -> Profile:
        return self.edit(profile_id, name=new_name)

    def duplicate(self, profile_id: str, new_name: str | None = None) -> Profile:
        """A copy with a new id (so no API key comes with it) and a free name."""
        with self._write_lock:
            source = self.get(profile_id)
            taken = {p.name.strip().casefold() for p in self._profiles.values()}
            name = new_name if new_name is not None else _unique_name(f"{source.name} copy", taken)
            return self.add(replace(source, id=_new_id(), name=name))

    def delete(self, profile_id: str) -> Profile:
        """Remove a profile. Use credentials.delete_profile() to remove its key as well."""
        if profile_id == DEMO_PROFILE_ID:
            raise ProfileError(f"“{DEMO_PROFILE_NAME}” is built in", advice="It cannot be deleted.")
        with self._write_lock:
            profile = self.get(profile_id)
            self._commit({pid: p for pid, p in self._profiles.items() if pid != profile_id})
            return profile

    # --- import / export -----------------------------------------------------------

    def exportable(self) -> list[Profile]:
        """The profiles worth sharing: all but the built-in demo, which every installation has, unless it
        has message templates of its own (a tester writes them on the first profile the app shows):
        then it is exported like any profile, and imported as a new one beside the built-in."""
        defaults = MessageTemplates.defaults()
        return [p for p in self.profiles() if not p.is_builtin or p.message_templates != defaults]

    def export_profiles(self, path: Path, ids: Iterable[str] | None = None) -> int:
        """Write the chosen profiles (the exportable ones when ids is None) to a JSON file. No keys, ever."""
        chosen = [self.get(i) for i in ids] if ids is not None else self.exportable()
        paths.atomic_write_text(Path(path), export_document(chosen))
        return len(chosen)

    def parse_import(self, path: Path) -> ImportReport:
        """Read an export (or a profiles.json) and report per profile what is usable."""
        report = ImportReport(Path(path))
        try:
            if Path(path).stat().st_size > MAX_IMPORT_BYTES:
                report.file_error = (f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; "
                                     "it is not a profiles export.")
                return report
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            report.file_error = f"The file could not be read: {exc.__class__.__name__}."
            return report
        except json.JSONDecodeError as exc:
            report.file_error = f"The file is not valid JSON (line {exc.lineno}, column {exc.colno})."
            return report
        except RecursionError:
            report.file_error = "The file is nested too deeply to be a profiles export."
            return report
        except ValueError:  # a number of more digits than Python reads (4,300): no export has one
            report.file_error = "The file holds a number too long to read; it is not a profiles export."
            return report
        if isinstance(data, dict):
            version = data.get("schema_version", SCHEMA_VERSION)
            if isinstance(version, int) and version > SCHEMA_VERSION:
                report.file_error = "The file was written by a newer version of the app."
                return report
            entries = data.get("profiles")
        else:
            entries = data
        if not isinstance(entries, list):
            report.file_error = "The file does not contain a list of profiles."
            return report
        for index, entry in enumerate(entries):
            label = entry.get("name") if isinstance(entry, dict) else None
            label = label.strip() if isinstance(label, str) and label.strip() else f"Profile #{index + 1}"
            # Names are made unique on apply, so a clash is not a problem here.
            profile, problems = parse_profile(entry)
            if profile is not None:
                problems = {**_unwritable_fields(profile), **problems}
            candidate = ImportCandidate(index, label, profile, problems)
            if isinstance(entry, dict) and any(k.lower() in _SECRET_KEYS_LOWER for k in entry):
                candidate.notes.append("The file contains an API key for this profile; it was ignored.")
            if isinstance(entry, dict) and "live" not in entry and profile is not None:
                candidate.notes.append("The file does not say whether this is a live endpoint; treated as live.")
            report.candidates.append(candidate)
        return report

    def apply_import(self, report: ImportReport) -> list[Profile]:
        """Add every valid profile of the report; new ids on collision, names made unique. All or none."""
        with self._write_lock:
            added: list[Profile] = []
            result = dict(self._profiles)
            taken = {p.name.strip().casefold() for p in result.values()}
            for profile in report.valid:
                new = replace(profile)
                if new.id in result or new.id == DEMO_PROFILE_ID:
                    new = replace(new, id=_new_id())
                new = replace(new, name=_unique_name(new.name.strip(), taken))
                # `taken` already makes the name unique: checking it against every profile again would make a
                # large import quadratic.
                new = self._checked(new, among={})
                taken.add(new.name.casefold())
                result[new.id] = new
                added.append(new)
            if added:
                self._commit(result)
            return added
