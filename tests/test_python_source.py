"""Every parse of Python source in the library goes through grading.python_source, which parses one thread at a time.

Class grading parses notebooks in worker threads; CPython 3.11 can then fail with "SystemError: AST constructor
recursion depth mismatch" (gh-106905), as this suite did once on 3.11.7 in the exchange round trip.
"""

import ast
import threading

from course_lib.grading.python_source import parse_source
from grading_helpers import REPO_ROOT


def test_no_module_but_python_source_calls_ast_parse():
    direct = []
    for path in sorted((REPO_ROOT / "course_lib").rglob("*.py")):
        if path.name == "python_source.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parse"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "ast"):
                direct.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert not direct, f"call course_lib.grading.python_source.parse_source instead of ast.parse at: {direct}"


def test_parse_source_gives_ast_parse_s_tree_from_many_threads():
    source = (REPO_ROOT / "course_lib" / "grading" / "declare.py").read_text(encoding="utf-8")
    expected = ast.dump(ast.parse(source))
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.extend(ast.dump(parse_source(source)) for _ in range(5)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 20
