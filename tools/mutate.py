"""Mutation testing on demand (not in CI): does the suite notice when the code is wrong?

Two modes, both run from the repository root with the project's venv active:

    python tools/mutate.py MODULE [--tests "pytest args"] [--only LINE[,LINE]] [--max N]
    python tools/mutate.py --plants [NAME ...]

MODULE mode parses a module, lists every small mutation of it (a comparison flipped, `and` for
`or`, a `not` dropped, a constant changed, `+` for `-`, a call statement removed, a `return x`
made `return None`, an `if` body skipped), then applies them one at a time to the file on disk,
runs the module's targeted tests (`pytest -x -q`, from TARGETS or --tests) and restores the
file. A mutant the tests fail on (or time out on: 3x the clean run + 10 s) is killed; one they
pass on survives and is printed as `module:line  mutation`. The file is always restored, also
on Ctrl-C; `git diff` should be empty afterwards.

--plants re-plants the eight bugs of issue 12 (item 12), each against the tests that must
catch it, and says killed/survived for each.

Run it under `nice -n 19`: it runs pytest once per mutant. It is slow by nature (seconds per
mutant for correlation, about a minute per surviving mutant of the stream), so run one module
at a time, or a few lines of it with --only.
"""

from __future__ import annotations

import argparse
import ast
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The fast targeted tests of each module (seconds, not the whole suite).
TARGETS: dict[str, str] = {
    "console/domain/correlation.py": "tests/test_correlation.py tests/test_correlation_exact.py "
                              "tests/test_engine.py",
    "console/gws/bayeux.py": "tests/test_bayeux_protocol.py",
    "console/gws/stream.py": "tests/test_stream.py tests/test_stream_hostile.py",
    "console/gws/connection.py": "tests/test_connection_exact.py tests/test_transport.py",
    "console/gws/session.py": "tests/test_session.py tests/test_transport.py "
                              "tests/test_unknown_outcome.py",
    "console/domain/templates.py": "tests/test_templates_exact.py tests/test_templates.py "
                                   "tests/test_yaml_input.py",
    "console/domain/yamlfile.py": "tests/test_yamlfile_exact.py tests/test_yaml_input.py",
    "console/app/replay.py": "tests/test_rebuild_exact.py tests/test_replay.py "
                             "tests/test_resume.py",
    "console/app/replay_engine.py": "tests/test_replay_engine_exact.py tests/test_replay_pool.py "
                                    "tests/test_replay.py tests/test_resume.py",
}

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
    ast.GtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv,
}
#: Fields that hold types or decoration, not behaviour: never mutated.
_SKIP_FIELDS = {"annotation", "returns", "decorator_list", "type_comment"}


@dataclass(frozen=True)
class Mutant:
    """One mutation site and what is done there."""

    index: int
    """Position in the walk order (the same walk finds it again in a fresh tree)."""
    line: int
    """1-based line of the mutated node."""
    what: str
    """The mutation in words, e.g. `== -> !=`."""


