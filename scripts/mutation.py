#!/usr/bin/env python3
"""Mutation testing of the money-path core modules: do their tests notice a small change?

    .venv/bin/python scripts/mutation.py                          # every module, every mutant
    .venv/bin/python scripts/mutation.py --module client --list-survivors
    .venv/bin/python scripts/mutation.py --module journal --sample 60 --seed 1
    .venv/bin/python scripts/mutation.py --module request --show 12   # print one mutant's diff

One small change at a time (a comparison flipped or moved across its boundary, a condition
negated, `and`/`or` swapped, a statement deleted, a number moved by one, True/False swapped, a
return value dropped) is made to a copy of the source tree in a temporary folder; the module's
own test files (MODULES below) run against that copy in a subprocess with a timeout, and the
copy is put back before the next mutant. A mutant is *killed* when the tests fail (or time
out, or the module no longer imports) and *survives* when they pass. The working tree is never
written to, so an interrupted run leaves nothing mutated behind.

To be quicker, one traced run first records which test executes which line of the module; each
mutant then runs the tests that reach its lines, and only a mutant that passes those is run
against all of the module's tests before it is counted as surviving (--no-trace: all, always).

Standard library only (ast). Slow by design (one pytest run per mutant): run it by hand before
a big refactor, under `nice`, not in CI.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> (source file, its own test files). A listed test file that does not exist is skipped,
# so the script also measures an older checkout whose tests were fewer.
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "operations": ("moments_desktop/core/operations.py", (
        "tests/core/test_operations.py",
        "tests/core/test_operations_claims.py",
        "tests/core/test_journal_failures.py",
        "tests/core/test_claim_commit.py",
    )),
    "client": ("moments_desktop/core/client.py", (
        "tests/core/test_client_contract.py",
        "tests/core/test_rate_limiter.py",
        "tests/core/test_client_money_path.py",
        "tests/core/test_client_limits.py",
        "tests/core/test_client_retries.py",
        "tests/core/test_deadlines.py",
        "tests/core/test_empty_answer.py",
    )),
    "request": ("moments_desktop/core/request.py", (
        "tests/core/test_request_and_parsing.py",
        "tests/core/test_request_validation.py",
        "tests/core/test_inputs.py",
    )),
    "journal": ("moments_desktop/core/journal.py", (
        "tests/core/test_journal.py",
        "tests/core/test_journal_integrity.py",
        "tests/core/test_journal_failures.py",
        "tests/core/test_rescue.py",
    )),
    # The sandbox's memory (inventory, months, spend, quota, ledger) and its clock: what makes the
    # simulation faithful, so what its contract tests must notice.
    "sandbox_state": ("moments_desktop/sandbox/state.py", (
        "tests/sandbox/test_state_unit.py",
        "tests/sandbox/test_media.py",
        "tests/sandbox/test_faults.py",
        "tests/sandbox/test_allowance.py",
        "tests/sandbox/test_budget.py",
        "tests/sandbox/test_gateway.py",
        "tests/sandbox/test_attacks.py",
        "tests/sandbox/test_odd_inputs_and_reset.py",
        "tests/sandbox/test_admin.py",
        "tests/sandbox/test_api.py",
    )),
    "sandbox_clock": ("moments_desktop/sandbox/clock.py", (
        "tests/sandbox/test_clock_unit.py",
        "tests/sandbox/test_clock_api.py",
        "tests/sandbox/test_campaign_dates.py",
        "tests/sandbox/test_odd_inputs_and_reset.py",
    )),
}

# What the copy needs to import the package and run the tests with the project's pytest settings.
COPIED = ("moments_desktop", "tests", "resources", "pyproject.toml", "setup.py")
# Plugins the core tests do not use; leaving them out saves about a second per mutant.
PYTEST_ARGS = ("-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:schemathesis",
               "-p", "no:pytestqt")

_NEGATED_OPS = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
    ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
_BOUNDARY_OPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
_OP_TEXT = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}
# Statements a mutant may delete (replaced by `pass`). Returns are mutated by dropping their value.
_DELETABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Raise, ast.Continue, ast.Break,
              ast.Delete, ast.Assert)


# --- mutants -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    number: int  # 1-based, stable for one source text
    node_index: int  # position of the mutated node in list(ast.walk(tree))
    kind: str  # compare, boundary, negate, and/or, delete, constant, return
    variant: int  # which replacement, for nodes with more than one
    line: int
    description: str
    last_line: int = 0  # the changed code spans line..last_line (for choosing the tests that run it)


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _in_function(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    while id(node) in parents:
        node = parents[id(node)]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


def _in_annotation(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    child = node
    while id(child) in parents:
        parent = parents[id(child)]
        if isinstance(parent, ast.arg) and child is parent.annotation:
            return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and child is parent.returns:
            return True
        if isinstance(parent, ast.AnnAssign) and child is parent.annotation:
            return True
        child = parent
    return False


def _is_docstring(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(node))
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str) and parent is not None
            and getattr(parent, "body", [None])[0] is node)


# Never mutate the arguments of these calls: `os.kill(pid, 0)` asks whether a process exists,
# and a mutant `os.kill(pid, 1)` would send a real SIGHUP to someone else's process.
_UNSAFE_CALLS = frozenset({"kill", "killpg", "pthread_kill", "signal", "raise_signal"})


def _in_unsafe_call(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(node))
    if not isinstance(parent, ast.Call) or node is parent.func:
        return False
    func = parent.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _UNSAFE_CALLS


def _number_variants(value: int | float) -> list[int | float]:
    return [value + 1, value - 1]


def find_mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    parents = _parents(tree)
    found: list[tuple[int, str, int, int, str]] = []
    spans: dict[int, int] = {}
    for index, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", 0)
        focus = node.test if isinstance(node, (ast.If, ast.While)) else node
        spans[index] = getattr(focus, "end_lineno", None) or line
        if isinstance(node, ast.Compare):
            for j, op in enumerate(node.ops):
                found.append((index, "compare", j, line,
                              f"`{_OP_TEXT[type(op)]}` -> `{_OP_TEXT[_NEGATED_OPS[type(op)]]}`"))
                if type(op) in _BOUNDARY_OPS:
                    found.append((index, "boundary", j, line,
                                  f"`{_OP_TEXT[type(op)]}` -> `{_OP_TEXT[_BOUNDARY_OPS[type(op)]]}`"))
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            found.append((index, "negate", 0, line, f"{type(node).__name__.lower()} condition negated"))
        elif isinstance(node, ast.comprehension):
            for j, _ in enumerate(node.ifs):
                found.append((index, "negate", j, getattr(node.ifs[j], "lineno", line), "comprehension filter negated"))
        elif isinstance(node, ast.BoolOp):
            other = "or" if isinstance(node.op, ast.And) else "and"
            found.append((index, "and/or", 0, line, f"`{'and' if other == 'or' else 'or'}` -> `{other}`"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found.append((index, "negate", 0, line, "`not` removed"))
        elif isinstance(node, ast.Constant) and not _in_annotation(node, parents) and not _in_unsafe_call(node, parents):
            value = node.value
            if isinstance(value, bool):
                found.append((index, "constant", 0, line, f"{value} -> {not value}"))
            elif isinstance(value, (int, float)):
                for j, new in enumerate(_number_variants(value)):
                    found.append((index, "constant", j, line, f"{value!r} -> {new!r}"))
        elif isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            found.append((index, "return", 0, line, "return value dropped (returns None)"))
        if (isinstance(node, _DELETABLE) and _in_function(node, parents)
                and not _is_docstring(node, parents)):
            found.append((index, "delete", 0, line, f"{type(node).__name__.lower()} statement deleted"))
    found.sort(key=lambda m: (m[3], m[0], m[1], m[2]))
    return [Mutant(n, index, kind, variant, line, text, max(line, spans.get(index, line)))
            for n, (index, kind, variant, line, text) in enumerate(found, start=1)]


def mutate(source: str, mutant: Mutant) -> tuple[str, str]:
    """The whole mutated module, and the mutated statement (for reports)."""
    tree = ast.parse(source)
    parents = _parents(tree)
    node = list(ast.walk(tree))[mutant.node_index]
    kind, variant = mutant.kind, mutant.variant
    if kind == "compare":
        node.ops[variant] = _NEGATED_OPS[type(node.ops[variant])]()
    elif kind == "boundary":
        node.ops[variant] = _BOUNDARY_OPS[type(node.ops[variant])]()
    elif kind == "negate":
        if isinstance(node, ast.comprehension):
            node.ifs[variant] = ast.UnaryOp(ast.Not(), node.ifs[variant])
        elif isinstance(node, ast.UnaryOp):
            _replace(parents, node, node.operand)
            node = node.operand
        else:
            node.test = ast.UnaryOp(ast.Not(), node.test)
    elif kind == "and/or":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "constant":
        node.value = (not node.value) if isinstance(node.value, bool) else _number_variants(node.value)[variant]
    elif kind == "return":
        node.value = None
    elif kind == "delete":
        replacement = ast.Pass()
        _replace(parents, node, replacement)
        node = replacement
    else:  # pragma: no cover - find_mutants makes only the kinds above
        raise ValueError(kind)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n", _statement_text(node, parents)


def _replace(parents: dict[int, ast.AST], old: ast.AST, new: ast.AST) -> None:
    parent = parents[id(old)]
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            parents[id(new)] = parent
            return
        if isinstance(value, list) and any(item is old for item in value):
            value[[i for i, item in enumerate(value) if item is old][0]] = new
            parents[id(new)] = parent
            return
    raise ValueError("node not found in its parent")  # pragma: no cover


def _statement_text(node: ast.AST, parents: dict[int, ast.AST]) -> str:
    statement = node
    while not isinstance(statement, ast.stmt) and id(statement) in parents:
        statement = parents[id(statement)]
    shown = copy.copy(statement)
    for name in ("body", "orelse", "finalbody", "handlers"):
        if getattr(shown, name, None):
            setattr(shown, name, [ast.Expr(ast.Constant(...))])
    try:
        text = ast.unparse(shown)
    except Exception:  # pragma: no cover - display only
        return "?"
    first = text.splitlines()[0] if text else text
    return first if len(first) <= 140 else first[:137] + "..."


# --- running -------------------------------------------------------------------------------------

# A pytest plugin written into the copy: one traced run records which test executes which line of
# the module, so each mutant first runs only the tests that reach its code.
_TRACE_PLUGIN = '''
import json, os, sys, threading

_target = os.path.realpath(os.environ["MUTATION_TRACE_FILE"])
_current = [None]
_lines = {}
_names = {}


def _local(frame, event, arg):
    if event == "line" and _current[0] is not None:
        _lines.setdefault(_current[0], set()).add(frame.f_lineno)
    return _local


def _global(frame, event, arg):
    name = frame.f_code.co_filename
    hit = _names.get(name)
    if hit is None:
        hit = _names[name] = os.path.realpath(name) == _target
    return _local if hit else None


def pytest_configure(config):
    sys.settrace(_global)
    threading.settrace(_global)


def pytest_runtest_protocol(item, nextitem):
    _current[0] = item.nodeid
    _lines.setdefault(item.nodeid, set())


def pytest_unconfigure(config):
    sys.settrace(None)
    threading.settrace(None)
    with open(os.environ["MUTATION_TRACE_OUT"], "w", encoding="utf-8") as handle:
        json.dump({test: sorted(lines) for test, lines in _lines.items()}, handle)
'''


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, timeout, survived
    seconds: float
    after: str


class Workspace:
    """A throwaway copy of the tree; mutants are written into it, never into ROOT."""

    def __init__(self, root: Path):
        self._tmp = tempfile.TemporaryDirectory(prefix="moments-mutation-")
        self.path = Path(self._tmp.name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
        for name in COPIED:
            src = root / name
            if src.is_dir():
                shutil.copytree(src, self.path / name, ignore=ignore)
            elif src.is_file():
                shutil.copy2(src, self.path / name)
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.path), os.environ.get("PYTHONPATH")]))
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"  # a same-size mutant within one second must not hit a stale .pyc
        self.env["MOMENTS_DESKTOP_HOME"] = str(self.path / ".moments-home")
        self.env.pop("PYTEST_ADDOPTS", None)

    def check_import(self, module_file: str) -> None:
        dotted = module_file[:-3].replace("/", ".")
        out = subprocess.run([sys.executable, "-c", f"import {dotted} as m; print(m.__file__)"],
                             cwd=self.path, env=self.env, capture_output=True, text=True, check=True)
        seen = Path(out.stdout.strip()).resolve()
        if not seen.is_relative_to(self.path.resolve()):
            raise SystemExit(f"mutation.py: {dotted} imports from {seen}, not from the copy in {self.path}")

    def trace(self, module_file: str, tests: list[str], timeout: float) -> dict[str, set[int]] | None:
        """Which test runs which line of module_file (in run order), or None if the traced run failed."""
        (self.path / "_mutation_trace.py").write_text(_TRACE_PLUGIN, encoding="utf-8")
        out = self.path / "_mutation_trace.json"
        env = {**self.env, "MUTATION_TRACE_FILE": str(self.path / module_file), "MUTATION_TRACE_OUT": str(out)}
        status, _, _ = self.run_tests(["-p", "_mutation_trace", *tests], timeout, env=env, stop_early=False)
        if status != "passed" or not out.is_file():
            return None
        return {test: set(lines) for test, lines in json.loads(out.read_text(encoding="utf-8")).items()}

    def run_tests(self, tests: list[str], timeout: float, *, env: dict[str, str] | None = None,
                  stop_early: bool = True) -> tuple[str, float, str]:
        started = time.monotonic()
        popen_kw = {"start_new_session": True} if os.name == "posix" else {}
        options = PYTEST_ARGS if stop_early else tuple(a for a in PYTEST_ARGS if a != "-x")
        proc = subprocess.Popen([sys.executable, "-m", "pytest", *options, *tests], cwd=self.path,
                                env=env or self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                **popen_kw)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.communicate()
            return "timeout", time.monotonic() - started, ""
        except BaseException:  # Ctrl+C, SIGTERM: take the test run down too
            _kill(proc)
            proc.communicate()
            raise
        return ("passed" if proc.returncode == 0 else "failed"), time.monotonic() - started, output

    def close(self) -> None:
        self._tmp.cleanup()


def _terminate(signum, frame) -> None:
    raise SystemExit(f"mutation.py: stopped by signal {signum}")


def _kill(proc: subprocess.Popen) -> None:
    """End the test process and whatever it started (its own session), by its id."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover
            proc.kill()
    except ProcessLookupError:
        pass


