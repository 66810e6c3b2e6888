"""Torch thread counts chosen by measurement: on some 2-core machines two threads run 2-6x slower than one while
another process is busy, on others they are twice as fast. `choose_threads` times a few training steps of a
small convolutional network with each candidate count and keeps the fastest (about a second in all)."""

from __future__ import annotations

import contextlib
import logging
import os
import time

import torch
from torch import nn

log = logging.getLogger("emorec.threads")
_CHOSEN: int | None = None


def _probe_net() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 4),
    )
    return net, torch.randn(16, 3, 48, 48)


def _seconds_per_step(threads: int, net: nn.Module, x: torch.Tensor, steps: int = 4) -> float:
    torch.set_num_threads(threads)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    best = float("inf")
    for i in range(steps + 1):
        t = time.perf_counter()
        opt.zero_grad()
        net(x).sum().backward()
        opt.step()
        if i:  # the first step pays for allocation
            best = min(best, time.perf_counter() - t)
    return best


def choose_threads(candidates: list[int] | None = None) -> int:
    """The fastest torch thread count here and now (set, and remembered for the process). OMP_NUM_THREADS, when
    set, wins without measuring."""
    global _CHOSEN
    if _CHOSEN is not None:
        return _CHOSEN
    given = os.environ.get("OMP_NUM_THREADS")
    if given and given.isdigit() and int(given) > 0:
        _CHOSEN = int(given)
        torch.set_num_threads(_CHOSEN)
        return _CHOSEN
    cores = os.cpu_count() or 1
    candidates = candidates or sorted({1, min(2, cores), cores})
    net, x = _probe_net()
    times = {n: _seconds_per_step(n, net, x) for n in candidates}
    _CHOSEN = min(times, key=times.get)
    torch.set_num_threads(_CHOSEN)
    log.info("torch threads: %d (%s)", _CHOSEN, ", ".join(f"{n}: {t * 1000:.0f} ms/step" for n, t in times.items()))
    return _CHOSEN


def set_threads(value: str | int) -> int:
    """`--threads auto` (measure) or a number; the inter-op pool is one thread either way."""
    with contextlib.suppress(RuntimeError):  # already set (or parallel work already ran)
        torch.set_num_interop_threads(1)
    if str(value) == "auto":
        return choose_threads()
    n = int(value)
    if n < 1:
        raise ValueError(f"--threads must be 'auto' or a number >= 1, got {value!r}")
    torch.set_num_threads(n)
    return n
