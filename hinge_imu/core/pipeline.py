"""Offline analysis of one recording: ``analyse(path_or_recording) -> Session``.

The recording is put on the analysis grid once; calibration may look at
all of it (the flexion axis is found from the movement itself,
``calibration.calibrate_grid``); then the SAME stages the live analyser feeds
(:class:`~hinge_imu.core.stream.AnalysisStages`) run over that grid in big
blocks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from hinge_imu.conventions import ANGLE_NAMES, CORE_SENSORS
from hinge_imu.core.calibration import Calibration, NoStanceError, calibrate_grid
from hinge_imu.core.results import RepResult, SensorQuality, Session, angle_columns
from hinge_imu.core.rules import RuleSet, load_rules
from hinge_imu.core.step import AnalysisStep
from hinge_imu.core.stream import AnalysisSettings, AnalysisStages, missing_sensor_warnings
from hinge_imu.core.timegrid import GridChunk, GridResampler
from hinge_imu.errors import RecordingError
from hinge_imu.recording.tolerate import mark_saturation
from hinge_imu.samples import Recording, SensorStream, count_lost

__all__ = ["AnalysisSettings", "Session", "analyse", "calibrate_recording", "grid_recording"]

#: Offline block size per sensor, grid ticks: big enough that the per-block
#: Python is nothing, small enough that a block's arrays (~1 MB each) stay in
#: the CPU's cache through the chain's passes (the 1-hour benchmark: 5 % less
#: CPU and 25 MB less memory than 200 000; 25 000 is no faster).
OFFLINE_BLOCK = 50_000


def _quality(name: str, s: SensorStream, gap_runs: list[tuple[float, float]]) -> SensorQuality:
    n = len(s)
    rate = s.rate_hz or s.estimated_rate_hz
    lost = count_lost(s.seq, s.t_s, rate).n_lost
    return SensorQuality(
        sensor=name,
        samples=n,
        rate_hz=round(float(s.estimated_rate_hz), 2),
        lost_samples=lost,
        long_gaps_s=tuple(gap_runs),
        saturated_s=s.saturated_s,
    )


def _gap_runs(t_s: np.ndarray, max_bridge_s: float) -> list[tuple[float, float]]:
    if t_s.size < 2:
        return []
    d = np.diff(t_s)
    idx = np.nonzero(d > max_bridge_s)[0]
    return [(round(float(t_s[i]), 3), round(float(t_s[i + 1]), 3)) for i in idx]


def grid_recording(
    rec: Recording, settings: AnalysisSettings | None = None
) -> dict[str, GridChunk]:
    """Every sensor of a recording resampled onto the analysis grid (one chunk each)."""
    st = settings or AnalysisSettings()
    return {
        name: GridResampler(st.grid).update(s.t_s, s.acc_mps2, s.gyr_dps)
        for name, s in ((n, rec.sensors[n]) for n in rec.ordered_sensor_names())
    }


def calibrate_recording(
    rec: Recording,
    settings: AnalysisSettings | None = None,
    grid: Mapping[str, GridChunk] | None = None,
) -> Calibration:
    """Calibrate every sensor of a recording (whole-recording look allowed).

    ``grid`` is the recording on the grid if already made (``grid_recording``).
    Raises RecordingError (one line, naming the file) when no still standing
    period exists.
    """
    st = settings or AnalysisSettings()
    chunks = grid if grid is not None else grid_recording(rec, st)
    try:
        return calibrate_grid(
            chunks, st.grid.rate_hz, st.calibration, st.orientation(), st.rest_bias, st.acc_fit
        )
    except NoStanceError as err:
        raise RecordingError(str(err), rec.source or None) from None


def _load(source: str | os.PathLike[str] | Recording) -> Recording:
    if isinstance(source, Recording):
        if any(s.saturated_s for s in source.sensors.values()):
            return source  # the reader marked its saturated stretches already
        # Made in memory (the simulator, a user's own data): looked for as the reader does.
        warnings: list[str] = []
        sensors = mark_saturation(dict(source.sensors), source.source or "recording", warnings)
        return replace(source, sensors=sensors, warnings=(*source.warnings, *warnings))
    # The reader only (not the writers of the ``recording`` facade): less to import.
    from hinge_imu.recording.read import read_recording

    return read_recording(source)


def _saturated_during(rec: Recording, rep: RepResult) -> list[str]:
    """The sensors held at their range limit at some moment of the rep."""
    t0, t1 = rep.metrics.t_start, rep.metrics.t_end
    return [n for n, s in rec.sensors.items() if any(x.overlaps(t0, t1) for x in s.saturated_s)]


def analyse(
    source: str | os.PathLike[str] | Recording,
    rules: RuleSet | str | os.PathLike[str] | None = None,
    settings: AnalysisSettings | None = None,
) -> Session:
    """Analyse one recording: calibrate, estimate the angles, find and judge every rep.

    Args:
        source: a recording file path (docs/recording-format.md) or a ``Recording``.
        rules: a ``RuleSet``, a rules TOML path, or None for the defaults.
        settings: analysis settings (defaults suit 50–200 Hz sensors).

    Raises RecordingError for a malformed recording (one line, naming the file).
    """
    st = settings or AnalysisSettings()
    rec = _load(source)
    rs = rules if isinstance(rules, RuleSet) else load_rules(None if rules is None else str(rules))
    if "pelvis" not in rec.sensors or len(rec.sensors["pelvis"]) == 0:
        raise RecordingError("no pelvis sensor (the pelvis sensor is required)", rec.source or None)
    grid = grid_recording(rec, st)
    # Offline's look at the whole recording: each accelerometer's scale and
    # offset where the calibration fitted them (the stages read it corrected).
    cal = calibrate_recording(rec, st, grid)
    stages = AnalysisStages(cal, rs, st, side=rec.side)
    names = rec.ordered_sensor_names()
    t_parts: list[np.ndarray] = []
    a_parts: dict[str, list[np.ndarray]] = {a: [] for a in ANGLE_NAMES}
    reps: list[RepResult] = []

    def keep(step: AnalysisStep) -> None:
        if step.t_s.size:
            t_parts.append(step.t_s)
            for a in ANGLE_NAMES:
                a_parts[a].append(step.angles_deg[a])
        reps.extend(step.reps)

    # The same stages as live, fed the grid the calibration already made, in
    # big blocks (fast, bounded memory); each filter first settled backward
    # over the start, so reps are found from the first sample on.
    for name in names:
        stages.lead_in(name, grid[name])
    longest = max(len(c) for c in grid.values())
    for lo in range(0, longest, OFFLINE_BLOCK):
        for name in names:
            c = grid[name]
            if lo < len(c):
                hi = lo + OFFLINE_BLOCK
                part = GridChunk(c.k0 + lo, c.acc_mps2[lo:hi], c.gyr_dps[lo:hi], c.gap[lo:hi])
                keep(stages.update(name, part))
    keep(stages.finish())
    reps = [r.unless_saturated(_saturated_during(rec, r), rs) for r in reps]
    # plain columns: Session.angles makes the DataFrame when first read
    angles = {"t_s": np.concatenate(t_parts) if t_parts else np.zeros(0)}
    for a in ANGLE_NAMES:
        angles[f"{a}_deg"] = np.concatenate(a_parts[a]) if a_parts[a] else np.zeros(0)
    quality = {
        n: _quality(n, rec.sensors[n], _gap_runs(rec.sensors[n].t_s, st.grid.max_bridge_s))
        for n in names
    }
    missing = tuple(s for s in CORE_SENSORS if s not in rec.sensors)
    # The reader's warnings first: they name FILE:LINE.
    warnings = [*rec.warnings, *cal.messages, *missing_sensor_warnings(names)]
    for q in quality.values():
        if q.long_gaps_s:
            warnings.append(
                f"{q.sensor}: {len(q.long_gaps_s)} gap(s) too long to bridge; reps there not judged"
            )
    return Session(
        source=rec.source,
        header=dict(rec.header),
        rules=rs,
        angles=angle_columns(angles),
        reps=tuple(reps),
        calibration=dict(cal.sensors),
        quality=quality,
        missing_sensors=missing,
        warnings=tuple(warnings),
    )
