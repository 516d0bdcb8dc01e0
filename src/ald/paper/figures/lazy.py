"""The modules the drawing code uses, imported when a figure is first drawn rather than when its module is.

The command line, the plan and the workflow import every figure module to learn the figures' names, inputs and
captions, and need none of these; ``np.zeros`` imports numpy on first use, ``plt`` matplotlib (headless).
"""

from __future__ import annotations

import functools
import sys


class LazyModule:
    """Module ``name``, imported on the first attribute read (``setup`` runs just before)."""

    def __init__(self, name: str, setup=None):
        self._name, self._setup, self._module = name, setup, None

    def __getattr__(self, attr: str):
        if self._module is None:
            if self._setup:
                self._setup()
            __import__(self._name)
            self._module = sys.modules[self._name]
        return getattr(self._module, attr)


def headless() -> None:
    """Figures are files: matplotlib draws without a display (before pyplot is first imported)."""
    __import__("matplotlib").use("Agg")


textwrap = LazyModule("textwrap")
np = LazyModule("numpy")
pd = LazyModule("pandas")
torch = LazyModule("torch")
plt = LazyModule("matplotlib.pyplot", setup=headless)
sns = LazyModule("seaborn", setup=headless)
mlines = LazyModule("matplotlib.lines", setup=headless)
ticker = LazyModule("matplotlib.ticker", setup=headless)


def no_grad(draw):
    """``torch.no_grad()`` around a drawing function, without importing torch when it is defined."""
    @functools.wraps(draw)
    def without_gradients(*args, **kwargs):
        with torch.no_grad():
            return draw(*args, **kwargs)
    return without_gradients
