"""Why live's first calibration waits, try by try (SIMULATED ``real`` sessions without a stance).

Replays a session of ``benchmarks/live_parity.py`` (2 sets of ``--reps``
reps, random blocks) into :class:`~hinge_imu.core.live.LiveAnalyser` and,
at every try of its first calibration up to the bottom of true rep
``--until-rep``, prints what ``_try_calibrate`` weighed, as live itself
records it (``LiveAnalyser.last_try``, a ``live_ready.CalibrationTry``; a
fact live did not weigh at that try is left out):

* ``data``: the least data kept of any sensor, s;
* the calibration on the ticks so far: its kind (``cycles``: gyro biases
  from the rep cycles since the opening) and ``pose_s``;
* ``moments``: the upright moments ``upright_moments`` finds on the ticks
  every sensor has (start + length, s), and the TRUE hip flexion there (deg:
  ~0 at lockout, 30–80 at a rep's bottom or on the way down);
* ``bias_err``: |calibration's gyro bias − the simulator's| per sensor, deg/s;
* ``open``: ``live_ready.in_opening_pose``; ``moved_s``: pelvis movement
  after the stance; ``clear``: ``live_ready.reads_clear``; ``reps``: the
  reps the stages on the calibration found, ``seen``: ``live_ready.rep_seen``;
* ``blocks``: the check that held the calibration off, and what the user
  is told (``AnalysisStep.waiting``), or ``none: taken``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/live_first_calibration.py --seeds 0,1,2,3

Prints; asserts nothing (docs/analysis.md, "Limits": live without any stop).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import real_config
from live_parity import CONDITIONS

from hinge_imu.core.arrays import runs
from hinge_imu.core.calibration import NoStanceError
from hinge_imu.core.live import LiveAnalyser
from hinge_imu.core.live_ready import CalibrationTry
from hinge_imu.core.rules import load_rules
from hinge_imu.core.step import AnalysisStep
from hinge_imu.core.timegrid import GridChunk
from hinge_imu.core.upright import upright_moments
from hinge_imu.samples import random_blocks
from hinge_imu.sim import simulate


class Diagnosed(LiveAnalyser):
    """The live analyser, printing each try of its first calibration as it weighed it."""

    truth: Any = None
    truth_angles: Any = None
    until_s = 0.0

    def _try_calibrate(self, final: bool) -> AnalysisStep:
        step = super()._try_calibrate(final)
        if not final and self._newest_s <= self.until_s and self.last_try is not None:
            print(f"  t {self._newest_s:5.2f} s: {self._diagnose(self.last_try)}")
        return step

    def _diagnose(self, t: CalibrationTry) -> str:
        """What live weighed at the try ``t`` (its own record), and the truth beside it."""
        why = f"{t.reason} ({t.words})" if t.reason else "none: taken"
        facts = [f"data {t.data_s:.2f} s"]
        cal = t.calibration
        if cal is not None:
            true_bias = {s: v["errors"]["gyr_bias_dps"] for s, v in self.truth["sensors"].items()}
            bias_err = " ".join(
                f"{s[:5]} {np.linalg.norm(np.subtract(c.gyro_bias_dps, true_bias[s])):.1f}"
                for s, c in cal.sensors.items()
            )
            cycles = " cycles" if cal.opening_cycles else ""
            facts.append(f"{cal.kind}{cycles} pose_s {cal.pose_s:.2f}")
            facts.append(f"moments {self._moments(self._kept_chunks())}")
            facts.append(f"bias_err {bias_err}")
        facts += [
            f"{name} {_fmt(v)}"
            for name, v in (
                ("open", t.opening),
                ("moved_s", t.moved_s),
                ("clear", t.axes_clear),
                ("reps", t.reps),
                ("seen", t.rep_seen),
            )
            if v is not None
        ]
        return f"{' '.join(facts)} | blocks: {why}"

    def _moments(self, chunks: dict[str, GridChunk]) -> str:
        """The upright moments on the ticks every sensor has, and the true hip flexion there."""
        rate = self.settings.grid.rate_hz
        lo = max(c.k0 for c in chunks.values())
        hi = min(c.k0 + len(c) for c in chunks.values())
        if hi - lo < 2:
            return "–"
        cut = {s: slice(lo - c.k0, hi - c.k0) for s, c in chunks.items()}
        acc = {s: np.asarray(c.acc_mps2[cut[s]], dtype=np.float64) for s, c in chunks.items()}
        gyr = {s: np.asarray(c.gyr_dps[cut[s]], dtype=np.float64) for s, c in chunks.items()}
        valid = {s: ~c.gap[cut[s]] for s, c in chunks.items()}
        try:
            mask, *_ = upright_moments(acc, gyr, valid, rate, self.settings.calibration)
        except NoStanceError:
            return "none"
        ta = self.truth_angles
        out = []
        for a, b in runs(mask):
            t = (lo + np.arange(a, b)) / rate
            hip = float(np.interp(t, ta["t"], ta["hip_flexion"]).mean())
            out.append(f"{(lo + a) / rate:.2f}+{(b - a) / rate:.2f}(hip {hip:.0f})")
        return ",".join(out) or "none"


def _fmt(v: bool | float | int) -> str:
    return f"{v:d}" if isinstance(v, bool | int) else f"{v:.2f}"


def session(condition: str, seed: int, reps: int, until_rep: int) -> None:
    s = simulate(replace(real_config(condition, seed), reps=reps, sets=2))
    rec = s.recording
    truth = s.truth["reps"]
    live = Diagnosed(rec.ordered_sensor_names(), load_rules(), side=rec.side)
    live.truth, live.truth_angles = s.truth, s.truth_angles
    n = min(until_rep, len(truth))
    live.until_s = truth[n - 1]["t_bottom"]
    print(f"== {condition} seed {seed} (SIMULATED); true reps (start/bottom/end, s):")
    spans = (f"[{r['t_start']:.2f} {r['t_bottom']:.2f} {r['t_end']:.2f}]" for r in truth[:n])
    print("  " + " ".join(spans))
    for b in random_blocks(rec, seed):
        step = live.update(b)
        if step.calibration is not None:
            print(f"  calibrated at {float(b.t_s[-1]):.2f} s")
            return
    print("  calibrated at the end of data" if live.finish().calibration else "  never calibrated")


def session_parser(description: str) -> argparse.ArgumentParser:
    """A parser with ``--condition`` (of ``live_parity.py``) and ``--seeds`` (comma-separated)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--condition", default="stance_none_fast", choices=sorted(CONDITIONS))
    p.add_argument("--seeds", default="0,1,2,3", type=lambda x: [int(s) for s in x.split(",") if s])
    return p


def main(argv: list[str] | None = None) -> int:
    p = session_parser(__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=5, help="reps per set (2 sets)")
    p.add_argument("--until-rep", type=int, default=3, help="print tries up to this rep's bottom")
    a = p.parse_args(argv)
    for seed in a.seeds:
        session(a.condition, seed, a.reps, a.until_rep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
