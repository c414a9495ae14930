"""What an analysed session is: calibration, data quality, angles, reps, verdicts.

Frozen dataclasses shared by the offline analysis, the live session and the
reports. ``Session.reps_frame()`` is the rep report of docs/outputs.md.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import REP_METRICS, SENSOR_NAMES
from hinge_imu.core.rep_metrics import RepBounds, RepMetrics
from hinge_imu.core.rules import Judgement, RuleSet, judge_rep
from hinge_imu.saturation import Saturation

if TYPE_CHECKING:
    import pandas as pd

    from hinge_imu.csv_table import Column

#: The angle columns as the analysis makes them: ``t_s``, then ``<angle>_deg``.
AngleColumns = Mapping[str, npt.NDArray[np.float64]]


@dataclass(frozen=True)
class SensorCalibration:
    """How one sensor was calibrated, and how well.

    Attributes:
        stance_start_s, stance_end_s: the still standing period used, s.
        gyro_bias_dps: gyro bias at rest, sensor frame, deg/s.
        q_S_B: segment frame in the sensor frame, [w, x, y, z] (the mounting).
        axis_confidence: 0–1, how clearly the movement showed the flexion axis.
        ok: False when this sensor cannot be trusted for judging.
        messages: what a user should know (e.g. "stance only 0.8 s").
        kind: how it was calibrated: ``stance`` (on a still standing stance),
            ``short_stance`` (no still stance of 1 s: the reference pose from
            a shorter quiet stance, the gyro bias from the upright moments
            between reps) or ``upright`` (neither: on the upright moments
            between reps, from the first to the last of them; the rules
            reading the lockout pose are then not assessed, docs/rules.md).
        bias_rests: how many rests re-measured the gyro bias (drift tracking).
        last_gyro_bias_dps: the tracked gyro bias at the end of the data
            calibrated on, sensor frame, deg/s.
        acc_scale, acc_offset_mps2: the accelerometer's per-axis scale
            (share) and offset (m/s²) fitted offline on the recording's rests
            and taken off its readings (None: read as recorded).
        acc_pairs: rest pairs with movement between that the fit had.
    """

    sensor: str
    stance_start_s: float
    stance_end_s: float
    gyro_bias_dps: tuple[float, float, float]
    q_S_B: tuple[float, float, float, float]
    axis_confidence: float
    ok: bool
    messages: tuple[str, ...] = ()
    kind: str = "stance"
    bias_rests: int = 0
    last_gyro_bias_dps: tuple[float, float, float] | None = None
    acc_scale: tuple[float, float, float] | None = None
    acc_offset_mps2: tuple[float, float, float] | None = None
    acc_pairs: int = 0

    @property
    def stance_s(self) -> float:
        return self.stance_end_s - self.stance_start_s

    @property
    def bias_moved_dps(self) -> float:
        """How far the tracked gyro bias moved from the calibration's by the end, deg/s."""
        if self.last_gyro_bias_dps is None:
            return 0.0
        d = [a - b for a, b in zip(self.last_gyro_bias_dps, self.gyro_bias_dps, strict=True)]
        return float(sum(x * x for x in d) ** 0.5)

    def bias_note(self) -> str:
        """One short phrase: how the gyro bias was tracked (docs/analysis.md, "Drift")."""
        if not self.bias_rests:
            return "gyro bias from the calibration only (no standing rest)"
        moved = f"moved {self.bias_moved_dps:.1f} °/s"
        return f"gyro bias re-measured at {self.bias_rests} rests ({moved})"

    def acc_note(self) -> str:
        """One short phrase: whether the accelerometer was corrected, and by how much."""
        if self.acc_scale is None or self.acc_offset_mps2 is None:
            return "accelerometer as recorded"
        scale = max(abs(x - 1.0) for x in self.acc_scale)
        offset = max(abs(x) for x in self.acc_offset_mps2)
        return (
            f"accelerometer corrected (scale up to {100 * scale:.0f} %, "
            f"offset up to {offset:.2f} m/s², {self.acc_pairs} rest pairs)"
        )


