"""Checkers that the notebooks' test cells call: their modules per notebook, shared helpers in ``core``.

``transforms`` and ``batches`` (notebook 1), ``fusion`` and ``networks`` (2), ``convlstm`` (3), ``cfcm`` and
``training`` (4) are imported by name, e.g.
``from course_lib.grading.transforms import check_crop``. Each exercise is declared once (``declare``: its
reference, cases, slips and refusals, or a hook), ``feedback`` shows the results and each notebook's progress.
Importing this package stays cheap (no torch).
"""

from course_lib.grading.core import call_learner, describe, quiet, refusal, require_defined_in_notebook
from course_lib.grading.feedback import assemble, exercise_check, passed, show_progress, yours_or_reference

__all__ = ["assemble", "call_learner", "describe", "exercise_check", "passed", "quiet", "refusal",
           "require_defined_in_notebook", "show_progress", "yours_or_reference"]
