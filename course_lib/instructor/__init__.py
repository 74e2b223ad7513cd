"""The instructor's loop around nbgrader: release, grade a class, hand-grade, report, and hand the grades to an LMS.

Each module holds one step; the entry points are thin scripts in ``tools/`` (``grade_class.py``, ``grades.py``,
``release.py``) and ``make instructor``:

* ``course``: nbgrader run in a course directory of its own, isolated from the user's Jupyter configuration;
* ``release``: the student release, refused when it would overwrite answers typed into it; ``formgrader`` puts
  formgrader's *Generate* button behind the same check;
* ``gradebook``: the instructor's gradebook (``gradebook.db``, the one formgrader shows): assignments registered,
  a class's grades copied in, hand-given marks read from a CSV;
* ``status``: what happened to each notebook (graded, repaired, not graded) and to each graded cell;
* ``repair``, ``workers``, ``class_grading``: a whole class graded in parallel, with nothing lost;
* ``diagnoses``: why each failed check failed, read from the graded notebooks (``course_lib.grading.diagnosis``);
* ``tables``: the class's grade sheets, built from a gradebook; ``report``: what to teach again;
* ``lms``: the final grades in the columns Canvas and Moodle import.

This is the layer above ``grading``: nothing in the course's notebooks imports it.
"""
