"""Training-time geometry for face frames: a random small rotation, zoom and shift of one (3, H, W) image."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def random_affine(x: torch.Tensor, rng: np.random.Generator, *, rotate: float = 0.0, shift: float = 0.0,
                  zoom: float = 0.0) -> torch.Tensor:
    """`x` turned by up to `rotate` degrees, scaled by a factor in [1 - zoom, 1 + zoom] and moved by up to
    `shift` of its width/height, each drawn uniformly; pixels from outside repeat the border."""
    angle = math.radians(rng.uniform(-rotate, rotate)) if rotate > 0 else 0.0
    scale = rng.uniform(1.0 - zoom, 1.0 + zoom) if zoom > 0 else 1.0
    dx, dy = (rng.uniform(-shift, shift, size=2) * 2.0) if shift > 0 else (0.0, 0.0)  # grid units: 2 = full size
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    theta = torch.tensor([[cos, -sin, dx], [sin, cos, dy]], dtype=x.dtype).unsqueeze(0)
    grid = F.affine_grid(theta, [1, *x.shape], align_corners=False)
    return F.grid_sample(x.unsqueeze(0), grid, mode="bilinear", padding_mode="border", align_corners=False)[0]
