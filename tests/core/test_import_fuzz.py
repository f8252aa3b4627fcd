"""Hypothesis over the profile importer: any file a user may pick, read from a real file on disk.

The properties, for every document:
- ``parse_import`` and ``apply_import`` let only the project's own errors out (MomentsError and its
  subclasses), never a raw UnicodeEncodeError, RecursionError, ValueError, TypeError, KeyError...;
- reading an import changes nothing on disk, and a refused import (a file error, no valid profile,
  or an error from ``apply_import``) writes nothing: profiles.json byte-identical with the same
  mtime, and no new file in the config directory (no temp file left, no copy set aside);
- an accepted import adds every profile the report called valid, survives a reload of profiles.json,
  and round-trips through an export: the export of what was added, imported into an empty store,
  reads back as exactly the same profiles.

Documents are any JSON value (``st.recursive``), documents shaped like a real export
(``export_document``) with fuzzed field values, and hand-made texts JSON libraries do not produce:
nesting 100,000 levels deep, numbers of thousands of digits, NaN/Infinity literals, lone surrogates
as escapes and as raw (invalid UTF-8) bytes. Settings: derandomized and without the example database,
so a CI run is the same run every time and cannot fail at random.
"""

from __future__ import annotations

import json
import os
import tempfile
from decimal import Decimal
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from moments_desktop.core.errors import MomentsError
from moments_desktop.core.profiles import (
    DEMO_PROFILE_ID,
    DEMO_PROFILE_NAME,
    EXPORT_FORMAT,
    MAX_NAME_LENGTH,
    SCHEMA_VERSION,
    Profile,
    ProfileStore,
    export_document,
)


