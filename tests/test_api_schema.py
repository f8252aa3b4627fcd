"""There is one API schema (moments_desktop/api_schema.py), and the client, the sandbox, the
journal and the history all speak it: names are compared with what each part really does or
serves, not with a second copy of the list."""

import ast
import asyncio
import json
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

import moments_desktop
from moments_desktop.api_schema import (
    API_KEY_HEADER,
    BODY_FIELDS,
    DEVICE_TYPES,
    RESPONSE_FIELDS,
    SANDBOX_CATALOG_PATH,
    Endpoint,
    Outcome,
)
from moments_desktop.core.client import MomentsClient
from moments_desktop.core.journal import Journal, JournalError
from moments_desktop.core.request import RewardRequest
from moments_desktop.sandbox.app import create_app
from moments_desktop.sandbox.catalog import CatalogError, default_catalog_path, load_catalog, load_default_catalog
from moments_desktop.sandbox.openapi import build_openapi

PACKAGE = Path(moments_desktop.__file__).parent
# Fields the sandbox adds that no public source shows (moments-api.md: "sandbox extensions").
SANDBOX_EXTENSIONS = {"rewardTitle", "rewardLocale"}


def demo_request(sandbox, **fields) -> RewardRequest:
    return replace(RewardRequest(base_url=sandbox.base_url, **sandbox.demo_body), **fields)


def call(endpoint: Endpoint, request: RewardRequest, key: str):
    async def go():
        async with httpx.AsyncClient() as http:
            client = MomentsClient(http, info_retries=0)
            if endpoint.billed:
                return await client.get_reward(request, key)
            return await client.get_reward_info(request, key)

    return asyncio.run(go())


# --- the schema itself ---------------------------------------------------------------------------


def test_endpoints_paths_and_billing():
    assert [e.value for e in Endpoint] == ["GetRewardInfo", "GetReward"]
    assert [e.path for e in Endpoint] == ["/GetRewardInfo", "/GetReward"]
    assert [e.billed for e in Endpoint] == [False, True]


def test_outcome_values_are_the_journal_vocabulary():
    assert [o.value for o in Outcome] == ["success", "no_reward", "error", "unknown", "not_sent", "pending"]


def test_api_schema_imports_only_the_standard_library():
    tree = ast.parse((PACKAGE / "api_schema.py").read_text(encoding="utf-8"))
    imported = {name.split(".")[0] for name in _imports(tree, "moments_desktop.api_schema", is_package=False)}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


# --- the client and the sandbox agree on the wire ----------------------------------------------------


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_the_client_and_the_sandbox_speak_the_same_request(sandbox, endpoint):
    result = call(endpoint, demo_request(sandbox), sandbox.demo_key)
    assert result.outcome is Outcome.SUCCESS, result.error
    exchange = result.exchange
    assert exchange.url == sandbox.base_url + endpoint.path
    assert tuple(exchange.request_body) == BODY_FIELDS
    assert API_KEY_HEADER in exchange.request_headers
    if endpoint.billed:
        (entry,) = sandbox.admin.ledger()
        assert tuple(entry["request"]) == BODY_FIELDS
    # Everything the sandbox answers is a known field or a labelled sandbox extension, and the
    # client files every known field under its name and only the extensions under `extra`.
    answered = set(result.reward.raw)
    assert answered <= set(RESPONSE_FIELDS) | SANDBOX_EXTENSIONS
    assert set(result.reward.extra) == answered & SANDBOX_EXTENSIONS


@pytest.mark.parametrize("device", DEVICE_TYPES)
def test_the_sandbox_serves_every_device_type_of_the_schema(sandbox, device):
    # The demo campaign names no device_types, so it serves all the sandbox accepts.
    result = call(Endpoint.GET_REWARD_INFO, demo_request(sandbox, deviceType=device), sandbox.demo_key)
    assert result.outcome is Outcome.SUCCESS, result.error


