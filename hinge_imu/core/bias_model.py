"""How a gyro bias moves between rests: the Kalman model of ``rest_bias.py``.

Per axis the state is the bias and its rate of change (a warm-up is smooth:
it drifts at a rate that itself changes slowly), with the same covariance
for the three axes (every rest measures all three equally well). Between
rests the bias may wander (``walk_dps_per_sqrt_s``) and its rate too
(``rate_walk_dps_per_s_per_sqrt_s``); a rest measures the bias.
:func:`step` is the forward (causal, live) filter; :func:`smooth` the
backward pass (Rauch–Tung–Striebel) that offline gives every rest the
estimate of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["BiasState", "Measurement", "smooth", "step"]

FloatArray = npt.NDArray[np.float64]


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


def _predict(
    st: BiasState, k: int, rate_hz: float, walk: float, rate_walk: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x, cov, F) predicted from ``st`` to tick ``k``."""
    dt = max(0.0, (k - st.k) / rate_hz)
    f = np.array([[1.0, dt], [0.0, 1.0]])
    q = rate_walk**2 * np.array([[dt**3 / 3.0, dt**2 / 2.0], [dt**2 / 2.0, dt]])
    q[0, 0] += walk**2 * dt
    return f @ st.x, f @ st.cov @ f.T + q, f


def step(
    st: BiasState, m: Measurement, rate_hz: float, walk: float, rate_walk: float
) -> tuple[BiasState, FloatArray, FloatArray]:
    """One measurement in: (the new state, the predicted covariance, the transition F)."""
    x, cov, f = _predict(st, m.k, rate_hz, walk, rate_walk)
    gain = cov[:, 0] / (cov[0, 0] + m.var_dps2)  # (2,)
    x_new = x + np.outer(gain, m.mean_dps - x[0])
    cov_new = cov - np.outer(gain, cov[0, :])
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
    for i in range(len(fwd) - 2, -1, -1):
        g = fwd[i].cov @ trans[i + 1].T @ np.linalg.inv(pred[i + 1])
        x = fwd[i].x + g @ (out[i + 1].x - trans[i + 1] @ fwd[i].x)
        cov = fwd[i].cov + g @ (out[i + 1].cov - pred[i + 1]) @ g.T
        out[i] = BiasState(fwd[i].k, x, cov)
    return out, st
