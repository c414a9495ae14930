"""Probe (SIMULATED data, not part of the analysis): the gyro biases from one fast rep.

Back-to-back fast reps have almost no moment where every gyro is steady, so
live's first calibration on them takes biases 0.3–27.6 °/s off
(docs/analysis.md, "Limits", live without any stop). This probe fits them
from the movement instead, on the ticks live holds ``--after-s`` after true
rep 1's lockout, and prints each sensor's error against the simulator's.

The method: a hinge turns each segment about one axis. Each sensor's
flexion axis ``a`` is the dominant direction of its gyro; the bias across
``a`` is the median rate across it. Along ``a`` the bias ``b`` is searched
(1-D, ``--step`` °/s) for the least-squares fit of the accelerometer in
the plane across ``a`` as a planar chain: gravity turned by the integrated
rate (``rate − b``), plus the tangential and centripetal acceleration of
every link below the sensor and of the sensor's own offset (the thigh
turning about a fixed knee, the pelvis on the thigh, the upper back on the
pelvis; the links' lengths and directions enter linearly and are fitted
too, the biases of the sensors below taken from their own fit first). The
axis sign between two sensors is tried both ways.

    nice -n 10 .venv/bin/python benchmarks/chain_bias_probe.py --seeds 0,1,2,3,4,5,6,7

Prints; asserts nothing.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import real_config
from live_first_calibration import session_parser

from hinge_imu.core.live import LiveAnalyser
from hinge_imu.core.rules import load_rules
from hinge_imu.core.step import AnalysisStep
from hinge_imu.core.timegrid import GridChunk
from hinge_imu.samples import random_blocks
from hinge_imu.sim import simulate

FloatArray = npt.NDArray[np.float64]
CHAIN = ("thigh", "pelvis", "upper_back")


def flexion_plane(gyr_dps: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(the dominant gyro direction (3,), a basis (2, 3) of the plane across it)."""
    _, _, vt = np.linalg.svd(gyr_dps - np.median(gyr_dps, axis=0), full_matrices=False)
    a = vt[0]
    e1 = np.cross(a, [1.0, 0.0, 0.0])
    if np.linalg.norm(e1) < 0.3:
        e1 = np.cross(a, [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return a, np.stack([e1, np.cross(a, e1)])


def turned(rate_dps: FloatArray, bias_dps: float, rate_hz: float) -> tuple[FloatArray, FloatArray]:
    """(rate (N,) rad/s, the angle an earth-fixed vector turns by in the sensor frame (N,) rad)."""
    w = np.deg2rad(rate_dps - bias_dps)
    return w, -np.concatenate([[0.0], np.cumsum(w[:-1]) / rate_hz])


def link_columns(w: FloatArray, alpha: FloatArray, rel: FloatArray) -> list[FloatArray]:
    """Two columns (x rows then y rows): Rot(rel) (alpha J − w² I) L for the link L."""
    c, s, w2 = np.cos(rel), np.sin(rel), w**2
    return [
        np.concatenate([-c * w2 - s * alpha, -s * w2 + c * alpha]),
        np.concatenate([-c * alpha + s * w2, -s * alpha - c * w2]),
    ]


def fit_along(
    acc: list[FloatArray], gyr: list[FloatArray], below: list[float], rate_hz: float, step: float
) -> tuple[float, FloatArray, FloatArray]:
    """The last sensor's bias along its axis (°/s), its axis, its plane; ``below``: theirs."""
    planes = [flexion_plane(g) for g in gyr]
    a, plane = planes[-1]
    f = acc[-1] @ plane.T
    y = np.concatenate([f[:, 0], f[:, 1]])
    lower = []
    for (aj, _), g, b in zip(planes[:-1], gyr[:-1], below, strict=True):
        wj, phj = turned(g @ aj, b, rate_hz)
        lower.append((wj, np.gradient(wj, 1.0 / rate_hz), phj))
    best = (np.inf, 0.0)
    for sign in (1.0, -1.0) if lower else (1.0,):
        for b in np.arange(-25.0, 25.0 + step / 2, step):
            w, ph = turned(gyr[-1] @ a, float(b), rate_hz)
            c, s = np.cos(ph), np.sin(ph)
            cols = [np.concatenate([c, s]), np.concatenate([-s, c])]
            cols += link_columns(w, np.gradient(w, 1.0 / rate_hz), np.zeros_like(w))
            for wj, alj, phj in lower:
                cols += link_columns(sign * wj, sign * alj, ph - sign * phj)
            m = np.stack(cols, axis=1)
            x, *_ = np.linalg.lstsq(m, y, rcond=None)
            r = float(((m @ x - y) ** 2).sum())
            if r < best[0]:
                best = (r, float(b))
    return best[1], a, plane


class Holding(LiveAnalyser):
    """The live analyser, keeping a copy of its ticks at ``at_s`` (it never calibrates before)."""

    at_s = 0.0
    held: dict[str, GridChunk] | None = None

    def _try_calibrate(self, final: bool) -> AnalysisStep:
        if self.held is None and self._newest_s >= self.at_s:
            self.held = self._kept_chunks()
        return AnalysisStep()


def session(condition: str, seed: int, after_s: float, step: float) -> str:
    s = simulate(replace(real_config(condition, seed), reps=5, sets=2))
    rec = s.recording
    live = Holding(rec.ordered_sensor_names(), load_rules(), side=rec.side)
    live.at_s = s.truth["reps"][0]["t_end"] + after_s
    for b in random_blocks(rec, seed):
        live.update(b)
        if live.held is not None:
            break
    held = live.held or {}
    if not all(x in held for x in CHAIN):
        return f"seed {seed}: not every sensor of {CHAIN}"
    rate = live.settings.grid.rate_hz
    lo = max(held[x].k0 for x in CHAIN)
    hi = min(held[x].k0 + len(held[x]) for x in CHAIN)
    acc = [np.asarray(held[x].acc_mps2[lo - held[x].k0 : hi - held[x].k0]) for x in CHAIN]
    gyr = [np.asarray(held[x].gyr_dps[lo - held[x].k0 : hi - held[x].k0]) for x in CHAIN]
    below: list[float] = []
    out = []
    for k, name in enumerate(CHAIN):
        along, a, plane = fit_along(acc[: k + 1], gyr[: k + 1], below, rate, step)
        below.append(along)
        bias = np.median(gyr[k] @ plane.T, axis=0) @ plane + along * a
        true = np.asarray(s.truth["sensors"][name]["errors"]["gyr_bias_dps"])
        out.append(f"{name} {np.linalg.norm(bias - true):.2f} (|true| {np.linalg.norm(true):.1f})")
    return f"seed {seed} ({(hi - lo) / rate:.2f} s of ticks): " + ", ".join(out)


def main(argv: list[str] | None = None) -> int:
    p = session_parser(__doc__.split("\n")[0])
    p.add_argument("--after-s", type=float, default=0.3, help="after rep 1's lockout, s")
    p.add_argument("--step", type=float, default=0.1, help="search step along the axis, deg/s")
    a = p.parse_args(argv)
    print("SIMULATED: |fitted gyro bias − simulator's| per sensor, deg/s")
    for seed in a.seeds:
        print(session(a.condition, seed, a.after_s, a.step))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
