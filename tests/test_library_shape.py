"""course_lib's shape, checked from its source: layers import only downwards, no two modules import each other
(directly or round a longer circle), and long functions say why."""

from __future__ import annotations

import ast
from pathlib import Path

import library_shape  # tools/library_shape.py (conftest puts tools/ on the import path)


def test_no_module_imports_a_layer_above_its_own():
    _, violations = library_shape.layer_graph()
    assert not violations, "\n".join(violations)


def test_every_part_of_the_library_has_a_layer():
    parts = {library_shape.part_of(module) for module in library_shape.modules()} - {"course_lib"}
    assert parts <= set(library_shape.RANK), f"parts without a layer in tools/library_shape.py: {parts - set(library_shape.RANK)}"


def module_imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Which of ``modules`` each one imports: at the top, in a function or for type checkers only, with
    ``from package import module`` counted as importing that module (not the package's ``__init__``)."""
    graph = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules
                               else node.module for alias in node.names)
        graph[module] = {target for target in targets if target in modules and target != module}
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports in ``graph`` (its modules in order, the first repeated at the end), or []."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return []
        for target in sorted(graph[module]):
            found = visit(target, path + [module])
            if found:
                return found
        done.add(module)
        return []

    for module in sorted(graph):
        found = visit(module, [])
        if found:
            return found
    return []


def test_no_module_imports_one_that_imports_it_back():
    cycle = import_cycle(module_imports(library_shape.modules()))
    assert not cycle, ("modules that import each other (move what they share into a module both import): "
                       + " -> ".join(cycle))


def test_the_cycle_finder_sees_a_circle_of_three_and_a_type_checking_import(tmp_path):
    modules = {f"course_lib.{name}": tmp_path / f"{name}.py" for name in ("a", "b", "c", "d")}
    modules["course_lib.a"].write_text("from course_lib import b\n")
    modules["course_lib.b"].write_text("import course_lib.c\n")
    modules["course_lib.c"].write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from course_lib.a import x\n")
    modules["course_lib.d"].write_text("from course_lib.c import y\n")
    assert import_cycle(module_imports(modules)) == ["course_lib.a", "course_lib.b", "course_lib.c", "course_lib.a"]
    modules["course_lib.c"].write_text("")
    assert import_cycle(module_imports(modules)) == []


def test_functions_are_short_or_say_why():
    problems = [f"{f.module}.{f.name}: {f.lines} lines, {f.parameters} parameters" for f in library_shape.oversized()]
    assert not problems, "functions over 60 lines or 8 parameters whose docstring does not say why:\n" + "\n".join(problems)


def test_the_checker_sees_a_violation_and_an_oversized_function(tmp_path, monkeypatch):
    package = tmp_path / "course_lib"
    (package / "nn").mkdir(parents=True)
    (package / "nn" / "bad.py").write_text("from course_lib.train import fit\n\n\ndef long(a, b, c, d, e, f, g, h, i):\n"
                                           + "    x = 1\n" * 70)
    monkeypatch.setattr(library_shape, "LIBRARY", package)
    _, violations = library_shape.layer_graph()
    assert violations == ["course_lib.nn.bad imports course_lib.train: layer nn may not import train, which sits "
                          "above it"]
    assert [f.name for f in library_shape.oversized()] == ["long"]
