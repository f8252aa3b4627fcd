"""``python3 scripts/dev.py bench``: every bench_*.py of a folder run as its own process, one combined table.

Run as a real subprocess against a temporary folder of tiny fake benchmarks (dev.py's hidden
MOMENTS_DEV_BENCH_DIR), so nothing is timed. dev.py first makes sure .venv is installed; these tests run
inside that venv, so it is a no-op (a stamp check) — when the install is not current, they skip rather
than reinstall.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "scripts" / "dev.py"
BENCH = ROOT / "tests" / "bench"


def load_dev():
    spec = importlib.util.spec_from_file_location("dev_py_for_bench_test", DEV)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = load_dev()


@pytest.fixture(autouse=True)
def _installed_venv():
    stamp = dev.STAMP.read_text(encoding="utf-8").strip() if dev.STAMP.exists() else ""
    entry_point = dev.BIN / f"moments-desktop{dev.EXE}"
    if stamp != dev.install_hash() or not entry_point.exists():
        pytest.skip("the venv's install is not current: dev.py bench would reinstall it first")


def write_bench(folder: Path, name: str, body: str) -> None:
    prelude = f"import os, sys\nsys.path.insert(0, {str(BENCH)!r})\nimport benchtable\nfrom benchtable import Goal, Row\n"
    (folder / f"bench_{name}.py").write_text(prelude + textwrap.dedent(body), encoding="utf-8")


REPORTS = """
    print("fake bench working", flush=True)
    print("quick:", os.environ.get("MOMENTS_BENCH_QUICK", "unset"), flush=True)
    print("offscreen:", os.environ.get("QT_QPA_PLATFORM", "unset"), flush=True)
    benchtable.report([
        Row("alpha", "alpha figure met", 5.0, "ms", Goal.value_at_most(10, "ms"), "alpha baseline", 2.5),
        Row("alpha", "alpha figure not met", 30.0, "ms", Goal.ratio_at_most(1.5), "alpha baseline", 10.0),
    ])
"""
CRASHES = """
    print("beta starting", flush=True)
    raise SystemExit(3)
"""
SILENT = """
    print("gamma reports nothing")
"""


def run_dev(folder: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MOMENTS_DEV_BENCH_DIR=str(folder), **extra_env)
    for name in ("MOMENTS_BENCH_ROWS", "MOMENTS_BENCH_QUICK"):
        env.pop(name, None)
    return subprocess.run([sys.executable, str(DEV), "bench", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def table_lines(stdout: str) -> list[str]:
    """The combined table: from its header (the last one printed) to the blank line before the summary."""
    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line.split()[:2] == ["bench", "figure"])
    end = lines.index("", start)
    return lines[start:end]


def test_runs_every_bench_and_a_crash_is_a_failed_row_and_a_nonzero_exit(tmp_path):
    write_bench(tmp_path, "alpha", REPORTS)
    write_bench(tmp_path, "beta", CRASHES)
    write_bench(tmp_path, "gamma", SILENT)
    (tmp_path / "helper.py").write_text("raise SystemExit('not a benchmark: never run')\n", encoding="utf-8")

    done = run_dev(tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    # Each bench's own output streamed through, in name order.
    assert out.index("fake bench working") < out.index("beta starting") < out.index("gamma reports nothing")
    assert "quick: unset" in out
    assert "not a benchmark" not in out + done.stderr
    table = table_lines(out)
    assert len(table) == 2 + 4, "\n".join(table)
    met, not_met, beta, gamma = table[2:]
    assert met.startswith("alpha") and "alpha figure met" in met and met.endswith("yes")
    assert "alpha baseline 10.0 ms" in not_met and "3.00×" in not_met and not_met.endswith("NO")
    assert beta.startswith("beta") and "exit code 3" in beta and beta.endswith("FAILED")
    assert gamma.startswith("gamma") and "no rows reported" in gamma and gamma.endswith("FAILED")
    summary = out.rstrip().splitlines()[-1]
    assert "2 rows" in summary and "1 goals met" in summary and "1 not met" in summary
    assert "beta (exit code 3)" in summary and "gamma (no rows reported)" in summary


def test_goals_not_met_are_not_a_failure_and_names_pick_benches(tmp_path):
    write_bench(tmp_path, "alpha", REPORTS)
    write_bench(tmp_path, "beta", CRASHES)

    # As inside `dev.py test`'s own keyring session: the outer run's keyring folder is not dev.py bench's to remove.
    outer_keyring = tmp_path / "outer-keyring"
    outer_keyring.mkdir()
    (outer_keyring / "keyrings").mkdir()

    done = run_dev(tmp_path, "--quick", "alpha", MOMENTS_TEST_KEYRING_HOME=str(outer_keyring))

    assert done.returncode == 0, done.stdout + done.stderr
    assert "quick: 1" in done.stdout
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        assert "offscreen: offscreen" in done.stdout
    assert "beta starting" not in done.stdout
    table = table_lines(done.stdout)
    assert [line.split()[0] for line in table[2:]] == ["alpha", "alpha"]
    assert table[-1].endswith("NO")
    assert "no benchmark failed" in done.stdout.rstrip().splitlines()[-1]
    assert (outer_keyring / "keyrings").is_dir()


def test_an_unknown_name_is_refused_before_anything_runs(tmp_path):
    write_bench(tmp_path, "alpha", REPORTS)

    done = run_dev(tmp_path, "alpha", "nosuch")

    assert done.returncode == 2
    assert "no benchmark named nosuch" in done.stderr and "alpha" in done.stderr
    assert "fake bench working" not in done.stdout


def test_help_says_unmet_goals_are_not_failures():
    done = subprocess.run([sys.executable, str(DEV), "bench", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "--quick" in done.stdout and "MOMENTS_BENCH_QUICK" in done.stdout
    assert "even when goals are not met" in done.stdout
