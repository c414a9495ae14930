"""Accuracy of the analysis against the simulator's ground truth (SIMULATED data).

Runs the simulator over a matrix — every mistake of docs/rules.md (injected into
some reps, so each recording has reps with and without it), sensor presets
``clean``/``typical``/``harsh``, ``nominal`` and ``arbitrary`` mounting,
several seeds — analyses every recording with ``hinge_imu.analyse`` and
prints, per preset × mounting:

* the share of recordings where the number of reps found is exact;
* the mean absolute error of the rep-report angles (estimated vs true,
  on reps matched by their bottom time), with its soft-tissue floor (the
  same error of perfect sensors glued to the skin: the truth's ``skin``);
* precision, recall and F1 of each rule, on reps whose true deciding value
  is at least 5° from the threshold.

``--preset real`` runs instead the matrix of what people record (the
simulator's ``real`` preset, arbitrary mounting, 2–3 sets per session): every
stance kind, every tempo, without the upper back, with the head, the left
thigh, a 30-minute session with warming gyros, a strap slip on each sensor,
extra shank and foot sensors, a badly calibrated board. Per condition it
prints the sessions analysed and refused (with the reason), the sessions with
the exact rep count, rep recall and precision, each angle's mean error next
to its soft-tissue floor (the same quantity read from the truth's skin
angles: what perfect sensors glued to the skin would give), and each rule's
F1 on reps at least 5° from its threshold (precision and recall over all
conditions at the end).

Usage::

    .venv/bin/python benchmarks/accuracy.py            # quick matrix (~20 s)
    nice -n 10 .venv/bin/python benchmarks/accuracy.py --preset real --jobs 2   # ~2 min
    .venv/bin/python benchmarks/accuracy.py --preset real --conditions stance_none,slip_pelvis
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
    return analyse_and_match(simulate(cfg), job)


def analyse_and_match(sim: Any, job: tuple[Any, ...]) -> dict[str, Any]:
    """Analyse a simulation; pair each true rep with the found rep whose
    bottom is nearest (within 1 s)."""
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.errors import HingeImuError

    t0 = time.perf_counter()
    try:
        session = analyse(sim.recording)
    except Exception as err:  # a failure is a result here
        error = f"{type(err).__name__}: {err}"
        return {
            "job": job,
            "error": error,
            "refused": isinstance(err, HingeImuError),
            "n_true": len(sim.truth["reps"]),
        }
    dt = time.perf_counter() - t0
    truth = sim.truth["reps"]
    est = session.reps
    keys = (*METRICS, *_rule_metrics())
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
                "truth": {k: tr.get(k) for k in keys},
                "skin": {k: tr.get("skin", {}).get(k) for k in METRICS},
                "truth_rules": tr["rules"],
                "est": {k: r.metrics.get(k) for k in keys},
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


def rule_counts(rule: Any, judged: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    """TP, FP, FN, TN of one rule over judged pairs whose true deciding
    values are at least ``MARGIN_DEG`` from the thresholds."""
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
    return tp, fp, fn, tn


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 (NaN where undefined)."""
    prec = tp / (tp + fp) if tp + fp else math.nan
    rec = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * prec * rec / (prec + rec) if tp else (math.nan if tp + fp + fn == 0 else 0.0)
    return prec, rec, f1


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
        print(f"{'metric':28s} {'MAE °':>7s} {'p95 |err| °':>12s} {'n':>5s} {'floor °':>8s}")
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
            floors = [
                abs(p["skin"][m] - p["truth"][m])
                for p in judged
                if p["skin"].get(m) is not None and p["truth"].get(m) is not None
            ]
            floor = sum(floors) / len(floors) if floors else math.nan
            print(f"{m:28s} {mae:7.2f} {p95:12.2f} {len(errs):5d} {_f(floor, 8, 2)}")
        print(
            f"{'rule':16s} {'TP':>4s} {'FP':>4s} {'FN':>4s} {'TN':>5s} "
            f"{'prec':>6s} {'recall':>6s} {'F1':>6s}"
        )
        for rule in rules.rules:
            if not rule.observable:
                continue
            tp, fp, fn, tn = rule_counts(rule, judged)
            prec, rec, f1 = prf(tp, fp, fn)
            print(
                f"{rule.rule_id:16s} {tp:4d} {fp:4d} {fn:4d} {tn:5d} "
                f"{prec:6.3f} {rec:6.3f} {f1:6.3f}"
            )


