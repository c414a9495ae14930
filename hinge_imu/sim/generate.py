"""``simulate(config) -> Simulation``: a SIMULATED session with its ground truth.

Order of work: script the motion (seeded by its own stream of random
numbers, so it is the same under every sensor preset), place the sensors,
derive their ideal signals by physics, spoil them as the preset says, and
measure the truth on the true angles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial.transform import Rotation

from hinge_imu.samples import Recording, SensorStream
from hinge_imu.sim.body import Anthropometry, BodyModel
from hinge_imu.sim.config import SimConfig
from hinge_imu.sim.imperfections import (
    SensorErrors,
    add_knocks,
    apply_errors,
    draw_heel_strikes,
    draw_knocks,
    lost_mask,
    receive_times,
    sample_times,
)
from hinge_imu.sim.session import script_session
from hinge_imu.sim.signals import (
    SKIN_MODEL,
    SKIN_OFF_AXIS,
    SensorMount,
    ideal_signals,
    sensor_pose,
    true_orientation,
)
from hinge_imu.sim.truth import rep_truth, skin_angles, truth_angles

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Simulation:
    """A simulated session.

    Attributes:
        recording: the sensor data (header says it is simulated).
        truth: JSON-able ground truth (keys in docs/simulator.md).
        truth_angles: true (bone) angles, columns ``t`` + ANGLE_NAMES, degrees.
        skin_angles: the same angles as perfect sensors glued to the skin
            would read them (soft tissue only: no mounting, slip or noise).
        body: the body model (evaluate true angles/poses at any time).
        mounts: sensor name → mounting (true orientation via :meth:`true_q_E_S`).
        config: the settings used.
    """

    recording: Recording
    truth: dict[str, Any]
    truth_angles: pd.DataFrame
    skin_angles: pd.DataFrame
    body: BodyModel
    mounts: dict[str, SensorMount]
    config: SimConfig

    def true_q_E_S(self, sensor: str, t_s: FloatArray) -> FloatArray:
        """True orientation ``q_E_S`` (N,4, scalar first) of a sensor at ``t_s``."""
        return true_orientation(self.body, self.mounts[sensor], np.asarray(t_s, float))

    def true_position_m(self, sensor: str, t_s: FloatArray) -> FloatArray:
        """True earth position (N,3), m, of a sensor at ``t_s``."""
        return sensor_pose(self.body, self.mounts[sensor], np.asarray(t_s, float))[1]


def _slip(
    cfg: SimConfig, duration_s: float, rests: list[tuple[float, float]], rng: np.random.Generator
) -> tuple[float, tuple[float, float, float]]:
    """When and how a strap slips: mid-session, or during a rest after a set
    (one followed by more reps when there is one)."""
    imp = cfg.imperfections
    if imp.slip_in_rest:
        usable = rests[:-1] or rests
        a, b = usable[int(rng.integers(len(usable)))]
        t = round(float(rng.uniform(a + 0.25 * (b - a), a + 0.75 * (b - a))), 3)
    else:
        t = round(float(duration_s * rng.uniform(0.4, 0.6)), 3)
    axis = Rotation.random(rng=rng).apply([1.0, 0.0, 0.0])
    size = imp.strap_slip_deg
    if imp.strap_slip_min_deg:
        size = float(rng.uniform(imp.strap_slip_min_deg, imp.strap_slip_deg))
    rv = size * axis
    return t, (float(rv[0]), float(rv[1]), float(rv[2]))


def _mounts(
    cfg: SimConfig,
    duration_s: float,
    rests: list[tuple[float, float]],
    rng: np.random.Generator,
    skin_rng: np.random.Generator,
) -> dict[str, SensorMount]:
    imp = cfg.imperfections
    names = cfg.sensor_names
    slip_sensor = str(rng.choice(names)) if imp.strap_slip_deg else None
    if slip_sensor is not None and cfg.slip_sensor is not None:
        slip_sensor = cfg.slip_sensor
    out = {}
    for s in names:
        q = (1.0, 0.0, 0.0, 0.0)
        if cfg.mounting == "arbitrary":
            w, x, y, z = Rotation.random(rng=rng).as_quat(scalar_first=True)
            q = (float(w), float(x), float(y), float(z))
        slip_t, slip_rv = None, (0.0, 0.0, 0.0)
        if s == slip_sensor:
            slip_t, slip_rv = _slip(cfg, duration_s, rests, rng)
        if imp.skin:
            driver, full_deg, (lo, hi) = SKIN_MODEL[s]
            off = skin_rng.uniform(-SKIN_OFF_AXIS, SKIN_OFF_AXIS, 2)
            axis = np.array([off[0], 1.0, off[1]]) / np.sqrt(1.0 + off @ off)
            gain = float(skin_rng.uniform(lo, hi)) / full_deg
            ax = (float(axis[0]), float(axis[1]), float(axis[2]))
            out[s] = SensorMount(s, q, gain, slip_t, slip_rv, ax, driver)
        else:
            tissue = 0.0 if s == "foot" else imp.soft_tissue
            out[s] = SensorMount(s, q, tissue, slip_t, slip_rv)
    return out


def header_for(cfg: SimConfig) -> dict[str, str]:
    from hinge_imu import __version__

    h = {
        "note": (
            f"SIMULATED data from hinge-imu simulate (preset {cfg.preset_name}, "
            f"mounting {cfg.mounting}) - not a real person"
        ),
        "simulator": f"hinge-imu {__version__} seed={cfg.seed}",
        "subject": "simulated",
        "session": f"simulated seed={cfg.seed}",
        "side": cfg.side,
    }
    session = [
        f"{k} {v}"
        for k, v, classic in (
            ("stance", cfg.stance_kind, ("still", "swaying", "missing")),
            ("tempo", cfg.tempo, ("normal",)),
            ("extra sensors", ",".join(cfg.extras), ("",)),
            ("bad board", cfg.bad_board, (None,)),
        )
        if v not in classic
    ]
    if session:  # the classic presets' headers stay as they were
        h["simulated"] = ", ".join(session)
    for s in cfg.sensor_names:
        h[f"device.{s}"] = f"simulated hinge-imu-sim {cfg.preset_name}"
        h[f"mount.{s}"] = f"simulated, {cfg.mounting} orientation"
    return h


def _sensor_truth(
    m: SensorMount, rate: float, keep: npt.NDArray[np.bool_], err: SensorErrors, skin: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rate_hz": rate,
        "samples": int(keep.sum()),
        "lost_samples": int((~keep).sum()),
        "mount_q_B_S": list(m.q_B_S),
        "soft_tissue_deg_per_deg": m.soft_tissue,
        "slip": None
        if m.slip_t_s is None
        else {
            "t_s": m.slip_t_s,
            "rotvec_B_deg": list(m.slip_rotvec_B_deg),
            "q_B_S_after": list(m.q_B_S_after_slip()),
        },
        "errors": err.as_json(),
    }
    if skin:
        out["soft_tissue"] = {
            "driver": m.driver,
            "axis_B": list(m.axis_B),
            "deg_at_full_flexion": m.soft_tissue * SKIN_MODEL[m.site][1],
            "full_flexion_deg": SKIN_MODEL[m.site][1],
        }
    return out


def _heel_strikes(
    cfg: SimConfig,
    body: BodyModel,
    mounts: dict[str, SensorMount],
    times_s: list[float],
    rng: np.random.Generator,
) -> dict[str, list[dict[str, Any]]]:
    if not cfg.imperfections.heel_strike_g[1] or not times_s:
        return {s: [] for s in cfg.sensor_names}
    t = np.asarray(times_s)
    # earth "up" in each sensor's frame: the third row of R_E_S
    up = {s: sensor_pose(body, mounts[s], t)[0][:, 2, :] for s in cfg.sensor_names}
    return draw_heel_strikes(times_s, up, cfg.imperfections.heel_strike_g, rng)


def simulate(config: SimConfig) -> Simulation:
    """Generate a SIMULATED recording and its ground truth (deterministic by seed)."""
    config.validate()
    imp = config.imperfections
    names = config.sensor_names
    seq = np.random.SeedSequence(config.seed)
    motion_ss, setup_ss, sensors_ss = seq.spawn(3)
    # the ``real`` effects draw from streams of their own (classic draws unchanged)
    skin_ss, heel_ss, errors_ss = seq.spawn(1)[0].spawn(3)
    script, extra = script_session(config, np.random.default_rng(motion_ss))
    body = BodyModel(
        script.motion, config.side, Anthropometry(config.height_m), tuple(config.extras)
    )
    duration_s = script.t
    setup_rng = np.random.default_rng(setup_ss)
    rests = extra["rests_after_sets_s"]
    mounts = _mounts(config, duration_s, rests, setup_rng, np.random.default_rng(skin_ss))
    knocks = (
        draw_knocks(script.handling_s, names, imp.knock_peak_mps2, setup_rng)
        if imp.knocks
        else {s: [] for s in names}
    )
    strikes = _heel_strikes(
        config, body, mounts, script.heel_strikes_s, np.random.default_rng(heel_ss)
    )
    streams: dict[str, SensorStream] = {}
    sensors_truth: dict[str, Any] = {}
    children = sensors_ss.spawn(len(names))
    rngs = {s: np.random.default_rng(c) for s, c in zip(names, children, strict=True)}
    extra_rngs = {
        s: np.random.default_rng(c) for s, c in zip(names, errors_ss.spawn(len(names)), strict=True)
    }
    t_dev_all, counters = {}, {}
    for s in names:
        t_dev_all[s], counters[s] = sample_times(duration_s, float(config.rates_hz[s]), rngs[s])
    ideal = ideal_signals(body, mounts, t_dev_all)
    for s in names:
        rng, rate = rngs[s], float(config.rates_hz[s])
        t_dev, counter = t_dev_all[s], counters[s]
        acc, gyr = ideal[s]
        err = SensorErrors.draw(imp, rng, extra_rngs[s], bad_board=s == config.bad_board)
        acc, gyr = apply_errors(acc, gyr, t_dev, err, imp, rng)
        add_knocks(acc, gyr, t_dev, knocks[s] + strikes[s])
        t_rx = receive_times(t_dev, rate, imp.jitter_s, rng)
        keep = lost_mask(t_dev.size, imp, rng)
        streams[s] = SensorStream(
            t_s=t_rx[keep], acc_mps2=acc[keep], gyr_dps=gyr[keep], seq=counter[keep], rate_hz=rate
        )
        sensors_truth[s] = _sensor_truth(mounts[s], rate, keep, err, imp.skin)
        sensors_truth[s]["knocks"] = [
            {"t_s": k["t_s"], "peak_mps2": k["peak_mps2"]} for k in knocks[s]
        ]
        if strikes[s]:
            sensors_truth[s]["heel_strikes"] = [
                {"t_s": k["t_s"], "peak_mps2": k["peak_mps2"]} for k in strikes[s]
            ]
    angles = truth_angles(body, duration_s, config.truth_rate_hz, config.head)
    skin = skin_angles(body, mounts, angles["t"].to_numpy(), config.head)
    reps = rep_truth(angles, script.reps, skin=skin)
    from hinge_imu import __version__

    truth: dict[str, Any] = {
        "simulated": True,
        "generator": f"hinge-imu {__version__} simulate",
        "seed": config.seed,
        "duration_s": round(duration_s, 4),
        "side": config.side,
        "truth_rate_hz": config.truth_rate_hz,
        "calibration_stance": extra["stance"],
        "sets": script.sets,
        "reps": reps,
        "non_rep_movements": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}
            for d in [*script.non_rep, *({"kind": "walk", **w} for w in script.walks)]
        ],
        "sensors": sensors_truth,
        "imperfections": {"preset": config.preset_name, **config.as_json()["imperfections"]},
        "config": config.as_json(),
    }
    rec = Recording(sensors=streams, header=header_for(config), source="simulated")
    return Simulation(rec, truth, angles, skin, body, mounts, config)
