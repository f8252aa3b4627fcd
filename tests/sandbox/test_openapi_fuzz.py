"""Property-based tests: the sandbox conforms to its own OpenAPI document (schemathesis).

schemathesis.pytest.from_fixture() reads ``request.node._nodeid``, which pytest 9 removed,
so the schema is loaded at import time from a sandbox this module owns.
"""

import atexit

import leak_guard  # tests/leak_guard.py
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from moments_desktop.sandbox.admin import SandboxAdmin
from moments_desktop.sandbox.catalog import load_default_catalog
from moments_desktop.sandbox.server import SandboxServer

# Lives as long as the module, like a session fixture: its connections are not a test's leak.
_server = leak_guard.outlives_tests(SandboxServer())
_base_url = _server.start()
atexit.register(_server.stop)  # if the module is collected but its tests are deselected
DEMO_KEY = load_default_catalog().demo().api_key

schema = schemathesis.openapi.from_url(f"{_base_url}/__sandbox/openapi.json")


@pytest.fixture(scope="module")
def fuzz_admin():
    with leak_guard.outlives_tests(SandboxAdmin(_base_url)) as admin:
        yield admin
    _server.stop()


@schema.parametrize()
@settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_conforms_to_own_openapi(case, fuzz_admin):
    fuzz_admin.reset()  # a fresh rate window per case, so valid requests are never throttled
    case.call_and_validate(headers={"x-api-key": DEMO_KEY})
