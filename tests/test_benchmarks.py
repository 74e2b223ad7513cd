"""The benchmark scripts still run end to end, at a tiny size on the CPU, and print their tables.

Their numbers are not checked here (speed belongs in benchmarks/RESULTS.md, not in tests); what is checked is that
a session lent a GPU, or an instructor running ``make bench``, finds scripts that work and print every row.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.settings import repository_root

BENCHMARKS = repository_root() / "benchmarks"


def run_script(name: str, *arguments: str, data_root: Path) -> str:
    env = dict(os.environ, CFCM_DATA_ROOT=str(data_root), MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(BENCHMARKS / name), *arguments], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{name} {' '.join(arguments)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def table_rows(output: str, first_header: str) -> list[list[str]]:
    """The data rows of the Markdown table whose first column is headed ``first_header``."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"\|\s*{re.escape(first_header)}\s*\|", line))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_train_step_prints_a_row_per_batch_and_mode(tmp_path: Path) -> None:
    output = run_script("train_step.py", "--device", "cpu", "--size", "32", "--base", "4", "--batches", "1", "2",
                        "--steps", "1", "--threads", "1", data_root=tmp_path)
    rows = table_rows(output, "batch")
    assert [(row[0], row[1]) for row in rows] == [("1", "fp32"), ("1", "auto"), ("2", "fp32"), ("2", "auto")]
    assert all(float(row[3]) > 0 and float(row[4]) > 0 for row in rows), rows
    assert all(row[2] == "fp32" for row in rows if row[1] == "fp32") and {row[2] for row in rows} <= {"fp32", "bf16"}
    chosen = rows[1][2]
    assert f"auto runs {chosen}." in output, "the script must say what the automatic choice was on this CPU"
    assert ("take the same path here" in output) is (chosen == "fp32")


@pytest.mark.parametrize("recipe_rows", [["fast", "fast, no augmentation", "lab"]])
def test_montgomery_gpu_runs_on_the_cpu_at_a_small_size(montgomery_dir: Path, tmp_path: Path, recipe_rows) -> None:
    output = run_script("montgomery_gpu.py", "--data", str(montgomery_dir), "--device", "cpu", "--size", "32",
                        "--base", "4", "--epochs", "1", "--lab-epochs", "1", data_root=tmp_path)
    assert "SMOKE RUN" in output, "a run with overridden sizes must say its numbers are not the benchmark's"
    rows = table_rows(output, "recipe")
    assert [row[0] for row in rows] == recipe_rows
    assert all(0.0 <= float(row[9]) <= 1.0 for row in rows), f"test Dice out of range: {rows}"


def test_montgomery_folds_tests_every_case_once(montgomery_dir: Path, tmp_path: Path) -> None:
    output = run_script("montgomery_folds.py", "--data", str(montgomery_dir), "--models", "cfcm34", "ladder34",
                        "--folds", "2", "--epochs", "1", "--size", "32", "--workers", "1", data_root=tmp_path)
    per_fold = table_rows(output, "model")
    assert [(row[0], row[1]) for row in per_fold] == [("cfcm34", "1"), ("cfcm34", "2"), ("ladder34", "1"),
                                                       ("ladder34", "2")]
    summary_header = next(line for line in output.splitlines() if "mean over" in line)
    assert "mean over 138 images" in summary_header, "the folds must test each of the 138 cases exactly once"
    summary = output[output.index(summary_header):]
    ladder = table_rows(summary, "model")[1]
    assert ladder[0] == "ladder34" and re.fullmatch(r"[+-]\d\.\d{4} \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\]", ladder[-1]), \
        f"the paired difference with its interval is missing: {ladder}"


def test_quick_notebooks_times_a_notebook_idle_and_under_load(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parent / "fixtures" / "solutions" / "00_fixture" / "00_fixture.ipynb"
    output = run_script("quick_notebooks.py", str(fixture), "--load", "1", data_root=tmp_path)
    rows = table_rows(output, "notebook")
    assert [(row[0], row[1]) for row in rows] == [("00_fixture", "0"), ("00_fixture", "1")]
    assert all(float(row[2]) > 0 for row in rows) and "0 run(s) over it" in output, output


def test_full_mode_epochs_times_the_course_s_code_and_the_student_s(montgomery_dir: Path, tmp_path: Path) -> None:
    output = run_script("full_mode_epochs.py", "--data", str(montgomery_dir), "--notebooks", "02_skip_connections",
                        "04_cfcm_training", "--epochs", "1", "--size", "32", "--limit", "8", "--threads", "1", "--load",
                        "0", data_root=tmp_path)
    rows = table_rows(output, "notebook")
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (notebook, code, "1") for notebook in ("02_skip_connections", "04_cfcm_training") for code in ("course", "student")]
    assert all(float(row[4]) > 0 for row in rows), rows
    for course, student in (rows[0:2], rows[2:4]):
        assert course[7] == student[7], f"a right fusion, decoder and Dice loss must train as the course's do: {rows}"


def test_the_benchmarks_train_notebook_2_s_depth() -> None:
    """Notebook 2's ``DEPTH`` is written in its code cell; the benchmarks that retrain its networks and the figure of
    its encoder-decoder restate it, and must not drift from it."""
    import nbformat

    from course_lib.figures.model_facts import NOTEBOOK_2_DEPTH

    notebook = nbformat.read(repository_root() / "solutions" / "02_skip_connections" / "02_skip_connections.ipynb",
                             as_version=4)
    in_notebook = [int(found) for cell in notebook.cells if cell.cell_type == "code"
                   for found in re.findall(r"^DEPTH = (\d+)", cell.source, re.M)]
    in_benchmarks = {name: [int(found) for found in re.findall(r"^DEPTH = (\d+)", (BENCHMARKS / name).read_text(), re.M)]
                     for name in ("full_mode_epochs.py", "skip_fusion_seeds.py")}
    assert len(in_notebook) == 1, f"notebook 2 should set DEPTH once, found {in_notebook}"
    assert in_benchmarks == {name: in_notebook for name in in_benchmarks}, in_benchmarks
    assert NOTEBOOK_2_DEPTH == in_notebook[0]


def test_skip_fusion_seeds_prints_every_seed_and_the_spread(tmp_path: Path) -> None:
    output = run_script("skip_fusion_seeds.py", "--seeds", "notebook", "1", "--size", "32", "--epochs", "1",
                        "--limit-images", "8", "--workers", "1", "--out", str(tmp_path / "runs"), data_root=tmp_path)
    assert "SMOKE RUN" in output, "a run with overridden sizes must say its numbers are not notebook 2's"
    assert [row[0] for row in table_rows(output, "seed")] == ["notebook", "1"]
    measures = [row[0] for row in table_rows(output, "measure")]  # a one-epoch run may leave a gap negative:
    assert measures[:4] == ["Dice gap to concat", "Dice gap to sum", "boundary gap to concat", "boundary gap to sum"]
    assert re.fullmatch(r"boundary gap / Dice gap( \([0-2] of 2 seeds: both gaps positive\))?", measures[4])
    assert re.search(r"at least 0\.02 below both: [0-2]\b", output)
    again = run_script("skip_fusion_seeds.py", "--seeds", "notebook", "--size", "32", "--epochs", "1",
                       "--limit-images", "8", "--workers", "1", "--out", str(tmp_path / "runs"), data_root=tmp_path)
    assert "seed notebook none:" not in again, "a run already saved must be read back, not trained again"
