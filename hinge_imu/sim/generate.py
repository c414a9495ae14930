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
    draw_knocks,
    lost_mask,
    receive_times,
    sample_times,
)
from hinge_imu.sim.motion import SessionScript
from hinge_imu.sim.signals import SensorMount, ideal_signals, sensor_pose, true_orientation
from hinge_imu.sim.tracks import Track
from hinge_imu.sim.truth import rep_truth, truth_angles

FloatArray = npt.NDArray[np.float64]

#: Postural sway while standing and moving, deg (natural variation).
SWAY_DEG = 0.3
#: Sway amplitude of a ``swaying`` calibration stance, deg.
STANCE_SWAY_DEG = 1.5
#: First still stand after the opening walk when the stance is ``missing``, s.
LATE_STANCE_S = 1.5


@dataclass(frozen=True)
class Simulation:
    """A simulated session.

    Attributes:
        recording: the sensor data (header says it is simulated).
        truth: JSON-able ground truth (keys in docs/simulator.md).
        truth_angles: true angles, columns ``t`` + ANGLE_NAMES, degrees.
        body: the body model (evaluate true angles/poses at any time).
        mounts: sensor name → mounting (true orientation via :meth:`true_q_E_S`).
        config: the settings used.
    """

    recording: Recording
    truth: dict[str, Any]
    truth_angles: pd.DataFrame
    body: BodyModel
    mounts: dict[str, SensorMount]
    config: SimConfig

    def true_q_E_S(self, sensor: str, t_s: FloatArray) -> FloatArray:
        """True orientation ``q_E_S`` (N,4, scalar first) of a sensor at ``t_s``."""
        return true_orientation(self.body, self.mounts[sensor], np.asarray(t_s, float))

    def true_position_m(self, sensor: str, t_s: FloatArray) -> FloatArray:
        """True earth position (N,3), m, of a sensor at ``t_s``."""
        return sensor_pose(self.body, self.mounts[sensor], np.asarray(t_s, float))[1]


def _script(cfg: SimConfig, rng: np.random.Generator) -> tuple[SessionScript, dict[str, Any]]:
    sc = SessionScript(rng)
    sc.motion.tracks["heading"] = Track(start_value=float(rng.uniform(0.0, 360.0)))
    sc.add_sway(SWAY_DEG)
    if cfg.stance_kind == "missing":
        sc.walk()
        t0 = sc.t
        sc.stance(LATE_STANCE_S)
        stance: dict[str, Any] = {"kind": "missing", "t_start_s": None, "t_end_s": None}
        stance["first_still_s"] = [round(t0, 4), round(sc.t, 4)]
    else:
        sway = STANCE_SWAY_DEG if cfg.stance_kind == "swaying" else 0.0
        sc.stance(cfg.stance_s, sway)
        stance = {"kind": cfg.stance_kind, "t_start_s": 0.0, "t_end_s": round(sc.t, 4)}
        stance["sway_deg"] = sway
    sc.weight_shift()
    sc.rest(1.0)
    rep_index, set_no = 0, 0
    handling: list[float] = []
    min_s = 60.0 * cfg.duration_min if cfg.duration_min else 0.0
    while True:
        set_no += 1
        t_set = sc.t
        handling.append(t_set + 0.3)  # picking up the bar
        sc.rest(1.0)
        first = rep_index + 1
        for i in range(cfg.reps):
            mist = cfg.mistakes_for(rep_index)
            rep_index += 1
            sc.rep(rep_index, set_no, mist)
            if "ribs_flared" in mist:
                sc.relax_lumbar()
            elif i < cfg.reps - 1 and rng.uniform() > 0.3:
                sc.rest(float(rng.uniform(0.4, 2.0)))
        sc.rest(0.6)
        sc.return_to_neutral(1.0)
        handling.append(sc.t + 0.2)  # putting the bar down
        sc.sets.append(
            {
                "set": set_no,
                "t_start_s": round(t_set, 4),
                "t_end_s": round(sc.t, 4),
                "reps": list(range(first, rep_index + 1)),
            }
        )
        done = set_no >= cfg.sets and sc.t >= min_s
        sc.rest(1.5)
        sc.bow()
        sc.rest(1.0)
        if not done:
            if cfg.imperfections.walking:
                sc.walk()
            sc.weight_shift()
        sc.rest(1.5)
        if done:
            break
    return sc, {"stance": stance, "handling_s": handling}


