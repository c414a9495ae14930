"""The rep detector's recent driver values, by grid tick (``reps.RepDetector``)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Ticks a bulk push keeps: standing, nothing older is ever read back.
KEEP_TICKS = 4096
#: Ticks kept before the oldest one still needed (a margin for look-backs).
MARGIN_TICKS = 64


class DriverHistory:
    """The driver angle (deg) of the recent grid ticks, as the detector pushed them.

    Ticks outside what is kept read NaN. ``drop_before`` lets go of what an
    open rep (or the next one) can no longer need.
    """

    def __init__(self, first_k: int) -> None:
        #: Grid tick of ``values[0]``.
        self.k0 = first_k
        self.values: list[float] = []

    def __len__(self) -> int:
        return len(self.values)

    def at(self, k: int) -> float:
        """The value at grid tick ``k`` (NaN: not kept)."""
        idx = k - self.k0
        return self.values[idx] if 0 <= idx < len(self.values) else float("nan")

    def last(self, n: int) -> FloatArray:
        """The newest ``n`` values (fewer if fewer were pushed)."""
        return np.asarray(self.values[-n:])

    def first_above(self, lo: int, hi: int, thr: float) -> int:
        """The first tick in ``lo … hi`` whose value is finite and above ``thr`` (else ``hi``)."""
        for k in range(lo, hi + 1):
            v = self.at(k)
            if np.isfinite(v) and v > thr:
                return k
        return hi

    def push(self, v: float) -> None:
        self.values.append(float(v))

    def push_many(self, seg: FloatArray) -> None:
        if seg.size > KEEP_TICKS:
            self.k0 += len(self.values) + seg.size - KEEP_TICKS
            self.values = seg[-KEEP_TICKS:].tolist()
        else:
            self.values.extend(seg.tolist())

    def drop_before(self, keep_from: int) -> None:
        """Let go of the ticks before ``keep_from`` (less a margin), in big steps only."""
        drop = keep_from - self.k0 - MARGIN_TICKS
        if drop > KEEP_TICKS:
            del self.values[:drop]
            self.k0 += drop


__all__ = ["DriverHistory"]
