"""The grid ticks a live analyser keeps: to calibrate on, and to calibrate again on.

Offline the calibration sees the whole recording; live it sees the ticks
kept so far (``LiveAnalyser``, docs/analysis.md "Live"). These helpers keep
them and cut them to the tick a set of stages starts from.
"""

from __future__ import annotations

import numpy as np

from hinge_imu.core.timegrid import GridChunk


class GridBuffer:
    """One sensor's grid ticks kept for a calibration (joined lazily)."""

    def __init__(self) -> None:
        self.parts: list[GridChunk] = []

    def append(self, chunk: GridChunk) -> None:
        if len(chunk):
            self.parts.append(chunk)

    def joined(self) -> GridChunk | None:
        """Every kept tick as one chunk (kept joined, so the next join only adds the new)."""
        if not self.parts:
            return None
        if len(self.parts) > 1:
            p = self.parts
            self.parts = [
                GridChunk(
                    p[0].k0,
                    np.concatenate([c.acc_mps2 for c in p]),
                    np.concatenate([c.gyr_dps for c in p]),
                    np.concatenate([c.gap for c in p]),
                )
            ]
        return self.parts[0]

    def drop_before(self, k: int) -> None:
        """Forget the ticks before grid index ``k``."""
        whole = self.joined()
        if whole is None or whole.k0 >= k:
            return
        self.parts = [c] if len(c := from_tick(whole, k)) else []


def from_tick(chunk: GridChunk, k: int) -> GridChunk:
    """``chunk`` starting at grid index ``k``: cut, or padded as lost data before its own start."""
    pad = chunk.k0 - k
    if pad < 0:
        cut = -pad
        return GridChunk(k, chunk.acc_mps2[cut:], chunk.gyr_dps[cut:], chunk.gap[cut:])
    if pad == 0:
        return chunk
    return GridChunk(
        k,
        np.vstack((np.repeat(chunk.acc_mps2[:1], pad, axis=0), chunk.acc_mps2)),
        np.vstack((np.zeros((pad, 3)), chunk.gyr_dps)),
        np.concatenate((np.ones(pad, dtype=bool), chunk.gap)),
    )
