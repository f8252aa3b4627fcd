"""One ``moments info`` against a local sandbox, as a whole process, beside HTTPie and a plain httpx script.

    python tests/bench/bench_cli.py [rounds]        # default 15 rounds, at least 9 (7 with --quick)
    python3 scripts/dev.py bench cli                # the same, with the venv and a keyring session made for it

Run it with the project's venv (``.venv/bin/python tests/bench/bench_cli.py``) in a session whose keyring
works (a desktop session; on a headless Linux box a private, throwaway one, as scripts/dev.py's tests use:
``dbus-run-session -- sh -c 'echo -n pw | XDG_DATA_HOME=$(mktemp -d) gnome-keyring-daemon --unlock
--components=secrets >/dev/null; .venv/bin/python tests/bench/bench_cli.py'``).

It starts ``moments-sandbox`` (``python -m moments_desktop.sandbox --port 0``) on a copy of the built-in
catalog whose rate limit is raised (the default 5 calls a second per key would answer 429 to a tight loop),
makes a fresh MOMENTS_DESKTOP_HOME with one profile ("Bench sandbox") pointing at it, puts the sandbox's demo
key in the real keyring under that profile (removed at the end), then runs, interleaved, each round in a
rotated order, one getRewardInfo POST as a whole process with:

- ``moments info --profile "Bench sandbox" --json`` as ``python -m moments_desktop.cli`` and as the ``moments``
  console script (each when present);
- tests/bench/info_standin.py: the same path through core without moments_desktop/cli/ (what core costs;
  the difference to the above is the CLI's own);
- HTTPie (``http POST …/GetRewardInfo x-api-key:… appId=…``: the request the app sends, as its HTTPie export);
  HTTPie and the script below get the sandbox's demo key (public: it is in the built-in catalog) on their
  command lines, as their users do; ``moments`` reads it from the keyring;
- a plain httpx script doing one ``httpx.post``;
- curl, when installed (the floor: a process that does nothing but the POST).

Byte-code caches are on for every process (in a folder of this run, filled by a warm-up round), as for an
installed app. Prints the median and the fastest run of each, and the ratios moments/HTTPie and moments/httpx-script
(the issue's goal: moments info at most HTTPie's median). Nothing is asserted.

Rows (tests/bench/benchtable.py), medians of the interleaved rounds: ``moments info`` (console script, and as
``-m``) against HTTPie, goal ≤ 1.0× (Step 11's goal); the same against the httpx script, and the core stand-in
against HTTPie, for information. With MOMENTS_BENCH_QUICK=1 (``dev.py bench --quick``): 7 rounds unless given.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests" / "bench"))
import benchtable  # noqa: E402 - tests/bench/benchtable.py

from moments_desktop.api_schema import Endpoint  # noqa: E402
from moments_desktop.core.credentials import CredentialStore, KeyringUnavailableError  # noqa: E402
from moments_desktop.core.profiles import Profile, ProfileStore  # noqa: E402
from moments_desktop.core.wire import build_request  # noqa: E402
from moments_desktop.sandbox.catalog import default_catalog_path, load_default_catalog  # noqa: E402

PROFILE_NAME = "Bench sandbox"
BIN = Path(sys.executable).parent


def start_sandbox(catalog: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "moments_desktop.sandbox", "--port", "0",
                                "--catalog", str(catalog)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    line = process.stdout.readline()
    prefix = "Moments sandbox listening on "
    if not line.startswith(prefix):
        process.kill()
        raise SystemExit(f"the sandbox did not start: {line!r} {process.stderr.read()}")
    return process, line[len(prefix):].strip()


def commands(url: str, key: str, request) -> dict[str, list[str]]:  # noqa: ANN001 - a RewardRequest
    wire = build_request(request, Endpoint.GET_REWARD_INFO, key)
    info = ["info", "--profile", PROFILE_NAME, "--json"]
    found: dict[str, list[str]] = {}
    if importlib.util.find_spec("moments_desktop.cli") is not None:
        found["moments (-m)"] = [sys.executable, "-m", "moments_desktop.cli", *info]
    if (BIN / "moments").exists():
        found["moments (script)"] = [str(BIN / "moments"), *info]
    found["core stand-in"] = [sys.executable, str(ROOT / "tests" / "bench" / "info_standin.py"), *info[1:]]
    found["HTTPie"] = [str(BIN / "http"), "--ignore-stdin", "--raw", wire.body_text, wire.method, wire.url,
                       *(f"{name}:{value}" for name, value in wire.headers)]
    script = (f"import httpx\nr = httpx.post({wire.url!r}, headers={dict(wire.headers)!r}, content={wire.body!r})\n"
              "print(r.text)\n")
    found["httpx script"] = [sys.executable, "-c", script]
    curl = shutil.which("curl")
    if curl:
        found["curl"] = [curl, "-sS", "-X", wire.method, wire.url,
                         *(arg for name, value in wire.headers for arg in ("-H", f"{name}: {value}")),
                         "--data-raw", wire.body_text]
    return found


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    return time.perf_counter() - start, done


def main() -> None:
    quick = benchtable.quick()
    least = 7 if quick else 9
    rounds = max(least, int(sys.argv[1]) if len(sys.argv) > 1 else (least if quick else 15))
    with tempfile.TemporaryDirectory(prefix="moments-bench-cli-") as tmp:
        home = Path(tmp) / "home"
        # Byte-code caches on, in a folder of this run (every tool alike): an installed app and HTTPie run from
        # compiled modules, and PYTHONDONTWRITEBYTECODE (set on some machines) would have each process compile
        # this project's modules from source. The warm-up round below fills the cache.
        env = dict(os.environ, MOMENTS_DESKTOP_HOME=str(home), HTTPIE_CONFIG_DIR=str(Path(tmp) / "httpie"),
                   PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        catalog_data = json.loads(default_catalog_path().read_text(encoding="utf-8"))
        catalog_data["rate_limit_per_second"] = 100_000
        catalog = Path(tmp) / "catalog.json"
        catalog.write_text(json.dumps(catalog_data), encoding="utf-8")
        sandbox, url = start_sandbox(catalog, env)
        demo = load_default_catalog().demo()
        os.environ["MOMENTS_DESKTOP_HOME"] = str(home)  # ProfileStore's folder, below, is the processes' one
        from moments_desktop.core import paths

        store = ProfileStore(paths.profiles_path())
        fields = demo.body()
        profile = store.add(Profile(name=PROFILE_NAME, base_url=url, live=False, **fields))
        credentials = CredentialStore()
        try:
            credentials.set_key(profile.id, demo.api_key)
        except KeyringUnavailableError as exc:
            sandbox.terminate()
            sandbox.communicate(timeout=10)
            raise SystemExit(f"bench_cli: {exc.message} (see the top of this file for a private keyring)") from None
        try:
            found = commands(url, demo.api_key, profile.to_request())
            for name, argv in list(found.items()):  # a warm-up run each (disk and byte-code caches)
                _, done = run_once(argv, env)
                if done.returncode != 0 or "notification" not in done.stdout.lower():
                    failure = f"{name} failed ({done.returncode}): {done.stdout[-300:]} {done.stderr[-300:]}".strip()
                    if not name.startswith("moments"):
                        raise SystemExit(failure)
                    print(f"left out: {failure}")  # a CLI whose info does not work yet
                    del found[name]
            times: dict[str, list[float]] = {name: [] for name in found}
            names = list(found)
            for index in range(rounds):
                order = names[index % len(names):] + names[:index % len(names)]
                for name in order:
                    seconds, done = run_once(found[name], env)
                    if done.returncode != 0:
                        raise SystemExit(f"{name} failed in round {index + 1}: {done.stderr[-500:]}")
                    times[name].append(seconds)
        finally:
            credentials.delete_key(profile.id)
            sandbox.terminate()
            sandbox.communicate(timeout=10)
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    print(f"{rounds} rounds, interleaved; whole processes, one getRewardInfo POST each, sandbox at {url}")
    print(f"{'':18} {'median ms':>10} {'fastest ms':>10}")
    for name, samples in times.items():
        print(f"{name:18} {medians[name] * 1000:>10.1f} {min(samples) * 1000:>10.1f}")
    print()
    for name in [n for n in medians if n.startswith(("moments", "core"))]:
        print(f"{name:18} / HTTPie {medians[name] / medians['HTTPie']:.2f}   "
              f"/ httpx script {medians[name] / medians['httpx script']:.2f}")
    rows = []
    for name in [n for n in medians if n.startswith("moments")]:
        rows.append(benchtable.Row("cli", f"{name} info, whole process", medians[name] * 1e3, "ms",
                                   benchtable.Goal.ratio_at_most(1.0), "HTTPie", medians["HTTPie"] * 1e3))
    for name in [n for n in medians if n.startswith("moments")]:
        rows.append(benchtable.Row("cli", f"{name} info, whole process", medians[name] * 1e3, "ms",
                                   benchtable.Goal.none(), "httpx script", medians["httpx script"] * 1e3))
    if "core stand-in" in medians:
        rows.append(benchtable.Row("cli", "core stand-in (info without the CLI)", medians["core stand-in"] * 1e3,
                                   "ms", benchtable.Goal.none(), "HTTPie", medians["HTTPie"] * 1e3))
    if "curl" in medians:
        rows.append(benchtable.Row("cli", "curl, the same POST (the floor)", medians["curl"] * 1e3, "ms",
                                   benchtable.Goal.none(), "HTTPie", medians["HTTPie"] * 1e3))
    benchtable.report(rows)


if __name__ == "__main__":
    main()
