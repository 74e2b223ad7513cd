"""Per-batch augmentation on device tensors: small affine warps (and optional flips), applied alike to image and mask.

Left-right flips are off unless asked for: the heart sits on the left, so a mirrored chest X-ray is not a patient
the network will meet (notebook 1 makes the point); rotation, scale and shift stay within what positioning varies.

Random parameters come from a CPU ``torch.Generator`` so that a run is reproducible whatever the device; the
warp itself runs on the device (bilinear for images, nearest for masks, so masks stay exactly 0/1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib.data.transforms import AFFINE_LIMITS


def augment_batch(
    images: torch.Tensor,
    masks: torch.Tensor,
    generator: torch.Generator,
    max_rotation_deg: float = AFFINE_LIMITS.rotation_deg,
    max_scale: float = AFFINE_LIMITS.scale,
    max_shift: float = AFFINE_LIMITS.shift,
    flip_probability: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp ``images`` and ``masks`` (both (N, 1, H, W)) with one random transform per sample."""
    if images.ndim != 4 or images.shape != masks.shape:
        raise ValueError(f"augment_batch expects images and masks of the same shape (N, 1, H, W); got {tuple(images.shape)} and {tuple(masks.shape)}")
    if not 0.0 <= flip_probability <= 1.0:
        raise ValueError(f"augment_batch: flip_probability must be in [0, 1]; got {flip_probability}")
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_rotation_deg)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * max_scale
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * max_shift * 2  # affine_grid spans [-1, 1]
    flip = torch.where(torch.rand(n, generator=generator) < flip_probability, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, shift[:, 0]], dim=1), torch.stack([sin * flip, cos, shift[:, 1]], dim=1)], dim=1
    ).to(device=images.device, dtype=images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    warped_images = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    warped_masks = F.grid_sample(masks, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return warped_images, warped_masks
