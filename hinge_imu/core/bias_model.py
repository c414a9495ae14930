"""How a gyro bias moves between rests: the Kalman model of ``rest_bias.py``.

Per axis the state is the bias and its rate of change (a warm-up is smooth:
it drifts at a rate that itself changes slowly), with the same covariance
for the three axes (every rest measures all three equally well). Between
rests the bias may wander (``walk_dps_per_sqrt_s``) and its rate too
(``rate_walk_dps_per_s_per_sqrt_s``); a rest measures the bias.
:func:`step` is the forward (causal, live) filter; :func:`smooth` the
backward pass (Rauch–Tung–Striebel) that offline gives every rest the
estimate of all of them; :class:`BiasTrack` the bias over the grid it gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["BiasState", "BiasTrack", "Measurement", "smooth", "step"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BiasState:
    """The bias estimate at one tick.

    Attributes:
        k: grid tick it holds at.
        x: (2, 3): row 0 the bias, deg/s; row 1 its rate, deg/s per s.
        cov: (2, 2) covariance of (bias, rate), the same for every axis.
    """

    k: int
    x: FloatArray
    cov: FloatArray

    @property
    def bias_dps(self) -> FloatArray:
        return np.asarray(self.x[0])

    @staticmethod
    def start(
        k: int, bias_dps: FloatArray, bias_sd_dps: float, rate_sd_dps_per_s: float
    ) -> BiasState:
        """A bias with no known rate of change."""
        x = np.zeros((2, 3))
        x[0] = np.asarray(bias_dps, dtype=np.float64)
        return BiasState(k, x, np.diag([bias_sd_dps**2, rate_sd_dps_per_s**2]))


@dataclass(frozen=True)
class Measurement:
    """What one rest (or the calibration's stance) measured.

    Attributes:
        k: its middle tick.
        mean_dps: the mean rate over it (3,), deg/s.
        var_dps2: that mean's variance per axis, (deg/s)².
    """

    k: int
    mean_dps: FloatArray
    var_dps2: float


@dataclass(frozen=True)
class BiasTrack:
    """One sensor's gyro bias over the grid: linear between knots, constant outside.

    Attributes:
        k: knot ticks (M,), increasing (may be empty: ``bias_dps`` row 0 throughout).
        bias_dps: bias at each knot (max(M, 1), 3), deg/s.
        end_k: the ticks looked at end here; a live chain tracks on from it.
        last: the causal (forward) estimate after the last rest, where live
            tracking continues from.
        rests: how many rests measured the bias.
    """

    k: IntArray
    bias_dps: FloatArray
    end_k: int
    last: BiasState
    rests: int

    @property
    def last_dps(self) -> FloatArray:
        return self.last.bias_dps

    @staticmethod
    def constant(bias_dps: FloatArray, end_k: int = -(2**62)) -> BiasTrack:
        """One bias throughout (tracking off, or nothing looked at yet)."""
        b = np.asarray(bias_dps, dtype=np.float64).reshape(1, 3)
        st = BiasState.start(end_k, b[0], 0.0, 0.0)
        return BiasTrack(np.zeros(0, dtype=np.int64), b, end_k, st, 0)

    def at(self, k: IntArray) -> FloatArray:
        """The bias (n, 3) at grid ticks ``k`` (n,), deg/s."""
        if self.k.size < 2:
            return np.broadcast_to(self.bias_dps[0], (len(k), 3))
        kf = np.asarray(k, dtype=np.float64)
        x = self.k.astype(np.float64)
        return np.stack([np.interp(kf, x, self.bias_dps[:, j]) for j in range(3)], axis=1)


def _predict(
    st: BiasState, k: int, rate_hz: float, walk: float, rate_walk: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x, cov, F) predicted from ``st`` to tick ``k``."""
    dt = max(0.0, (k - st.k) / rate_hz)
    f = np.array([[1.0, dt], [0.0, 1.0]])
    rw2 = rate_walk**2
    q01 = rw2 * (dt**2 / 2.0)
    q = np.array([[rw2 * (dt**3 / 3.0) + walk**2 * dt, q01], [q01, rw2 * dt]])
    return f @ st.x, f @ st.cov @ f.T + q, f


def step(
    st: BiasState, m: Measurement, rate_hz: float, walk: float, rate_walk: float
) -> tuple[BiasState, FloatArray, FloatArray]:
    """One measurement in: (the new state, the predicted covariance, the transition F)."""
    x, cov, f = _predict(st, m.k, rate_hz, walk, rate_walk)
    gain = (cov[:, 0] / (cov[0, 0] + m.var_dps2))[:, None]  # (2, 1)
    x_new = x + gain * (m.mean_dps - x[0])
    cov_new = cov - gain * cov[0, :]
    return BiasState(m.k, x_new, cov_new), cov, f


def smooth(
    start: BiasState, meas: list[Measurement], rate_hz: float, walk: float, rate_walk: float
) -> tuple[list[BiasState], BiasState]:
    """(each measurement's state given all of them, the forward state after the last)."""
    fwd: list[BiasState] = []
    pred: list[FloatArray] = []
    trans: list[FloatArray] = []
    st = start
    for m in meas:
        st, cov_pred, f = step(st, m, rate_hz, walk, rate_walk)
        fwd.append(st)
        pred.append(cov_pred)
        trans.append(f)
    out = list(fwd)
    if len(fwd) < 2:
        return out, st
    # What does not depend on the later smoothed states, for all at once
    # (stacked: the same numbers as one by one): the gains and F x.
    cov = np.array([s.cov for s in fwd[:-1]])
    f_next = np.array(trans[1:])
    pred_next = np.array(pred[1:])
    gains = cov @ np.swapaxes(f_next, 1, 2) @ np.linalg.inv(pred_next)
    x_fwd = np.array([s.x for s in fwd[:-1]])
    x_pred = f_next @ x_fwd
    for i in range(len(fwd) - 2, -1, -1):
        g = gains[i]
        x = x_fwd[i] + g @ (out[i + 1].x - x_pred[i])
        c = cov[i] + g @ (out[i + 1].cov - pred_next[i]) @ g.T
        out[i] = BiasState(fwd[i].k, x, c)
    return out, st
