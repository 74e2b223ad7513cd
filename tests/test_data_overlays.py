"""Image grids with mask overlays draw one panel per case."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.viz.overlays import overlay, show_cases  # noqa: E402


def test_overlay_tints_only_the_mask():
    image = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    mask = np.zeros((4, 4))
    mask[0, 0] = 1
    rgb = overlay(image, mask, color=(1, 0, 0), alpha=0.5)
    assert rgb.shape == (4, 4, 3)
    np.testing.assert_allclose(rgb[0, 0], [0.5, 0, 0])
    np.testing.assert_allclose(rgb[1, 1], [image[1, 1] / image.max()] * 3, rtol=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        overlay(image, np.zeros((3, 4)))


def test_show_cases_draws_a_titled_grid():
    images = [np.random.default_rng(i).random((8, 8)) for i in range(5)]
    labels = [(image > 0.5).astype(np.float32) for image in images]
    figure = show_cases(images, labels, names=[f"case {i}" for i in range(5)], columns=3)
    titles = [axis.get_title() for axis in figure.axes if axis.get_title()]
    assert titles == [f"case {i}" for i in range(5)] and len(figure.axes) == 6
    plt.close(figure)
    with pytest.raises(ValueError, match="2 labels"):
        show_cases(images, labels[:2])
