"""What the plotting modules need to know about notebooks: is this a live kernel, can widgets work, and how to
show an interactive panel so that it survives outside one.

A widget is drawn by the browser from state that lives in the kernel. An executed, exported or nbgrader
feedback copy of a notebook (and Colab after a reload) has no such state and shows a widget as nothing but its
text, ``VBox(children=...)``. So every panel goes out with a static picture of its default view in front of it:
the live panel below it redraws as its controls move, and every other copy still shows the picture.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

__all__ = ["in_kernel", "widgets_usable", "figure_png", "PanelWithPicture"]


def in_kernel() -> bool:
    """True inside a running Jupyter kernel (where a figure can be displayed, updated, and a slider moved)."""
    module = sys.modules.get("IPython")
    if module is None:
        return False
    shell = module.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def widgets_usable() -> bool:
    """True inside a running Jupyter kernel with ipywidgets installed: the only place a slider can be moved."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return in_kernel()


def figure_png(figure: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes, drawn without pyplot (so it works under any matplotlib backend)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


@dataclass(frozen=True)
class PanelWithPicture:
    """An ipywidgets ``panel`` shown after a PNG ``picture`` of its default view (make it a cell's last expression)."""

    panel: Any
    picture: bytes
    caption: str = ("A picture of the panel's default view, kept for exported and graded copies of this notebook; "
                    "the live panel below it redraws as you move its controls.")

    def _ipython_display_(self) -> None:
        from IPython.display import Image, Markdown, display

        display(Markdown(f"<small><i>{self.caption}</i></small>"))
        display(Image(data=self.picture, format="png"))
        display(self.panel)
