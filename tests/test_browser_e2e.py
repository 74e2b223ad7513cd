"""End to end in a real browser: the student's JupyterLab, Run All, a wrong and a right answer, the explorer.

Students meet the course in JupyterLab, where widgets, the inline matplotlib backend and the kernel have to
work together; nbval sees none of that. This test starts the student's own command, `tools/start_lab.py
--student`, on a free local port with a scratch workspace (made from the release as `make lab` makes it) and
drives Debian's headless Chromium with Playwright, as a student would:

1. notebook 1, untouched: Run > Run All Cells reaches the last cell, and every test cell shows "not yet";
2. the crop exercise: typing the original lab's crop and running it shows its diagnosis; typing a right one
   shows "passed"; saving writes the answer into the workspace;
3. notebook 3, untouched: every teaching figure embedded as a data URI (tools/embed_figures.py) displays,
   i.e. JupyterLab's sanitizer keeps them and the browser decodes them; Run All reaches the last cell; the
   explorer comes with its static picture, and moving its slider redraws its figure.

Every request to a host other than this machine is blocked, so it also shows the lab works offline.
Screenshots land in build/e2e/.

It installs what it needs where it can (Chromium with apt-get when running as root, the `playwright` package
with pip) and skips, saying why, only when the browser cannot be installed. A failure names the step that did
not happen.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from course_lib.instructor.class_grading import grade_class
from course_lib.settings import repository_root
from embed_figures import figure_cells  # tools/embed_figures.py (conftest puts tools/ on the import path)
from grading_helpers import (FIXTURE_RELEASE, FIXTURE_SOLUTIONS, filled_with_solutions, is_test, is_written_answer,
                             read, with_answers, write_submission)

REPO_ROOT = repository_root()

E2E_DIR = REPO_ROOT / "build" / "e2e"
NOTEBOOK_1 = "01_data_transforms/01_data_transforms.ipynb"
NOTEBOOK_3 = "03_convlstm/03_convlstm.ipynb"
CHECK_PANEL = ".jp-OutputArea-output .course-check"
# The original lab's crop, as a student might type it: its slices stop one row and one column short.
LAB_CROP = """class CropActualImage:
    def __call__(self, data: dict) -> dict:
        images, labels = [], []
        for image, label in zip(data["images"], data["labels"]):
            rows = np.flatnonzero(image.sum(axis=1) > 0)
            cols = np.flatnonzero(image.sum(axis=0) > 0)
            images.append(image[rows[0]:rows[-1], cols[0]:cols[-1]])
            labels.append(label[rows[0]:rows[-1], cols[0]:cols[-1]])
        data["images"], data["labels"] = images, labels
        return data
