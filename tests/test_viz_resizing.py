"""Notebook 1's resizing figure: only nearest neighbour without anti-aliasing leaves a shrunk mask binary."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_lib.viz.resizing import RESIZE_SETTINGS, compare_mask_resizing


def disc(size: int = 240) -> np.ndarray:
    rows, cols = np.mgrid[:size, :size]
    return (((rows - size / 2) ** 2 + (cols - size / 3) ** 2) < (size / 3) ** 2).astype(np.float32)


def test_the_figure_shows_which_settings_keep_a_mask_binary():
    fig, shares = compare_mask_resizing(disc())
    linear, lab, nearest = (shares[title] for title in RESIZE_SETTINGS)
    assert nearest == 0.0, "nearest neighbour without anti-aliasing must leave only 0 and 1"
    assert linear > 0.01 and lab > 0.01, f"interpolation and scikit-image's default anti-aliasing blur the border: {shares}"
    assert len(fig.axes) == 5  # the mask, three zooms and the colour bar
    assert all(title.split("\n")[0] in ax.get_title() for title, ax in zip(RESIZE_SETTINGS, fig.axes[1:4]))


@pytest.mark.parametrize("mask", [np.zeros((10, 10)), np.zeros((3, 240, 240))])
def test_a_mask_too_small_or_not_2d_is_refused_with_its_shape(mask):
    with pytest.raises(ValueError, match=r"\(H, W\) mask"):
        compare_mask_resizing(mask)
