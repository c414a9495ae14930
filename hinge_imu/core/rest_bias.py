"""Gyro bias re-estimated at every rest, causally (docs/analysis.md, "Drift").

Gyros warm up and drift over a session: a bias taken once at the stance
goes stale (a 1 °/s error tilts the orientation filter's vertical by about
``tau_acc_s`` × 1° ≈ 3°). :class:`RestBias` watches one sensor's grid ticks
in blocks of ``block_s`` aligned to absolute grid indices (so the result
does not depend on how the data is chunked) and, after every block in which
the sensor rested, hands back a new bias: the block's mean rate. The same
stage runs live and offline (inside ``stream.SensorChain``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hinge_imu.core.timegrid import GridChunk

__all__ = ["RestBias", "RestSettings"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RestSettings:
    """When a block of one sensor's ticks is a rest.

    Attributes:
        block_s: the block length, s (a rest is at least this long).
        vary_dps: the gyro's RMS variation about its block mean stays under
            this (how much it varies, not its level), deg/s.
        acc_deg: the accelerometer direction's RMS variation stays under
            this (its magnitude is never used), deg.
        turn_deg: the mean accelerometer direction of the block's second
            half is within this of its first half's (a sensor turning slowly
            and steadily varies little too, but its gravity direction moves;
            0.25° in 1 s: under ~0.5 °/s), deg.
        max_step_dps: the new bias is within this of the current one (drift
            is slow; a larger step is a slow, smooth turn, not a bias), deg/s.
    """

    block_s: float = 1.0
    vary_dps: float = 3.0
    acc_deg: float = 0.5
    turn_deg: float = 0.25
    max_step_dps: float = 1.0


class RestBias:
    """One sensor's gyro bias, re-estimated at each rest: ``update(chunk)`` → changes."""

    def __init__(self, settings: RestSettings, rate_hz: float, bias_dps: FloatArray) -> None:
        self.settings = settings
        self.rate_hz = rate_hz
        self.initial_bias_dps = np.asarray(bias_dps, dtype=np.float64)
        self.reset()

    def reset(self) -> None:
        self.bias_dps = self.initial_bias_dps.copy()
        self._n = max(2, round(self.settings.block_s * self.rate_hz))
        self._k = -1  # grid index of the first buffered tick (-1: none)
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))
        self._gap = np.zeros(0, dtype=bool)

    def update(self, chunk: GridChunk) -> list[tuple[int, FloatArray]]:
        """The next ticks; returns [(grid index from which, new bias (3,) deg/s)], in order.

        A rest block changes the bias from the tick after it on (causal).
        """
        if len(chunk) == 0:
            return []
        n = self._n
        if self._k >= 0 and self._k + self._acc.shape[0] == chunk.k0:
            acc = np.vstack((self._acc, chunk.acc_mps2))
            gyr = np.vstack((self._gyr, chunk.gyr_dps))
            gap = np.concatenate((self._gap, chunk.gap))
            k = self._k
        else:
            acc, gyr, gap, k = chunk.acc_mps2, chunk.gyr_dps, chunk.gap, chunk.k0
        lo = (-k) % n  # first aligned block boundary, local index
        nb = max(0, (acc.shape[0] - lo) // n)
        hi = lo + nb * n
        # Keep what does not complete a block yet.
        self._k = k + hi
        self._acc, self._gyr, self._gap = acc[hi:].copy(), gyr[hi:].copy(), gap[hi:].copy()
        if nb == 0:
            return []
        g = gyr[lo:hi].reshape(nb, n, 3)
        a = acc[lo:hi].reshape(nb, n, 3)
        lost = gap[lo:hi].reshape(nb, n).any(axis=1)
        mean = g.mean(axis=1)
        vary = np.sqrt(((g - mean[:, None, :]) ** 2).sum(axis=2).mean(axis=1))
        length = np.linalg.norm(a, axis=2, keepdims=True)
        u = a / np.where(length > 0, length, 1.0)
        um = u.mean(axis=1)
        um /= np.maximum(np.linalg.norm(um, axis=1, keepdims=True), 1e-12)
        cos = np.clip((u * um[:, None, :]).sum(axis=2), -1.0, 1.0)
        spread = np.degrees(np.sqrt((np.arccos(cos) ** 2).mean(axis=1)))
        half = n // 2
        h1, h2 = u[:, :half].mean(axis=1), u[:, half:].mean(axis=1)
        c12 = (h1 * h2).sum(axis=1) / np.maximum(
            np.linalg.norm(h1, axis=1) * np.linalg.norm(h2, axis=1), 1e-12
        )
        turned = np.degrees(np.arccos(np.clip(c12, -1.0, 1.0)))
        s = self.settings
        rest = ~lost & (vary < s.vary_dps) & (spread < s.acc_deg) & (turned < s.turn_deg)
        out: list[tuple[int, FloatArray]] = []
        for b in np.flatnonzero(rest):
            if float(np.linalg.norm(mean[b] - self.bias_dps)) < s.max_step_dps:
                self.bias_dps = mean[b].copy()
                out.append((k + lo + (int(b) + 1) * n, self.bias_dps))
        return out