@pytest.mark.parametrize("device", ["android", "IOS", "Website", "FireTV"])
def test_the_sandbox_serves_no_other_device_type(sandbox, device):
    result = call(Endpoint.GET_REWARD_INFO, demo_request(sandbox, deviceType=device), sandbox.demo_key)
    assert result.outcome is Outcome.NO_REWARD
    assert result.exchange.response_body == "[]"


def test_a_sandbox_catalog_may_name_exactly_the_schema_device_types(tmp_path):
    data = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    path = tmp_path / "catalog.json"  # its reward images are found in resources/rewards
    data["campaigns"][0]["device_types"] = list(DEVICE_TYPES)
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_catalog(path).campaigns[0].device_types == DEVICE_TYPES
    data["campaigns"][0]["device_types"] = [*DEVICE_TYPES, "Windows"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CatalogError, match="unknown device type 'Windows'"):
        load_catalog(path)


def test_the_sandbox_admin_catalog_lists_the_schema_device_types(sandbox):
    assert sandbox.admin.catalog()["device_types"] == list(DEVICE_TYPES)


def test_the_sandbox_routes_are_the_endpoint_paths():
    routes = {route.path: route.methods for route in create_app(load_default_catalog()).routes}
    for endpoint in Endpoint:
        assert "POST" in routes[endpoint.path]
    assert SANDBOX_CATALOG_PATH in routes


def test_the_sandbox_openapi_describes_the_schema():
    spec = build_openapi("http://127.0.0.1:1")
    assert set(spec["paths"]) == {e.path for e in Endpoint}
    request = spec["components"]["schemas"]["RewardRequest"]
    assert request["required"] == list(BODY_FIELDS)
    assert tuple(request["properties"]) == BODY_FIELDS
    for device in DEVICE_TYPES:
        assert device in request["properties"]["deviceType"]["description"]
    response = spec["components"]["schemas"]["RewardResponse"]
    properties = response["properties"]
    assert tuple(n for n, p in properties.items() if not p.get("x-sandbox-extension")) == RESPONSE_FIELDS
    assert {n for n, p in properties.items() if p.get("x-sandbox-extension") is True} == SANDBOX_EXTENSIONS
    assert spec["components"]["securitySchemes"]["apiKey"]["name"] == API_KEY_HEADER


def test_the_sandbox_demo_body_has_the_schema_fields():
    assert tuple(load_default_catalog().demo().body()) == BODY_FIELDS


# --- one Outcome from the exchange to the journal to the history ------------------------------------


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "journal.sqlite3") as j:
        yield j


def _record(journal, outcome):
    return journal.record(endpoint=Endpoint.GET_REWARD_INFO, url="http://127.0.0.1:9/GetRewardInfo",
                          outcome=outcome)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_the_journal_records_every_outcome_and_reads_it_back_as_one(journal, outcome):
    for given in (outcome, outcome.value):
        entry = journal.get(_record(journal, given))
        assert entry.outcome is outcome


@pytest.mark.parametrize("outcome", ["great", "SUCCESS", "Success", "", None, "ok"])
def test_the_journal_refuses_any_other_outcome(journal, outcome):
    with pytest.raises(ValueError, match="unknown outcome"):
        _record(journal, outcome)
    assert journal.count() == 0


def test_the_database_refuses_any_other_outcome_too(journal):
    """The CHECK constraint is built from Outcome: a writer that bypasses the journal is refused as well."""
    conn = sqlite3.connect(journal.path)
    try:
        for outcome in Outcome:
            conn.execute("INSERT INTO exchanges (time, endpoint, outcome) VALUES ('t', 'GetReward', ?)",
                         (outcome.value,))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO exchanges (time, endpoint, outcome) VALUES ('t', 'GetReward', 'great')")
        conn.rollback()
    finally:
        conn.close()


@pytest.mark.parametrize("outcome", [o for o in Outcome if o is not Outcome.PENDING])
def test_an_intent_completes_with_every_outcome_but_pending(journal, outcome):
    entry_id = journal.begin_intent("p1", "Demo", Endpoint.GET_REWARD, "http://127.0.0.1:9/GetReward", {}, {})
    assert journal.get(entry_id).outcome is Outcome.PENDING
    assert journal.complete(entry_id, 200, {}, "{}", 1.0, outcome).outcome is outcome


