"""Offline: each gyro bias over the whole recording (docs/analysis.md, "Drift").

The live stage of ``rest_bias.py`` finds every rest of the recording; their
biases are smoothed backward (Rauch–Tung–Striebel), so the bias during a
rep comes from the rests before AND after it, and the stages are fed that
track (:class:`~hinge_imu.core.bias_model.BiasTrack`). Before the first
rest, where the track would hold the first rest's bias, the bias comes from
whole rep cycles (``cycle_bias.cycle_rests``): a restless opening has no
rest for a minute or more while the gyro warms up.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hinge_imu.core import bias_model
from hinge_imu.core.bias_model import BiasState, BiasTrack, Measurement
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.cycle_bias import cycle_rests
from hinge_imu.core.rest_bias import RestBias, RestBiasSettings
from hinge_imu.core.stance import quiet
from hinge_imu.core.timegrid import GridChunk

__all__ = ["track_bias"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def track_bias(
    chunk: GridChunk,
    bias_dps: FloatArray,
    rate_hz: float,
    settings: RestBiasSettings,
    calibration: CalibrationSettings,
    standing_up: FloatArray | None = None,
    anchor_k: int | None = None,
    quiet_ticks: tuple[BoolArray, FloatArray] | None = None,
) -> BiasTrack:
    """Offline: the bias over the whole of ``chunk`` from every rest in it (before and after).

    The rests are found by the live stage, starting from the calibration's
    ``bias_dps``; with a stance (``anchor_k``, its middle tick) the track
    passes through ``bias_dps`` there: the angles are relative to the
    stance, whose vertical was taken with that bias. Then every rest's bias
    comes from all of them (smoothed backward) and is interpolated between.
    Before the first rest (or the stance) whole rep cycles measure it
    (``RestBiasSettings.cycles``). ``quiet_ticks``: ``stance.quiet`` of all
    of ``chunk``, if already computed.
    """
    end_k = chunk.k0 + len(chunk)
    if not settings.enabled:
        return BiasTrack.constant(bias_dps, end_k)
    s = settings
    start = BiasState.start(chunk.k0, bias_dps, s.prior_dps, s.prior_rate_dps_per_s)
    stage = RestBias(s, calibration, rate_hz, start, standing_up=standing_up)
    # The rests only: the smoother below filters them again, with the stance among them.
    found = [m for _, m in stage.rests_in(chunk, quiet_ticks) + stage.finish_rests()]
    meas = list(found)
    if anchor_k is not None:
        meas.append(Measurement(anchor_k, np.asarray(bias_dps), s.stance_dps**2))
    meas.sort(key=lambda m: m.k)
    first_k = meas[0].k if meas else end_k
    cycles = _cycles_before(chunk, first_k, bias_dps, stage, quiet_ticks) if s.cycles else []
    if not meas and not cycles:
        return BiasTrack.constant(bias_dps, end_k)
    if cycles:
        # Before the first rest the cycles (smoothed with every rest); from it on the
        # rests' track as without them: drawn through both, the warm-up's bend
        # (the model's rate of change hardly changes) moved it 0.1–0.2 °/s there.
        both, last = _smoothed(sorted(meas + cycles, key=lambda m: m.k), bias_dps, rate_hz, s)
        states = [st for st in both if st.k < first_k]
        if meas:
            rests, last = _smoothed(meas, bias_dps, rate_hz, s)
            states += rests
    else:
        states, last = _smoothed(meas, bias_dps, rate_hz, s)
    ks = np.array([st.k for st in states], dtype=np.int64)
    # Knots strictly increasing (a rest and the stance may share a middle tick).
    keep = np.concatenate((np.diff(ks) > 0, [True]))
    bias = np.array([st.bias_dps for st in states])
    return BiasTrack(ks[keep], bias[keep], end_k, last, len(found))


def _smoothed(
    meas: list[Measurement], bias_dps: FloatArray, rate_hz: float, s: RestBiasSettings
) -> tuple[list[BiasState], BiasState]:
    """Each measurement's state given all of them (in tick order), and the last forward one."""
    first = BiasState.start(meas[0].k, bias_dps, s.prior_dps, s.prior_rate_dps_per_s)
    return bias_model.smooth(first, meas, rate_hz, *s.model())


def _cycles_before(
    chunk: GridChunk,
    first_k: int,
    bias_dps: FloatArray,
    stage: RestBias,
    quiet_ticks: tuple[BoolArray, FloatArray] | None,
) -> list[Measurement]:
    """The bias from whole rep cycles (``cycle_bias.cycle_rests``) before grid tick ``first_k``
    (the first rest or the stance): there the track had nothing but the first
    rest's bias, 0.4–1 °/s off a gyro warming over a restless opening."""
    n = max(0, first_k - chunk.k0)
    if n == 0:
        return []
    calm = (quiet_ticks or quiet(chunk.acc_mps2, chunk.gyr_dps, stage.rate_hz, stage.cs))[0]
    return cycle_rests(
        chunk.acc_mps2[:n],
        chunk.gyr_dps[:n],
        calm[:n],
        ~chunk.gap[:n],
        stage.rate_hz,
        np.asarray(bias_dps),
        stage.standing_up,
        stage.settings,
        chunk.k0,
    )
