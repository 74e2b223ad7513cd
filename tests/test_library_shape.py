"""course_lib's shape, checked from its source: layers import only downwards, and long functions say why."""

from __future__ import annotations

import library_shape  # tools/library_shape.py (conftest puts tools/ on the import path)


def test_no_module_imports_a_layer_above_its_own():
    _, violations = library_shape.layer_graph()
    assert not violations, "\n".join(violations)


def test_every_part_of_the_library_has_a_layer():
    parts = {library_shape.part_of(module) for module in library_shape.modules()} - {"course_lib"}
    assert parts <= set(library_shape.RANK), f"parts without a layer in tools/library_shape.py: {parts - set(library_shape.RANK)}"


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
