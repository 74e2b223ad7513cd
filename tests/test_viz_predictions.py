"""The prediction viewer: Dice per threshold agrees with the loss module, figures draw, the slider redraws."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib.losses import dice
from course_lib.viz.predictions import build_viewer, dice_at, dice_by_threshold, draw_predictions, show_predictions

N, SIZE = 3, 24


@pytest.fixture(scope="module")
def cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (N, SIZE, SIZE)).astype(np.float32)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    labels = np.stack([((yy - 12) ** 2 + (xx - 8 - 3 * k) ** 2 < 36).astype(np.float32) for k in range(N)])
    probabilities = np.clip(labels * 0.7 + rng.uniform(0, 0.5, labels.shape), 0, 1).astype(np.float32)
    return images, labels, probabilities


def test_dice_at_is_the_thresholded_dice_of_course_lib(cases):
    _, labels, probabilities = cases
    expected = dice(torch.from_numpy((probabilities > 0.6).astype(np.float32)), torch.from_numpy(labels)).numpy()
    np.testing.assert_allclose(dice_at(labels, probabilities, 0.6), expected, rtol=1e-6)
    np.testing.assert_allclose(dice_at(labels, labels, 0.5), 1.0, atol=1e-3)


def test_dice_by_threshold_has_one_row_per_threshold(cases):
    _, labels, probabilities = cases
    table = dice_by_threshold(labels, probabilities, thresholds=(0.2, 0.5, 0.8))
    assert table.shape == (3, N)
    assert table[1].mean() > table[0].mean()  # the noise (up to 0.5) is cut away above 0.5


def test_static_figure_has_a_prediction_and_an_error_panel_per_case(cases):
    images, labels, probabilities = cases
    figure = draw_predictions(images, labels, probabilities, threshold=0.5, names=["a", "b", "c"])
    assert isinstance(figure, Figure)
    assert len([axis for axis in figure.axes if axis.images]) == 2 * N
    assert figure.axes[0].get_title().startswith("a\nDice")


def test_the_threshold_changes_the_error_map(cases):
    images, labels, probabilities = cases
    low = draw_predictions(images, labels, probabilities, threshold=0.1)
    high = draw_predictions(images, labels, probabilities, threshold=0.6)
    errors_low = low.axes[N].images[0].get_array()
    errors_high = high.axes[N].images[0].get_array()
    assert not np.array_equal(errors_low, errors_high)


def test_bad_inputs_are_refused_with_a_reason(cases):
    images, labels, probabilities = cases
    with pytest.raises(ValueError, match="one shape"):
        draw_predictions(images, labels[:, :10], probabilities)
    with pytest.raises(ValueError, match="threshold"):
        draw_predictions(images, labels, probabilities, threshold=1.5)
    with pytest.raises(ValueError, match="names"):
        draw_predictions(images, labels, probabilities, names=["only one"])


def test_the_widget_redraws_when_the_slider_moves(cases):
    pytest.importorskip("ipywidgets")
    shown = build_viewer(*cases, names=["a", "b", "c"])
    slider, image = shown.panel.children
    assert shown.picture == image.value, "the static picture is the viewer's first view"
    assert slider.value == 0.5
    first = image.value
    assert first[:4] == b"\x89PNG"
    slider.value = 0.2
    assert image.value != first


def test_without_a_kernel_the_viewer_is_a_static_figure(cases):
    assert isinstance(show_predictions(*cases), Figure)