def run_module(name: str, args: argparse.Namespace, out) -> tuple[list[Outcome], int, int | None]:
    module_file, test_files = MODULES[name]
    tests = [t for t in test_files if (ROOT / t).is_file()]
    original = (ROOT / module_file).read_text(encoding="utf-8")
    mutants = find_mutants(original)
    total = len(mutants)
    if args.only:
        mutants = [m for m in mutants if m.number in args.only]
    elif args.sample and args.sample < total:
        mutants = sorted(random.Random(args.seed).sample(mutants, args.sample), key=lambda m: m.number)
    workspace = Workspace(ROOT)
    target = workspace.path / module_file
    try:
        workspace.check_import(module_file)
        # The unmutated module, as ast.unparse writes it: the tests must pass on it, or no result means anything.
        target.write_text(ast.unparse(ast.parse(original)) + "\n", encoding="utf-8")
        status, baseline, output = workspace.run_tests(tests, timeout=args.timeout or 900)
        if status != "passed":
            print(output[-3000:], file=out)
            raise SystemExit(f"mutation.py: {name}'s tests do not pass on the unmutated module ({status})")
        timeout = args.timeout or max(60.0, 4 * baseline)
        target.write_text(original, encoding="utf-8")
        covering = None if args.no_trace else workspace.trace(module_file, tests, 10 * timeout)
        print(f"{module_file}: {len(mutants)} of {total} mutants, tests {' '.join(tests)}, "
              f"baseline {baseline:.1f} s, timeout {timeout:.0f} s"
              + ("" if covering is not None else ", every mutant runs every test"), file=out, flush=True)
        results = []
        for i, mutant in enumerate(mutants, start=1):
            mutated, after = mutate(original, mutant)
            try:
                target.write_text(mutated, encoding="utf-8")
                status, seconds = _verdict(workspace, tests, _select(covering, mutant), timeout)
            finally:
                target.write_text(original, encoding="utf-8")
            status = {"passed": "survived", "failed": "killed"}.get(status, status)
            results.append(Outcome(mutant, status, seconds, after))
            if args.verbose or status == "survived":
                print(f"  [{i}/{len(mutants)}] #{mutant.number} line {mutant.line} {mutant.description}: "
                      f"{status} ({seconds:.1f} s)", file=out, flush=True)
            elif i % 25 == 0:
                print(f"  [{i}/{len(mutants)}] ...", file=out, flush=True)
        return results, total, (len(mutants) if len(mutants) < total else None)
    finally:
        target.write_text(original, encoding="utf-8")
        workspace.close()


