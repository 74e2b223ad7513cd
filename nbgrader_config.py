"""nbgrader settings for the course (read by every `nbgrader ...` run from the repository root).

Sources with solutions and hidden tests live in solutions/<assignment>/, the student release in
notebooks/<assignment>/ (written by `make release`, never by hand). The instructor's tools (course_lib.instructor,
run by tools/) copy this file into temporary course directories to release and to grade in parallel; the course's
one gradebook is gradebook.db at the repository root: formgrader (`make instructor`) uses it, and class grading
records the class in it (with the graded notebooks and feedback pages in autograded/ and feedback/). All of it is
git-ignored student data (README, "Student data").
"""

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "cfcm"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store",
                            ".pytest_cache", "*.egg-info"]

# Per-cell limit while autograding/validating. Every notebook runs in quick mode then (nbgrader sets
# NBGRADER_EXECUTION, which course_lib.settings.quick_mode() reads) and takes well under two minutes in
# total on 2 cores, so no honest cell comes near this; a hanging answer is cut off here, scores zero, and
# the rest of the notebook is still graded (the kernel is interrupted, not killed).
CELL_TIMEOUT_SECONDS = 180
c.Execute.timeout = CELL_TIMEOUT_SECONDS
c.Execute.interrupt_on_timeout = True
c.ExecutePreprocessor.timeout = CELL_TIMEOUT_SECONDS  # what nbgrader's FAQ names; Execute.timeout is what works
c.Execute.kernel_name = "python3"

# nbgrader scores a test cell that wrote anything to stderr as zero. The checkers in course_lib.grading
# silence their own warnings and stderr; this drops the stderr outputs that are known harmless noise from
# libraries (Python warnings, PyTorch's C++ "[W ...]" / NNPACK messages, tqdm progress bars) when they
# escape into a test cell anyway. A failing test still scores zero: failures are error outputs, not stderr.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?:\w*Warning: "                 # warnings.warn(...) / NumPy / PyTorch Python-level warnings
    r"|\[W\d*\s|NNPACK"                # PyTorch C++ warnings
    r"|\d+%\|"                         # tqdm progress bars
    r")"
)

# Re-insert test cells a student deleted (otherwise the notebook waits for manual grading forever).
c.OverwriteCells.add_missing_cells = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# `nbgrader zip_collect` (the Colab/LMS route): archives or files under downloaded/<assignment>/archive/ hold
# one folder per student with the notebook inside, e.g. class.zip: alice/01_data_transforms.ipynb. The
# student id is that folder's name (hidden folders such as .ipynb_checkpoints are skipped). An LMS that
# names files differently needs its own pattern here.
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/.][^/]*)/(?P<file_id>[^/]+\.ipynb)$"
