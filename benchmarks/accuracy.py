"""Accuracy of the analysis against the simulator's ground truth (SIMULATED data).

Runs the simulator over a matrix — every mistake of docs/rules.md (injected into
some reps, so each recording has reps with and without it), sensor presets
``clean``/``typical``/``harsh``, ``nominal`` and ``arbitrary`` mounting,
several seeds — analyses every recording with ``hinge_imu.analyse`` and
prints, per preset × mounting:

* the share of recordings where the number of reps found is exact;
* the mean absolute error of the rep-report angles (estimated vs true,
  on reps matched by their bottom time);
* precision, recall and F1 of each rule, on reps whose true deciding value
  is at least 5° from the threshold.

Usage::

    .venv/bin/python benchmarks/accuracy.py            # quick matrix (~20 s)
    .venv/bin/python benchmarks/accuracy.py --full     # full matrix (~1 min)
    .venv/bin/python benchmarks/accuracy.py --presets typical --mountings arbitrary
    .venv/bin/python benchmarks/accuracy.py --presets typical --soft-tissue 0

Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

METRICS = (
    "hip_flexion_peak",
    "lumbar_flexion_max",
    "lumbar_flexion_min",
    "pelvic_tilt_lockout",
    "hip_flexion_lockout",
    "thigh_inclination_bottom",
    "knee_cave",
)
MISTAKES = (
    "none",
    "back_rounded",
    "back_arched",
    "no_lockout",
    "knees_locked",
    "knees_forward",
    "knees_caving",
    "shallow_hinge",
    "ribs_flared",
    "neck_extended",
    "squatting",
)
#: Reps (1-based) that get the recording's mistake; the others are done well.
MISTAKE_REPS = (2, 3, 5, 8)
MARGIN_DEG = 5.0


def run_one(job: tuple[str, str, str, int, int, str]) -> dict[str, Any]:
    """Simulate and analyse one recording; return matched truth/estimate pairs."""
    from dataclasses import replace

    from hinge_imu.core.pipeline import analyse
    from hinge_imu.sim import SimConfig, simulate

    preset, mounting, mistake, seed, reps, extra = job
    mistakes: list[dict[str, float | None]] = []
    if mistake != "none":
        mistakes = [{mistake: None} if (i + 1) in MISTAKE_REPS else {} for i in range(reps)]
    kwargs: dict[str, Any] = {
        "reps": reps,
        "seed": seed,
        "mounting": mounting,
        "mistakes": mistakes,
        "head": mistake == "neck_extended",
    }
    cfg = SimConfig.preset(preset, **kwargs)
    if extra.startswith("soft_tissue="):
        # Isolate the analysis' own error from the simulated skin movement.
        imp = replace(cfg.imperfections, soft_tissue=float(extra.split("=")[1]))
        cfg = replace(cfg, imperfections=imp)
    sim = simulate(cfg)
    t0 = time.perf_counter()
    try:
        session = analyse(sim.recording)
    except Exception as err:  # a failure is a result here
        error = f"{type(err).__name__}: {err}"
        return {"job": job, "error": error, "n_true": len(sim.truth["reps"])}
    dt = time.perf_counter() - t0
    truth = sim.truth["reps"]
    est = session.reps
    pairs = []
    used: set[int] = set()
    for tr in truth:
        best, best_d = None, 1.0
        for i, r in enumerate(est):
            d = abs(r.metrics.t_bottom - tr["t_bottom"])
            if i not in used and d < best_d:
                best, best_d = i, d
        if best is None:
            continue
        used.add(best)
        r = est[best]
        pairs.append(
            {
                "truth": {k: tr.get(k) for k in (*METRICS, *_rule_metrics())},
                "truth_rules": tr["rules"],
                "est": {k: r.metrics.get(k) for k in (*METRICS, *_rule_metrics())},
                "est_rules": {v.rule_id: v.fired for v in r.judgement.verdicts},
                "judged": r.judged,
            }
        )
    return {
        "job": job,
        "n_true": len(truth),
        "n_est": len(est),
        "pairs": pairs,
        "seconds": dt,
        "warnings": list(session.warnings),
    }


def _rule_metrics() -> tuple[str, ...]:
    from hinge_imu.core.rules import load_rules

    rules = load_rules()
    out: list[str] = []
    for r in rules.rules:
        for c in (*r.fires_when, *r.only_if):
            if c.metric not in out:
                out.append(c.metric)
    return tuple(out)


def _margin(rule: Any, values: Mapping[str, float | None]) -> float:
    """Smallest distance of the true deciding values from their thresholds, deg."""
    ms = []
    for c in (*rule.fires_when, *rule.only_if):
        v = values.get(c.metric)
        if v is None:
            return math.nan
        ms.append(abs(v - c.threshold))
    return min(ms) if ms else math.nan


def summarise(results: list[dict[str, Any]]) -> None:
    from hinge_imu.core.rules import load_rules

    rules = load_rules()
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for res in results:
        groups[(res["job"][0], res["job"][1])].append(res)
    for (preset, mounting), rs in sorted(groups.items()):
        exact = sum(1 for r in rs if r.get("n_est") == r["n_true"])
        errors = [r for r in rs if "error" in r]
        pairs = [p for r in rs for p in r.get("pairs", [])]
        judged = [p for p in pairs if p["judged"]]
        secs = [r["seconds"] for r in rs if "seconds" in r]
        note = f", {rs[0]['job'][5]}" if rs[0]["job"][5] else ""
        print(f"\n=== preset {preset}, mounting {mounting}{note} (SIMULATED) ===")
        print(
            f"recordings {len(rs)}, exact rep count {exact}/{len(rs)} "
            f"({100 * exact / len(rs):.1f}%), failed {len(errors)}, "
            f"reps matched {len(pairs)}, judged {len(judged)}, "
            f"mean analyse time {sum(secs) / max(1, len(secs)):.2f} s"
        )
        for r in rs:
            if r.get("n_est") != r["n_true"]:
                print(
                    f"  count off: {r['job']}: true {r['n_true']}, found {r.get('n_est')}"
                    f" {r.get('error', '')}"
                )
        print(f"{'metric':28s} {'MAE °':>7s} {'p95 |err| °':>12s} {'n':>5s}")
        for m in METRICS:
            errs = sorted(
                abs(p["est"][m] - p["truth"][m])
                for p in judged
                if p["est"].get(m) is not None and p["truth"].get(m) is not None
            )
            if not errs:
                print(f"{m:28s} {'–':>7s}")
                continue
            mae = sum(errs) / len(errs)
            p95 = errs[min(len(errs) - 1, int(0.95 * len(errs)))]
            print(f"{m:28s} {mae:7.2f} {p95:12.2f} {len(errs):5d}")
        print(
            f"{'rule':16s} {'TP':>4s} {'FP':>4s} {'FN':>4s} {'TN':>5s} "
            f"{'prec':>6s} {'recall':>6s} {'F1':>6s}"
        )
        for rule in rules.rules:
            if not rule.observable:
                continue
            tp = fp = fn = tn = 0
            for p in judged:
                t, e = p["truth_rules"].get(rule.rule_id), p["est_rules"].get(rule.rule_id)
                if t is None or e is None:
                    continue
                mg = _margin(rule, p["truth"])
                if not (mg >= MARGIN_DEG):
                    continue
                tp += t and e
                fp += (not t) and e
                fn += t and not e
                tn += (not t) and not e
            prec = tp / (tp + fp) if tp + fp else math.nan
            rec = tp / (tp + fn) if tp + fn else math.nan
            f1 = 2 * prec * rec / (prec + rec) if tp else (math.nan if tp + fp + fn == 0 else 0.0)
            print(
                f"{rule.rule_id:16s} {tp:4d} {fp:4d} {fn:4d} {tn:5d} "
                f"{prec:6.3f} {rec:6.3f} {f1:6.3f}"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="all presets, both mountings, 4 seeds")
    ap.add_argument("--presets", default=None, help="comma-separated presets")
    ap.add_argument("--mountings", default=None, help="comma-separated mountings")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per cell")
    ap.add_argument("--mistakes", default=None, help="comma-separated mistakes (or none)")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--soft-tissue",
        type=float,
        default=None,
        help="override the presets' soft-tissue artefact (deg/deg; 0 = none)",
    )
    a = ap.parse_args(argv)
    presets = (a.presets or ("clean,typical,harsh" if a.full else "typical,harsh")).split(",")
    mountings = (a.mountings or ("nominal,arbitrary" if a.full else "arbitrary")).split(",")
    seeds = a.seeds or (4 if a.full else 2)
    mistakes = a.mistakes.split(",") if a.mistakes else list(MISTAKES)
    extra = "" if a.soft_tissue is None else f"soft_tissue={a.soft_tissue}"
    jobs = [
        (p, m, mk, 100 + s, a.reps, extra)
        for p in presets
        for m in mountings
        for mk in mistakes
        for s in range(seeds)
    ]
    t0 = time.perf_counter()
    print(
        f"accuracy benchmark: {len(jobs)} simulated recordings, {a.jobs} processes", file=sys.stderr
    )
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        results = list(pool.map(run_one, jobs))
    summarise(results)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
