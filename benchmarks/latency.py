"""Live coaching latency, CPU and memory on SIMULATED reps with known truth.

Replays a simulated session (3 sensors at 200 Hz, mistakes injected in most
reps) through the full live session — live calibration, streaming core,
in-rep monitor, quality gate, schedule ``every``, events file, recording
writer, WAV renderer — in real time, with an audio player whose "device"
notes the moment each sound is started. Prints:

* processing latency: block with the deciding sample delivered → sound
  started (target p95 ≤ 20 ms);
* detection delay: the simulator's true moment of the mistake
  (``t_violation_s``) → sound, for in-rep rules (target p95 ≤ 150 ms); the
  true end of the rep → sound / verdict, for the lockout rules (target
  p95 ≤ 400 ms). Rules that are not heavy enough to sound are measured to
  their event;
* CPU share of one core during the real-time replay (target ≤ 5 %);
* memory (RSS) over a long replay at speed 0: first vs last sample (flat?).

Usage::

    .venv/bin/python benchmarks/latency.py                 # 20 reps real time + 20 min memory run
    .venv/bin/python benchmarks/latency.py --reps 60 --hours 2
    .venv/bin/python benchmarks/latency.py --speed 4       # faster (delays in session time)

Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from hinge_imu.core.live import LiveAnalyser
from hinge_imu.core.rules import load_rules
from hinge_imu.events import EventWriter
from hinge_imu.live.feedback import AudioPlayer, WavRenderer
from hinge_imu.live.inrep import IN_REP_RULES
from hinge_imu.live.quality_gate import QualityGate
from hinge_imu.live.schedules import FeedbackSchedule
from hinge_imu.live.session import LiveSession, SessionOutputs
from hinge_imu.live.sources import ReplaySource
from hinge_imu.recording import RecordingWriter
from hinge_imu.samples import LinkEvent, Recording, SampleBlock
from hinge_imu.sim.config import SimConfig
from hinge_imu.sim.generate import simulate

RATES_HZ = {"thigh": 200.0, "pelvis": 200.0, "upper_back": 200.0}
#: One mistake per rep, cycling; empty = a good rep.
CYCLE: tuple[dict[str, None], ...] = (
    {"back_rounded": None},
    {"squatting": None},
    {},
    {"knees_caving": None},
    {"back_arched": None},
    {"knees_forward": None},
    {"no_lockout": None},
    {"back_rounded": None},
    {"shallow_hinge": None},
    {"ribs_flared": None},
)


class StampedEvents(EventWriter):
    """Events with the wall-clock moment each was written (``_wall_s``)."""

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = super().emit(kind, **fields)
        event["_wall_s"] = time.perf_counter()
        return event


def sim_session(reps: int, seed: int = 5) -> Any:
    sets = max(1, reps // 10)
    per_set = int(np.ceil(reps / sets))
    mistakes = [CYCLE[i % len(CYCLE)] for i in range(per_set * sets)]
    cfg = SimConfig.preset(
        "typical", reps=per_set, sets=sets, seed=seed, mistakes=mistakes, rates_hz=RATES_HZ
    )
    return simulate(cfg)


def build(
    rec: Recording, tmp: Path, player: AudioPlayer | None, keep_events: bool = True
) -> tuple[LiveSession, Any]:
    rules = load_rules()
    events = StampedEvents(tmp / "events.jsonl", keep_history=keep_events)
    writer = RecordingWriter(tmp / "rec.csv", dict(rec.header), with_seq=True)

    def record(b: SampleBlock) -> None:
        writer.write_block(b.sensor, b.t_s, b.acc_mps2, b.gyr_dps, b.mag_ut, b.seq)

    gate = QualityGate()
    for name, s in rec.sensors.items():
        gate.add_sensor(name, s.rate_hz)
    session = LiveSession(
        LiveAnalyser(rec.ordered_sensor_names(), rules, side=rec.side),
        rules,
        FeedbackSchedule("every"),
        gate=gate,
        outputs=SessionOutputs(events, player, WavRenderer(tmp / "o.wav"), None, record),
        source_name="benchmark (SIMULATED)",
    )
    return session, writer


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def row(name: str, values: list[float], unit: str, target: str) -> str:
    if not values:
        return f"| {name} | 0 | – | – | – | {target} |"
    return (
        f"| {name} | {len(values)} | {np.median(values):.1f} {unit} | {pct(values, 95):.1f} {unit}"
        f" | {max(values):.1f} {unit} | {target} |"
    )


def latency_run(reps: int, speed: float) -> None:
    sim = sim_session(reps)
    rec = sim.recording
    started: list[tuple[str, float]] = []  # (sound, perf_counter when the "device" started it)
    player = AudioPlayer(lambda w, fs: started.append(("", time.perf_counter())))
    with tempfile.TemporaryDirectory() as d:
        session, writer = build(rec, Path(d), player)
        source = ReplaySource(rec, speed=speed)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        session.run(source)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        writer.close()
        events: list[dict[str, Any]] = session.out.events.history
        session.out.events.close()
    t0 = source.wall0_s

    def session_time(wall_s: float) -> float:
        return (wall_s - t0) * speed

    # Sounds as the device started them, in issue order (the player is FIFO).
    feedback = [e for e in events if e["event"] == "feedback"]
    for e, (_, start) in zip(feedback, started, strict=True):
        e["_started_s"] = start
    # Delivered (handed-over time minus its latency) → started by the device.
    processing = [
        (start - (cue.wall_s - cue.latency_ms / 1e3)) * 1e3
        for cue, (_, start) in zip(session.issued, started, strict=True)
    ]
    # Match true mistakes to what the session did.
    in_rep_delay: dict[str, list[float]] = defaultdict(list)
    lockout_delay: dict[str, list[float]] = defaultdict(list)
    missed: dict[str, int] = defaultdict(int)
    warn_events = [e for e in events if e["event"] == "in_rep_warning"]
    rep_events = [e for e in events if e["event"] == "rep"]
    calibrated_at = next(e["t"] for e in events if e["event"] == "calibrated")
    for truth in sim.truth["reps"]:
        if truth["t_end"] < calibrated_at + 1.0:
            continue  # the first rep calibrates; it is judged after it
        for rule, t_true in truth["t_violation_s"].items():
            if rule in IN_REP_RULES:
                hit = [
                    w
                    for w in warn_events
                    if w["rule"] == rule
                    and truth["t_start"] - 0.5 <= w["t_sample"] <= truth["t_end"]
                ]
                if not hit:
                    missed[rule] += 1
                    continue
                w = hit[0]
                fb = next(
                    (f for f in feedback if f["sound"] == "in_rep_warning" and f["t"] == w["t"]),
                    None,
                )
                heard_s = fb["_started_s"] if fb else w["_wall_s"]
                in_rep_delay[rule + ("" if fb else " (event)")].append(
                    (session_time(heard_s) - t_true) * 1e3
                )
            else:
                rep = next((r for r in rep_events if abs(r["t_end"] - truth["t_end"]) < 1.0), None)
                if rep is None or rule not in rep["mistakes"]:
                    missed[rule] += 1
                    continue
                fb = next(
                    (f for f in feedback if f["sound"] == "bad_rep" and f["rep"] == rep["rep"]),
                    None,
                )
                heard_s = fb["_started_s"] if fb else rep["_wall_s"]
                lockout_delay[rule + ("" if fb else " (event)")].append(
                    (session_time(heard_s) - truth["t_end"]) * 1e3
                )
    dur = rec.duration_s
    print(
        f"\n## Latency: {len(sim.truth['reps'])} SIMULATED reps, 3 sensors × 200 Hz, "
        f"replayed at speed {speed:g} ({dur:.0f} s of data, {wall:.0f} s wall)\n"
    )
    print("| measure | n | median | p95 | max | target |")
    print("|---|---|---|---|---|---|")
    print(row("processing: sample delivered → sound started", processing, "ms", "p95 ≤ 20 ms"))
    handover = [c.latency_ms for c in session.issued]
    print(row("  of which: delivered → handed to the player", handover, "ms", "–"))
    rep_lat = [r["latency_ms"] for r in rep_events]
    print(row("rep event latency_ms (lockout confirmed → verdict/sound)", rep_lat, "ms", "–"))
    all_in = [v for k, vs in in_rep_delay.items() if "(event)" not in k for v in vs]
    print(row("detection, in-rep rules (sound) — all", all_in, "ms", "p95 ≤ 150 ms"))
    for k in sorted(in_rep_delay):
        print(row(f"  {k}: true violation → sound", in_rep_delay[k], "ms", "p95 ≤ 150 ms"))
    all_lock = [v for vs in lockout_delay.values() for v in vs]
    print(row("detection, lockout rules — all", all_lock, "ms", "p95 ≤ 400 ms"))
    for k in sorted(lockout_delay):
        print(row(f"  {k}: true rep end → sound", lockout_delay[k], "ms", "p95 ≤ 400 ms"))
    if missed:
        print("\nnot detected (rule: reps): " + ", ".join(f"{k}: {v}" for k, v in missed.items()))
    print(
        f"\nCPU: {cpu:.2f} s for {wall:.1f} s wall = **{100 * cpu / wall:.1f} % of one core** "
        f"(target ≤ 5 %); {len(rep_events)} reps, {len(feedback)} sounds"
    )


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def looped(
    rec: Recording, times: int, samples: list[tuple[float, float]]
) -> Iterator[SampleBlock | LinkEvent]:
    """``rec`` replayed ``times`` times back to back (speed 0), RSS noted every 60 s of data."""
    dur = rec.duration_s + 0.5
    next_note = 0.0
    for k in range(times):
        for item in ReplaySource(rec, speed=0):
            if isinstance(item, LinkEvent):
                if k == 0 and item.kind == "connected":
                    yield item
                continue
            shifted = replace(
                item,
                t_s=item.t_s + k * dur,
                seq=None if item.seq is None else item.seq + k * 10_000_000,
            )
            if shifted.t_s[-1] >= next_note:
                samples.append((float(shifted.t_s[-1]), rss_mb()))
                next_note += 60.0
            yield shifted


def memory_run(hours: float) -> None:
    sim = sim_session(30, seed=9)
    rec = sim.recording
    times = int(np.ceil(hours * 3600 / (rec.duration_s + 0.5)))
    notes: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as d:
        session, writer = build(rec, Path(d), None, keep_events=False)
        t0 = time.perf_counter()
        session.run(looped(rec, times, notes))
        wall = time.perf_counter() - t0
        writer.close()
        session.out.events.close()
    t = np.array([n[0] for n in notes])
    mb = np.array([n[1] for n in notes])
    print(
        f"\n## Memory: {t[-1] / 3600:.2f} h of SIMULATED data (3 × 200 Hz) at speed 0, "
        f"{session.counts['reps']} reps, {wall:.0f} s wall\n"
    )
    print("| session time | RSS |")
    print("|---|---|")
    marks = sorted({0, len(t) // 4, len(t) // 2, 3 * len(t) // 4, len(t) - 1})
    for i in marks:
        print(f"| {t[i] / 60:.0f} min | {mb[i]:.1f} MB |")
    # After the first 10 minutes (imports, caches, buffers filling up).
    later = t > 600
    slope = np.polyfit(t[later] / 3600, mb[later], 1)[0] if later.sum() > 2 else float("nan")
    print(
        f"\nfirst vs last: {mb[0]:.1f} MB → {mb[-1]:.1f} MB; "
        f"trend after 10 min: {slope:+.2f} MB per hour"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--reps", type=int, default=20, help="reps in the latency run (default 20)")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = real time)")
    p.add_argument("--hours", type=float, default=1 / 3, help="memory run length (default 20 min)")
    p.add_argument("--skip-memory", action="store_true")
    args = p.parse_args()
    latency_run(args.reps, args.speed)
    if not args.skip_memory:
        memory_run(args.hours)


if __name__ == "__main__":
    main()