"""
RIGHT_CROP = LAB_CROP.replace("rows[-1], cols[0]:cols[-1]", "rows[-1] + 1, cols[0]:cols[-1] + 1").replace(
    "            rows = np", "            if not image.any():\n                raise ValueError('the image is all black')\n"
                            "            rows = np")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_S = 300  # the student command prepares the offline dataset first (once)
RUN_ALL_S = 420  # notebooks 1 and 3 in quick mode run in seconds on 2 cores; leave room for a busy CI
FIGURE_CHANGE_S = 90
EMBEDDED_IMAGES = ".jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown img[src^='data:image/png']"
LOCAL_HOSTS = ("127.0.0.1", "localhost")

pytestmark = pytest.mark.timeout(SERVER_START_S + 2 * RUN_ALL_S + FIGURE_CHANGE_S + 300)


class StepFailed(AssertionError):
    """One named step of the end-to-end run did not happen."""


# ---------------------------------------------------------------------------------------------- installing


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing and we may; skip the test when it cannot be."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        pytest.skip(f"{CHROMIUM} is missing and this machine has no apt-get to install Debian's chromium")
    if os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and installing it needs root: run `sudo apt-get install -y chromium`")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in ([apt_get, "update"], [apt_get, "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"the browser cannot be installed here: `{' '.join(command)}` failed: {done.stderr[-500:]}")
    if not CHROMIUM.exists():
        pytest.skip(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


def ensure_playwright():
    """The `playwright` package (it drives the system Chromium; no browser download), installed when missing."""
    try:
        return importlib.import_module("playwright.sync_api")
    except ImportError:
        pass
    done = subprocess.run([sys.executable, "-m", "pip", "install", "playwright"], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise StepFailed(f"step 'install playwright' did not happen: pip said {done.stderr[-800:]}")
    importlib.invalidate_caches()
    return importlib.import_module("playwright.sync_api")


# ---------------------------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(scratch: Path) -> dict[str, str]:
    """Quick mode for the kernel; JupyterLab's settings, workspaces and runtime files kept out of the user's home."""
    env = dict(os.environ, COURSE_QUICK="1", PYTHONUNBUFFERED="1")
    env.pop("MPLBACKEND", None)  # `make test` sets Agg, which would stop the kernel from drawing figures inline
    for name in ("JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTER_RUNTIME_DIR"):
        env[name] = str(scratch / name.lower())
    return env


def wait_for_server(base_url: str, token: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StepFailed(f"step 'start JupyterLab' did not happen: tools/start_lab.py exited with "
                             f"{process.returncode}; its log ends:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/status?token={token}", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise StepFailed(f"step 'start JupyterLab' did not happen within {SERVER_START_S} s; its log ends:\n"
                     f"{log_path.read_text()[-3000:]}")


@contextlib.contextmanager
def served(arguments: list[str], cwd: Path, env: dict[str, str], log_name: str) -> Iterator[tuple[str, str, Path]]:
    """Run ``tools/start_lab.py ARGUMENTS`` on a free port from ``cwd``; yield (url, token, log); stop it."""
    port, token = free_port(), secrets.token_hex(16)
    log_path = E2E_DIR / log_name
    command = [sys.executable, str(REPO_ROOT / "tools" / "start_lab.py"), *arguments,
               "--port", str(port), "--token", token, "--no-browser"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_for_server(base_url, token, process, log_path)
            yield base_url, token, log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def course_lab(scratch: Path, workspace: Path):
    """The course's own student command with ``workspace`` as the student's workspace (made from the release,
    as `make lab` makes it)."""
    return served(["--student", "--workspace", str(workspace)], REPO_ROOT, server_environment(scratch),
                  "jupyterlab.log")


def instructor_lab(scratch: Path, course: Path):
    """`make instructor`'s command serving the course folder ``course``, from a plain shell: PATH has only the
    system's folders, as when no virtual environment is activated."""
    env = dict(server_environment(scratch), PATH="/usr/bin:/bin")
    env.pop("COURSE_QUICK")  # nbgrader's autograde sets NBGRADER_EXECUTION, which makes the notebook quick
    return served(["--instructor", "--root", str(course)], course, env, "formgrader.log")


# ---------------------------------------------------------------------------------------------- the browser


class Steps:
    """Names each step; when one fails, says which, with a screenshot and the server log's tail."""

    def __init__(self, log_path: Path) -> None:
        self.page = None
        self.log_path = log_path
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        except StepFailed:
            raise
        except Exception as error:  # noqa: BLE001 - every failure is reported as the step that did not happen
            shot = E2E_DIR / f"failed_{name.replace(' ', '_')}.png"
            if self.page is not None:
                with contextlib.suppress(Exception):
                    self.page.screenshot(path=str(shot), full_page=True)
            raise StepFailed(f"step '{name}' did not happen: {type(error).__name__}: {error}\n"
                             f"(screenshot: {shot}; server log {self.log_path} ends:\n"
                             f"{self.log_path.read_text()[-2000:]})") from error
        self.timings[name] = round(time.monotonic() - start, 1)


def launch_chromium(playwright, scratch: Path):
    """Headless Chromium with a fresh profile in ``scratch``: nothing cached from an earlier run hides a missing file."""
    return playwright.chromium.launch_persistent_context(
        str(scratch / "chromium-profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": 1400, "height": 1000})


