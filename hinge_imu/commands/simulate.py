"""``hinge-imu simulate``: write a SIMULATED recording and its ground truth."""

from __future__ import annotations

import argparse
import time

from hinge_imu.errors import HingeImuError

NAME = "simulate"
HELP = "write a SIMULATED hip-hinge recording (x.csv) and its ground truth (x.truth.json)"
ORDER = 70


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="X.csv",
        help="recording to write (.csv or .csv.gz)",
    )
    p.add_argument("--reps", type=int, default=10, help="reps per set (default 10)")
    p.add_argument("--sets", type=int, default=1, help="number of sets (default 1)")
    p.add_argument(
        "--mistake",
        action="append",
        default=[],
        metavar="ID[=DEG][@REPS]",
        help="inject a mistake of docs/rules.md (repeatable; DEG = value of its metric, see"
        " docs/simulator.md; @2,5 = only reps 2 and 5)",
    )
    p.add_argument(
        "--mistake-reps",
        metavar="N,N,…",
        help="reps (1-based, session order) that get the --mistake(s); default: all reps",
    )
    p.add_argument(
        "--sensors",
        default="clean",
        choices=("clean", "typical", "harsh", "real"),
        help="imperfection preset (real: what people record, docs/simulator.md)",
    )
    p.add_argument("--mounting", default="nominal", choices=("nominal", "arbitrary"))
    rates = p.add_mutually_exclusive_group()
    rates.add_argument(
        "--rates",
        metavar="R,R,R[,R]",
        help="rates in Hz of thigh,pelvis,upper_back[,head] (or thigh=52,pelvis=104,…)",
    )
    rates.add_argument("--rate-hz", type=float, help="one rate for every sensor, Hz")
    p.add_argument("--head", action="store_true", help="add a head sensor")
    p.add_argument("--side", choices=("left", "right"), default="right", help="thigh sensor side")
    p.add_argument("--stance-s", type=float, help="calibration stance length, s (preset default)")
    p.add_argument(
        "--stance",
        choices=("still", "swaying", "missing", "walk_in", "end_only", "none"),
        help="calibration stance kind (preset default); none = reps from the first sample",
    )
    p.add_argument(
        "--tempo",
        choices=("normal", "fast", "slow", "mixed"),
        default="normal",
        help="rep tempo: fast ~1.2 s back to back, slow ~6 s, mixed within a set",
    )
    p.add_argument("--extra", metavar="shank,foot", help="extra sensors no rule needs")
    p.add_argument("--no-upper-back", action="store_true", help="no upper-back sensor")
    p.add_argument("--slip-sensor", metavar="SENSOR", help="whose strap slips (preset slips)")
    p.add_argument(
        "--bad-board",
        metavar="SENSOR",
        help="this sensor's accelerometer is badly calibrated (per-axis scale up to 40 %%)",
    )
    p.add_argument(
        "--off",
        metavar="EFFECT,…",
        help="switch preset effects off: noise, gyro_bias, warmup, acc_errors, soft_tissue,"
        " jitter, loss, slip, walking, knocks, heel_strikes, fidgets",
    )
    p.add_argument("--duration-min", type=float, help="keep doing sets until this long, min")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truth-angles", action="store_true", help="also write x.truth_angles.csv")


def _rates(text: str, sensors: tuple[str, ...]) -> dict[str, float]:
    parts = [s.strip() for s in text.split(",") if s.strip()]
    try:
        if all("=" in s for s in parts):
            out = {k.strip(): float(v) for k, v in (s.split("=", 1) for s in parts)}
        else:
            if len(parts) not in (1, len(sensors), 3):
                raise ValueError
            vals = [float(v) for v in parts]
            if len(vals) == 1:
                vals = vals * len(sensors)
            out = dict(zip(sensors, vals, strict=False))
    except ValueError:
        raise HingeImuError(
            f"--rates {text!r}: give {len(sensors)} numbers (Hz) for {','.join(sensors)}"
        ) from None
    unknown = set(out) - set(sensors)
    if unknown:
        raise HingeImuError(f"--rates: no sensor {', '.join(sorted(unknown))} in this simulation")
    return out