#: ``--preset real``: condition → SimConfig settings on top of the ``real``
#: preset (arbitrary mounting). Outside the ``slip_*`` conditions the strap
#: slip is switched off, so each condition shows one difficulty; every other
#: effect of the preset stays on.
REAL_CONDITIONS: dict[str, dict[str, Any]] = {
    "stance_still": {"stance_kind": "still"},
    "stance_swaying": {"stance_kind": "swaying"},
    "stance_walk_in": {"stance_kind": "walk_in"},
    "stance_end_only": {"stance_kind": "end_only"},
    "stance_none": {"stance_kind": "none"},
    # Slow reps pause in the hole for a second or more: still periods that
    # are no stance (offline once calibrated on them).
    "stance_none_slow": {"stance_kind": "none", "tempo": "slow"},
    "tempo_fast": {"tempo": "fast"},
    "tempo_slow": {"tempo": "slow"},
    "tempo_mixed": {"tempo": "mixed"},
    "no_upper_back": {"upper_back": False},
    "with_head": {"head": True},
    "left_thigh": {"side": "left"},
    "slip_thigh": {"slip_sensor": "thigh"},
    "slip_pelvis": {"slip_sensor": "pelvis"},
    "slip_upper_back": {"slip_sensor": "upper_back"},
    "extra_shank_foot": {"extras": ("shank", "foot")},
    "bad_board_thigh": {"bad_board": "thigh"},
    "warming_30min": {"stance_kind": "still", "duration_min": 30.0},
}
#: Every other rep of a ``real`` session gets the next mistake of this cycle.
REAL_MISTAKES = tuple(m for m in MISTAKES if m not in ("none", "neck_extended"))
REAL_REPS = 8
#: Short column names of the angle table.
SHORT = {
    "hip_flexion_peak": "hip_pk",
    "lumbar_flexion_max": "lumb_max",
    "lumbar_flexion_min": "lumb_min",
    "pelvic_tilt_lockout": "pelv_lo",
    "hip_flexion_lockout": "hip_lo",
    "thigh_inclination_bottom": "thigh_bt",
    "knee_cave": "knee_cv",
}