def kernel_connected(base_url: str, token: str) -> bool:
    """The server has a kernel that a browser tab is connected to and that is idle (the page's own indicator
    says 'idle' before the kernel even starts, so it alone cannot tell)."""
    with urllib.request.urlopen(f"{base_url}/api/kernels?token={token}", timeout=5) as response:
        kernels = json.load(response)
    return any(k.get("connections", 0) >= 1 and k.get("execution_state") == "idle" for k in kernels)


def kernel_idle(page) -> bool:
    indicator = page.locator(".jp-Notebook-ExecutionIndicator").first
    return indicator.count() > 0 and indicator.get_attribute("data-status") == "idle"


def code_cell_prompts(page) -> list[str]:
    # textContent, not innerText: JupyterLab skips rendering cells scrolled out of view, so their innerText is ''.
    return page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt").all_text_contents()


def wait_until(page, condition, timeout_s: float, what: str, poll_s: float = 0.5):
    """Poll ``condition``; wait through the page, since Playwright serves our request router only while we call it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        page.wait_for_timeout(poll_s * 1000)
    raise TimeoutError(f"{what} (waited {timeout_s:.0f} s)")


def error_outputs(page) -> list[str]:
    texts = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_text_contents()
    return [text[-1500:] for text in texts if "Traceback" in text or "Error" in text]


def explorer_cell(page):
    """The code cell whose output holds the explorer: a slider next to a figure (the one mentioning 'explor')."""
    cells = page.locator(".jp-Notebook .jp-CodeCell").filter(has=page.locator(".jp-OutputArea .widget-slider"))
    count = cells.count()
    if count == 0:
        raise AssertionError("no code cell shows an ipywidgets slider after running all cells")
    for index in range(count):
        source = (cells.nth(index).locator(".jp-InputArea-editor").text_content() or "").lower()
        if "explor" in source:
            return cells.nth(index)
    return cells.first


def figure_bytes(cell) -> bytes:
    """The pixels of the explorer's figure(s) as shown: matplotlib inline output or an ipywidgets.Image.

    Only the images are compared, not the whole output, whose slider readout changes by itself."""
    images = cell.locator(".jp-OutputArea img")
    return b"".join(images.nth(i).screenshot() for i in range(images.count()))


def slider_value(slider) -> str:
    return slider.locator(".widget-readout").first.text_content() or ""


def move_slider(page, slider) -> None:
    """Drag the handle three quarters of the way along the track, as a student would with the mouse."""
    slider.scroll_into_view_if_needed()
    handle = slider.locator(".noUi-handle").first
    track = slider.locator(".noUi-base, .noUi-target").first
    handle_box, track_box = handle.bounding_box(), track.bounding_box()
    if handle_box is None or track_box is None:
        raise AssertionError("the slider is not visible on the page")
    start_x = handle_box["x"] + handle_box["width"] / 2
    y = handle_box["y"] + handle_box["height"] / 2
    page.mouse.move(start_x, y)
    page.mouse.down()
    page.mouse.move(track_box["x"] + 0.75 * track_box["width"], y, steps=12)
    page.mouse.up()


def expected_figures(notebook: Path) -> list[dict]:
    """The notebook's figure cells in reading order: alt text and the pixel size of the PNG each embeds."""
    expected = []
    for figure in figure_cells(nbformat.read(notebook, as_version=4)):
        with Image.open(REPO_ROOT / figure.asset) as image:
            expected.append({"alt": figure.alt, "size": list(image.size)})
    return expected


def displayed_figures(page, count: int) -> list[dict]:
    """Alt text, decoded size, shown width and whether pixels were painted (a screenshot of the element is not
    one flat colour) for the first ``count`` embedded images, each scrolled into view and waited for until the
    browser has loaded it (naturalWidth stays 0 for an image it cannot decode)."""
    images = page.locator(EMBEDDED_IMAGES)
    shown = []
    for index in range(count):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        wait_until(page, lambda: image.evaluate("img => img.complete"), 20,
                   f"embedded figure {index} ({image.get_attribute('alt')!r}) never finished loading")
        facts = image.evaluate("img => ({alt: img.alt, size: [img.naturalWidth, img.naturalHeight], "
                               "shown_width: img.getBoundingClientRect().width})")
        with Image.open(io.BytesIO(image.screenshot())) as shot:
            darkest, lightest = shot.convert("L").getextrema()
        shown.append({**facts, "painted": darkest != lightest})
    return shown


