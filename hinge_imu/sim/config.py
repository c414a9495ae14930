"""Settings of the simulator: sensor imperfections and the session (SIMULATED).

``SimConfig.preset("typical", reps=10, seed=1)`` is the usual way in; every
field can be overridden by keyword. Presets (``clean``, ``typical``,
``harsh``, ``real``) set the imperfections, the sample rates and the stance;
``real`` is what people record (docs/simulator.md). The
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

PRESETS = ("clean", "typical", "harsh", "real")
MOUNTINGS = ("nominal", "arbitrary")
#: ``missing``: starts mid-walk, then a 1.5 s still stand; ``walk_in``: starts
#: mid-walk, under a second of standing, then reps; ``end_only``: the only
#: still stance is at the very end; ``none``: reps from the first sample and
#: never a still second.
STANCE_KINDS = ("still", "swaying", "missing", "walk_in", "end_only", "none")
TEMPOS = ("normal", "fast", "slow", "mixed")


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
        gyr_bias_max_dps: extra gyro bias per axis, uniform in ±this, deg/s.
        gyr_warmup_dps: range (low, high) of the warm-up drift each gyro axis
            reaches (random sign), deg/s; 0 = none.
        gyr_warmup_s: the warm-up drift is 95 % there after this long, s.
        acc_offset_max_mps2: extra accelerometer offset per axis, uniform in ±this, m/s².
        acc_scale_max: extra accelerometer scale error per axis, uniform in ±this.
        bad_board_scale_max: per-axis scale error of the badly calibrated board
            (``SimConfig.bad_board``), uniform in ±this.
        skin: soft tissue as the skin really moves (turn at full flexion drawn
            per sensor, about a mostly sagittal axis); replaces ``soft_tissue``.
        strap_slip_min_deg: with > 0, the slip size is uniform in
            [this, ``strap_slip_deg``], deg.
        slip_in_rest: the strap slips during a rest after a set, not mid-session.
        walk_steps: (low, high) steps of a walk between sets (0, 0 = the
            classic fixed 2 m walk).
        heel_strike_g: (low, high) peak of each heel strike at the foot, g
            (0, 0 = none).
        fidgets: restless rests between sets (small shifts of 1.5–4°).
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
    gyr_bias_max_dps: float = 0.0
    gyr_warmup_dps: tuple[float, float] = (0.0, 0.0)
    gyr_warmup_s: float = 600.0
    acc_offset_max_mps2: float = 0.0
    acc_scale_max: float = 0.0
    bad_board_scale_max: float = 0.4
    skin: bool = False
    strap_slip_min_deg: float = 0.0
    slip_in_rest: bool = False
    walk_steps: tuple[int, int] = (0, 0)
    heel_strike_g: tuple[float, float] = (0.0, 0.0)
    fidgets: bool = False


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
    "real": Imperfections(
        acc_noise_mps2=0.03,
        gyr_noise_dps=0.3,
        jitter_s=0.0015,
        loss_fraction=0.02,
        loss_burst_samples=6.0,
        strap_slip_deg=15.0,
        walking=True,
        knocks=True,
        # bar taps of 2.5–5 g (draw_knocks takes 0.5–1 of the peak)
        knock_peak_mps2=49.0,
        gyr_bias_max_dps=3.0,
        gyr_warmup_dps=(0.5, 1.5),
        acc_offset_max_mps2=0.5,
        acc_scale_max=0.10,
        skin=True,
        strap_slip_min_deg=8.0,
        slip_in_rest=True,
        walk_steps=(3, 13),
        heel_strike_g=(0.2, 2.0),
        fidgets=True,
    ),
}

#: Groups of effects that ``SimConfig.without`` (and ``--off``) switch off
#: one by one, each → the ``Imperfections`` fields it resets to their defaults.
EFFECTS: dict[str, tuple[str, ...]] = {
    "noise": ("acc_noise_mps2", "gyr_noise_dps"),
    "gyro_bias": ("gyr_bias_dps", "gyr_bias_max_dps", "gyr_drift_dps"),
    "warmup": ("gyr_warmup_dps",),
    "acc_errors": (
        "acc_gain_error",
        "acc_axis_scale_error",
        "acc_offset_mps2",
        "acc_offset_max_mps2",
        "acc_scale_max",
    ),
    "soft_tissue": ("soft_tissue", "skin"),
    "jitter": ("jitter_s",),
    "loss": ("loss_fraction",),
    "slip": ("strap_slip_deg",),
    "walking": ("walking",),
    "knocks": ("knocks",),
    "heel_strikes": ("heel_strike_g",),
    "fidgets": ("fidgets",),
}


def without(imp: Imperfections, effects: Sequence[str]) -> Imperfections:
    """``imp`` with the named effects (keys of ``EFFECTS``) switched off."""
    default = Imperfections()
    changes: dict[str, Any] = {}
    for e in effects:
        if e not in EFFECTS:
            raise HingeImuError(f"unknown effect {e!r} (known: {', '.join(EFFECTS)})")
        changes.update({f: getattr(default, f) for f in EFFECTS[e]})
    return replace(imp, **changes)


_PRESET_RATES: dict[str, dict[str, float]] = {
    "clean": {"thigh": 100.0, "pelvis": 100.0, "upper_back": 100.0, "head": 100.0},
    "typical": {"thigh": 104.0, "pelvis": 104.0, "upper_back": 104.0, "head": 104.0},
    "harsh": {"thigh": 52.0, "pelvis": 104.0, "upper_back": 208.0, "head": 52.0},
    "real": {"thigh": 111.0, "pelvis": 111.0, "upper_back": 104.0, "head": 52.0},
}
#: Extra sensors (``SimConfig.extras``) stream at the thigh's rate.
EXTRA_SENSORS = ("shank", "foot")
#: Stance length and kind per preset; ``None`` = drawn (``STANCE_DRAW_S``).
_PRESET_STANCE: dict[str, tuple[float | None, str]] = {
    "clean": (2.0, "still"),
    "typical": (2.0, "still"),
    "harsh": (0.8, "swaying"),
    "real": (None, "swaying"),
}
#: Range a stance length is drawn from when ``stance_s`` is None, s.
STANCE_DRAW_S: dict[str, tuple[float, float]] = {
    "still": (1.5, 3.0),
    "swaying": (0.6, 1.2),
    "end_only": (1.5, 3.0),
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
        stance_s: length of the calibration stance, s (None: drawn from
            ``STANCE_DRAW_S``; the end stance of ``end_only`` too).
        stance_kind: one of ``STANCE_KINDS`` (comment there).
        tempo: ``normal``; ``fast`` (~1.2 s reps back to back); ``slow``
            (~6 s reps); ``mixed`` (each rep one of the three).
        extras: extra sensors no rule needs (``shank``, ``foot``).
        upper_back: wear the upper-back sensor (False: thigh and pelvis only).
        slip_sensor: the sensor whose strap slips (None: a random one).
        bad_board: a sensor with a badly calibrated accelerometer (None: none).
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
    stance_s: float | None = 2.0
    stance_kind: str = "still"
    tempo: str = "normal"
    extras: tuple[str, ...] = ()
    upper_back: bool = True
    slip_sensor: str | None = None
    bad_board: str | None = None
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
        rates = dict(_PRESET_RATES[name])
        rates.update(dict.fromkeys(EXTRA_SENSORS, rates["thigh"]))
        cfg = SimConfig(
            preset_name=name,
            imperfections=IMPERFECTION_PRESETS[name],
            rates_hz=rates,
            stance_s=stance_s,
            stance_kind=kind,
        )
        cfg = replace(cfg, **overrides)
        cfg.validate()
        return cfg

    @property
    def sensor_names(self) -> tuple[str, ...]:
        core = CORE_SENSORS if self.upper_back else ("thigh", "pelvis")
        return (*core, *(("head",) if self.head else ()), *self.extras)

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
        if self.stance_s is not None and not 0.0 <= self.stance_s <= 60.0:
            raise HingeImuError("stance must be 0–60 s")
        if self.tempo not in TEMPOS:
            raise HingeImuError(f"tempo must be one of {', '.join(TEMPOS)}")
        for e in self.extras:
            if e not in EXTRA_SENSORS or self.extras.count(e) > 1:
                raise HingeImuError(
                    f"extra sensor {e!r}: give each of {', '.join(EXTRA_SENSORS)} at most once"
                )
        for what, s in (("slip sensor", self.slip_sensor), ("bad board", self.bad_board)):
            if s is not None and s not in self.sensor_names:
                raise HingeImuError(f"{what} {s!r} is not worn in this simulation")
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
