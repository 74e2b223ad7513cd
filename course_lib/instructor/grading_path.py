"""Class grading's path through a notebook: the demonstration cells that no graded cell needs are not run.

Most of a notebook's grading time is its demonstrations (notebook 2 trains three networks to draw a figure), yet a
test cell's result depends only on the answers and on the names the cells before it define: the checkers build
their own data from their own seeds. So, for each submission, class grading works out from the notebook as nbgrader
runs it (hidden tests put back) which code cells the graded ones need:

* every answer cell and every test cell is run;
* a demonstration cell is run when it defines a name (an assignment, import, function or class at its top level)
  that a cell being run reads, at its top level or inside its functions; the names it reads are then needed in
  turn, so an answer that uses the notebook's imports or a helper of a demonstration still finds them;
* in a demonstration cell that runs, an import of names nothing running reads is left out (notebook 2's imports
  cell loads matplotlib and the trainer for figures that are not drawn);
* a cell the analysis cannot read (IPython magics, a syntax error) or one that imports ``*`` turns the pruning off
  for that notebook.

The others (and the trimmed cells' code) are written, by the hash of their source, in
``<course>/.grading-path/<student>/<assignment>.json``.
``kernel_hook`` (run at kernel start by an IPython startup file in the worker's own IPython folder, so only class
grading's kernels have it) reads that list for the notebook it is running (the kernel's working folder is
``<course>/autograded|submitted/<student>/<assignment>``) and replaces each listed cell's code, as the cell is run,
by a line that says it was not run. The graded notebook keeps every cell's source; only the skipped cells' outputs
are that line. Plain ``nbgrader autograde`` (formgrader's button) runs every cell, as before.

What it does not see: a demonstration that changes an object a graded cell uses without naming it (``module.x =
...``, a file written then read). The course's notebooks have none; a test cell's result that depends on one would
depend on cells the student can edit, which the course avoids.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import json
import symtable
from pathlib import Path

from course_lib.grading.python_source import parse_source

__all__ = ["cells_to_skip", "trimmed_imports", "write_skip_list", "startup_file", "kernel_hook", "SKIP_FOLDER", "NOTE"]

SKIP_FOLDER = ".grading-path"
NOTE = "(demonstration: not run while the class was graded; no graded cell uses what it computes)"
_BUILTINS = frozenset(dir(builtins))


def _digest(source: str) -> str:
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()


def _scope_reads(table: symtable.SymbolTable) -> set[str]:
    """The global names a nested scope (function, class, comprehension, lambda) and its own children read."""
    reads = {s.get_name() for s in table.get_symbols()
             if s.is_referenced() and (s.is_global() or not (s.is_local() or s.is_free() or s.is_parameter()))}
    for child in table.get_children():
        reads |= _scope_reads(child)
    return reads


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
           ast.GeneratorExp)


class _Names(ast.NodeVisitor):
    """A cell's top-level names in the order Python meets them: ``reads`` (before any store of the same name in the
    cell) and ``stores``. A nested scope (function, class, lambda, comprehension) reads its global names where it
    is defined: a function called later may read them later, so this keeps more cells, never fewer."""

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.stores: set[str] = set()

    def load(self, name: str) -> None:
        if name not in self.stores:
            self.reads.add(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.load(node.id)
        else:
            self.stores.add(node.id)

    def visit_Assign(self, node) -> None:  # the value runs first, then the targets are bound
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.load(node.target.id)
        self.visit(node.target)

    def visit_AnnAssign(self, node) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_NamedExpr(self, node) -> None:
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for statement in node.body + node.orelse:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_ExceptHandler(self, node) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.stores.add(node.name)
        for statement in node.body:
            self.visit(statement)

    def visit_Import(self, node) -> None:
        for alias in node.names:
            self.stores.add(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def scope(self, node) -> None:
        table = symtable.symtable(ast.unparse(node), "<cell>", "exec")
        for name in sorted(_scope_reads(table) | {s.get_name() for s in table.get_symbols() if s.is_referenced()}):
            self.load(name)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.stores.add(node.name)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = scope
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = scope


def cell_names(source: str) -> tuple[set[str], set[str]] | None:
    """(names the cell reads from earlier cells, names it defines at its top level), or None when it cannot be
    parsed (magics, syntax errors). A name the cell itself bound before reading it is not read from before."""
    try:
        tree = parse_source(source)
    except SyntaxError:
        return None
    names = _Names()
    names.visit(tree)
    return names.reads - _BUILTINS, names.stores


def _role(cell) -> str:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return "graded" if meta.get("solution") or meta.get("grade") else "demonstration"


def _needed(notebook, names: dict[int, tuple[set[str], set[str]]]) -> tuple[set[int], set[str]]:
    """(the code cells that run, every name they read): the graded cells, and the demonstrations that define a name
    a running cell reads, until nothing more is needed."""
    run = {i for i in names if _role(notebook.cells[i]) == "graded"}
    needed = set().union(*(names[i][0] for i in run)) if run else set()
    grew = True
    while grew:
        grew = False
        for i in names:
            if i not in run and names[i][1] & needed:
                run.add(i)
                needed |= names[i][0]
                grew = True
    return run, needed


def _readable(notebook) -> dict[int, tuple[set[str], set[str]]] | None:
    """The names of every code cell, or None when one cannot be read or imports ``*`` (defines names unseen)."""
    names = {}
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            found = cell_names(cell.source)
            if found is None or "*" in found[1]:
                return None
            names[i] = found
    return names


def cells_to_skip(notebook) -> list[int]:
    """The indices of the demonstration cells no graded cell needs (see the module docstring); [] when a code cell
    cannot be read."""
    names = _readable(notebook)
    if names is None:
        return []
    run, _ = _needed(notebook, names)
    return [i for i in names if i not in run and notebook.cells[i].source.strip()]


def trimmed_imports(notebook) -> dict[int, str]:
    """{index: its source without them} for the demonstration cells that run but import names nothing running
    reads (notebook 2's imports cell loads matplotlib for figures that are not drawn while grading)."""
    names = _readable(notebook)
    if names is None:
        return {}
    run, needed = _needed(notebook, names)
    trimmed = {}
    for i in sorted(run):
        if _role(notebook.cells[i]) == "graded":
            continue
        lines = notebook.cells[i].source.split("\n")
        body = parse_source(notebook.cells[i].source).body
        imports = [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))]
        read_here = set(needed)  # and what the rest of this cell reads, which runs
        for node in body:
            if node not in imports:
                read_here |= cell_names(ast.unparse(node))[0]
        unused = [node for node in imports if not {a.asname or a.name.split(".")[0] for a in node.names} & read_here]
        for node in reversed(unused):
            del lines[node.lineno - 1:node.end_lineno]
        if unused:
            trimmed[i] = "\n".join(lines)
    return trimmed