def open_notebook(page, url: str, token: str, notebook: str) -> None:
    """Open ``notebook`` (relative to the served workspace) alone (``reset``: no tab of an earlier notebook is
    restored, so every locator sees this one) and wait for its kernel."""
    page.goto(f"{url}/lab/tree/{notebook}?reset&token={token}", timeout=120_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
    wait_until(page, lambda: kernel_connected(url, token) and kernel_idle(page), 120,
               "the notebook's kernel did not start and connect")


def run_all(page) -> None:
    """Run > Run All Cells; wait until every code cell has run, or say which did not and what errors show."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    wait_until(page, lambda: any(c.isdigit() or c == "*" for p in code_cell_prompts(page) for c in p), 60,
               "no cell started running after Run > Run All Cells")
    wait_until(page, lambda: kernel_idle(page) and not any("*" in p for p in code_cell_prompts(page)),
               RUN_ALL_S, "the notebook did not finish running")
    not_run = [i for i, p in enumerate(code_cell_prompts(page)) if not any(c.isdigit() for c in p)]
    assert not not_run, (f"code cells {not_run} did not run (an earlier cell stopped Run All?); "
                         f"errors shown: {error_outputs(page)}")


def code_cell(page, *needles: str):
    """The one code cell whose source holds every one of ``needles``."""
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    matches = [cells.nth(i) for i in range(cells.count())
               if all(needle in (cells.nth(i).locator(".jp-InputArea-editor").text_content() or "")
                      for needle in needles)]
    assert len(matches) == 1, f"{len(matches)} code cells hold {needles}"
    return matches[0]


def check_panel_text(cell) -> str:
    panel = cell.locator(CHECK_PANEL)
    return panel.first.text_content() if panel.count() else ""


def replace_source(page, cell, source: str) -> None:
    """Click into the cell's editor, select everything and type ``source`` over it, as a student would paste."""
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").first.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)


def run_cell(page, cell) -> None:
    """Select ``cell`` and run it (Shift+Enter from its editor); wait until the kernel is idle again."""
    cell.locator(".cm-content").first.click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_timeout(300)
    wait_until(page, lambda: kernel_idle(page) and not any("*" in p for p in code_cell_prompts(page)), 120,
               "the cell did not finish running")


def test_a_student_runs_all_answers_and_explores_in_jupyterlab():
    ensure_chromium()
    sync_api = ensure_playwright()
    E2E_DIR.mkdir(parents=True, exist_ok=True)
    for old in E2E_DIR.glob("*.png"):
        old.unlink()
    for notebook in (NOTEBOOK_1, NOTEBOOK_3):
        if not (REPO_ROOT / "notebooks" / notebook).is_file():
            raise StepFailed(f"step 'find the notebook' did not happen: notebooks/{notebook} does not exist")
    blocked: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cfcm-e2e-") as scratch:
        workspace = Path(scratch) / "workspace"
        with course_lab(Path(scratch), workspace) as (url, token, log):
            steps = Steps(log)
            with sync_api.sync_playwright() as playwright:
                with steps.step("launch chromium"):
                    browser = launch_chromium(playwright, Path(scratch))
                try:
                    page = browser.new_page()
                    steps.page = page
                    page.route("**/*", lambda route: route.continue_()
                               if route.request.url.split("/")[2].split(":")[0] in LOCAL_HOSTS
                               else (blocked.append(route.request.url), route.abort()))
                    figures = student_walk(page, steps, url, token, workspace)
                finally:
                    browser.close()
    summary = {"notebooks": [NOTEBOOK_1, NOTEBOOK_3], "seconds": round(time.monotonic() - started, 1),
               "steps_s": steps.timings, "embedded_figures": figures, "blocked_non_local_requests": blocked}
    (E2E_DIR / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))