def fuzz(max_examples: int) -> settings:
    return settings(deadline=None, derandomize=True, database=None, max_examples=max_examples,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- the store the documents are imported into ---------------------------------------------------

LONG_NAME = "N" * MAX_NAME_LENGTH
SEEDED = [  # names and ids an import can collide with
    Profile(id="seed-staging", name="Staging", base_url="https://api.example.com/prod", appId="APP1",
            momentId="LEVEL_UP", campaignId="CAMP1", rewardGroupId="US", live=True,
            cost_per_action=Decimal("0.25")),
    Profile(id="seed-long", name=LONG_NAME, base_url="https://api.example.com/prod", appId="APP1",
            momentId="LEVEL_UP", campaignId="CAMP1", rewardGroupId="US"),
    Profile(id="seed-strasse", name="Straße", base_url="http://127.0.0.1:8080", appId="APP1",
            momentId="LEVEL_UP", campaignId="CAMP1", rewardGroupId="US", allow_insecure=True),
]


@cache
def seeded_file() -> bytes:
    """profiles.json holding SEEDED, as the app writes it."""
    with tempfile.TemporaryDirectory() as tmp:
        store = ProfileStore(Path(tmp) / "profiles.json")
        for profile in SEEDED:
            store.add(profile)
        return store.path.read_bytes()


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of ``directory``: its bytes and mtime (ns)."""
    return {entry.name: (entry.read_bytes(), entry.stat().st_mtime_ns) for entry in directory.iterdir()}


def import_document(content: str | bytes) -> None:
    """Import ``content`` (text is written as UTF-8, lone surrogates as they are) into a store holding
    SEEDED, and check every property of the module docstring."""
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "config")
        config.mkdir()
        profiles_json = config / "profiles.json"
        profiles_json.write_bytes(seeded_file())
        store = ProfileStore(profiles_json)
        assert store.load_warnings == []
        before_profiles = store.profiles()
        source = Path(tmp, "picked by the user.json")
        source.write_bytes(data)
        before = snapshot(config)

        try:
            report = store.parse_import(source)
        except MomentsError:
            assert snapshot(config) == before, "a refused import wrote to the config directory"
            return
        except Exception as exc:  # noqa: BLE001 - the point of the test
            raise AssertionError(f"parse_import let a raw {type(exc).__name__} out: {exc}") from exc
        assert snapshot(config) == before, "reading an import wrote to the config directory"
        if report.file_error is not None:
            assert report.candidates == [] and report.valid == []

        try:
            added = store.apply_import(report)
        except MomentsError:
            assert snapshot(config) == before, "a refused import wrote to the config directory"
            assert store.profiles() == before_profiles
            raise AssertionError(f"apply_import refused {len(report.valid)} profiles parse_import called valid")
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"apply_import let a raw {type(exc).__name__} out: {exc}") from exc

        # What parse_import called valid, apply_import adds, names made unique (never refused).
        assert len(added) == len(report.valid)
        if not added:
            assert snapshot(config) == before, "an import that added nothing wrote to the config directory"
            assert store.profiles() == before_profiles
            return
        assert sorted(os.listdir(config)) == ["profiles.json"], "a temp file or copy was left behind"
        assert store.profiles() == before_profiles + added
        names = [p.name.casefold() for p in store.profiles()]
        assert len(names) == len(set(names)), "two profiles share a name"
        assert len({p.id for p in store.profiles()}) == len(store.profiles())

        reloaded = ProfileStore(profiles_json)
        assert reloaded.load_warnings == []
        assert reloaded.profiles() == store.profiles()

        # Round trip: the export of what was added, read back by an empty store, is the same profiles.
        exported = Path(tmp, "export.json")
        exported.write_text(export_document(added), encoding="utf-8")
        empty = ProfileStore(Path(tmp, "other", "profiles.json"))
        again = empty.parse_import(exported)
        assert again.file_error is None and again.invalid == []
        assert again.valid == added


# --- any JSON document ---------------------------------------------------------------------------

# Text with what the default alphabet leaves out: lone surrogates, NUL, controls, invisible characters.
odd_characters = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from("\x00\x1f\x7f\x85\u200b\u2028\ufeff\U0001f381 "),
)
texts = st.text(odd_characters, max_size=30)
json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**4000), max_value=10**4000)
                | st.floats(allow_nan=True, allow_infinity=True) | texts)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=5),
    max_leaves=25,
)
# For one field's value: small, so that drawing a document of several profiles stays quick.
small_json_values = st.recursive(
    json_scalars, lambda children: st.lists(children, max_size=2) | st.dictionaries(texts, children, max_size=2),
    max_leaves=4,
)


def dumped(value: object, ensure_ascii: bool) -> str:
    """JSON text as a file would hold it. ``ensure_ascii=False`` writes a lone surrogate as itself, so
    the file is not valid UTF-8; ``True`` writes ``\\ud800`` escapes, which json.loads turns back into one."""
    return json.dumps(value, ensure_ascii=ensure_ascii)


@fuzz(200)
@given(json_values, st.booleans())
def test_any_json_document(value, ensure_ascii):
    import_document(dumped(value, ensure_ascii))


@fuzz(100)
@given(st.binary(max_size=200))
def test_any_bytes(data):
    import_document(data)


# --- documents shaped like an export -------------------------------------------------------------

FIELDS = ("name", "base_url", "appId", "momentId", "deviceType", "campaignId", "rewardGroupId", "live",
          "allow_insecure", "cost_per_action", "currency", "notes", "id")
plain = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)
# Values a real export may hold, the awkward ones included (names that clash with the seeded ones by case,
# by case folding or with the built-in profile's; the longest name allowed; ids already taken).
good_values = {
    "name": st.sampled_from(["Staging", "staging", " Staging ", "STRASSE", "Straße", LONG_NAME,
                             LONG_NAME.lower(), DEMO_PROFILE_NAME, "Geschenk 🎁", "Staging (2)"]) | plain,
    "base_url": st.sampled_from(["https://api.example.com/prod", "https://moments.example.test/prod/",
                                 "http://127.0.0.1:8080", "sandbox:embedded", " https://x.example "]),
    **{name: plain for name in ("appId", "momentId", "deviceType", "campaignId", "rewardGroupId")},
    "live": st.booleans(),
    "allow_insecure": st.booleans(),
    "cost_per_action": st.sampled_from([None, "0.25", 0.25, 1, 0, "1000000", "0.000001", "-0", "", " 3 "]),
    "currency": st.sampled_from(["USD", "eur", " gbp "]),
    "notes": texts.filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)),
    "id": st.sampled_from(["seed-staging", "seed-long", DEMO_PROFILE_ID, "abc", "x" * 64]) | plain,
}
# Values no field accepts, or that a careless reader would trip over.
bad_values = st.one_of(
    small_json_values,
    st.sampled_from(["\ud800", "DEMO\ud800", "\udfff\ud800", "a" * 10_001, "N" * (MAX_NAME_LENGTH + 1),
                     "NaN", "Infinity", "-1", "1e999999999", "sNaN", "https://user:secret@host.example/",
                     "ftp://x.example", "\x00", " ", "x\ny"]),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 10**4000, -(10**300), 1e308, True, [], {}]),
)


@st.composite
def export_entries(draw):
    fuzzed = draw(st.sets(st.sampled_from(FIELDS), max_size=3))
    missing = draw(st.sets(st.sampled_from(FIELDS), max_size=2))
    entry = {}
    for name in FIELDS:
        if name in missing:
            continue
        entry[name] = draw(bad_values if name in fuzzed else good_values[name])
    # Keys an export never has, a key-like one included (it must be ignored, never stored).
    entry.update(draw(st.dictionaries(st.sampled_from(["api_key", "x-api-key", "apiKey", "extra", "\ud800"]),
                                      json_scalars, max_size=2)))
    return entry


@st.composite
def export_documents(draw):
    document = {
        "format": EXPORT_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "exported_at": "2031-01-01T00:00:00+00:00",
        "note": "API keys are not included; enter them again after importing.",
        "profiles": draw(st.lists(export_entries(), max_size=4)),
    }
    for key in draw(st.sets(st.sampled_from(sorted(document)), max_size=2)):
        document[key] = draw(bad_values)
    # The profiles list alone is also a document parse_import reads.
    return document if draw(st.booleans()) else document["profiles"]


@fuzz(250)
@given(export_documents(), st.booleans())
@example({"schema_version": 1, "profiles": [{"name": LONG_NAME, "base_url": "https://x.example", "appId": "A",
                                             "momentId": "M", "deviceType": "Web", "campaignId": "C",
                                             "rewardGroupId": "US", "live": False}]}, True)
def test_export_shaped_documents(document, ensure_ascii):
    import_document(dumped(document, ensure_ascii))


# --- texts a JSON library does not write -----------------------------------------------------------

ENTRY = ('{"name": "Deep", "base_url": "https://x.example", "appId": "A", "momentId": "M", "deviceType": "Web", '
         '"campaignId": "C", "rewardGroupId": "US", "live": false, %s}')
HUGE = "9" * 5000  # more digits than Python converts to an int (4,300) by default


@fuzz(100)
@given(st.sampled_from([
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 100_000 + "1" + "}" * 100_000,
    '{"profiles": ' + "[" * 3000 + "]" * 3000 + "}",
    '{"profiles": [' + ENTRY % ('"notes": ' + "[" * 3000 + "]" * 3000) + "]}",
    HUGE,
    "-" + HUGE,
    '{"schema_version": ' + HUGE + ', "profiles": []}',
    "[" + ENTRY % ('"cost_per_action": ' + HUGE) + "]",
    "[" + ENTRY % ('"cost_per_action": 1' + "0" * 400 + ".5e-400") + "]",
    "[" + ENTRY % '"cost_per_action": 1e99999' + "]",
    "[" + ENTRY % '"cost_per_action": NaN' + "]",
    "[" + ENTRY % '"cost_per_action": -Infinity' + "]",
    '{"schema_version": NaN, "profiles": []}',
    '{"schema_version": Infinity, "profiles": []}',
    "[" + ENTRY % '"notes": "\\ud800"' + "]",
    "[" + ENTRY % '"currency": "US\\udfffD"' + "]",
    "[" + (ENTRY % '"id": "same"') + ", " + (ENTRY % '"id": "same"') + "]",
    "\ufeff[]",
    "",
]))
def test_texts_no_json_library_writes(text):
    import_document(text)


def test_a_lone_surrogate_in_any_text_field_is_refused_with_a_field_message():
    """The named case of the issue: ``"DEMO\\ud800"`` passed validation and then raised
    UnicodeEncodeError inside apply_import. Refused at parse time now, per field, nothing written."""
    base = {"name": "Fine", "base_url": "https://x.example", "appId": "A", "momentId": "M", "deviceType": "Web",
            "campaignId": "C", "rewardGroupId": "US", "live": False, "notes": ""}
    for field in ("name", "base_url", "appId", "momentId", "deviceType", "campaignId", "rewardGroupId", "notes"):
        document = json.dumps([{**base, field: base[field] + "DEMO\ud800"}])
        import_document(document)
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp, "in.json")
            source.write_text(document, encoding="utf-8")
            report = ProfileStore(Path(tmp, "config", "profiles.json")).parse_import(source)
            assert report.valid == [], field
            assert field in report.candidates[0].problems, (field, report.candidates[0].problems)
