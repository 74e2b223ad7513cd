"""Image grids with the lung mask drawn over each radiograph: the quickest way to check data by eye."""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["overlay", "show_cases"]


def overlay(image: np.ndarray, mask: np.ndarray, color: Sequence[float] = (1.0, 0.25, 0.1), alpha: float = 0.35) -> np.ndarray:
    """An RGB float image (H, W, 3): the grayscale ``image`` (H, W, scaled to [0, 1]) tinted by ``color`` where ``mask`` > 0."""
    image, mask = np.asarray(image, dtype=np.float32), np.asarray(mask)
    if image.ndim != 2 or image.shape != mask.shape:
        raise ValueError(f"overlay expects image and mask of the same shape (H, W), got {image.shape} and {mask.shape}.")
    low, high = float(image.min()), float(image.max())
    gray = (image - low) / (high - low) if high > low else np.zeros_like(image)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    inside = mask > 0
    rgb[inside] = (1 - alpha) * rgb[inside] + alpha * np.asarray(color, dtype=np.float32)
    return rgb


def show_cases(images: Sequence[np.ndarray], labels: Sequence[np.ndarray] | None = None,
               names: Sequence[str] | None = None, columns: int = 4, size: float = 2.6, contour: bool = True):
    """A matplotlib Figure: a grid of images (each (H, W)), masks tinted and outlined, titled by ``names``."""
    import matplotlib.pyplot as plt

    n = len(images)
    if n == 0:
        raise ValueError("show_cases needs at least one image.")
    if labels is not None and len(labels) != n:
        raise ValueError(f"show_cases: {n} images but {len(labels)} labels.")
    columns = max(1, min(columns, n))
    rows = int(np.ceil(n / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= n:
            continue
        image = np.asarray(images[index])
        if labels is None:
            axis.imshow(image, cmap="gray")
        else:
            axis.imshow(overlay(image, labels[index]))
            if contour and np.any(np.asarray(labels[index]) > 0):
                axis.contour(np.asarray(labels[index]) > 0, levels=[0.5], colors=["#ffcc00"], linewidths=0.8)
        if names is not None:
            axis.set_title(str(names[index]), fontsize=8)
    figure.tight_layout()
    return figure