def student_walk(page, steps: Steps, url: str, token: str, workspace: Path) -> list[dict]:
    """The student's path through notebooks 1 and 3; returns what the embedded-figure check saw."""
    with steps.step("open notebook 1 from the workspace"):
        assert (workspace / NOTEBOOK_1).is_file(), "the student command did not make the workspace from the release"
        open_notebook(page, url, token, NOTEBOOK_1)
    with steps.step("run all of the untouched notebook 1"):
        run_all(page)
        panels = page.locator(CHECK_PANEL)
        texts = panels.all_text_contents()
        tests = sum(map(is_test, read(REPO_ROOT / "notebooks" / NOTEBOOK_1).cells))
        assert len(texts) == tests and all("not yet" in text and "NotImplementedError" in text for text in texts), \
            f"the {tests} test cells should each say 'not yet' and how to start: {texts}"
        last = page.locator(".jp-Notebook .jp-CodeCell").last
        assert "Where you stand" in (last.locator(".jp-OutputArea").text_content() or ""), \
            "the last cell (the progress table) shows no table"
        page.screenshot(path=str(E2E_DIR / "01_notebook1_ran_all.png"), full_page=True)
    answer = code_cell(page, "class CropActualImage", "YOUR CODE HERE")
    test = code_cell(page, "check_crop(CropActualImage)")
    with steps.step("see a wrong answer's diagnosis"):
        replace_source(page, answer, LAB_CROP)
        run_cell(page, answer)
        run_cell(page, test)
        text = check_panel_text(test)
        assert "not yet" in text and "the lab's bug" in text, f"the lab's crop should be diagnosed: {text!r}"
        test.scroll_into_view_if_needed()
        test.screenshot(path=str(E2E_DIR / "02_not_yet_panel.png"))
    with steps.step("see a right answer pass"):
        answer = code_cell(page, "class CropActualImage", "rows[0]:rows[-1]")
        replace_source(page, answer, RIGHT_CROP)
        run_cell(page, answer)
        run_cell(page, test)
        text = check_panel_text(test)
        assert "passed" in text and "not yet" not in text, f"a right crop should pass: {text!r}"
        test.screenshot(path=str(E2E_DIR / "03_passed_panel.png"))
    with steps.step("save the answer into the workspace"):
        page.keyboard.press("Control+s")
        wait_until(page, lambda: "rows[-1] + 1" in (workspace / NOTEBOOK_1).read_text(), 30,
                   "the saved notebook in the workspace does not hold the typed answer")
    with steps.step("open notebook 3 from the workspace"):
        open_notebook(page, url, token, NOTEBOOK_3)
    with steps.step("see the embedded figures"):
        expected = expected_figures(REPO_ROOT / "notebooks" / NOTEBOOK_3)
        assert expected, f"{NOTEBOOK_3} has no figure cell (tools/embed_figures.py writes them)"
        images = page.locator(EMBEDDED_IMAGES)
        wait_until(page, lambda: images.count() >= len(expected), 60,
                   f"the page shows {images.count()} images with a data:image/png source, the notebook "
                   f"has {len(expected)} figure cells (does JupyterLab's sanitizer drop data URIs?)")
        figures = displayed_figures(page, images.count())
        assert len(figures) == len(expected), f"{len(figures)} embedded images on the page for {len(expected)} figure cells"
        blank = [f["alt"] for f in figures if not (f["size"][0] and f["shown_width"] and f["painted"])]
        assert not blank, f"embedded figures that do not display (naturalWidth 0, width 0 or a blank screenshot): {blank}"
        assert [(f["alt"], f["size"]) for f in figures] == [(e["alt"], e["size"]) for e in expected], \
            f"the figures shown differ from the notebook's figure cells: {figures} vs {expected}"
        images.nth(0).screenshot(path=str(E2E_DIR / "04_embedded_figure.png"))
    with steps.step("run all of the untouched notebook 3"):
        run_all(page)
        texts = page.locator(CHECK_PANEL).all_text_contents()
        tests = sum(map(is_test, read(REPO_ROOT / "notebooks" / NOTEBOOK_3).cells))
        assert len(texts) == tests and all("not yet" in text for text in texts), f"notebook 3's checks say {texts}"
        page.screenshot(path=str(E2E_DIR / "05_notebook3_ran_all.png"), full_page=True)
    with steps.step("find the explorer and its picture"):
        cell = explorer_cell(page)
        cell.scroll_into_view_if_needed()
        outputs = cell.locator(".jp-OutputArea-output")
        assert outputs.count() >= 3 and outputs.nth(1).locator("img").count() == 1, \
            "the explorer should come after a static picture of its first view"
        slider = cell.locator(".widget-slider").first
        wait_until(page, lambda: figure_bytes(cell), 60, "the explorer shows no figure")
        shots = [figure_bytes(cell)]
        wait_until(page, lambda: shots.append(figure_bytes(cell)) or shots[-1] == shots[-2], 30,
                   "the explorer's figure never stopped changing by itself")
        before, value_before = shots[-1], slider_value(slider)
        cell.screenshot(path=str(E2E_DIR / "06_explorer_before.png"))
    with steps.step("move the slider"):
        move_slider(page, slider)
        wait_until(page, lambda: slider_value(slider) != value_before, 10,
                   f"the slider's value stayed {value_before} after dragging it")
    with steps.step("see the figure change"):
        wait_until(page, lambda: figure_bytes(cell) != before, FIGURE_CHANGE_S,
                   f"the figure did not change after the slider moved from {value_before} to {slider_value(slider)}")
        page.wait_for_timeout(500)  # let the new image finish painting before the screenshot
        cell.screenshot(path=str(E2E_DIR / "07_explorer_after.png"))
    return figures


