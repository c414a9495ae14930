"""Each gyro's bias at every rest: drift tracked live and offline (docs/analysis.md, "Drift").

Gyros warm up and drift during a session (0.5–1.5 °/s over the first
minutes is common); a bias taken once at the stance goes stale, and the
orientation filter turns a bias error ``b`` into an inclination error of
about ``b · tau_acc_s`` (1 °/s → 3°). So the bias is measured again at every
rest of the sensor and tracked with a Kalman filter (``bias_model.py``):

* a **rest** is a run of at least ``min_rest_s`` in which the sensor's
  signals hardly vary (:func:`~hinge_imu.core.stance.quiet`: how much the
  gyro and the accelerometer's direction vary, never their level or the
  accelerometer's magnitude), its smoothed rate stays within
  ``rest_gyro_dps`` of the run's own median (the slow start of a rep is
  cut off), gravity turns less than ``max_turn_deg`` in it (a slow lean is
  no rest) and the sensor stands as at the stance (``standing_deg``: a
  pause in the hole creeps);
* its mean rate measures the bias with a variance of
  ``noise_dps² / T + (settle_deg / T)²`` (T the rest's length in s: noise
  averages out over a long rest, and a person settling after a rep turns a
  little, an angle spread over the rest);
* between rests the bias follows the model of ``bias_model.py`` (it
  drifts at a rate that changes slowly, as a warm-up does).

:class:`RestBias` is the causal stage (``update()``/``finish()``/``reset()``):
it decides a tick once ``lag`` ticks after it are in, and a rest's new bias
holds from ``lag`` ticks after the rest's end on, whatever the chunking.
Live, :class:`~hinge_imu.core.chain.SensorChain` runs it after the
calibration. Offline, ``offline_bias.track_bias`` runs the same stage over the whole
recording first and smooths its estimates backward (Rauch–Tung–Striebel):
the bias between two rests is then interpolated from both, the rests before
AND after a rep, and the stages are fed that track (:class:`BiasTrack`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hinge_imu.core import bias_model
from hinge_imu.core.angles import angle_between_deg
from hinge_imu.core.arrays import column_mean, column_median, norm_rows, run_bounds
from hinge_imu.core.bias_model import BiasState, BiasTrack, Measurement
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.stance import quiet
from hinge_imu.core.timegrid import GridChunk

__all__ = ["BiasTrack", "RestBias", "RestBiasSettings", "RestEstimate"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RestBiasSettings:
    """How the gyro bias is tracked at rests.

    Attributes:
        enabled: track the bias at rests (off: the calibration's bias throughout).
        min_rest_s: shortest rest that measures the bias, s.
        rest_gyro_dps: within a quiet run, a rest's smoothed rate stays this
            close to the run's median rate (where a rep starts slowly, it
            does not), deg/s.
        max_turn_deg: gravity turns less than this in the sensor during a
            rest (a slow lean is no rest; the accelerometer's direction only), deg.
        standing_deg: a rest is in the standing pose, gravity within this
            of the stance's (a pause in the hole creeps), deg.
        noise_dps: standard deviation per axis of a 1 s rest's mean rate
            about the true bias (noise, sway), deg/s; a rest of T s: this / √T.
        settle_deg: a person settling during a rest turns up to about this
            much, spread over it, deg (a rest of T s: this / T in deg/s).
        walk_dps_per_sqrt_s: how fast the bias may wander between rests, deg/s per √s.
        rate_walk_dps_per_s_per_sqrt_s: how fast its rate of change may
            change (a warm-up slows down), deg/s per s per √s.
        prior_dps: standard deviation per axis of the calibration's bias
            before any rest is measured (no still stance), deg/s.
        prior_rate_dps_per_s: … of its rate of change, deg/s per s.
        stance_dps: standard deviation per axis of the stance's bias: the
            angles are relative to the stance, so the bias it was taken
            with holds there, deg/s.
        cycles: offline, before the first rest (or stance) the bias from
            whole rep cycles (``cycle_bias.cycle_rests``: between brief stops
            in the standing pose); without, the track holds the first
            rest's bias back to the start.
        cycle_min_s: … each interval from one stop to the first at least
            this much later, s.
        cycle_end_min_s: … a stop lasts at least this long, s.
        cycle_deg: … its net rotation is known to about this (the stops'
            accelerometer directions, a turn about the vertical), deg (an
            interval of T s: this / T in deg/s).
        cycle_max_dps: … one further than this from the calibration's
            bias turned the person round (a walk): left out, deg/s.
    """

    enabled: bool = True
    min_rest_s: float = 0.5
    rest_gyro_dps: float = 1.0
    max_turn_deg: float = 0.5
    standing_deg: float = 10.0
    noise_dps: float = 0.3
    settle_deg: float = 2.0
    walk_dps_per_sqrt_s: float = 0.02
    rate_walk_dps_per_s_per_sqrt_s: float = 0.001
    prior_dps: float = 1.0
    prior_rate_dps_per_s: float = 0.002
    stance_dps: float = 0.02
    cycles: bool = True
    cycle_min_s: float = 10.0
    cycle_end_min_s: float = 0.1
    cycle_deg: float = 2.0
    cycle_max_dps: float = 3.0

    def model(self) -> tuple[float, float]:
        """(walk, rate walk) of ``bias_model``."""
        return self.walk_dps_per_sqrt_s, self.rate_walk_dps_per_s_per_sqrt_s


@dataclass(frozen=True)
class RestEstimate:
    """One rest: what it measured and the (causal) bias after it.

    Attributes:
        apply_k: grid tick from which the new bias holds (the rest's end + lag).
        measured: the rest's measurement (middle tick, mean rate, variance).
        state: the forward estimate after it.
    """

    apply_k: int
    measured: Measurement
    state: BiasState


#: Quiet runs that ended: (grid tick of the first of these ticks, their smoothed rate,
#: raw rate and acc, the runs' [start, end) in them (K, 2)).
_Runs = tuple[int, FloatArray, FloatArray, FloatArray, IntArray]
#: A rest found: (grid tick from which its bias holds, what it measured).
Rest = tuple[int, Measurement]


class RestBias:
    """The causal stage: one sensor's grid ticks in, a new bias after each rest out.

    Args:
        settings: how rests are found and weighed.
        calibration: the quiet test's settings (``stance.quiet``).
        rate_hz: grid rate, Hz.
        start: the bias estimate to start from.
        first_k: ticks before this are never a rest (already looked at).
        standing_up: earth up in the sensor frame at the stance (None: a
            rest in any pose counts).
    """

    def __init__(
        self,
        settings: RestBiasSettings,
        calibration: CalibrationSettings,
        rate_hz: float,
        start: BiasState,
        first_k: int = -(2**62),
        standing_up: FloatArray | None = None,
    ) -> None:
        self.settings = settings
        #: Earth up in the sensor frame while standing (None: any pose rests).
        self.standing_up = (
            None
            if standing_up is None
            else np.asarray(standing_up) / float(np.linalg.norm(standing_up))
        )
        self.cs = calibration
        self.rate_hz = rate_hz
        self.start = start
        self.first_k = first_k
        #: Ticks a decision waits for (the quiet test's centred windows).
        self.lag = round((calibration.still_mean_s + calibration.smooth_s) * rate_hz) + 1
        #: Ticks of the shortest rest.
        self.min_n = max(2, round(settings.min_rest_s * rate_hz))
        self.reset()

    def reset(self) -> None:
        self.state = self.start
        self.rests = 0
        self._next_k: int | None = None  # grid tick the next chunk should start at
        self._decided_k = 0  # ticks before this are decided
        self._hist = (np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, dtype=bool))
        self._run_k: int | None = None  # first tick of the open quiet run
        self._run: list[tuple[FloatArray, FloatArray, FloatArray]] = []  # (smoothed, raw, acc)

    def update(
        self, chunk: GridChunk, quiet_ticks: tuple[BoolArray, FloatArray] | None = None
    ) -> list[RestEstimate]:
        """The next ticks; returns the rests decided in them, in order.

        ``quiet_ticks``: :func:`~hinge_imu.core.stance.quiet` of this very
        chunk, already computed (offline: the calibration's); only for a
        chunk that starts the stage afresh, where the test sees nothing else.
        """
        return self._filter(self.rests_in(chunk, quiet_ticks))

    def finish(self) -> list[RestEstimate]:
        """End of data: the open rest, if any, ends at the last tick."""
        return self._filter(self.finish_rests())

    def rests_in(
        self, chunk: GridChunk, quiet_ticks: tuple[BoolArray, FloatArray] | None = None
    ) -> list[Rest]:
        """:meth:`update` before the filter: the rests decided in the next ticks, in order.

        Offline, ``offline_bias.track_bias`` smooths them all at once instead.
        """
        n = len(chunk)
        if n == 0:
            return []
        ended: list[_Runs] = []
        if self._next_k != chunk.k0:
            # A first chunk, or one not following on: start afresh there.
            ended += self._end_run(self._decided_k)
            self._hist = (np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, dtype=bool))
            self._decided_k = chunk.k0
        h_acc, h_gyr, h_ok = self._hist
        if h_ok.shape[0]:
            acc = np.vstack((h_acc, chunk.acc_mps2))
            gyr = np.vstack((h_gyr, chunk.gyr_dps))
            ok = np.concatenate((h_ok, ~chunk.gap))
        else:  # nothing before it (offline: the whole recording): no copy
            acc, gyr, ok = chunk.acc_mps2, chunk.gyr_dps, ~chunk.gap
        k_buf = chunk.k0 - h_ok.shape[0]
        self._next_k = chunk.k0 + n
        if quiet_ticks is not None and h_ok.shape[0]:
            raise ValueError("quiet_ticks only for a chunk that starts the stage afresh")
        if k_buf + acc.shape[0] <= self.first_k:
            # All looked at already (offline: by track_bias, before the chain
            # runs over the same ticks): none can rest, no need to test them.
            calm, smooth = np.zeros(acc.shape[0], dtype=bool), gyr
        else:
            calm, smooth = quiet_ticks or quiet(acc, gyr, self.rate_hz, self.cs)
            calm = calm & ok & (np.arange(k_buf, k_buf + acc.shape[0]) >= self.first_k)
        lo, hi = self._decided_k - k_buf, acc.shape[0] - self.lag
        if hi > lo:
            ended += self._decide(
                calm[lo:hi], smooth[lo:hi], gyr[lo:hi], acc[lo:hi], self._decided_k
            )
            self._decided_k += hi - lo
        keep = 2 * self.lag
        self._hist = (acc[-keep:], gyr[-keep:], ok[-keep:])
        return [r for w in ended for r in self._rests_of(*w)]

    def finish_rests(self) -> list[Rest]:
        """:meth:`finish` before the filter."""
        return [r for w in self._end_run(self._decided_k) for r in self._rests_of(*w)]

    # ---- internals -----------------------------------------------------------------------

    def _decide(
        self,
        calm: npt.NDArray[np.bool_],
        smooth: FloatArray,
        gyr: FloatArray,
        acc: FloatArray,
        k0: int,
    ) -> list[_Runs]:
        """The quiet runs that ended in these decided ticks; one reaching their end stays open."""
        n = calm.shape[0]
        found = run_bounds(calm)
        ended: list[_Runs] = []
        if self._run_k is not None:
            if found.shape[0] and found[0, 0] == 0:
                # The open run goes on: it ends here, or stays open over all of these ticks.
                b = int(found[0, 1])
                self._run.append((smooth[:b], gyr[:b], acc[:b]))
                found = found[1:]
                if b == n:
                    return ended
                ended += self._end_run(k0 + b)
            else:
                ended += self._end_run(k0)
        if found.shape[0] and found[-1, 1] == n:
            a = int(found[-1, 0])
            self._run_k, self._run = k0 + a, [(smooth[a:], gyr[a:], acc[a:])]
            found = found[:-1]
        found = found[found[:, 1] - found[:, 0] >= self.min_n]  # most quiet runs are too short
        if found.shape[0]:
            ended.append((k0, smooth, gyr, acc, found))
        return ended

    def _end_run(self, end_k: int) -> list[_Runs]:
        """The open quiet run ended at ``end_k`` (exclusive): it, if it can hold a rest."""
        if self._run_k is None:
            return []
        run_k, parts = self._run_k, self._run
        self._run_k, self._run = None, []
        n = sum(p[0].shape[0] for p in parts)
        if n < self.min_n:
            return []
        smooth, gyr, acc = (
            parts[0] if len(parts) == 1 else (np.vstack([p[i] for p in parts]) for i in range(3))
        )
        return [(run_k, smooth, gyr, acc, np.array([[0, n]]))]

    def _rests_of(
        self, k0: int, smooth: FloatArray, gyr: FloatArray, acc: FloatArray, found: IntArray
    ) -> list[Rest]:
        """The rests in the quiet runs ``found`` [(start, end)] of ticks from grid tick k0 on.

        Every run's tests at once (most quiet runs hold one or more rests).
        """
        s = self.settings
        # Each run's own level, not the bias tracked so far: drift may have moved it.
        level = np.full(smooth.shape, np.inf)
        for lo, hi in found.tolist():
            level[lo:hi] = column_median(smooth[lo:hi])
        near = run_bounds(norm_rows(smooth - level) < s.rest_gyro_dps)
        a, b = near[near[:, 1] - near[:, 0] >= self.min_n].T
        if a.size == 0:
            return []
        ok = self._standing(acc, a, b)
        i = np.flatnonzero(ok)
        ok[i] = ~(self._turn_deg(acc, a[i], b[i]) > s.max_turn_deg)
        # The tick each rest's quiet run ended at: the new bias holds from lag ticks on.
        end_k = k0 + found[np.searchsorted(found[:, 0], a, side="right") - 1, 1] + self.lag
        return [
            (int(end_k[i]), self._measured(gyr[a[i] : b[i]], k0 + int(a[i])))
            for i in np.flatnonzero(ok)
        ]

    def _standing(self, acc: FloatArray, a: IntArray, b: IntArray) -> BoolArray:
        """Which rests [a, b) are in the standing pose (a pause in the hole creeps: no bias)."""
        if self.standing_up is None:
            return np.ones(a.shape[0], dtype=bool)
        # Sums, not means: the direction is all that counts.
        m = np.array(
            [np.add.reduce(acc[lo:hi]) for lo, hi in zip(a.tolist(), b.tolist(), strict=True)]
        )
        cos = (m @ self.standing_up) / np.maximum(norm_rows(m), 1e-9)
        return np.asarray(cos > np.cos(np.deg2rad(self.settings.standing_deg)))

    @staticmethod
    def _turn_deg(acc: FloatArray, a: IntArray, b: IntArray) -> FloatArray:
        """How far gravity turned in the sensor in each rest [a, b), deg: a slow lean is no rest.

        The median directions of its first and last thirds (medians: a knock
        or a heel strike does not move them; the magnitude is never used).
        """
        if a.size == 0:
            return np.zeros(0)
        u = acc / np.maximum(norm_rows(acc), 1e-9)[:, None]
        third = np.maximum(1, (b - a) // 3).tolist()
        ends = np.array(
            [
                (column_median(u[lo : lo + t]), column_median(u[hi - t : hi]))
                for lo, hi, t in zip(a.tolist(), b.tolist(), third, strict=True)
            ]
        )
        return np.asarray(angle_between_deg(ends[:, 0], ends[:, 1]))

    def _measured(self, gyr_dps: FloatArray, a_k: int) -> Measurement:
        """What the rest of rates ``gyr_dps`` starting at tick ``a_k`` measured."""
        s = self.settings
        b_k = a_k + gyr_dps.shape[0]
        rest_s = (b_k - a_k) / self.rate_hz
        # Noise averages out over a long rest; settling after a rep is an
        # angle spread over the rest, so its rate error falls as 1/T.
        return Measurement(
            (a_k + b_k) // 2,
            column_mean(gyr_dps),
            s.noise_dps**2 / rest_s + (s.settle_deg / rest_s) ** 2,
        )

    def _filter(self, found: list[Rest]) -> list[RestEstimate]:
        """Each rest into the bias estimate, in order."""
        out = []
        for apply_k, m in found:
            self.state = bias_model.step(self.state, m, self.rate_hz, *self.settings.model())[0]
            self.rests += 1
            out.append(RestEstimate(apply_k, m, self.state))
        return out