@dataclass(frozen=True)
class SensorQuality:
    """Data quality of one sensor's stream.

    Attributes:
        rate_hz: measured median rate, Hz.
        lost_samples: samples missing (from ``seq`` where present, else from t gaps).
        long_gaps_s: gaps too long to bridge, as (t_from_s, t_to_s); angles are NaN there.
        saturated_s: stretches held at the range limit (when, how long, which channel
            at which value); reps touching them are not judged.
    """

    sensor: str
    samples: int
    rate_hz: float
    lost_samples: int
    long_gaps_s: tuple[tuple[float, float], ...] = ()
    saturated_s: tuple[Saturation, ...] = ()

    @property
    def lost_share(self) -> float:
        total = self.samples + self.lost_samples
        return self.lost_samples / total if total else 0.0


@dataclass(frozen=True)
class RepResult:
    """One rep: where it lies, what was measured, and the verdicts.

    ``not_judged_reason`` is non-empty when the rep cannot be judged (lost
    data, poor calibration): then every verdict is "not assessed", the score
    is NaN, and live feedback stays silent.
    """

    rep: int
    bounds: RepBounds
    metrics: RepMetrics
    judgement: Judgement
    not_judged_reason: str = ""

    @property
    def judged(self) -> bool:
        return not self.not_judged_reason

    def unless_saturated(self, saturated: Collection[str], rules: RuleSet) -> RepResult:
        """This rep not judged if ``saturated`` (the sensors saturated during it) is not empty.

        Offline and live alike: readings clipped at a sensor's range limit
        explain any other reason (a "slip"), so they replace it.
        """
        if not saturated:
            return self
        why = saturation_reason(saturated)
        return replace(self, not_judged_reason=why, judgement=judge_rep(self.metrics, rules, why))


def saturation_reason(saturated: Collection[str]) -> str:
    """Why a rep is not judged when ``saturated`` sensors clipped during it ("" if none)."""
    if not saturated:
        return ""
    hit = [n for n in SENSOR_NAMES if n in saturated]
    hit += sorted(n for n in saturated if n not in SENSOR_NAMES)
    return f"{', '.join(hit)} saturated (readings held at the sensor's range limit)"


class _AngleTable:
    """``Session.angles``: a DataFrame, made from the analysis' columns when first read.

    The analysis gives plain numpy columns, so a command that never reads
    ``angles`` as a table (``analyse`` without ``--angles-csv``, ``report``:
    they read ``Session.angle_column``) never imports pandas (~0.3 s of a
    run). A DataFrame given is kept as it is.
    """

    def __get__(self, obj: object, owner: type | None = None) -> pd.DataFrame:
        if obj is None:
            raise AttributeError("no default")  # dataclasses: the field is required
        value = obj.__dict__[_ANGLES_KEY]
        if isinstance(value, Mapping):
            import pandas as pd

            value = pd.DataFrame(dict(value))
            obj.__dict__[_ANGLES_KEY] = value
        return value

    def __set__(self, obj: object, value: pd.DataFrame | AngleColumns) -> None:
        obj.__dict__[_ANGLES_KEY] = value


#: Where a Session keeps its angles as given: plain columns or a DataFrame.
_ANGLES_KEY = "_angles_value"


def angle_columns(columns: AngleColumns) -> pd.DataFrame:
    """Plain angle columns given as ``Session.angles``: a DataFrame when first read."""
    return cast("pd.DataFrame", columns)


def _cell(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 2)