def test_an_instructor_autogrades_a_submission_in_formgrader():
    """`make instructor`'s formgrader, from a plain shell: the assignment list, generating the student version
    of notebook 1, and autograding one solved submission of it from the submissions page."""
    ensure_chromium()
    sync_api = ensure_playwright()
    E2E_DIR.mkdir(parents=True, exist_ok=True)
    assignments = sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir() and p.name[0] != ".")
    first = assignments[0]
    with tempfile.TemporaryDirectory(prefix="cfcm-formgrader-") as scratch:
        course = Path(scratch) / "course"
        shutil.copytree(REPO_ROOT / "solutions", course / "solutions",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        shutil.copy(REPO_ROOT / "nbgrader_config.py", course)
        submission = course / "submitted" / "alice" / first / f"{first}.ipynb"
        submission.parent.mkdir(parents=True)
        nbformat.write(filled_with_solutions(REPO_ROOT / "notebooks" / first / f"{first}.ipynb",
                                             REPO_ROOT / "solutions" / first / f"{first}.ipynb"), submission)
        with instructor_lab(Path(scratch), course) as (url, token, log):
            steps = Steps(log)
            with sync_api.sync_playwright() as playwright:
                with steps.step("launch chromium"):
                    browser = launch_chromium(playwright, Path(scratch))
                try:
                    page = browser.new_page()
                    steps.page = page
                    formgrader_walk(page, steps, url, token, assignments)
                finally:
                    browser.close()
        assert (course / "autograded" / "alice" / first / f"{first}.ipynb").is_file()


def formgrader_walk(page, steps: Steps, url: str, token: str, assignments: list[str]) -> None:
    first = assignments[0]
    with steps.step("see the assignment list"):
        page.goto(f"{url}/formgrader/manage_assignments?token={token}", timeout=120_000)
        names = page.locator("#main-table tr td.name")
        wait_until(page, lambda: names.count() == len(assignments), 60,
                   f"formgrader lists {names.count()} assignments, the course has {len(assignments)}")
        shown = sorted((text or "").strip() for text in names.all_text_contents())
        assert shown == assignments, f"formgrader lists {shown}"
        page.screenshot(path=str(E2E_DIR / "10_formgrader_assignments.png"), full_page=True)
    with steps.step("generate the student version"):
        row = page.locator("#main-table tr", has=page.locator("td.name", has_text=first))
        row.locator("td.assign a").click()
        modal = page.locator(".modal-dialog").filter(has_text="Successfully")
        wait_until(page, lambda: modal.count() > 0 or page.locator(".modal-dialog", has_text="rror").count() > 0,
                   240, "generating the student version never finished")
        assert modal.count() > 0, page.locator(".modal-dialog").first.text_content()
    with steps.step("autograde alice's submission"):
        page.goto(f"{url}/formgrader/manage_submissions/{first}?token={token}", timeout=120_000)
        row = page.locator("#main-table tr", has_text="alice")
        wait_until(page, lambda: row.count() == 1, 60, "alice's submission is not listed")
        row.locator("td.autograde a").click()
        done = page.locator(".modal-dialog").filter(has_text="autograd")
        wait_until(page, lambda: done.count() > 0, 600, "autograding never finished")
        text = done.first.text_content() or ""
        assert f"Successfully autograded '{first}' for student 'alice'" in text, text[-2000:]
        page.screenshot(path=str(E2E_DIR / "11_formgrader_autograded.png"), full_page=True)
        page.keyboard.press("Escape")
    with steps.step("see alice's full score"):
        score = row.locator("td.score")
        wait_until(page, lambda: "/" in (score.text_content() or ""), 60, "alice's score never appeared")
        got, out_of = (float(part) for part in (score.text_content() or "").split("/"))
        written = sum(float(c.metadata["nbgrader"]["points"]) for c in read(REPO_ROOT / "solutions" / assignments[0]
                                                                            / f"{assignments[0]}.ipynb").cells
                      if is_written_answer(c))  # the think answers wait for manual grading
        assert got == out_of - written > 0, \
            f"a solved notebook should score every autograded point ({out_of - written}), formgrader shows {got}"


def test_the_class_report_reads_offline_in_chromium(tmp_path):
    """grades/class_report.html as an instructor opens it: from disk, no server, no network, every histogram shown."""
    ensure_chromium()
    sync_api = ensure_playwright()
    E2E_DIR.mkdir(parents=True, exist_ok=True)
    name = "00_fixture"
    release = FIXTURE_RELEASE / name / f"{name}.ipynb"
    submitted = tmp_path / "submitted"
    write_submission(submitted, "full", name, filled_with_solutions(release, FIXTURE_SOLUTIONS / name / f"{name}.ipynb"))
    write_submission(submitted, "off-by-one", name, with_answers(release, {
        "running_total": "import numpy as np\ndef running_total(values):\n    return np.cumsum(values)[:-1]",
        "row_means": "import numpy as np\ndef row_means(matrix):\n    return np.asarray(matrix).mean(axis=0)"}))
    write_submission(submitted, "untouched", name, nbformat.read(release, as_version=4))
    report = grade_class(submitted, tmp_path / "grades", solutions_dir=FIXTURE_SOLUTIONS, workers=1, timeout=30,
                         feedback=False, progress=False)
    page_path = report.out_dir / "class_report.html"
    blocked: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                       else (blocked.append(route.request.url), route.abort()))
            page.goto(page_path.as_uri())
            text = page.locator("body").inner_text()
            widths = page.locator("img").evaluate_all("images => images.map(img => img.naturalWidth)")
            page.screenshot(path=str(E2E_DIR / "12_class_report.png"), full_page=True)
        finally:
            browser.close()
    assert widths and all(width > 0 for width in widths), f"histograms that do not display: {widths}"
    assert not blocked, f"the report asked the network for {blocked}"
    for expected in ("What the class got wrong", "3 students", "Exercise 1: running total", "Exercise 2: row means",
                     "not started", "What to teach again", "hint: NumPy has a function for it"):
        assert expected in text, f"the report does not show {expected!r}:\n{text[:2000]}"
