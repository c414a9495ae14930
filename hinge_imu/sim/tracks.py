"""Smooth scalar time functions that drive the simulated body (SIMULATED data).

A :class:`Track` is a list of knots ``(t_s, value)``; between two knots the
value follows a minimum-jerk (quintic) profile, so position, velocity and
acceleration are continuous and vanish at every knot. Equal neighbouring
values make a hold. A track can be evaluated at any times, which lets the
generator differentiate sensor positions numerically around each sample
instant instead of on a dense grid over the whole (possibly hour-long) session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def min_jerk(s: FloatArray) -> FloatArray:
    """Minimum-jerk profile 0→1 on s ∈ [0, 1] (clipped outside)."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


@dataclass
class Track:
    """Knots of one scalar channel (e.g. pelvic tilt in degrees).

    Built incrementally with :meth:`to` / :meth:`hold`, then frozen into
    arrays by :meth:`evaluate` (knot times must not decrease).
    """

    start_value: float = 0.0
    t_s: list[float] = field(default_factory=lambda: [0.0])
    values: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.values:
            self.values = [float(self.start_value)]
        self._cache: tuple[FloatArray, FloatArray] | None = None

    @property
    def last_t_s(self) -> float:
        return self.t_s[-1]

    @property
    def last_value(self) -> float:
        return self.values[-1]

    def to(self, t_s: float, value: float) -> Track:
        """Move smoothly from the last knot to ``value``, arriving at ``t_s``."""
        if t_s < self.t_s[-1] - 1e-12:
            raise ValueError(f"knot at {t_s} s before last knot {self.t_s[-1]} s")
        self.t_s.append(float(t_s))
        self.values.append(float(value))
        self._cache = None
        return self

    def hold(self, t_s: float) -> Track:
        """Keep the last value until ``t_s``."""
        return self.to(t_s, self.values[-1])

    def value_at(self, t_s: float) -> float:
        return float(self.evaluate(np.array([t_s]))[0])

    def evaluate(self, t_s: FloatArray) -> FloatArray:
        """Values at times ``t_s`` (any shape); constant before/after the knots."""
        if self._cache is None:
            self._cache = (np.asarray(self.t_s, float), np.asarray(self.values, float))
        kt, kv = self._cache
        if kt.size == 1:
            return np.full(np.shape(t_s), kv[0])
        k = np.clip(np.searchsorted(kt, t_s, side="right") - 1, 0, kt.size - 2)
        dt = kt[k + 1] - kt[k]
        safe = np.where(dt > 0, dt, 1.0)
        s = np.where(dt > 0, (t_s - kt[k]) / safe, 1.0)
        return kv[k] + (kv[k + 1] - kv[k]) * min_jerk(s)


@dataclass(frozen=True)
class Sway:
    """Small smooth postural sway: a sum of sines, deg (or m).

    Natural variation that never looks like a movement: amplitudes well under
    a degree, frequencies 0.1–0.6 Hz.
    """

    amplitudes: tuple[float, ...]
    freqs_hz: tuple[float, ...]
    phases_rad: tuple[float, ...]

    @staticmethod
    def random(rng: np.random.Generator, amplitude: float, n: int = 3) -> Sway:
        amps = tuple(float(a) for a in amplitude * rng.uniform(0.3, 1.0, n) / np.sqrt(n))
        freqs = tuple(float(f) for f in rng.uniform(0.1, 0.6, n))
        phases = tuple(float(p) for p in rng.uniform(0, 2 * np.pi, n))
        return Sway(amps, freqs, phases)

    def evaluate(self, t_s: FloatArray) -> FloatArray:
        out = np.zeros(np.shape(t_s))
        for a, f, p in zip(self.amplitudes, self.freqs_hz, self.phases_rad, strict=True):
            out = out + a * np.sin(2 * np.pi * f * t_s + p)
        return out


@dataclass
class Oscillations:
    """Windows of ``env(t) · amplitude · sin(2π f (t − t_start) + phase)``:
    gait swings while walking, a swaying stance.

    ``env`` rises smoothly (minimum jerk, ``ramp_s``) from 0 at ``t_start`` to 1
    and falls back to 0 at ``t_end``, so movements start and stop smoothly.
    Windows must not overlap; evaluation finds each sample's window by binary
    search, so an hour with many walks stays fast.
    """

    windows: list[tuple[float, float, float, float, float, float]] = field(default_factory=list)

    def add(
        self,
        t_start_s: float,
        t_end_s: float,
        amplitude: float,
        freq_hz: float,
        phase_rad: float = 0.0,
        ramp_s: float = 0.4,
    ) -> None:
        if self.windows and t_start_s < self.windows[-1][1]:
            raise ValueError("oscillation windows must not overlap")
        self.windows.append((t_start_s, t_end_s, amplitude, freq_hz, phase_rad, ramp_s))

    def evaluate(self, t_s: FloatArray) -> FloatArray:
        out = np.zeros(np.shape(t_s))
        if not self.windows:
            return out
        w = np.asarray(self.windows)
        k = np.searchsorted(w[:, 0], t_s, side="right") - 1
        inside = (k >= 0) & (t_s <= w[np.maximum(k, 0), 1])
        if not inside.any():
            return out
        t, ww = t_s[inside], w[k[inside]]
        ts, te, amp, f, ph, ramp = ww.T
        env = min_jerk((t - ts) / ramp) * min_jerk((te - t) / ramp)
        out[inside] = env * amp * np.sin(2 * np.pi * f * (t - ts) + ph)
        return out
