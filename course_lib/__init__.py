"""Reference implementations for the CFCM lung-segmentation course.

The notebooks import from the submodules (``course_lib.data``, ``course_lib.nn``,
``course_lib.train`` ...); nothing heavy is imported here so that ``import course_lib``
stays cheap and works without the optional Jupyter packages.
"""

__version__ = "0.1.0"