@pytest.mark.parametrize("outcome", [Outcome.PENDING, "pending", "great", "SUCCESS", None])
def test_an_intent_cannot_complete_as_pending_or_as_an_unknown_string(journal, outcome):
    entry_id = journal.begin_intent("p1", "Demo", Endpoint.GET_REWARD, "http://127.0.0.1:9/GetReward", {}, {})
    with pytest.raises(ValueError):
        journal.complete(entry_id, 200, {}, "{}", 1.0, outcome)
    assert journal.get(entry_id).outcome is Outcome.PENDING


def test_a_completed_intent_cannot_complete_again(journal):
    entry_id = journal.begin_intent("p1", "Demo", Endpoint.GET_REWARD, "http://127.0.0.1:9/GetReward", {}, {})
    journal.complete(entry_id, 200, {}, "{}", 1.0, Outcome.SUCCESS)
    with pytest.raises(JournalError, match="already complete"):
        journal.complete(entry_id, 200, {}, "{}", 1.0, Outcome.ERROR)


def test_the_history_labels_every_outcome_and_endpoint():
    from moments_desktop.ui import history_format

    assert set(history_format.OUTCOME_LABELS) == set(Outcome)
    assert set(history_format.OUTCOME_COLOURS) == set(Outcome)
    assert set(history_format.ENDPOINT_LABELS) == set(Endpoint)


# --- the sandbox depends on api_schema and nothing else of the app ---------------------------------

SANDBOX_MAY_IMPORT = ("moments_desktop.api_schema", "moments_desktop.core.resources")


def _imports(tree: ast.AST, module: str, *, is_package: bool) -> list[str]:
    """Every module an AST imports, relative imports resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            found.append(target)
            # `from moments_desktop import api_schema` imports the submodule moments_desktop.api_schema.
            if target in ("moments_desktop", "moments_desktop.core"):
                found.extend(f"{target}.{alias.name}" for alias in node.names)
    return found


def _sandbox_modules() -> list[tuple[str, Path]]:
    root = PACKAGE / "sandbox"
    modules = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append((".".join(parts), path))
    return modules


def test_the_import_walker_sees_every_kind_of_import():
    tree = ast.parse("import a.b\nfrom moments_desktop import api_schema as api\nfrom . import faults as F\n"
                     "from .catalog import x\nfrom ..core import resources\n")
    found = _imports(tree, "moments_desktop.sandbox.app", is_package=False)
    assert found == ["a.b", "moments_desktop", "moments_desktop.api_schema", "moments_desktop.sandbox",
                     "moments_desktop.sandbox.catalog", "moments_desktop.core", "moments_desktop.core.resources"]


def test_the_sandbox_imports_nothing_of_the_app_but_api_schema_and_the_resources_locator():
    modules = _sandbox_modules()
    assert {"moments_desktop.sandbox", "moments_desktop.sandbox.app", "moments_desktop.sandbox.openapi"} <= {
        name for name, _ in modules}
    offending = []
    for name, path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target in _imports(tree, name, is_package=path.name == "__init__.py"):
            if target != "moments_desktop" and not target.startswith("moments_desktop."):
                continue  # the standard library and third-party packages (Starlette, uvicorn, httpx)
            if target in ("moments_desktop", "moments_desktop.core"):
                continue  # the package itself; what is taken from it is checked as its own target
            if target == "moments_desktop.sandbox" or target.startswith("moments_desktop.sandbox."):
                continue
            if target in SANDBOX_MAY_IMPORT:
                continue
            offending.append(f"{name}: {target}")
    assert offending == []


def test_importing_the_sandbox_loads_nothing_of_the_app_but_api_schema_and_the_resources_locator():
    names = [name for name, _ in _sandbox_modules()]
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.startswith('moments_desktop')))\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = set(ast.literal_eval(result.stdout.strip()))
    others = {m for m in loaded if not m.startswith("moments_desktop.sandbox")}
    assert others == {"moments_desktop", "moments_desktop.core", *SANDBOX_MAY_IMPORT}
