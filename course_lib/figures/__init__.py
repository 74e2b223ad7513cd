"""The course's teaching figures, drawn as code with matplotlib into ``assets/``.

Numbers on the figures (channels, sizes, block counts, parameters) are read from the models in
``course_lib.nn`` when a figure is drawn, so changing a model and running
``python -m course_lib figures assets`` (``make figures``) updates the pictures.
"""

from course_lib.figures.catalogue import FIGURE_NAMES, draw_all, expected_files

__all__ = ["FIGURE_NAMES", "draw_all", "expected_files"]