def _rep_numbers(text: str, what: str) -> set[int]:
    try:
        chosen = {int(x) for x in text.split(",") if x.strip()}
    except ValueError:
        raise HingeImuError(f"{what} {text!r}: give rep numbers like 2,5") from None
    if not chosen or min(chosen) < 1:
        raise HingeImuError(f"{what} {text!r}: rep numbers start at 1")
    return chosen


def _mistakes(
    args: argparse.Namespace, n_reps: int
) -> dict[str, float | None] | list[dict[str, float | None]]:
    """All reps get the same mistakes, unless reps are chosen (``--mistake-reps``
    or ``ID@2,5``): then a per-rep list."""
    from hinge_imu.sim.mistakes import parse_mistake_arg

    default = None
    if args.mistake_reps is not None:
        if not args.mistake:
            raise HingeImuError("--mistake-reps needs at least one --mistake")
        default = _rep_numbers(args.mistake_reps, "--mistake-reps")
    parsed = []
    for text in args.mistake:
        spec, at, reps = text.partition("@")
        rid, mag = parse_mistake_arg(spec)
        parsed.append((rid, mag, _rep_numbers(reps, f"--mistake {text}") if at else default))
    if all(r is None for _, _, r in parsed):
        return {rid: mag for rid, mag, _ in parsed}
    last = max(max(r) for _, _, r in parsed if r is not None)
    if last > n_reps and args.duration_min is None:
        raise HingeImuError(f"--mistake: rep {last} chosen but the session has only {n_reps} reps")
    plan: list[dict[str, float | None]] = [{} for _ in range(max(last, n_reps))]
    for rid, mag, reps in parsed:
        for number in range(1, len(plan) + 1) if reps is None else reps:
            plan[number - 1][rid] = mag
    return plan


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def run(args: argparse.Namespace) -> int:
    from hinge_imu.sim import SimConfig, simulate
    from hinge_imu.sim.config import IMPERFECTION_PRESETS, without
    from hinge_imu.sim.output import sidecar_paths, write_simulation

    sidecar_paths(args.output)  # fail on a bad name before any work
    overrides: dict[str, object] = {
        "reps": args.reps,
        "sets": args.sets,
        "mistakes": _mistakes(args, args.reps * args.sets),
        "mounting": args.mounting,
        "head": args.head,
        "side": args.side,
        "seed": args.seed,
        "duration_min": args.duration_min,
        "tempo": args.tempo,
        "extras": _names(args.extra),
        "upper_back": not args.no_upper_back,
        "slip_sensor": args.slip_sensor,
        "bad_board": args.bad_board,
    }
    if args.off:
        overrides["imperfections"] = without(IMPERFECTION_PRESETS[args.sensors], _names(args.off))
    if args.stance_s is not None:
        overrides["stance_s"] = args.stance_s
    if args.stance is not None:
        overrides["stance_kind"] = args.stance
    cfg = SimConfig.preset(args.sensors, **overrides)
    if args.rates or args.rate_hz:
        rates = dict(cfg.rates_hz)
        if args.rate_hz:
            rates.update({s: args.rate_hz for s in cfg.sensor_names})
        else:
            rates.update(_rates(args.rates, cfg.sensor_names))
        cfg = SimConfig.preset(args.sensors, **overrides, rates_hz=rates)
    t0 = time.perf_counter()
    sim = simulate(cfg)
    paths = write_simulation(sim, args.output, truth_angles=args.truth_angles)
    reps = sim.truth["reps"]
    bad = sum(1 for r in reps if r["mistakes"])
    print(
        f"SIMULATED {len(reps)} reps ({bad} with mistakes), {sim.truth['duration_s']:.1f} s, "
        f"sensors {args.sensors}, mounting {args.mounting}, stance {cfg.stance_kind}, "
        f"tempo {cfg.tempo}, seed {args.seed} "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    for p in paths:
        print(f"wrote {p}")
    return 0