@dataclass(frozen=True)
class Session:
    """An analysed recording.

    Attributes:
        angles: one row per grid sample: ``t_s`` then ``<angle>_deg`` for every
            name in ``conventions.ANGLE_NAMES`` (NaN where not measurable); a
            DataFrame when read (``angle_column`` reads one without pandas).
        reps: the reps in time order.
        calibration: sensor → its calibration.
        quality: sensor → its data quality.
        missing_sensors: core sensors absent from the recording.
        warnings: things the user should know, one line each.
    """

    source: str
    header: Mapping[str, str]
    rules: RuleSet
    if TYPE_CHECKING:
        angles: pd.DataFrame  # give ``angle_columns(...)`` to skip pandas until first read
    else:
        angles: _AngleTable = _AngleTable()
    reps: tuple[RepResult, ...]
    calibration: Mapping[str, SensorCalibration]
    quality: Mapping[str, SensorQuality]
    missing_sensors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def is_simulated(self) -> bool:
        return "simulated" in " ".join(self.header.values()).lower()

    def angle_column(self, name: str) -> npt.NDArray[np.float64]:
        """One column of ``angles`` (``t_s`` in s or ``<angle>_deg`` in deg), read-only.

        Read from the analysis' plain columns without making the DataFrame
        (the report never imports pandas).
        """
        angles = self.__dict__[_ANGLES_KEY]
        if isinstance(angles, Mapping):
            column = np.asarray(angles[name], dtype=np.float64).view()
        else:
            column = angles[name].to_numpy(dtype=np.float64, copy=True)
        column.flags.writeable = False
        return column

    def angle_table(self) -> dict[str, npt.NDArray[np.float64]]:
        """``angles`` as plain columns in their order (``angle_column`` each), without pandas."""
        return {str(name): self.angle_column(str(name)) for name in self.__dict__[_ANGLES_KEY]}

    @property
    def samples(self) -> int:
        """Rows of ``angles`` (grid samples)."""
        return len(self.angle_column("t_s"))

    def rejudge(self, rules: RuleSet) -> Session:
        """The same reps judged by other rules (e.g. a changed threshold)."""
        reps = tuple(
            replace(r, judgement=judge_rep(r.metrics, rules, r.not_judged_reason))
            for r in self.reps
        )
        # The angles as given: reading ``angles`` would make the DataFrame.
        return replace(self, rules=rules, reps=reps, angles=self.__dict__[_ANGLES_KEY])

    def reps_frame(self) -> pd.DataFrame:
        """The rep report of docs/outputs.md: contract columns first, then extras.

        Rule columns hold the strings ``true``/``false``/empty (not assessed).
        Extra columns: ``judged``, ``not_judged_reason`` and the extra
        quantities the rules read (see docs/outputs.md).
        """
        from hinge_imu.csv_table import to_frame

        return to_frame(self.reps_columns())

    def reps_columns(self) -> dict[str, Column]:
        """``reps_frame()`` as plain columns (numbers, strings, None), without pandas;
        ``hinge_imu.csv_table.csv_text`` writes them as pandas writes the frame."""
        from hinge_imu.csv_table import table_from_rows

        return table_from_rows(*self._reps_rows())

    def _reps_rows(self) -> tuple[list[str], list[dict[str, Any]]]:
        rows = []
        kind = "+".join(sorted({c.kind for c in self.calibration.values()}))
        extras = [
            "lumbar_flexion_min_descent",
            "thigh_inclination_at_hip20",
            "lumbar_flexion_start",
            "lumbar_flexion_lockout",
        ]
        for r in self.reps:
            m = r.metrics
            row: dict[str, Any] = {
                "rep": r.rep,
                "t_start": round(m.t_start, 3),
                "t_bottom": round(m.t_bottom, 3),
                "t_end": round(m.t_end, 3),
            }
            for name in REP_METRICS:
                row[name] = _num(m.get(name))
            row["score"] = _num(r.judgement.score)
            row["mistakes"] = ";".join(r.judgement.mistakes)
            for v in r.judgement.verdicts:
                row[v.rule_id] = _cell(v.fired)
            row["judged"] = _cell(r.judged)
            row["not_judged_reason"] = r.not_judged_reason
            row["calibration"] = kind
            for name in extras:
                row[name] = _num(m.get(name))
            rows.append(row)
        cols = [
            "rep",
            "t_start",
            "t_bottom",
            "t_end",
            *REP_METRICS,
            "score",
            "mistakes",
            *self.rules.ids,
            "judged",
            "not_judged_reason",
            "calibration",
            *extras,
        ]
        return cols, rows