def real_config(condition: str, seed: int) -> Any:
    """The SimConfig of one ``real`` session (2–3 sets of ``REAL_REPS``)."""
    from hinge_imu.sim import SimConfig
    from hinge_imu.sim.config import IMPERFECTION_PRESETS, without

    settings = dict(REAL_CONDITIONS[condition])
    head = bool(settings.get("head", False))
    cycle = (*REAL_MISTAKES, "neck_extended") if head else REAL_MISTAKES
    n = 3 * REAL_REPS if "duration_min" not in settings else 400
    mistakes = [{cycle[(i // 2 + seed) % len(cycle)]: None} if i % 2 else {} for i in range(n)]
    imp = IMPERFECTION_PRESETS["real"]
    if "slip_sensor" not in settings:
        imp = without(imp, ["slip"])
    return SimConfig.preset(
        "real",
        reps=REAL_REPS,
        sets=2 + seed % 2,
        seed=seed,
        mounting="arbitrary",
        mistakes=mistakes,
        imperfections=imp,
        **settings,
    )


def run_real(job: tuple[str, int]) -> dict[str, Any]:
    from hinge_imu.sim import simulate

    return analyse_and_match(simulate(real_config(*job)), job)


def _f(x: float, width: int = 6, digits: int = 3) -> str:
    return f"{'–':>{width}s}" if math.isnan(x) else f"{x:{width}.{digits}f}"


def summarise_real(results: list[dict[str, Any]]) -> None:
    from hinge_imu.core.rules import load_rules

    rules = [r for r in load_rules().rules if r.observable]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for res in results:
        groups[res["job"][0]].append(res)
    order = [c for c in REAL_CONDITIONS if c in groups]
    print(f"\n=== preset real, mounting arbitrary (SIMULATED): {len(results)} sessions ===")
    print("recall counts the reps of refused sessions as missed; judged = matched reps judged")
    print(
        f"{'condition':18s} {'sess':>4s} {'anal':>4s} {'refus':>5s} {'exact':>5s} "
        f"{'recall':>6s} {'prec':>6s} {'judged':>9s}"
    )
    pooled: dict[str, list[dict[str, Any]]] = {c: [] for c in order}
    for c in [*order, "ALL"]:
        rs = results if c == "ALL" else groups[c]
        ok = [r for r in rs if "error" not in r]
        pairs = [p for r in ok for p in r["pairs"]]
        if c != "ALL":
            pooled[c] = [p for p in pairs if p["judged"]]
        n_true = sum(r["n_true"] for r in rs)
        n_est = sum(r["n_est"] for r in ok)
        exact = sum(1 for r in ok if r["n_est"] == r["n_true"])
        judged = sum(1 for p in pairs if p["judged"])
        rec = len(pairs) / n_true if n_true else math.nan
        prec = len(pairs) / n_est if n_est else math.nan
        print(
            f"{c:18s} {len(rs):4d} {len(ok):4d} {len(rs) - len(ok):5d} {exact:5d} "
            f"{_f(rec)} {_f(prec)} {judged:4d}/{len(pairs):<4d}"
        )
    for c in order:
        for r in groups[c]:
            if "error" in r:
                kind = "refused" if r["refused"] else "FAILED"
                print(f"  {kind} {c} seed {r['job'][1]}: {r['error'][:110]}")
    print("\nmean |error| ° of the analysis (soft-tissue floor °), judged matched reps")
    print(f"{'condition':18s} " + " ".join(f"{SHORT[m]:>13s}" for m in METRICS))
    for c in [*order, "ALL"]:
        judged = [p for ps in pooled.values() for p in ps] if c == "ALL" else pooled[c]
        cells = []
        for m in METRICS:
            ok = [
                p
                for p in judged
                if None not in (p["est"].get(m), p["truth"].get(m), p["skin"].get(m))
            ]
            if not ok:
                cells.append(f"{'–':>13s}")
                continue
            err = sum(abs(p["est"][m] - p["truth"][m]) for p in ok) / len(ok)
            floor = sum(abs(p["skin"][m] - p["truth"][m]) for p in ok) / len(ok)
            cells.append(f"{err:6.2f} ({floor:4.2f})")
        print(f"{c:18s} " + " ".join(cells))
    print(f"\nrule F1 on judged reps ≥ {MARGIN_DEG:g}° from the threshold (– = no such reps)")
    print(f"{'condition':18s} " + " ".join(f"{r.rule_id[:8]:>8s}" for r in rules))
    for c in order:
        cells = [_f(prf(*rule_counts(r, pooled[c])[:3])[2], 8, 2) for r in rules]
        print(f"{c:18s} " + " ".join(cells))
    everything = [p for ps in pooled.values() for p in ps]
    print(
        f"\nall conditions: {'rule':16s} {'TP':>4s} {'FP':>4s} {'FN':>4s} {'TN':>5s} "
        f"{'prec':>6s} {'recall':>6s} {'F1':>6s}"
    )
    for rule in rules:
        tp, fp, fn, tn = rule_counts(rule, everything)
        prec, rec, f1 = prf(tp, fp, fn)
        print(
            f"{'':16s} {rule.rule_id:16s} {tp:4d} {fp:4d} {fn:4d} {tn:5d} "
            f"{_f(prec)} {_f(rec)} {_f(f1)}"
        )


def main_real(a: argparse.Namespace) -> int:
    conditions = a.conditions.split(",") if a.conditions else list(REAL_CONDITIONS)
    unknown = [c for c in conditions if c not in REAL_CONDITIONS]
    if unknown:
        print(
            f"unknown condition(s) {', '.join(unknown)}; known: {', '.join(REAL_CONDITIONS)}",
            file=sys.stderr,
        )
        return 2
    # two seeds by default (2 and 3 sets); one 30-minute session is enough
    jobs = [
        (c, 200 + s)
        for s in range(a.seeds or 2)
        for c in conditions
        if c != "warming_30min" or s == 0
    ]
    # the long session first, so it does not finish last on its own
    jobs.sort(key=lambda j: j[0] != "warming_30min")
    t0 = time.perf_counter()
    print(
        f"accuracy benchmark (real): {len(jobs)} simulated sessions, {a.jobs} processes",
        file=sys.stderr,
    )
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        results = list(pool.map(run_real, jobs))
    summarise_real(results)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="all presets, both mountings, 4 seeds")
    ap.add_argument("--presets", default=None, help="comma-separated presets")
    ap.add_argument("--mountings", default=None, help="comma-separated mountings")
    ap.add_argument(
        "--seeds", type=int, default=None, help="seeds per cell (real: 2, the 30-min session 1)"
    )
    ap.add_argument("--mistakes", default=None, help="comma-separated mistakes (or none)")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--soft-tissue",
        type=float,
        default=None,
        help="override the presets' soft-tissue artefact (deg/deg; 0 = none)",
    )
    ap.add_argument(
        "--preset",
        choices=("classic", "real"),
        default="classic",
        help="classic: the matrix of clean/typical/harsh; real: what people record",
    )
    ap.add_argument(
        "--conditions", default=None, help="with --preset real: comma-separated conditions"
    )
    a = ap.parse_args(argv)
    if a.preset == "real":
        return main_real(a)
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