def _select(covering: dict[str, set[int]] | None, mutant: Mutant) -> list[str] | None:
    """The tests that execute the mutated lines, in run order; None: run them all (no trace, or only
    import-time code such as a constant or a default is changed, which every test may depend on)."""
    if covering is None:
        return None
    lines = set(range(mutant.line, mutant.last_line + 1))
    chosen = [test for test, seen in covering.items() if seen & lines]
    return chosen or None


def _verdict(workspace: Workspace, tests: list[str], chosen: list[str] | None, timeout: float) -> tuple[str, float]:
    """Run the chosen tests first (a failure there is a kill); a mutant they all pass is run against
    every test of the module before it counts as survived."""
    spent = 0.0
    if chosen is not None:
        status, seconds, _ = workspace.run_tests(chosen, timeout)
        spent += seconds
        if status != "passed":
            return status, spent
    status, seconds, _ = workspace.run_tests(tests, timeout)
    return status, spent + seconds


def table(rows: list[tuple[str, list[Outcome], int, int | None]]) -> str:
    lines = ["| module | mutants | killed | survived | score |", "|---|---|---|---|---|"]
    for name, results, total, sampled in rows:
        module_file = MODULES[name][0].removeprefix("moments_desktop/")
        scope = f"sample of {sampled}" if sampled else "all"
        killed = sum(r.status in ("killed", "timeout") for r in results)
        timeouts = sum(r.status == "timeout" for r in results)
        survived = len(results) - killed
        score = f"{100 * killed / len(results):.1f} %" if results else "-"
        killed_text = f"{killed} ({timeouts} by timeout)" if timeouts else str(killed)
        lines.append(f"| {module_file} ({scope}) | {len(results)} | {killed_text} | {survived} | {score} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", choices=sorted(MODULES),
                        help="module to mutate (repeatable; default: all of them)")
    parser.add_argument("--sample", type=int, help="test only N mutants per module, chosen at random")
    parser.add_argument("--seed", type=int, default=0, help="seed for --sample (default 0)")
    parser.add_argument("--timeout", type=float,
                        help="seconds per test run (default: 4 x the unmutated run, at least 60)")
    parser.add_argument("--only", type=int, action="append", help="run only mutant number N (repeatable)")
    parser.add_argument("--no-trace", action="store_true",
                        help="run every test for every mutant (default: the tests that execute its lines first)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit, running nothing")
    parser.add_argument("--show", type=int, help="print mutant N of the (single) --module as a diff and exit")
    parser.add_argument("--list-survivors", action="store_true", help="print every surviving mutant at the end")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every mutant's result as it comes")
    args = parser.parse_args(argv)
    names = args.module or list(MODULES)
    if os.name == "posix":  # SIGTERM unwinds like Ctrl+C: the copy is deleted, the test run ended
        signal.signal(signal.SIGTERM, _terminate)

    if args.list or args.show:
        for name in names:
            source = (ROOT / MODULES[name][0]).read_text(encoding="utf-8")
            for mutant in find_mutants(source):
                if args.show and mutant.number != args.show:
                    continue
                print(f"{name} #{mutant.number} line {mutant.line} {mutant.kind}: {mutant.description}")
                if args.show:
                    import difflib

                    before = ast.unparse(ast.parse(source)).splitlines()
                    after = mutate(source, mutant)[0].splitlines()
                    print("\n".join(difflib.unified_diff(before, after, MODULES[name][0], "mutant", lineterm="")))
        return 0

    rows = []
    for name in names:
        results, total, sampled = run_module(name, args, sys.stdout)
        rows.append((name, results, total, sampled))
    print()
    print(table(rows))
    if args.list_survivors:
        for name, results, _, _ in rows:
            survivors = [r for r in results if r.status == "survived"]
            if survivors:
                print(f"\nSurvivors in {MODULES[name][0]}:")
                source_lines = (ROOT / MODULES[name][0]).read_text(encoding="utf-8").splitlines()
                for r in survivors:
                    m = r.mutant
                    print(f"  #{m.number} line {m.line} {m.kind}: {m.description}")
                    print(f"      was: {source_lines[m.line - 1].strip()}")
                    print(f"      now: {r.after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
