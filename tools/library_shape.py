#!/usr/bin/env python3
"""The shape of course_lib: which layer imports which, and which functions are long, read from the source.

The library is layered so that a reader can start at the bottom and never meet a name from further up:

    settings, atomic  <  nn, losses, metrics  <  data  <  train  <  viz  <  grading  <  instructor  <  figures
        <  cli, colab

A module may import its own layer and the layers below it, never one above. Functions stay under
``MAX_LINES`` lines and ``MAX_PARAMETERS`` parameters unless their docstring says why (a sentence holding
"lines" or "parameters" that explains the length).

    python tools/library_shape.py            # the import graph between layers, and any violation
    python tools/library_shape.py --lines    # also every function's length, longest first
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from course_lib.instructor.course import checkout

LIBRARY = checkout() / "course_lib"
LAYERS = [("settings", "atomic"), ("nn", "losses", "metrics"), ("data",), ("train",), ("viz",), ("grading",),
          ("instructor",), ("figures",), ("cli", "colab", "__main__")]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_LINES = 60
MAX_PARAMETERS = 8


@dataclass(frozen=True)
class Function:
    module: str
    name: str
    line: int
    lines: int
    parameters: int
    justified: bool


def part_of(module: str) -> str:
    """The top-level part of ``course_lib`` a dotted module belongs to: 'train' for 'course_lib.train.loop'."""
    return module.split(".")[1] if module.count(".") else module


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(LIBRARY.rglob("*.py")):
        dotted = ".".join(("course_lib",) + path.relative_to(LIBRARY).with_suffix("").parts).removesuffix(".__init__")
        found[dotted] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every course_lib module ``path`` imports, at the top or inside a function (TYPE_CHECKING blocks excepted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and ast.unparse(block.test).endswith("TYPE_CHECKING") for node in ast.walk(block)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("course_lib"))
        elif isinstance(node, ast.ImportFrom) and node.module == "course_lib":
            names.update(f"course_lib.{alias.name}" for alias in node.names)  # from course_lib import settings
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course_lib"):
            names.add(node.module)
    return names


def layer_graph() -> tuple[dict[tuple[str, str], int], list[str]]:
    """({(importing part, imported part): number of imports}, violations as readable lines)."""
    edges: dict[tuple[str, str], int] = defaultdict(int)
    violations = []
    for module, path in modules().items():
        source = part_of(module)
        for target in imports_of(path):
            imported = part_of(target)
            if imported == "course_lib" or imported == source:
                continue
            edges[(source, imported)] += 1
            if RANK.get(imported, -1) > RANK.get(source, len(LAYERS)):
                violations.append(f"{module} imports {target}: layer {source} may not import {imported}, which sits "
                                  "above it")
    return dict(edges), violations


def functions() -> list[Function]:
    found = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args
                parameters = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs
                              if a.arg not in ("self", "cls")]
                parameters += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
                docstring = (ast.get_docstring(node) or "").lower()
                found.append(Function(module, node.name, node.lineno, node.end_lineno - node.lineno + 1,
                                      len(parameters), "lines" in docstring or "parameters" in docstring))
    return found


def oversized() -> list[Function]:
    """Functions over the limits whose docstring does not say why."""
    return [f for f in functions() if (f.lines > MAX_LINES or f.parameters > MAX_PARAMETERS) and not f.justified]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", action="store_true", help="list every function's length, longest first")
    arguments = parser.parse_args(argv)
    edges, violations = layer_graph()
    print("imports between the parts of course_lib (importer -> imported: count), bottom layer first:")
    for source in sorted({s for s, _ in edges}, key=lambda name: (RANK.get(name, 99), name)):
        targets = sorted((t for s, t in edges if s == source), key=lambda name: (RANK.get(name, 99), name))
        print(f"  {source:9s} -> " + ", ".join(f"{t} ({edges[(source, t)]})" for t in targets))
    if arguments.lines:
        for f in sorted(functions(), key=lambda f: -f.lines)[:40]:
            print(f"  {f.lines:4d} lines {f.parameters:2d} params  {f.module}.{f.name} (line {f.line})"
                  f"{'  [justified]' if f.justified else ''}")
    problems = violations + [f"{f.module}.{f.name} (line {f.line}): {f.lines} lines, {f.parameters} parameters, "
                             "and its docstring does not say why" for f in oversized()]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("no layering violation, no unexplained long function" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
