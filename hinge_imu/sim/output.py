"""Write a simulation beside its truth: ``x.csv`` → ``x.truth.json``
(and ``x.truth_angles.csv`` on request). Every file is written atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hinge_imu.atomic import atomic_write
from hinge_imu.conventions import recording_stem
from hinge_imu.errors import HingeImuError
from hinge_imu.sim.generate import Simulation


def sidecar_paths(path: str | Path) -> tuple[Path, Path]:
    """``(truth_json, truth_angles_csv)`` for a recording path (.csv or .csv.gz)."""
    p = Path(path)
    stem = recording_stem(p.name)
    if stem is None:
        raise HingeImuError("output must end in .csv or .csv.gz", p)
    return p.with_name(stem + ".truth.json"), p.with_name(stem + ".truth_angles.csv")


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf → null (JSON has no NaN)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


def truth_json_text(sim: Simulation) -> str:
    return json.dumps(_clean(sim.truth), indent=1, allow_nan=False) + "\n"


def write_simulation(sim: Simulation, path: str | Path, truth_angles: bool = False) -> list[Path]:
    """Write recording, truth JSON and optionally the true angles; return the paths."""
    from hinge_imu.recording import write_recording

    truth_path, angles_path = sidecar_paths(path)
    write_recording(path, sim.recording)
    with atomic_write(truth_path, "w", encoding="utf-8") as fh:
        fh.write(truth_json_text(sim))
    written = [Path(path), truth_path]
    if truth_angles:
        with atomic_write(angles_path, "w", encoding="utf-8") as fh:
            fh.write("# SIMULATED true angles (degrees) from hinge-imu simulate\n")
            sim.truth_angles.to_csv(fh, index=False, float_format="%.4f", lineterminator="\n")
        written.append(angles_path)
    return written
