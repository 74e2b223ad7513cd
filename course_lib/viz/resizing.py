"""Three ways to shrink a lung mask, side by side: why labels need nearest neighbour and no anti-aliasing.

Notebook 1 shows this figure before its resizing exercise. It lives here, not in the notebook, so that the
notebook shows what each setting does to a border without writing out the calls the exercise asks for.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RESIZE_SETTINGS", "compare_mask_resizing"]

# title: (interpolation order, anti-aliasing); None leaves scikit-image's default (on when a float array shrinks)
RESIZE_SETTINGS: dict[str, tuple[int, bool | None]] = {
    "linear + anti-aliasing\n(right for images)": (1, True),
    "the lab's call: nearest,\nanti-aliasing left to the default": (0, None),
    "nearest, no anti-aliasing\n(right for masks)": (0, False),
}


def _shrunk(mask: np.ndarray, size: tuple[int, int], order: int, anti_aliasing: bool | None) -> np.ndarray:
    from skimage.transform import resize

    return resize(mask, size, order=order, anti_aliasing=anti_aliasing, preserve_range=True)


def compare_mask_resizing(mask: np.ndarray, factor: int = 6, zoom: int = 24):
    """(Figure, {title: share of pixels neither 0 nor 1}) for ``mask`` (H, W, binary float) shrunk ``factor`` times.

    The figure shows the mask with the zoomed window outlined, then that window of each shrunk version, so that a
    reader sees the border's in-between values where the printed share says they are.
    """
    import matplotlib.pyplot as plt

    mask = np.asarray(mask, dtype=np.float32)
    if mask.ndim != 2 or min(mask.shape) < factor * zoom // 2:
        raise ValueError(f"compare_mask_resizing expects one (H, W) mask at least {factor * zoom // 2} pixels a side, "
                         f"got shape {mask.shape}.")
    small = (mask.shape[0] // factor, mask.shape[1] // factor)
    variants = {title: _shrunk(mask, small, *setting) for title, setting in RESIZE_SETTINGS.items()}
    nearest = variants[list(RESIZE_SETTINGS)[-1]]
    border = np.argwhere((nearest > 0) & (np.roll(nearest, 1, axis=1) == 0))  # a lung pixel left of which is none
    cy, cx = border[len(border) // 2] if len(border) else (small[0] // 2, small[1] // 2)
    half = zoom // 2
    window = (slice(max(cy - half, 0), cy + half), slice(max(cx - half, 0), cx + half))
    shares = {title: float(np.mean((v > 0) & (v < 1))) for title, v in variants.items()}

    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
    axes[0].imshow(mask, cmap="magma", vmin=0, vmax=1)
    axes[0].add_patch(plt.Rectangle(((cx - half) * factor, (cy - half) * factor), zoom * factor, zoom * factor,
                                    fill=False, edgecolor="yellow", linewidth=2))
    axes[0].set_title(f"original mask {mask.shape}\n(yellow: the zoomed region)")
    for ax, (title, shrunk) in zip(axes[1:], variants.items()):
        shown = ax.imshow(shrunk[window], cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{title}\n{shares[title]:.1%} of all pixels neither 0 nor 1")
    for ax in axes:
        ax.axis("off")
    fig.colorbar(shown, ax=axes[1:], fraction=0.02, label="label value")
    return fig, shares