def write_skip_list(course_root: Path, student: str, assignment: str, notebook) -> list[int]:
    """Record the cells of ``notebook`` (as nbgrader runs it) that class grading skips, and the imports it leaves out
    of the cells it runs; the indices of the cells skipped."""
    skipped, trimmed = cells_to_skip(notebook), trimmed_imports(notebook)
    digests = {i: _digest(cell.source) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    # a cell is known by its source only: one that another cell repeats (an answer pasted from a demonstration)
    # runs as written
    skip = {digests[i] for i in skipped} - {d for i, d in digests.items() if i not in skipped}
    trim = {digests[i]: source for i, source in trimmed.items()
            if [d for j, d in digests.items() if d == digests[i]] == [digests[i]]}
    skipped = [i for i in skipped if digests[i] in skip]
    listed = {"skip": sorted(skip), "trim": trim}
    path = Path(course_root) / SKIP_FOLDER / student / f"{assignment}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(listed, indent=1), encoding="utf-8")
    return skipped


def startup_file(ipython_dir: Path) -> Path:
    """Write the IPython startup file that runs ``kernel_hook`` in every kernel using ``ipython_dir``."""
    path = Path(ipython_dir) / "profile_default" / "startup" / "00-course-grading-path.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("from course_lib.instructor.grading_path import kernel_hook\nkernel_hook()\n", encoding="utf-8")
    return path


def kernel_hook(folder: Path | None = None) -> bool:
    """In a grading kernel (working folder ``<course>/<step>/<student>/<assignment>``): replace the code of the
    cells listed for this notebook by a note, and of the cells trimmed by their trimmed code, as they run. Whether a
    list was found."""
    folder = Path(folder or Path.cwd()).resolve()
    listed = folder.parents[2] / SKIP_FOLDER / folder.parent.name / f"{folder.name}.json" \
        if len(folder.parents) > 2 else None
    if listed is None or not listed.is_file():
        return False
    listing = json.loads(listed.read_text(encoding="utf-8"))
    if isinstance(listing, list):  # a list of cells to skip alone
        listing = {"skip": listing, "trim": {}}
    skip, trim = frozenset(listing["skip"]), listing["trim"]
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return False

    def skip_demonstration(lines: list[str]) -> list[str]:
        digest = _digest("".join(lines))
        if digest in skip:
            return [f"print({NOTE!r})\n"]
        return trim[digest].splitlines(keepends=True) if digest in trim else lines

    shell.input_transformers_cleanup.insert(0, skip_demonstration)
    return True
