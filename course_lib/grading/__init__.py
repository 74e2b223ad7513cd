"""Checkers that the notebooks' test cells call: one module per notebook, shared helpers in ``core``.

``transforms`` (notebook 1), ``fusion`` (2), ``convlstm`` (3) and ``cfcm`` (4) are imported by name, e.g.
``from course_lib.grading.transforms import check_crop``; importing this package stays cheap (no torch).
"""

from course_lib.grading.core import (
    assert_matches,
    call_learner,
    compare_with_reference,
    describe,
    passed,
    quiet,
    require_defined_in_notebook,
)

__all__ = ["assert_matches", "call_learner", "compare_with_reference", "describe", "passed", "quiet",
           "require_defined_in_notebook"]
