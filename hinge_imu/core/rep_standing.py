"""Standing between reps: the rep detector's standing level, and where the next rep starts.

While no movement is under way ``reps.RepDetector`` follows the standing
level (still, near-upright poses; the lockouts of reps) and waits for the
driver to rise ``start_above_deg`` above it. That is most of a session's
samples, so it is done in blocks aligned to absolute multiples of the
settle window, vectorised over many blocks at once, and gives the same
result however the data was chunked. It is apart from the detector's
state machine (a movement: peak, bottom, lockout) so that each reads in
one sitting; both read and write the same :class:`DriverHistory`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hinge_imu.core.rep_events import RepSettings
from hinge_imu.core.rep_history import DriverHistory
from hinge_imu.core.windowed import median_list, settled_blocks

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class StandingLevel:
    """The standing level a rep rises from, and the search for that rise.

    Args:
        settings: the rep detector's thresholds.
        settle_n: samples of the settle window (``settle_s`` on the grid).
        hist: the detector's recent driver values; :meth:`rise` pushes the
            samples it reads.
    """

    def __init__(self, settings: RepSettings, settle_n: int, hist: DriverHistory) -> None:
        self.settings = settings
        self.settle_n = settle_n
        self.hist = hist
        #: The driver's standing level, deg.
        self.base = 0.0
        self._blk: tuple[int, FloatArray, FloatArray, IntArray] | None = None

    def new_chunk(self) -> None:
        """The next :meth:`rise` reads a new chunk (forget the blocks of the last one)."""
        self._blk = None

    def follow(self, level: float) -> None:
        """The standing level a next rep rises from: the pose the last rep ended in."""
        if abs(level) <= self.settings.max_standing_drift_deg:
            self.base = level

    def rise(self, x: FloatArray, j: int, k: int) -> int:
        """Standing: follow the standing level and look for the start of a rep.

        ``x``: the chunk of driver values, deg, its first at grid index
        ``k``; read from chunk index ``j`` on. Works in blocks aligned to
        absolute multiples of the settle window, so the result does not
        depend on how the data was chunked. Returns the chunk index of the
        rep's start sample (the first above the standing level), else
        ``len(x)``; the history holds every sample read, the start included.
        """
        s = self.settings
        n = self.settle_n
        m = x.shape[0]
        while j < m:
            i = k + j
            if i % n == 0 and m - j >= 2 * n:
                j, found = self._rise_blocks(x, j, k)
                if found:
                    return j
                continue
            stop = min(m, j + (n - i % n))  # up to the next aligned boundary
            seg = x[j:stop]
            above = np.nonzero(seg > self.base + s.start_above_deg)[0]
            if above.size:
                at = j + int(above[0])
                self.hist.push_many(x[j : at + 1])
                return at
            self.hist.push_many(seg)
            j = stop
            if (k + j) % n == 0 and len(self.hist) >= n:
                w = self.hist.last(n)
                if np.isfinite(w).all() and float(w.max() - w.min()) < s.settle_range_deg:
                    self.follow(median_list(w.tolist()))
        return m

    def _rise_blocks(self, x: FloatArray, j: int, k: int) -> tuple[int, bool]:
        """:meth:`rise` over whole aligned blocks at once (same result, vectorised).

        ``j`` is at an aligned boundary. Returns where reading stopped and
        whether a rep starts there: at a rep's start sample, or at the end
        of the last whole block.
        """
        s = self.settings
        n = self.settle_n
        j0, all_blocks, level, last_new = self._block_flags(x, k)
        b0 = (j - j0) // n
        # A bounded look-ahead: a rep usually starts within a few seconds.
        nb = min((x.shape[0] - j) // n, 64)
        blocks = all_blocks[b0 : b0 + nb]
        # The standing level in effect during block b: the last settled level
        # of a block before b (from b0 on), else the current one.
        prev = last_new[b0 - 1 : b0 + nb - 1] if b0 else np.concatenate(([-1], last_new[: nb - 1]))
        base = np.where(prev >= b0, level[np.maximum(prev, 0)], self.base)
        with np.errstate(invalid="ignore"):
            above = blocks > (base + s.start_above_deg)[:, None]
        hit = np.flatnonzero(above)
        if hit.size:
            at = j + int(hit[0])
            self.base = float(base[int(hit[0]) // n])
            self.hist.push_many(x[j : at + 1])
            return at, True
        if last_new[b0 + nb - 1] >= b0:
            self.base = float(level[last_new[b0 + nb - 1]])
        self.hist.push_many(x[j : j + nb * n])
        return j + nb * n, False

    def _block_flags(self, x: FloatArray, k: int) -> tuple[int, FloatArray, FloatArray, IntArray]:
        """This chunk's whole aligned blocks and what ``_rise_blocks`` reads of them.

        (first block's index in the chunk, blocks (B, settle_n), each
        block's standing level if it settled there (its median; NaN: not
        settled, or too far from the stance), the index of the last block up
        to each that did, −1: none). State-free, so made once per chunk on
        first use (:meth:`new_chunk` clears it).
        """
        if self._blk is None:
            s = self.settings
            n = self.settle_n
            j0 = -k % n
            blocks = x[j0 : j0 + (x.shape[0] - j0) // n * n].reshape(-1, n)
            level, last = settled_blocks(blocks, s.settle_range_deg, s.max_standing_drift_deg)
            self._blk = (j0, blocks, level, last)
        return self._blk


__all__ = ["StandingLevel"]
