"""Accelerometer calibration: each sensor's per-axis scale and offset, from its rests.

Real accelerometers read each axis with its own scale (±10 %) and offset
(up to ~0.5 m/s²). In the stance's own pose that cancels (every angle is
relative to the stance), in other poses it tilts the vertical by a few
degrees, most visibly at the lockout after a rep (docs/analysis.md,
"Limits", "Accelerometer offsets and scale errors").

Rests tell them: between two rests the velocity does not
change, so the specific force, turned into the first rest's frame by the
bias-free gyro alone, averages to gravity as read at that rest, the next
rest reads the same gravity, and every rest reads g. With the true specific
force ``f = (m - offset) / scale`` per axis (``m`` the reading) all three
are linear in ``1 / scale`` and ``offset / scale``; the magnitude is taken
linearised and iterated, and a prior pulls toward scale 1 and offset 0.

:func:`fit_acc` needs rests on both sides of movements: offline the whole
recording has them, live the ticks it kept once a set or so is in them
(before that the gate refuses: too few rest pairs). ``calibration.calibrate``
runs it after the gyro bias tracks and corrects the grid before every later
stage; the stages built on the calibration read every tick corrected the
same way (``Calibration.acc``, applied in ``chain.SensorChain``), live and
offline alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hinge_imu.core.arrays import runs

if TYPE_CHECKING:  # the calibration's data types import this module
    from hinge_imu.core.bias_model import BiasTrack
    from hinge_imu.core.calibration_data import GridData, Stance

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["AccCorrection", "AccFitSettings", "accelerometer_fits", "fit_acc", "strapdown"]


@dataclass(frozen=True)
class AccFitSettings:
    """What counts as a rest and a usable pair of them, the prior, and the gate."""

    #: A rest: quiet (``stance.quiet``) for at least this long, s …
    rest_min_s: float = 0.3
    #: … its smoothed bias-free rate under this, deg/s.
    rest_gyro_dps: float = 3.0
    #: Rest pairs closer than this are skipped (one rest split in two), s …
    pair_min_s: float = 0.2
    #: … and further apart than this (the gyro's drift between them), s …
    pair_max_s: float = 15.0
    #: … and pairs without this much turning between them (nothing to learn), deg/s.
    pair_move_dps: float = 30.0
    #: At most this many pairs are used, evenly spread over the data (a
    #: 1-hour session has ~900 per sensor; with all of them the fit took
    #: 0.85 s of its 1.4 s calibration) …
    max_pairs: int = 60
    #: … and at most this many rests' magnitudes.
    max_rests: int = 300
    #: A pair's mean-force equation weighs fully from this much movement between, s.
    pair_full_weight_s: float = 3.0
    #: Prior: scale 1 ± this (share) …
    prior_scale: float = 0.1
    #: … offset 0 ± this, m/s².
    prior_offset_mps2: float = 0.5
    #: What one rest pair (or one rest's magnitude) says, m/s².
    pair_sigma_mps2: float = 0.05
    #: Gravity, m/s².
    gravity_mps2: float = 9.81
    #: Rounds of the linearised magnitude equation.
    rounds: int = 5
    # The gate: a fit is applied only when all of these hold.
    #: At least this many rest pairs with movement between.
    min_pairs: int = 6
    #: Every axis' scale within [min_scale, max_scale] (share): real
    #: accelerometers read 10–40 % off (a badly calibrated board).
    min_scale: float = 0.6
    max_scale: float = 1.6
    #: Every axis' offset within this, m/s².
    max_offset_mps2: float = 1.5
    #: Nothing to correct when the rests' equations close to this without a
    #: correction, m/s² (sensors as good as the simulator's ``clean``: a fit
    #: there only adds its own noise) …
    min_residual_mps2: float = 0.05
    #: … and the rests' residual with the correction at most this share of the one without …
    max_residual_ratio: float = 0.8
    #: Every offset's standard error at most this, m/s² (the equations
    #: weighed by their actual scatter): beyond it the data does not tell
    #: the offsets apart (a noisy gyro's turn between rests) …
    max_offset_se_mps2: float = 0.3
    #: … and the residual at most this, m/s²: where the zero-velocity equations do not
    #: close (the gyro's turn between rests off), the fit is not trusted.
    #: SIMULATED `real` sessions close to 0.03–0.25 (0.1 kept out fits whose
    #: offsets were off but whose correction still helped the angles).
    max_residual_mps2: float = 0.25
    #: Only on a still standing stance (calibration kind ``stance``): on the
    #: upright moments between reps it made hip flexion worse (docs/analysis.md).
    still_stance_only: bool = True


@dataclass(frozen=True)
class AccCorrection:
    """One sensor's fitted accelerometer correction and whether it is applied.

    ``corrected = (reading - offset_mps2) / scale`` per sensor axis.

    Attributes:
        scale: per-axis scale (share, 1 = exact).
        offset_mps2: per-axis offset, m/s².
        pairs: rest pairs with movement between used by the fit.
        residual_mps2: RMS of the rests' equations (as recorded, corrected), m/s².
        offset_se_mps2: the largest offset's standard error, m/s².
        applied: the gate passed; else ``reason`` says why not.
    """

    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset_mps2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pairs: int = 0
    residual_mps2: tuple[float, float] = (0.0, 0.0)
    offset_se_mps2: float = 0.0
    applied: bool = False
    reason: str = ""

    @property
    def fitted(self) -> bool:
        """There were enough rest pairs to fit (applied or not)."""
        return self.residual_mps2 != (0.0, 0.0)

    def apply(self, acc_mps2: FloatArray) -> FloatArray:
        """The readings (N, 3) m/s² corrected (a new array); as they are when not applied."""
        if not self.applied:
            return acc_mps2
        inv = 1.0 / np.asarray(self.scale)
        out = np.multiply(acc_mps2, inv)
        out -= np.asarray(self.offset_mps2) * inv
        return out


def rotvecs_to_matrices(rotvec_rad: FloatArray) -> FloatArray:
    """Rotation matrices (N, 3, 3) of rotation vectors (N, 3) in radians (Rodrigues)."""
    v = np.asarray(rotvec_rad, dtype=np.float64)
    angle = np.linalg.norm(v, axis=1)
    safe = np.where(angle < 1e-12, 1.0, angle)
    k = v / safe[:, None]
    kx = np.zeros((v.shape[0], 3, 3))
    kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    kx[:, 1, 0], kx[:, 2, 0], kx[:, 2, 1] = k[:, 2], -k[:, 1], k[:, 0]
    s, c = np.sin(angle)[:, None, None], (1.0 - np.cos(angle))[:, None, None]
    return np.eye(3) + s * kx + c * (kx @ kx)


def strapdown(gyr_dps: FloatArray, rate_hz: float) -> FloatArray:
    """Rotations (N + 1, 3, 3) from each sample's sensor frame to the first's, gyro only.

    ``out[0]`` is the identity, ``out[i]`` the turn of the first ``i``
    samples; a prefix product in log2(N) vectorised rounds.
    """
    out = np.empty((gyr_dps.shape[0] + 1, 3, 3))
    out[0] = np.eye(3)
    out[1:] = rotvecs_to_matrices(np.deg2rad(gyr_dps) / rate_hz)
    shift = 1
    while shift < out.shape[0]:
        out[shift:] = out[:-shift] @ out[shift:]
        shift *= 2
    return out


def _rests(
    quiet: BoolArray,
    smooth_free_dps: FloatArray,
    valid: BoolArray,
    rate_hz: float,
    fs: AccFitSettings,
) -> list[tuple[int, int]]:
    turning2 = np.einsum("ij,ij->i", smooth_free_dps, smooth_free_dps)
    calm = quiet & valid & (turning2 < fs.rest_gyro_dps**2)
    return [(a, b) for a, b in runs(calm) if b - a >= round(fs.rest_min_s * rate_hz)]


#: A pair of rests, each as its [start, end) indices.
RestPair = tuple[tuple[int, int], tuple[int, int]]


def _turns(gyr_free_dps: FloatArray, fs: AccFitSettings) -> bool:
    """Does the gyro (M, 3) reach ``fs.pair_move_dps`` on any axis?"""
    return bool(gyr_free_dps.size) and float(np.abs(gyr_free_dps).max()) >= fs.pair_move_dps


def _usable_pairs(
    gyr_free_dps: FloatArray,
    valid: BoolArray,
    rests: list[tuple[int, int]],
    rate_hz: float,
    fs: AccFitSettings,
) -> list[RestPair]:
    """Consecutive rests with movement between, at most ``fs.max_pairs`` (evenly spread)."""
    if len(rests) < 2:
        return []
    r = np.asarray(rests)
    a1, b0 = r[:-1, 1], r[1:, 0]
    lost = np.r_[0, np.cumsum(~valid)]  # lost ticks up to each index
    t = (b0 - a1) / rate_hz
    ok = (fs.pair_min_s < t) & (t <= fs.pair_max_s) & (lost[b0] == lost[a1])
    # Movement between, on each candidate's own samples (faster than a per-row max of all).
    idx = np.array(
        [i for i in np.flatnonzero(ok).tolist() if _turns(gyr_free_dps[a1[i] : b0[i]], fs)],
        dtype=int,
    )
    if idx.size > fs.max_pairs:  # the same scale and offset throughout: a spread sample tells it
        idx = idx[np.linspace(0, idx.size - 1, fs.max_pairs).round().astype(int)]
    return [(rests[i], rests[i + 1]) for i in idx.tolist()]


def _pair_rows(
    acc: FloatArray,
    gyr_free_dps: FloatArray,
    pairs: list[RestPair],
    rate_hz: float,
    fs: AccFitSettings,
) -> FloatArray:
    """Rows (6 per pair, 6) in (1/scale, offset/scale): zero for the true values, m/s²."""
    rows: list[FloatArray] = []
    eye = np.eye(3)
    for (a0, a1), (b0, b1) in pairs:
        t = (b0 - a1) / rate_hz
        ma, mb = acc[a0:a1].mean(axis=0), acc[b0:b1].mean(axis=0)
        mid_a, mid_b = (a0 + a1) // 2, (b0 + b1) // 2
        # Turn of each sample into the first rest's frame (that rest's middle: identity).
        rot = strapdown(gyr_free_dps[mid_a:mid_b], rate_hz)
        seg, rb = rot[a1 - mid_a : b0 - mid_a], rot[mid_b - mid_a]
        # The mean specific force between the rests, and the next rest, equal gravity at the first.
        between = np.hstack([(seg * acc[a1:b0][:, None, :]).mean(0) - eye * ma, eye - seg.mean(0)])
        weight = np.sqrt(min(t, fs.pair_full_weight_s) / fs.pair_full_weight_s)
        rows += [between * weight, np.hstack([rb * mb - eye * ma, eye - rb])]
    return np.vstack(rows)


def _residual(x: FloatArray, pairs: FloatArray, means: FloatArray, fs: AccFitSettings) -> float:
    """RMS m/s² of the pair and magnitude equations at ``x`` = (1/scale, offset/scale)."""
    mag = np.linalg.norm(means * x[:3] - x[3:], axis=1) - fs.gravity_mps2
    return float(np.sqrt(np.mean(np.r_[(pairs @ x) ** 2, mag**2])))


def _solve(
    pairs: FloatArray, means: FloatArray, fs: AccFitSettings
) -> tuple[FloatArray, float, float]:
    """(x = (1/scale, offset/scale), its residual m/s², the largest offset's standard error m/s²).

    ``pairs``: the rest pairs' rows (M, 6); ``means``: each rest's mean reading (R, 3).
    """
    sigma = fs.pair_sigma_mps2
    prior = np.diag(np.r_[np.full(3, 1 / fs.prior_scale), np.full(3, 1 / fs.prior_offset_mps2)])
    y_prior = np.r_[np.full(3, 1 / fs.prior_scale), np.zeros(3)]
    y = np.r_[np.zeros(pairs.shape[0]), np.full(len(means), fs.gravity_mps2 / sigma), y_prior]
    x = np.r_[np.ones(3), np.zeros(3)]
    for _ in range(fs.rounds):  # |k * m - p| = g at every rest, linearised about x
        f = means * x[:3] - x[3:]
        u = f / np.linalg.norm(f, axis=1, keepdims=True)
        data = np.vstack([pairs, np.hstack([u * means, -u])]) / sigma
        x = np.linalg.lstsq(np.vstack([data, prior]), y, rcond=None)[0]
    after = _residual(x, pairs, means, fs)
    # The equations weighed by what they actually scatter (never less than sigma).
    data *= sigma / max(sigma, after)
    cov = np.linalg.inv(data.T @ data + prior.T @ prior)
    return x, after, float(np.sqrt(np.diag(cov)[3:]).max() / x[:3].min())


def fit_acc(
    acc_mps2: FloatArray,
    gyr_free_dps: FloatArray,
    quiet: BoolArray,
    smooth_free_dps: FloatArray,
    valid: BoolArray,
    rate_hz: float,
    fs: AccFitSettings | None = None,
) -> AccCorrection:
    """Fit one sensor's accelerometer scale and offset per axis over its whole data.

    Args:
        acc_mps2: readings (N, 3), m/s², sensor frame.
        gyr_free_dps: gyro (N, 3) with its bias (as tracked) removed, deg/s.
        quiet: (N,) the sensor's signals hardly vary (``stance.quiet``).
        smooth_free_dps: the gyro smoothed as ``quiet`` does, bias removed, deg/s.
        valid: (N,) False in long gaps.
        rate_hz: grid rate, Hz.

    Returns the correction with ``applied`` set by the gate of ``fs``
    (all but ``still_stance_only``, which the caller knows).
    """
    fs = fs or AccFitSettings()
    rests = _rests(quiet, smooth_free_dps, valid, rate_hz, fs)
    used = _usable_pairs(gyr_free_dps, valid, rests, rate_hz, fs)
    n_pairs = len(used)
    if n_pairs < fs.min_pairs:
        return AccCorrection(pairs=n_pairs, reason=f"{n_pairs} rest pairs, {fs.min_pairs} needed")
    pairs = _pair_rows(acc_mps2, gyr_free_dps, used, rate_hz, fs)
    # Every rest reads g (at most max_rests of them, evenly spread).
    r = np.asarray(rests)
    if len(r) > fs.max_rests:
        r = r[np.linspace(0, len(r) - 1, fs.max_rests).round().astype(int)]
    means = np.array([acc_mps2[a:b].mean(axis=0) for a, b in r.tolist()])
    before = _residual(np.r_[np.ones(3), np.zeros(3)], pairs, means, fs)
    x, after, offset_se = _solve(pairs, means, fs)
    scale, offset = 1.0 / x[:3], x[3:] / x[:3]
    why = ""
    if before < fs.min_residual_mps2:
        why = f"nothing to correct: residual under {fs.min_residual_mps2:g} m/s²"
    elif not np.all((fs.min_scale <= scale) & (scale <= fs.max_scale)):
        why = f"scale outside {fs.min_scale:g}–{fs.max_scale:g}"
    elif np.abs(offset).max() > fs.max_offset_mps2:
        why = f"offset over {fs.max_offset_mps2:g} m/s²"
    elif after > fs.max_residual_ratio * before:
        why = f"residual not below {fs.max_residual_ratio:g} of the uncorrected"
    elif after > fs.max_residual_mps2:
        why = f"residual over {fs.max_residual_mps2:g} m/s²"
    elif offset_se > fs.max_offset_se_mps2:
        why = f"offsets too uncertain (standard error {offset_se:.2f} m/s²)"
    return AccCorrection(
        scale=(float(scale[0]), float(scale[1]), float(scale[2])),
        offset_mps2=(float(offset[0]), float(offset[1]), float(offset[2])),
        pairs=n_pairs,
        residual_mps2=(round(before, 4), round(after, 4)),
        offset_se_mps2=round(offset_se, 4),
        applied=not why,
        reason=why,
    )


def accelerometer_fits(
    grid: GridData,
    st: Stance,
    tracks: Mapping[str, BiasTrack],
    quiet_ticks: Mapping[str, tuple[BoolArray, FloatArray]],
    fs: AccFitSettings,
) -> dict[str, AccCorrection]:
    """Each sensor's accelerometer scale and offset from the data's rests.

    The calibration stage (``calibration.calibrate``), right after the gyro
    bias tracks; ``quiet_ticks``: sensor → ``stance.quiet`` of all its samples.

    Applied (``AccCorrection.applied``) only where ``acc_fit.fit_acc``'s gate
    passes and, with ``fs.still_stance_only``, on a still standing stance.
    """
    out = {}
    ticks = grid.k0 + np.arange(next(iter(grid.valid.values())).shape[0])
    for s in grid.sensors:
        bias = tracks[s].at(ticks)
        quiet_mask, smooth = quiet_ticks[s]
        fit = fit_acc(
            grid.acc_mps2[s],
            grid.gyr_dps[s] - bias,
            quiet_mask,
            smooth - bias,
            grid.valid[s],
            grid.rate_hz,
            fs,
        )
        if fit.applied and fs.still_stance_only and st.kind != "stance":
            fit = replace(fit, applied=False, reason=f"calibrated on {st.kind}, not a still stance")
        out[s] = fit
    return out
