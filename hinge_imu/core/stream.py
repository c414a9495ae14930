"""The analysis stages after calibration: grid ticks in, angle rows and judged reps out.

:class:`AnalysisStages` chains, per sensor, a :class:`SensorChain` (orientation
filter → segment angles), a :class:`~hinge_imu.core.timegrid.GridAligner`
joining the sensors, the joint angles of docs/rules.md, a
:class:`~hinge_imu.core.reps.RepDetector` and the rules. It is fed samples
already on the analysis grid (``timegrid.GridResampler``'s chunks): offline
the whole recording in big blocks (``pipeline.analyse``), live the blocks of
:class:`~hinge_imu.core.live.LiveAnalyser` as they arrive. It needs a
:class:`~hinge_imu.core.calibration.Calibration`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import ANGLE_NAMES, ANGLE_SENSORS, CORE_SENSORS, REQUIRED_SENSOR
from hinge_imu.core.acc_fit import AccFitSettings
from hinge_imu.core.angles import joint_angles_deg
from hinge_imu.core.calibration import ANGLE_READERS, Calibration, CalibrationSettings
from hinge_imu.core.chain import SensorChain
from hinge_imu.core.orientation import OrientationSettings
from hinge_imu.core.rep_events import RepSettings, tilt_angle_deg
from hinge_imu.core.rep_metrics import RepBounds, RepMetrics, compute_rep_metrics
from hinge_imu.core.reps import RepDetector
from hinge_imu.core.rest_bias import RestBias, RestBiasSettings
from hinge_imu.core.results import RepResult
from hinge_imu.core.rules import RuleSet, judge_rep
from hinge_imu.core.short_stance import BIAS_FROM_STOPS, UPRIGHT, UPRIGHT_NOT_ASSESSED
from hinge_imu.core.step import AnalysisStep
from hinge_imu.core.timegrid import GridAligner, GridChunk, GridSettings
from hinge_imu.core.windowed import median_list

FloatArray = npt.NDArray[np.float64]
_EMPTY = np.zeros(0)
#: The thigh's inclination from its accelerometer's direction alone: the
#: filter's lag at the lockout is measured on it at rest (docs/analysis.md, "Lockout").
_THIGH_AT_REST = "thigh_inclination@acc"
_SERIES = (*ANGLE_NAMES, _THIGH_AT_REST)
#: The one sensor whose chain computes that angle (``SensorChain.at_rest_angle``).
_AT_REST_SENSOR = ANGLE_SENSORS["thigh_inclination"][0]
#: sensor → the angle needing the fewest other sensors besides it: NaN where its data is lost.
_OWN_ANGLE = {
    s: min(
        (a for a, need in ANGLE_SENSORS.items() if s in need), key=lambda a: len(ANGLE_SENSORS[a])
    )
    for s in {s for need in ANGLE_SENSORS.values() for s in need}
}


@dataclass(frozen=True)
class AnalysisSettings:
    """Every setting of the analysis, grouped by stage."""

    grid: GridSettings = field(default_factory=GridSettings)
    tau_acc_s: float = 3.0
    #: Backward lead-in of the orientation filter, s (``OrientationTracker.lead_in``).
    lead_in_s: float = 10.0
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    reps: RepSettings = field(default_factory=RepSettings)
    #: Each gyro bias tracked at every rest (``rest_bias.py``; docs/analysis.md, "Drift").
    rest_bias: RestBiasSettings = field(default_factory=RestBiasSettings)
    #: VQF's own gyro bias estimation at rest / during motion (always on
    #: without a still stance, whose bias comes from brief stops only).
    vqf_rest_bias: bool = False
    vqf_motion_bias: bool = False
    #: Take the filter's lag on the thigh, measured on the settled pose from
    #: the accelerometer's direction, off ``hip_flexion_lockout``
    #: (docs/analysis.md, "Lockout: the thigh read at rest").
    lockout_at_rest: bool = True
    #: … unless that lag exceeds this, deg: the lag is bounded by the
    #: accelerometer's error (a few degrees); more says the accelerometer
    #: was not at rest (a knock, a step).
    lockout_max_correction_deg: float = 2.5
    #: Fit each accelerometer's per-axis scale and offset on the rests of the
    #: data calibrated on and correct it (``acc_fit.py``; None: never):
    #: offline the whole recording's, live the ticks kept so far.
    acc_fit: AccFitSettings | None = field(default_factory=AccFitSettings)

    def orientation(
        self, bias_dps: Sequence[float] = (0.0, 0.0, 0.0), estimate_bias: bool = False
    ) -> OrientationSettings:
        """The orientation filter's settings; ``estimate_bias``: VQF's own bias estimation on."""
        b = tuple(float(x) for x in bias_dps)
        return OrientationSettings(
            self.grid.rate_hz,
            self.tau_acc_s,
            (b[0], b[1], b[2]),
            rest_bias_estimation=estimate_bias or self.vqf_rest_bias,
            lead_in_s=self.lead_in_s,
            motion_bias_estimation=estimate_bias or self.vqf_motion_bias,
        )


#: A step without rows (the angles' keys present, as in every step with rows).
_NO_ROWS = AnalysisStep(_EMPTY, {a: _EMPTY for a in ANGLE_NAMES}, calibrated=True)
_NO_ROWS_IN_REP = AnalysisStep(_NO_ROWS.t_s, _NO_ROWS.angles_deg, calibrated=True, in_rep=True)


def driver_angle(sensors: Sequence[str]) -> str:
    """The angle reps are segmented on: hip flexion, else trunk inclination, else pelvic tilt."""
    if "thigh" in sensors:
        return "hip_flexion"
    return "trunk_inclination" if "upper_back" in sensors else "pelvic_tilt"


def missing_sensor_warnings(sensors: Sequence[str]) -> list[str]:
    """One line per core sensor missing: the angles it takes away (``ANGLE_SENSORS``)."""
    out = []
    for s in (s for s in CORE_SENSORS if s not in sensors and s != REQUIRED_SENSOR):
        lost = [a.replace("_", " ") for a, need in ANGLE_SENSORS.items() if s in need]
        where = f"reps found on {driver_angle(sensors).replace('_', ' ')}; " if s == "thigh" else ""
        out.append(
            f"no {s} sensor: {where}no {', '.join(lost)}; the rules reading them are not assessed"
        )
    return out


class AnalysisStages:
    """The calibrated stages of one session, fed grid ticks.

    Args:
        calibration: per-sensor mounting and gyro bias (``calibrate_grid``).
        rules: the rules reps are judged by.
        settings: analysis settings.
        side: which thigh carries the thigh sensor.
        first_k: grid index of every sensor's first tick (0: the session's start).

    ``update(sensor, chunk)`` takes the next ticks (any number ≥ 0) of one
    sensor on the analysis grid and returns the angle rows and rep events
    that became known; ``finish()`` flushes at the end of data.
    """

    def __init__(
        self,
        calibration: Calibration,
        rules: RuleSet,
        settings: AnalysisSettings | None = None,
        side: str = "right",
        first_k: int = 0,
    ) -> None:
        self.calibration = calibration
        self.rules = rules
        self.settings = settings or AnalysisSettings()
        self.side = side
        self.first_k = first_k
        self.sensors = tuple(calibration.sensors)
        self.driver = driver_angle(self.sensors)
        #: Quantities left blank (their rules not assessed): with a calibration
        #: on the upright moments between reps, those of the lockout pose.
        self._unassessed = (
            sorted({m for r in rules.rules if r.rule_id in UPRIGHT_NOT_ASSESSED for m in r.metrics})
            if calibration.kind == UPRIGHT
            else []
        )
        self.reset()

    def reset(self) -> None:
        st = self.settings
        self.chains = {
            s: SensorChain(
                self.calibration.mountings(s),
                # Without a still stance (also with a short one) the bias comes
                # from brief stops only: the filter goes on estimating it
                # (docs/analysis.md).
                st.orientation(
                    self.calibration.sensors[s].gyro_bias_dps,
                    self.calibration.kind in BIAS_FROM_STOPS,
                ),
                st.grid,
                self.calibration.slipping(s),
                self.calibration.bias_track(s),
                self._live_rest_bias(s),
                at_rest_angle=s == _AT_REST_SENSOR,
                # As the calibration read it (its mountings were found on it).
                acc=self.calibration.acc.get(s),
            )
            for s in self.sensors
        }
        self.aligner = GridAligner(self.sensors, 3, st.grid.rate_hz, self.first_k)
        self.detector = RepDetector(st.reps, st.grid.rate_hz, self.first_k)
        self._buf_k0 = self.first_k
        self._buf: dict[str, list[FloatArray]] = {a: [] for a in _SERIES}
        self._buf_n = 0
        self._rep_count = 0

    def _live_rest_bias(self, sensor: str) -> RestBias | None:
        """The causal bias tracking after the calibration's data (live), None if off."""
        st = self.settings
        if not st.rest_bias.enabled:
            return None
        track = self.calibration.bias_track(sensor)
        return RestBias(
            st.rest_bias,
            st.calibration,
            st.grid.rate_hz,
            track.last,
            first_k=track.end_k,
            # The segment's superior axis: earth up while standing at the stance.
            standing_up=self.calibration.R_S_B(sensor)[:, 2],
        )

    def bias_tracking(self) -> dict[str, tuple[int, FloatArray]]:
        """Per sensor: (rests that measured its gyro bias so far, the newest bias (3,) deg/s)."""
        return {s: c.bias_now() for s, c in self.chains.items()}

    @property
    def in_rep(self) -> bool:
        """The rep detector is inside a movement."""
        return self.detector.in_rep

    def lead_in(self, sensor: str, chunk: GridChunk) -> None:
        """Before a sensor's first ticks: settle its orientation filter on them, run backward.

        ``chunk`` is the data about to be fed from its first tick (offline:
        the whole recording; live: the ticks kept until calibration). A
        recording that starts mid-movement then gives good angles from its
        first sample, and reps are looked for from the start.
        """
        if sensor in self.chains:
            self.chains[sensor].lead_in(chunk)

    def update(self, sensor: str, chunk: GridChunk) -> AnalysisStep:
        """The next grid ticks of one sensor (a sensor not calibrated is ignored)."""
        if sensor not in self.chains:
            return AnalysisStep(calibrated=True, in_rep=self.detector.in_rep)
        seg = self.chains[sensor].update(chunk)
        return self._rows(self.aligner.update(sensor, seg).channels, flush=False)

    def finish(self) -> AnalysisStep:
        """End of data: emit the remaining rows and close an open rep."""
        return self._rows(self.aligner.flush().channels, flush=True)

    # ---- internals -----------------------------------------------------------------------

    def _rows(self, channels: Mapping[str, FloatArray], flush: bool) -> AnalysisStep:
        n = next(iter(channels.values())).shape[0] if channels else 0
        if n == 0 and not flush:
            # Live, most blocks complete no row (the other sensors are behind).
            return _NO_ROWS if not self.detector.in_rep else _NO_ROWS_IN_REP
        k0 = self._buf_k0 + self._buf_n
        segs = {s: (v[:, 0], v[:, 1]) for s, v in channels.items()}
        angles = joint_angles_deg(segs, n, self.side)
        # The thigh's inclination as joint_angles_deg makes it (knee forward: −).
        thigh = channels.get(_AT_REST_SENSOR)
        at_rest = -(thigh[:, 2] if thigh is not None else np.full(n, np.nan))
        for a in ANGLE_NAMES:
            self._buf[a].append(angles[a])
        self._buf[_THIGH_AT_REST].append(at_rest)
        self._buf_n += n
        tilt = tilt_angle_deg(angles)
        driver = angles[self.driver]
        events = self.detector.update(driver, tilt) if n else []
        if flush:
            events += self.detector.finish()
        reps = [
            self._judge(ev.bounds, ev.settled)
            for ev in events
            if ev.kind == "finished" and ev.bounds
        ]
        self._trim()
        t = (k0 + np.arange(n)) / self.settings.grid.rate_hz
        return AnalysisStep(
            t,
            angles,
            tuple(events),
            tuple(reps),
            calibrated=True,
            in_rep=self.detector.in_rep,
        )

    def _series(self) -> dict[str, FloatArray]:
        out = {}
        for a in _SERIES:
            parts = self._buf[a]
            if len(parts) > 1:
                self._buf[a] = [np.concatenate(parts)]
            out[a] = self._buf[a][0] if self._buf[a] else _EMPTY
        return out

    def _judge(self, bounds: RepBounds, settled: tuple[int, int] | None = None) -> RepResult:
        series = self._series()
        lo, hi = bounds.start - self._buf_k0, bounds.end - self._buf_k0
        # Only the rep's own samples: metrics never look outside [start, end).
        rep = {a: v[lo:hi] for a, v in series.items()}
        local = RepBounds(0, bounds.bottom - bounds.start, bounds.end - bounds.start)
        t = (bounds.start + np.arange(hi - lo)) / self.settings.grid.rate_hz
        metrics = compute_rep_metrics(t, rep, local)
        if settled is not None and self.settings.lockout_at_rest:
            metrics = self._at_rest(metrics, series, settled)
        if self._unassessed:
            # Calibrated on the lockouts themselves: what they read is 0 by construction.
            blank: dict[str, Any] = dict.fromkeys(self._unassessed)
            metrics = replace(metrics, **blank)
        reason = self._unjudgeable(rep, local, float(t[0]), float(t[-1]))
        self._rep_count += 1
        return RepResult(
            rep=self._rep_count,
            bounds=bounds,
            metrics=metrics,
            judgement=judge_rep(metrics, self.rules, reason),
            not_judged_reason=reason,
        )

    def _at_rest(
        self, metrics: RepMetrics, series: Mapping[str, FloatArray], settled: tuple[int, int]
    ) -> RepMetrics:
        """Hip flexion at the lockout with its thigh part read on the settled pose after it.

        The orientation filter follows the accelerometer with ``tau_acc_s``
        (3 s): at the lockout it still carries the tilt the accelerometer's
        offsets and scale errors had in the rep's other poses. At rest the
        accelerometer's direction alone is the vertical, and in the standing
        pose its static error is the stance's, which the mounting already
        holds. So the filter's lag on the thigh is measured over the settle
        window (the detector's, ``RepSettings.settle_s``: rows in hand when
        the rep finishes, live and offline alike) and taken off. Not the
        pelvis: it still moves as the hips come through (``typical`` preset,
        pelvic lockout 0.28 → 0.64° when read so); docs/analysis.md, "Lockout".
        """
        hip = metrics.hip_flexion_lockout
        a, b = settled[0] - self._buf_k0, settled[1] - self._buf_k0
        sl = slice(max(a, 0), b)
        # Thigh inclination from the accelerometer minus the filter's (NaN without a thigh).
        lag = series[_THIGH_AT_REST][sl] - series["thigh_inclination"][sl]
        if hip is None or np.isfinite(lag).sum() * 2 < b - a:
            return metrics
        # The median: a knock or a heel strike in the window moves it little
        # (``np.nanmedian``'s number, without its overhead).
        fix = median_list(lag[~np.isnan(lag)].tolist())
        if abs(fix) > self.settings.lockout_max_correction_deg:
            return metrics
        return replace(metrics, hip_flexion_lockout=hip + fix)

    def _unjudgeable(
        self, series: Mapping[str, FloatArray], b: RepBounds, t0_s: float, t1_s: float
    ) -> str:
        reasons = []
        # A sensor no angle reads (a shank, a foot) never keeps a rep from being judged.
        needed = [s for s in self.sensors if s in ANGLE_READERS]
        for s in needed:
            cal = self.calibration.sensors[s]
            if not cal.ok:
                reasons.append(f"{s} calibration not ok")
        slipped = [
            s
            for s in needed
            if any(a < t1_s and b_ >= t0_s for a, b_ in self.calibration.slipping(s))
        ]
        if slipped:
            reasons.append("strap slipped during the rep (" + ", ".join(slipped) + ")")
        lost = [
            s
            for s in needed
            if s not in slipped and np.isnan(series[_OWN_ANGLE[s]][b.start : b.end]).any()
        ]
        if lost:
            reasons.append("data lost during the rep (" + ", ".join(lost) + ")")
        return "; ".join(reasons)

    def _trim(self) -> None:
        """Keep only what an open rep (or the next one) can still need."""
        keep_from = self.detector.rep_start if self.detector.in_rep else self._buf_k0 + self._buf_n
        keep_from -= int(2 * self.settings.grid.rate_hz)
        drop = keep_from - self._buf_k0
        if drop <= 20_000:
            return
        series = self._series()
        for a in _SERIES:
            self._buf[a] = [series[a][drop:]]
        self._buf_k0 += drop
        self._buf_n -= drop