def _children(node: ast.AST) -> Iterator[ast.AST]:
    for name, value in ast.iter_fields(node):
        if name in _SKIP_FIELDS:
            continue
        if isinstance(value, list):
            yield from (item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            yield value


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node in a fixed order, without annotations or docstrings."""
    if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        body = node.body
        skip = body[0] if body and isinstance(body[0], ast.Expr) and isinstance(
            body[0].value, ast.Constant) and isinstance(body[0].value.value, str) else None
    else:
        skip = None
    yield node
    for child in _children(node):
        if child is not skip:
            yield from _walk(child)


def _mutations(node: ast.AST) -> list[str]:
    """What can be done at `node`, in words (the order is the order `_apply` knows)."""
    found: list[str] = []
    if isinstance(node, ast.Compare):
        for op in node.ops:
            swap = _COMPARE_SWAPS.get(type(op))
            if swap is not None:
                found.append(f"{type(op).__name__} -> {swap.__name__}")
    elif isinstance(node, ast.BoolOp):
        found.append("and -> or" if isinstance(node.op, ast.And) else "or -> and")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        found.append("not x -> x")
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
        found.append(f"{type(node.op).__name__} -> {_BINOP_SWAPS[type(node.op)].__name__}")
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            found.append(f"{value} -> {not value}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append(f"{value!r} -> {value + 1!r}")
    elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
        found.append("call statement removed")
    elif isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        found.append("return x -> return None")
    elif isinstance(node, ast.If):
        found.append("if condition -> False")
    return found


def _sites(tree: ast.AST) -> Iterator[tuple[ast.AST, int, str]]:
    for node in _walk(tree):
        for k, what in enumerate(_mutations(node)):
            yield node, k, what


def list_mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    return [Mutant(i, getattr(node, "lineno", 0), what)
            for i, (node, _, what) in enumerate(_sites(tree))]


def _apply(node: ast.AST, k: int) -> None:
    """Do the k-th mutation of `node` in place."""
    if isinstance(node, ast.Compare):
        ops = [i for i, op in enumerate(node.ops) if type(op) in _COMPARE_SWAPS]
        i = ops[k]
        node.ops[i] = _COMPARE_SWAPS[type(node.ops[i])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):
        node.operand = ast.UnaryOp(ast.Not(), node.operand)  # `not not x`: x's truth, any type
    elif isinstance(node, ast.BinOp):
        node.op = _BINOP_SWAPS[type(node.op)]()
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            node.value = not value
        elif isinstance(value, (int, float)):
            node.value = value + 1
    elif isinstance(node, ast.Expr):
        node.value = ast.Constant(None)
    elif isinstance(node, ast.Return):
        node.value = None
    elif isinstance(node, ast.If):
        node.test = ast.Constant(False)


def mutated_source(source: str, mutant: Mutant) -> str:
    tree = ast.parse(source)
    for i, (node, k, _) in enumerate(_sites(tree)):
        if i == mutant.index:
            _apply(node, k)
            break
    return ast.unparse(ast.fix_missing_locations(tree))


def _pytest(tests: str, timeout_s: float) -> tuple[str, float]:
    """`killed`, `survived` or `timeout`, and the seconds it took."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "-p", "no:randomly", *shlex.split(tests)]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started
    outcome = "survived" if done.returncode == 0 else "killed"
    if done.returncode not in (0, 1):  # a collection error or crash still means noticed
        outcome = "killed"
    return outcome, time.monotonic() - started


def run_module(module: str, tests: str, only: set[int], limit: int | None) -> int:
    path = ROOT / module
    original = path.read_text()
    mutants = [m for m in list_mutants(original) if not only or m.line in only]
    if limit is not None:
        mutants = mutants[:limit]
    # ast.unparse of the clean tree: the tests must pass on it (a baseline, and a check that
    # the rewrite alone changes nothing).
    path.write_text(ast.unparse(ast.parse(original)))
    try:
        clean, seconds = _pytest(tests, 600)
    finally:
        path.write_text(original)
    if clean != "survived":
        print(f"the tests fail on the clean {module} ({clean}): fix that first")
        return 2
    timeout_s = 3 * seconds + 10
    print(f"{module}: {len(mutants)} mutants; clean run {seconds:.1f} s; tests: {tests}",
          flush=True)
    survivors: list[Mutant] = []
    try:
        for mutant in mutants:
            try:
                path.write_text(mutated_source(original, mutant))
            except (ValueError, TypeError):
                continue
            outcome, took = _pytest(tests, timeout_s)
            path.write_text(original)
            print(f"  {outcome:<8} {module}:{mutant.line:<4} {mutant.what}  ({took:.1f} s)",
                  flush=True)
            if outcome == "survived":
                survivors.append(mutant)
    finally:
        path.write_text(original)
    print(f"{module}: {len(mutants) - len(survivors)} of {len(mutants)} killed; survivors:")
    for mutant in survivors:
        print(f"  {module}:{mutant.line}  {mutant.what}")
    return 0


#: The eight bugs of issue 12 item 12: (name, file, text, planted text, tests that must fail).
PLANTS: list[tuple[str, str, str, str, str]] = [
    ("tls-verification-off", "console/gws/connection.py",
     "        if not self.verify:\n            return False",
     "        if True:\n            return False", "tests/test_transport.py"),
    ("post-path-ssl-false", "console/gws/transport.py",
     "aiohttp.TCPConnector(ssl=self._ssl, limit=0)",
     "aiohttp.TCPConnector(ssl=False, limit=0)", "tests/test_transport.py"),
    ("no-proxy-ignored", "console/gws/connection.py",
     "if parts.hostname and urllib.request.proxy_bypass(parts.hostname):",
     "if False:", "tests/test_transport.py"),
    ("rehandshake-opens-no-gap", "console/gws/stream.py",
     "            self._open_gap()  # a new session has not seen",
     "            pass  # a new session has not seen",
     "tests/test_stream.py tests/test_stream_hostile.py"),
    ("gap-from-when-noticed", "console/gws/stream.py",
     "            self._gap_from = self._last_ok",
     "            self._gap_from = time.time()",
     "tests/test_stream.py tests/test_stream_hostile.py"),
    ("chain-id-filter-dropped", "console/domain/correlation.py",
     'if t.record.chain_id is None or ud.get("GSW_CHAIN_ID") == t.record.chain_id]',
     "if True]", "tests/test_correlation.py"),
    ("error-user-event-fails-one-of-several", "console/domain/correlation.py",
     "                and len(candidates) == 1):", "                ):",
     "tests/test_correlation.py"),
    ("wait-timeout-from-the-wait", "console/domain/correlation.py",
     "        remaining = limit - (self._clock() - tracked.sent_at)",
     "        remaining = limit", "tests/test_correlation.py"),
]


def run_plants(names: list[str]) -> int:
    status = 0
    for name, module, text, planted, tests in PLANTS:
        if names and name not in names:
            continue
        path = ROOT / module
        original = path.read_text()
        if original.count(text) != 1:
            print(f"  ?        {name}: the code it plants into has changed ({module}); "
                  "update PLANTS")
            status = 2
            continue
        try:
            path.write_text(original.replace(text, planted))
            outcome, took = _pytest(tests, 600)
        finally:
            path.write_text(original)
        print(f"  {outcome:<8} {name}  ({module}; {tests}; {took:.1f} s)", flush=True)
        if outcome == "survived":
            status = 1
    return status


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # `kill PID` restores the file too (via the `finally`s)


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", nargs="?", help="e.g. console/domain/correlation.py")
    parser.add_argument("--tests", help="pytest arguments (default: the module's TARGETS)")
    parser.add_argument("--only", default="", help="only mutants on these lines (1,5,9)")
    parser.add_argument("--max", type=int, default=None, help="at most N mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--plants", nargs="*", metavar="NAME",
                        help="re-plant the bugs of issue 12 (all, or those named)")
    args = parser.parse_args()
    if args.plants is not None:
        return run_plants(args.plants)
    if not args.module:
        parser.error("give a module (or --plants)")
    module = str(Path(args.module))
    if args.list:
        for mutant in list_mutants((ROOT / module).read_text()):
            print(f"{module}:{mutant.line}  {mutant.what}")
        return 0
    tests = args.tests or TARGETS.get(module)
    if tests is None:
        parser.error(f"no targeted tests known for {module}: give --tests")
    only = {int(n) for n in args.only.split(",") if n.strip()}
    return run_module(module, tests, only, args.max)


if __name__ == "__main__":
    sys.exit(main())