def _mounts(cfg: SimConfig, duration_s: float, rng: np.random.Generator) -> dict[str, SensorMount]:
    names = cfg.sensor_names
    slip_sensor = str(rng.choice(names)) if cfg.imperfections.strap_slip_deg else None
    out = {}
    for s in names:
        q = (1.0, 0.0, 0.0, 0.0)
        if cfg.mounting == "arbitrary":
            w, x, y, z = Rotation.random(rng=rng).as_quat(scalar_first=True)
            q = (float(w), float(x), float(y), float(z))
        slip_t, slip_rv = None, (0.0, 0.0, 0.0)
        if s == slip_sensor:
            slip_t = round(float(duration_s * rng.uniform(0.4, 0.6)), 3)
            axis = Rotation.random(rng=rng).apply([1.0, 0.0, 0.0])
            rv = cfg.imperfections.strap_slip_deg * axis
            slip_rv = (float(rv[0]), float(rv[1]), float(rv[2]))
        out[s] = SensorMount(s, q, cfg.imperfections.soft_tissue, slip_t, slip_rv)
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
    for s in cfg.sensor_names:
        h[f"device.{s}"] = f"simulated hinge-imu-sim {cfg.preset_name}"
        h[f"mount.{s}"] = f"simulated, {cfg.mounting} orientation"
    return h


def simulate(config: SimConfig) -> Simulation:
    """Generate a SIMULATED recording and its ground truth (deterministic by seed)."""
    config.validate()
    imp = config.imperfections
    seq = np.random.SeedSequence(config.seed)
    motion_ss, setup_ss, sensors_ss = seq.spawn(3)
    script, extra = _script(config, np.random.default_rng(motion_ss))
    body = BodyModel(script.motion, config.side, Anthropometry(config.height_m))
    duration_s = script.t
    setup_rng = np.random.default_rng(setup_ss)
    mounts = _mounts(config, duration_s, setup_rng)
    knocks = (
        draw_knocks(extra["handling_s"], config.sensor_names, imp.knock_peak_mps2, setup_rng)
        if imp.knocks
        else {s: [] for s in config.sensor_names}
    )
    streams: dict[str, SensorStream] = {}
    sensors_truth: dict[str, Any] = {}
    children = sensors_ss.spawn(len(config.sensor_names))
    rngs = {s: np.random.default_rng(c) for s, c in zip(config.sensor_names, children, strict=True)}
    t_dev_all, counters = {}, {}
    for s in config.sensor_names:
        t_dev_all[s], counters[s] = sample_times(duration_s, float(config.rates_hz[s]), rngs[s])
    ideal = ideal_signals(body, mounts, t_dev_all)
    for s in config.sensor_names:
        rng, rate = rngs[s], float(config.rates_hz[s])
        t_dev, counter = t_dev_all[s], counters[s]
        acc, gyr = ideal[s]
        err = SensorErrors.draw(imp, rng)
        acc, gyr = apply_errors(acc, gyr, t_dev, err, imp, rng)
        add_knocks(acc, gyr, t_dev, knocks[s])
        t_rx = receive_times(t_dev, rate, imp.jitter_s, rng)
        keep = lost_mask(t_dev.size, imp, rng)
        streams[s] = SensorStream(
            t_s=t_rx[keep], acc_mps2=acc[keep], gyr_dps=gyr[keep], seq=counter[keep], rate_hz=rate
        )
        m = mounts[s]
        sensors_truth[s] = {
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
            "knocks": [{"t_s": k["t_s"], "peak_mps2": k["peak_mps2"]} for k in knocks[s]],
        }
    angles = truth_angles(body, duration_s, config.truth_rate_hz, config.head)
    reps = rep_truth(angles, script.reps)
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
    return Simulation(rec, truth, angles, body, mounts, config)
