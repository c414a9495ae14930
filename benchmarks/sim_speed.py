"""Speed of the simulator (``hinge_imu.sim.simulate``), SIMULATED data only.

Targets: a 10-rep recording in well under 1–2 s; a 1-hour, 3-sensor, 100 Hz
recording in under 1 min (for analysis benchmarks).

    .venv/bin/python benchmarks/sim_speed.py [--minutes 60] [--skip-long]

Prints a table: case, simulated duration, samples, reps, generation time,
samples per second. Asserts nothing.
"""

from __future__ import annotations

import argparse
import time

from hinge_imu.sim import SimConfig, simulate


def _row(name: str, cfg: SimConfig) -> None:
    t0 = time.perf_counter()
    sim = simulate(cfg)
    dt = time.perf_counter() - t0
    n = sum(len(s) for s in sim.recording.sensors.values())
    print(
        f"| {name:34s} | {sim.truth['duration_s']:8.1f} | {n:9d} | {len(sim.truth['reps']):5d} "
        f"| {dt:7.2f} | {n / dt:10.0f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the long case, min")
    ap.add_argument("--skip-long", action="store_true", help="only the 10-rep cases")
    args = ap.parse_args()
    rates_100 = {"thigh": 100.0, "pelvis": 100.0, "upper_back": 100.0, "head": 100.0}
    print("| case (SIMULATED) | duration s | samples | reps | time s | samples/s |")
    print("|---|---:|---:|---:|---:|---:|")
    _row("10 reps, clean", SimConfig.preset("clean", reps=10, seed=1))
    _row(
        "10 reps, typical, arbitrary",
        SimConfig.preset("typical", reps=10, seed=1, mounting="arbitrary"),
    )
    _row(
        "10 reps, harsh, arbitrary",
        SimConfig.preset("harsh", reps=10, seed=1, mounting="arbitrary"),
    )
    _row(
        "2 x 8 reps, real none fast +2 extra",
        SimConfig.preset(
            "real",
            reps=8,
            sets=2,
            seed=1,
            stance_kind="none",
            tempo="fast",
            extras=("shank", "foot"),
            mounting="arbitrary",
        ),
    )
    if not args.skip_long:
        long_cfg = SimConfig.preset(
            "typical", reps=10, seed=1, duration_min=args.minutes, rates_hz=rates_100
        )
        _row(f"{args.minutes:g} min, typical, 3 x 100 Hz", long_cfg)
        real_cfg = SimConfig.preset(
            "real", reps=8, seed=1, duration_min=args.minutes / 2, mounting="arbitrary"
        )
        _row(f"{args.minutes / 2:g} min, real (111/111/104 Hz)", real_cfg)


if __name__ == "__main__":
    main()
