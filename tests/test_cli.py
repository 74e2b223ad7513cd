"""``python -m course_lib train`` / ``evaluate``: a summary a person reads or one JSON line, progress, clear errors for
bad input (exit 2), and surviving SIGKILL."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib import cli
from course_lib.settings import repository_root
from course_lib.train import load_checkpoint
from course_lib.train.checkpoint import save_checkpoint

REPO = repository_root()
TINY_TRAIN = ["--model", "cfcm18", "--config", "quick", "--base", "4", "--size", "32", "--batch-size", "4",
              "--device", "cpu", "--quiet"]
BLOCK_JUPYTER = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('IPython', 'ipywidgets', 'ipykernel', 'jupyter_client'):\n"
    "            raise ImportError(f'{name} is blocked for this test')\n"
    "sys.meta_path.insert(0, Block())\n"
    "import runpy\n"
    "sys.argv = ['course_lib'] + sys.argv[1:]\n"
    "runpy.run_module('course_lib', run_name='__main__', alter_sys=True)\n"
)


def course(*arguments: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the command line with Jupyter packages made unimportable (the CLI must not need them)."""
    return subprocess.run([sys.executable, "-c", BLOCK_JUPYTER, *arguments], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=env or _env())


def _env(tmp: Path | None = None) -> dict:
    env = dict(os.environ, COURSE_QUICK="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    if tmp is not None:
        env["CFCM_DATA_ROOT"] = str(tmp)
    return env


def last_json(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "the command printed nothing"
    return json.loads(lines[-1])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    from course_lib.data import make_phantom_dataset

    return make_phantom_dataset(tmp_path_factory.mktemp("phantom"), n_cases=24, progress=False)


def test_missing_data_folder_is_a_clear_error(tmp_path):
    result = course("train", "--data", str(tmp_path / "nowhere"), *TINY_TRAIN)
    assert result.returncode == 2
    assert f"data folder {tmp_path / 'nowhere'} does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    result = course("evaluate", "--checkpoint", str(tmp_path / "best.pt"), "--data", str(tmp_path))
    assert result.returncode == 2 and f"checkpoint {tmp_path / 'best.pt'} does not exist" in result.stderr


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory) -> dict:
    """A tiny run through the command line, Jupyter blocked; its --json line."""
    tmp = tmp_path_factory.mktemp("trained")
    done = course("train", "--data", str(dataset), *TINY_TRAIN, "--epochs", "2", "--out", str(tmp / "run"), "--json",
                  env=_env(tmp))
    assert done.returncode == 0, done.stderr[-2000:]
    return last_json(done.stdout)


def test_train_json_carries_the_run_its_precision_and_history(trained):
    assert trained["epochs"] == 2 and 0.0 <= trained["val_dice"] <= 1.0 and 0.0 <= trained["test_dice"] <= 1.0
    assert trained["seconds"] > 0 and Path(trained["checkpoint"]).is_file() and trained["precision"] in ("fp32", "bf16")
    assert trained["history"]["epoch"] == [1, 2] and len(trained["history"]["seconds"]) == 2
    record = json.loads((Path(trained["checkpoint"]).parent / "history.json").read_text())
    assert record["history"] == trained["history"] and record["test_dice"] == trained["test_dice"]
    assert record["recipe"]["name"] == "quick" and record["recipe"]["size"] == 32
    assert record["precision"] == trained["precision"]


def test_train_ends_with_a_summary_a_person_reads(dataset, tmp_path, isolated_data_root, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert cli.main(["train", "--data", str(dataset), *TINY_TRAIN, "--epochs", "1", "--precision", "fp32",
                     "--out", str(tmp_path / "run")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert not any(line.startswith("{") for line in lines), "the JSON line is for --json only"
    assert lines[0].startswith(f"Trained cfcm18 (recipe quick, 32x32, precision fp32) on {dataset}: 1 epochs in ")
    assert lines[1].startswith("Best epoch 1: validation Dice 0.") and lines[2].startswith("Test: Dice 0.")
    assert "(mean ± sd over 4 images)" in lines[2]
    assert lines[3] == f"Checkpoint: {tmp_path / 'run' / 'best.pt'}; full history: {tmp_path / 'run' / 'history.json'}"
    assert len(lines) == 4


def test_evaluate_shows_progress_then_a_summary_and_writes_every_image(trained, dataset, tmp_path):
    table = tmp_path / "scores" / "per_image.csv"
    scored = course("evaluate", "--checkpoint", trained["checkpoint"], "--data", str(dataset), "--per-image",
                    str(table), env=_env(tmp_path))
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert "evaluating" in scored.stderr and "24/24" in scored.stderr, "no progress bar over the images on stderr"
    assert "precision fp32 (auto: CPU" in scored.stderr or "precision bf16 (auto: CPU" in scored.stderr
    with table.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["name"] for row in rows] == sorted(path.stem for path in (dataset / "CXR_png").glob("*.png"))
    dice = {row["name"]: float(row["dice"]) for row in rows}
    assert all(0.0 <= float(row["boundary_f"]) <= 1.0 for row in rows)
    lines = scored.stdout.strip().splitlines()
    values = np.array(list(dice.values()))
    assert lines[1].startswith(f"24 images: Dice {values.mean():.4f} ± {values.std():.4f} (mean ± sd), "
                               f"median {np.median(values):.4f}, 5th percentile {np.percentile(values, 5):.4f}")
    assert lines[2] == "worst 5:"
    worst = sorted(dice, key=lambda name: (dice[name], name))[:5]
    assert [line.split()[0] for line in lines[3:8]] == worst
    assert lines[-1] == f"Every image's Dice and boundary F-score: {table}"


def test_evaluate_json_is_one_line_and_quiet_means_silent(trained, dataset, isolated_data_root, capsys):
    assert cli.main(["evaluate", "--checkpoint", trained["checkpoint"], "--data", str(dataset), "--json",
                     "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and len(captured.out.strip().splitlines()) == 1
    summary = json.loads(captured.out)
    values = np.array(list(summary["per_image"].values()))
    assert summary["images"] == len(values) == 24 and summary["size"] == 32
    assert summary["mean_dice"] == pytest.approx(values.mean()) and summary["sd_dice"] == pytest.approx(values.std())
    assert summary["median_dice"] == pytest.approx(np.median(values))
    assert summary["p5_dice"] == pytest.approx(np.percentile(values, 5))
    assert [row["dice"] for row in summary["worst"]] == pytest.approx(sorted(values)[:5])
    assert all(set(row) == {"name", "dice", "boundary_f"} for row in summary["worst"])
    assert 0.0 <= summary["mean_boundary_f"] <= 1.0 and summary["precision"] in ("fp32", "bf16")


def test_sigkill_mid_run_then_resume_continues_the_same_history(dataset, tmp_path):
    run_dir = tmp_path / "run"
    arguments = ["train", "--data", str(dataset), *TINY_TRAIN, "--epochs", "12", "--out", str(run_dir), "--json"]
    process = subprocess.Popen([sys.executable, "-c", BLOCK_JUPYTER, *arguments], cwd=REPO, env=_env(tmp_path),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (run_dir / "previous.pt").exists():  # two epochs done: the run is well under way
            assert process.poll() is None, "training ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint appeared within 60 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    done = load_checkpoint(run_dir / "last.pt")["history"]  # whatever was complete when the kill landed
    assert 2 <= len(done["epoch"]) < 12

    resumed = course("train", *arguments[1:], "--resume", env=_env(tmp_path))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = last_json(resumed.stdout)
    assert result["epochs"] == 12 and result["history"]["epoch"] == list(range(1, 13))
    for key, values in done.items():  # epochs finished before the kill are kept exactly
        if key != "seconds":
            assert result["history"][key][: len(values)] == pytest.approx(values, nan_ok=True), key


def _copy_cases(dataset: Path, target: Path, count: int = 3, masks: bool = True) -> Path:
    """The first ``count`` cases of ``dataset`` in a folder of their own (without the masks when asked)."""
    folders = ["CXR_png", "ManualMask/leftMask", "ManualMask/rightMask"] if masks else ["CXR_png"]
    for folder in folders:
        (target / folder).mkdir(parents=True)
        for path in sorted((dataset / folder).glob("*.png"))[:count]:
            shutil.copy(path, target / folder / path.name)
    return target


def _bad_inputs(dataset: Path, checkpoint: Path, tmp: Path) -> dict[str, tuple[list[str], str]]:
    """What a user gets wrong, as (evaluate's arguments, what the error must say)."""
    from PIL import Image

    without_masks = _copy_cases(dataset, tmp / "no_masks", masks=False)
    half_masked = _copy_cases(dataset, tmp / "half_masked")
    lost = sorted((half_masked / "ManualMask" / "rightMask").glob("*.png"))[1]
    lost.unlink()
    resized = _copy_cases(dataset, tmp / "resized")
    mask = sorted((resized / "ManualMask" / "leftMask").glob("*.png"))[0]
    with Image.open(mask) as image:
        image.resize((image.width // 2, image.height // 2)).save(mask)
    (tmp / "empty").mkdir()
    (tmp / "random.pt").write_bytes(os.urandom(4096))
    state = load_checkpoint(checkpoint)
    save_checkpoint({**state, "config": {**state["config"], "base": 8}}, tmp / "other_width.pt")
    save_checkpoint({key: value for key, value in state.items() if key != "config"}, tmp / "no_config.pt")
    format_1 = {key: value for key, value in state.items() if key not in ("config", "model_name")}
    save_checkpoint({**format_1, "format": 1, "model_spec": {"name": "cfcm18", "base": 4, "norm": "instance"}},
                    tmp / "format_1_no_config.pt")
    good = ["--checkpoint", str(checkpoint), "--data", str(dataset)]
    return {
        "missing folder": (["--checkpoint", str(checkpoint), "--data", str(tmp / "nowhere")],
                           f"data folder {tmp / 'nowhere'} does not exist"),
        "a folder without the layout": (["--checkpoint", str(checkpoint), "--data", str(tmp / "empty")],
                                        f"--data {tmp / 'empty'} is not a dataset in the Montgomery layout"),
        "a set without masks": (["--checkpoint", str(checkpoint), "--data", str(without_masks)],
                                f"--data {without_masks} has no masks (ManualMask/leftMask and ManualMask/rightMask "
                                "missing)"),
        "an image without its mask": (["--checkpoint", str(checkpoint), "--data", str(half_masked)],
                                      f"has no mask {lost}"),
        "a mask of another size than its image": (["--checkpoint", str(checkpoint), "--data", str(resized)],
                                                  f"mask {mask} is "),
        "not a checkpoint": (["--checkpoint", str(tmp / "random.pt"), "--data", str(dataset)],
                             "is truncated or was not written by course_lib.train"),
        "weights of another network": (["--checkpoint", str(tmp / "other_width.pt"), "--data", str(dataset)],
                                       "says it holds cfcm18 (base 8, norm instance) but its weights do not fit"),
        "no recorded recipe": (["--checkpoint", str(tmp / "no_config.pt"), "--data", str(dataset)],
                               "does not record the recipe it was trained with (no config)"),
        "no recorded image size (format 1)": (["--checkpoint", str(tmp / "format_1_no_config.pt"), "--data",
                                               str(dataset)], "does not record the image size it was trained at"),
        "a folder for the per-image file": ([*good, "--per-image", str(tmp)], f"--per-image {tmp} must name a file"),
    }


BAD_INPUTS = ["missing folder", "a folder without the layout", "a set without masks", "an image without its mask",
              "a mask of another size than its image", "not a checkpoint", "weights of another network",
              "no recorded recipe", "no recorded image size (format 1)",
              "a folder for the per-image file"]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_evaluate_refuses_bad_input_with_one_line_and_status_2(case, trained, dataset, tmp_path, isolated_data_root,
                                                              capsys):
    arguments, message = _bad_inputs(dataset, Path(trained["checkpoint"]), tmp_path)[case]
    assert cli.main(["evaluate", *arguments, "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "", "nothing but the error may be printed"
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], captured.err


def test_evaluate_on_a_gpu_that_is_not_there_is_a_usage_error(trained, dataset, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    arguments = ["evaluate", "--checkpoint", trained["checkpoint"], "--data", str(dataset), "--device", "cuda"]
    assert cli.main(arguments) == 2
    assert "CUDA is not available here; use --device cpu" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--batch-size", "0"], ["--precision", "fp16"]])
def test_evaluate_options_out_of_range_exit_2_naming_the_option(option, trained, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["evaluate", "--checkpoint", trained["checkpoint"], *option])
    assert stopped.value.code == 2 and option[0] in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# one command line: data and figures are subcommands, their old names are the same commands
# ----------------------------------------------------------------------------------------------
def test_data_is_a_subcommand_and_its_old_name_runs_the_same_command(tmp_path, capsys):
    assert cli.main(["data", "phantom", "--root", str(tmp_path / "new"), "--n-cases", "2"]) == 0
    old_name = subprocess.run([sys.executable, "-m", "course_lib.data", "phantom", "--root", str(tmp_path / "old"),
                               "--n-cases", "2"], capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert old_name.returncode == 0, old_name.stderr[-2000:]
    printed = capsys.readouterr().out.splitlines() + old_name.stdout.splitlines()
    assert [line.split(" in ")[0] for line in printed] == ["phantom set ready"] * 2, printed
    new, old = (sorted(p.relative_to(tmp_path / which) for p in (tmp_path / which).rglob("*.png")) for which in
                ("new", "old"))
    assert new == old and len(new) == 2 * 3  # each case: radiograph, left and right mask


def test_a_failed_download_is_one_line_and_status_2_under_either_name(tmp_path, capsys):
    arguments = ["download", "--root", str(tmp_path), "--url", (tmp_path / "none.zip").as_uri(), "--sha256", "0" * 64]
    assert cli.main(["data", *arguments]) == 2
    old_name = subprocess.run([sys.executable, "-m", "course_lib.data", *arguments], capture_output=True, text=True,
                              timeout=120, env=_env(tmp_path))
    assert old_name.returncode == 2
    for error in (capsys.readouterr().err, old_name.stderr):
        lines = error.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: downloading "), lines


def test_figures_is_a_subcommand_and_an_unwritable_folder_is_one_line_and_status_2(tmp_path, capsys):
    assert cli.main(["figures", str(tmp_path / "assets"), "--only", "block"]) == 0
    assert (tmp_path / "assets" / "block.png").is_file()
    assert capsys.readouterr().out.strip() == f"wrote 1 files to {tmp_path / 'assets'}"
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert cli.main(["figures", str(blocker), "--only", "block"]) == 2
    old_name = subprocess.run([sys.executable, "-m", "course_lib.figures", str(blocker), "--only", "block"],
                              capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert old_name.returncode == 2
    for error in (capsys.readouterr().err, old_name.stderr):
        lines = error.strip().splitlines()
        assert lines == [f"error: cannot write the figures into {blocker}: File exists"], lines


def test_every_command_the_readme_and_the_makefile_give_is_one_the_command_line_takes():
    """The documented lines parse (placeholders such as DIR are plain values); nothing is run."""
    readme = [line.split("python -m course_lib ", 1)[1] for line in (REPO / "README.md").read_text().splitlines()
              if line.startswith(".venv/bin/python -m course_lib ")]
    makefile = [line.split("-m course_lib ", 1)[1] for line in (REPO / "Makefile").read_text().splitlines()
                if "-m course_lib " in line]
    assert {line.split()[0] for line in readme} == {"train", "evaluate", "data", "figures"}
    assert [line.split()[:2] for line in makefile] == [["data", "download"], ["figures", "assets"]]
    for line in readme + makefile:
        words = line.split("#")[0].replace("[", "").replace("]", "").split()
        cli.build_parser().parse_args(words)  # exits with status 2 on an unknown command or option
