"""Settings of the simulator: sensor imperfections and the session (SIMULATED).

``SimConfig.preset("typical", reps=10, seed=1)`` is the usual way in; every
field can be overridden by keyword. Presets (``clean``, ``typical``,
``harsh``) set the imperfections, the sample rates and the stance. The
movement depends only on the seed and the session (reps, sets, mistakes,
stance, walking), not on noise, mounting or rates: ``clean`` and ``typical``
with one seed and one set move identically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from hinge_imu.conventions import CORE_SENSORS
from hinge_imu.errors import HingeImuError
from hinge_imu.sim.mistakes import normalise_mistakes

PRESETS = ("clean", "typical", "harsh")
MOUNTINGS = ("nominal", "arbitrary")
STANCE_KINDS = ("still", "swaying", "missing")


@dataclass(frozen=True)
class Imperfections:
    """What is wrong with the sensors and the session, all off by default.

    Attributes:
        acc_noise_mps2: white noise std of each accelerometer axis, m/s².
        gyr_noise_dps: white noise std of each gyro axis, deg/s.
        gyr_bias_dps: std of the constant gyro bias per axis, deg/s.
        gyr_drift_dps: amplitude of slow (minutes) gyro bias drift per axis, deg/s.
        acc_gain_error: largest relative error of a sensor's overall
            accelerometer gain (0.3 = reads up to 30 % off at rest).
        acc_axis_scale_error: std of the extra per-axis scale error.
        acc_offset_mps2: std of the accelerometer offset per axis, m/s².
        soft_tissue: rotation of the sensor on the skin per degree of the
            joint angle under it, deg/deg (plus 1 mm slide per 10° at 0.05).
        jitter_s: std of the receive-timestamp jitter, s (clipped to ±0.4 sample).
        loss_fraction: fraction of samples lost, in bursts.
        loss_burst_samples: mean length of a burst of lost samples.
        strap_slip_deg: a strap slips by this much mid-session (0 = never).
        walking: walk ~2 m away and back between sets.
        knocks: short acceleration spikes from handling the bar at set start/end.
        knock_peak_mps2: peak of a knock, m/s².
    """

    acc_noise_mps2: float = 0.0
    gyr_noise_dps: float = 0.0
    gyr_bias_dps: float = 0.0
    gyr_drift_dps: float = 0.0
    acc_gain_error: float = 0.0
    acc_axis_scale_error: float = 0.0
    acc_offset_mps2: float = 0.0
    soft_tissue: float = 0.0
    jitter_s: float = 0.0
    loss_fraction: float = 0.0
    loss_burst_samples: float = 1.0
    strap_slip_deg: float = 0.0
    walking: bool = False
    knocks: bool = False
    knock_peak_mps2: float = 30.0


IMPERFECTION_PRESETS: dict[str, Imperfections] = {
    "clean": Imperfections(),
    "typical": Imperfections(
        acc_noise_mps2=0.03,
        gyr_noise_dps=0.3,
        gyr_bias_dps=0.5,
        gyr_drift_dps=0.1,
        acc_gain_error=0.03,
        acc_axis_scale_error=0.01,
        acc_offset_mps2=0.1,
        soft_tissue=0.04,
        jitter_s=0.001,
        loss_fraction=0.005,
        loss_burst_samples=3.0,
        walking=True,
        knocks=True,
        knock_peak_mps2=25.0,
    ),
    "harsh": Imperfections(
        acc_noise_mps2=0.12,
        gyr_noise_dps=1.0,
        gyr_bias_dps=2.0,
        gyr_drift_dps=0.5,
        acc_gain_error=0.30,
        acc_axis_scale_error=0.03,
        acc_offset_mps2=0.4,
        soft_tissue=0.10,
        jitter_s=0.003,
        loss_fraction=0.03,
        loss_burst_samples=10.0,
        strap_slip_deg=20.0,
        walking=True,
        knocks=True,
        knock_peak_mps2=50.0,
    ),
}

_PRESET_RATES: dict[str, dict[str, float]] = {
    "clean": {"thigh": 100.0, "pelvis": 100.0, "upper_back": 100.0, "head": 100.0},
    "typical": {"thigh": 104.0, "pelvis": 104.0, "upper_back": 104.0, "head": 104.0},
    "harsh": {"thigh": 52.0, "pelvis": 104.0, "upper_back": 208.0, "head": 52.0},
}
_PRESET_STANCE: dict[str, tuple[float, str]] = {
    "clean": (2.0, "still"),
    "typical": (2.0, "still"),
    "harsh": (0.8, "swaying"),
}

MistakeSpec = Mapping[str, float | None]


@dataclass(frozen=True)
class SimConfig:
    """One simulated session.

    Attributes:
        reps: reps per set.
        sets: number of sets (with ``duration_min``, the minimum).
        mistakes: one mapping ``{rule_id: magnitude_deg or None}`` for every
            rep, or a sequence of them, one per rep in session order (reps
            beyond its end are good). See docs/simulator.md for magnitudes.
        preset_name: name of the imperfection preset the defaults came from.
        imperfections: sensor and session imperfections.
        mounting: ``nominal`` (sensor axes = segment axes) or ``arbitrary``
            (a random rotation per sensor).
        rates_hz: sample rate per sensor, Hz.
        head: add a head sensor.
        side: which thigh carries the thigh sensor.
        stance_s: length of the calibration stance, s.
        stance_kind: ``still``, ``swaying`` or ``missing`` (no stance at the
            start: the recording begins mid-walk).
        duration_min: keep doing sets until at least this long (None: off).
        seed: everything random derives from it.
        height_m: body height, sets segment lengths, m.
        truth_rate_hz: rate of the true angle series and the truth metrics.
    """

    reps: int = 10
    sets: int = 1
    mistakes: MistakeSpec | Sequence[MistakeSpec] = field(default_factory=dict)
    preset_name: str = "clean"
    imperfections: Imperfections = Imperfections()
    mounting: str = "nominal"
    rates_hz: Mapping[str, float] = field(default_factory=lambda: dict(_PRESET_RATES["clean"]))
    head: bool = False
    side: str = "right"
    stance_s: float = 2.0
    stance_kind: str = "still"
    duration_min: float | None = None
    seed: int = 0
    height_m: float = 1.75
    truth_rate_hz: float = 100.0

    @staticmethod
    def preset(name: str, **overrides: Any) -> SimConfig:
        """A config with the preset's imperfections, rates and stance; any
        field can be overridden (``reps=…, seed=…, mistakes=…``)."""
        if name not in PRESETS:
            raise HingeImuError(f"unknown sensor preset {name!r} (known: {', '.join(PRESETS)})")
        stance_s, kind = _PRESET_STANCE[name]
        cfg = SimConfig(
            preset_name=name,
            imperfections=IMPERFECTION_PRESETS[name],
            rates_hz=dict(_PRESET_RATES[name]),
            stance_s=stance_s,
            stance_kind=kind,
        )
        cfg = replace(cfg, **overrides)
        cfg.validate()
        return cfg

    @property
    def sensor_names(self) -> tuple[str, ...]:
        return (*CORE_SENSORS, "head") if self.head else CORE_SENSORS

    def mistakes_for(self, rep_index: int) -> dict[str, float]:
        """Normalised mistakes of rep ``rep_index`` (0-based, session order)."""
        m = self.mistakes
        if isinstance(m, Mapping):
            return normalise_mistakes(m, self.head)
        if rep_index < len(m):
            return normalise_mistakes(m[rep_index], self.head)
        return {}

    def validate(self) -> None:
        """HingeImuError naming the first bad setting."""
        if self.reps < 1 or self.sets < 1:
            raise HingeImuError("reps and sets must be at least 1")
        if self.mounting not in MOUNTINGS:
            raise HingeImuError(f"mounting must be one of {', '.join(MOUNTINGS)}")
        if self.side not in ("left", "right"):
            raise HingeImuError("side must be left or right")
        if self.stance_kind not in STANCE_KINDS:
            raise HingeImuError(f"stance kind must be one of {', '.join(STANCE_KINDS)}")
        if not 0.0 <= self.stance_s <= 60.0:
            raise HingeImuError("stance must be 0–60 s")
        for s in self.sensor_names:
            rate = self.rates_hz.get(s)
            if rate is None or not 10.0 <= float(rate) <= 1000.0:
                raise HingeImuError(f"rate of sensor {s} must be 10–1000 Hz, not {rate}")
        if self.duration_min is not None and not 0 < self.duration_min <= 600:
            raise HingeImuError("duration must be 0–600 min")
        if not 1.2 <= self.height_m <= 2.2:
            raise HingeImuError("height must be 1.2–2.2 m")
        m = self.mistakes
        for one in [m] if isinstance(m, Mapping) else m:
            normalise_mistakes(one, self.head)

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["mistakes"] = (
            dict(self.mistakes)
            if isinstance(self.mistakes, Mapping)
            else [dict(x) for x in self.mistakes]
        )
        d["rates_hz"] = {s: float(self.rates_hz[s]) for s in self.sensor_names}
        return d
