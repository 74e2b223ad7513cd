"""``python -m course_lib train`` / ``evaluate``: one JSON line at the end, clear errors, and surviving SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_lib.settings import repository_root
from course_lib.train import load_checkpoint

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


def test_train_then_evaluate_print_one_json_line_each(dataset, tmp_path):
    trained = course("train", "--data", str(dataset), *TINY_TRAIN, "--epochs", "2", "--out", str(tmp_path / "run"),
                     env=_env(tmp_path))
    assert trained.returncode == 0, trained.stderr[-2000:]
    result = last_json(trained.stdout)
    assert result["epochs"] == 2 and 0.0 <= result["val_dice"] <= 1.0 and 0.0 <= result["test_dice"] <= 1.0
    assert result["seconds"] > 0 and Path(result["checkpoint"]).is_file()

    scored = course("evaluate", "--checkpoint", result["checkpoint"], "--data", str(dataset), env=_env(tmp_path))
    assert scored.returncode == 0, scored.stderr[-2000:]
    evaluation = last_json(scored.stdout)
    assert evaluation["images"] == len(evaluation["per_image"]) == 24
    assert evaluation["mean_dice"] == pytest.approx(sum(evaluation["per_image"].values()) / 24)


def test_sigkill_mid_run_then_resume_continues_the_same_history(dataset, tmp_path):
    run_dir = tmp_path / "run"
    arguments = ["train", "--data", str(dataset), *TINY_TRAIN, "--epochs", "12", "--out", str(run_dir)]
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
