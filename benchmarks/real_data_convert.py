"""Converters from third-party IMU datasets to hinge-imu recordings (REAL data),
and what the converted data shows before any analysis (rest levels, stillness).

Used by ``benchmarks/real_data.py``; kept beside it, not in the package: the
datasets are not ours and their layouts are theirs. Each converter reads one
set/trial as the dataset ships it and returns a :class:`hinge_imu.Recording`
in our units (m/s², deg/s, s) and sensor names, plus the dataset's own hand
labels. The header of every recording says it is a real recording of a person,
which dataset it came from, and which body places stand in for ours (e.g.
"waist for pelvis") — nothing here is simulated.

Datasets (how to fetch them: ``benchmarks/real_data.py``, docs/benchmarks.md):

* ``squat-rt``: choijaeh01/Squat-Realtime-Classifier, ``squat_classifier_ssl/data``.
  Three IMUs (waist ``s0``, thigh ``s1``, calf ``s2``), ~110 Hz, acc in m/s²,
  gyro in rad/s; ``millis`` is the logger's clock in ms. Five classes of squat
  form, two sets per subject and class, every rep's window marked by hand.
* ``ipol-gait``: CyrilVoisard/ipol_dataset_1, ``GaitData``. Xsens MTw Awinda on
  the lower back (L5) and both feet, 100 Hz, acc in m/s², gyro in rad/s; stand,
  walk 10 m, turn, walk back, stop. Footsteps marked (checked by hand).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hinge_imu.samples import Recording, SensorStream

DEG_PER_RAD = 180.0 / math.pi

#: squat-rt logger columns → our sensor name, and what the dataset calls the place.
SQUAT_RT_SENSORS: Mapping[str, tuple[str, str]] = {
    "s0": ("pelvis", "waist (허리) for pelvis"),
    "s1": ("thigh", "thigh"),
    "s2": ("shank", "calf for shank"),
}
#: squat-rt class folders → the form the subjects were asked to squat with.
SQUAT_RT_CLASSES: Mapping[str, str] = {
    "class0": "correct squat",
    "class1": "knee valgus",
    "class2": "butt wink",
    "class3": "excessive lean",
    "class4": "partial squat",
    "ssl": "unlabelled form",
}
#: ipol-gait file suffix → our sensor name and the dataset's place.
IPOL_SENSORS: Mapping[str, tuple[str, str]] = {
    "lb": ("pelvis", "lower back (L5) for pelvis"),
    "rf": ("foot", "right foot"),
}
IPOL_RATE_HZ = 100.0
G_MPS2 = 9.80665
#: Gyro thresholds of our own still test (deg/s), and its smoothing window (s).
STILL_DPS = (6.0, 10.0, 15.0)
STILL_SMOOTH_S = 0.2


class DatasetError(Exception):
    """A dataset file is not laid out as its converter expects (one line)."""


@dataclass(frozen=True)
class LabelledRecording:
    """One converted set/trial and what the dataset's labels say about it.

    Attributes:
        name: ``<dataset>/<class>/<file stem>``.
        group: the class or activity (e.g. ``knee valgus``, ``walking``).
        recording: the converted recording (our units and names).
        reps_s: hand-labelled rep windows, ``[start, end)`` in recording time, s.
        expected_reps: reps a correct analysis finds (0 for walking).
        steps: footsteps the labels mark (walking trials), else 0.
        first_motion_s: when the first labelled movement starts, s (the
            longest a stance before the set can be; the person may still be
            moving before it).
    """

    name: str
    group: str
    recording: Recording
    reps_s: tuple[tuple[float, float], ...]
    expected_reps: int
    steps: int
    first_motion_s: float


def _stream(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_rps: np.ndarray,
    seq: np.ndarray | None,
    rate_hz: float | None = None,
) -> SensorStream:
    """One SensorStream in our units from times in s, acc in m/s², gyro in rad/s."""
    return SensorStream(
        t_s=np.ascontiguousarray(t_s, dtype=float),
        acc_mps2=np.ascontiguousarray(acc_mps2, dtype=float),
        gyr_dps=np.ascontiguousarray(gyr_rps, dtype=float) * DEG_PER_RAD,
        seq=None if seq is None else np.ascontiguousarray(seq, dtype=np.int64),
        rate_hz=rate_hz,
    )


def _check_time(t_s: np.ndarray, path: Path, first_data_line: int) -> None:
    """One line naming the file and line when the time column is unusable."""
    if t_s.size < 2 or not np.all(np.isfinite(t_s)):
        raise DatasetError(f"{path}: no usable time column")
    back = np.nonzero(np.diff(t_s) <= 0)[0]
    if back.size:
        raise DatasetError(f"{path}:{first_data_line + back[0] + 1}: time does not increase")


def drop_repeated(counter: np.ndarray) -> np.ndarray:
    """Mask keeping the samples whose counter rises past every earlier one.

    A logger that sent one packet twice repeats its counter; the copy is
    dropped (not the original) so the time column increases again.
    """
    if counter.size == 0:
        return np.zeros(0, dtype=bool)
    best = np.maximum.accumulate(counter)
    keep = np.ones(counter.size, dtype=bool)
    keep[1:] = counter[1:] > best[:-1]
    return keep


def _floats(df: pd.DataFrame, cols: Sequence[str], path: Path, first_data_line: int) -> np.ndarray:
    """Columns as floats; one line naming the first non-numeric or missing value."""
    try:
        out = df[list(cols)].to_numpy(dtype=float)
    except ValueError:
        out = df[list(cols)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = np.nonzero(~np.isfinite(out).all(axis=1))[0]
    if bad.size:
        raise DatasetError(
            f"{path}:{first_data_line + bad[0]}: a value in {', '.join(cols)} "
            "is missing or not a number"
        )
    return out


def _header(dataset: str, places: Sequence[str], extra: Mapping[str, str]) -> dict[str, str]:
    return {
        # Not the word "simulated", even negated: readers flag a header holding it.
        "note": f"real recording of a person (third-party dataset {dataset})",
        "dataset": dataset,
        "placement": "; ".join(places),
        **extra,
    }


def read_squat_rt_set(csv_path: Path, labels_json: Path | None, group: str) -> LabelledRecording:
    """One squat-rt set: the raw logger CSV and its hand-labelled rep windows.

    The labels give each rep as raw sample indices ``[start_sample, end_sample)``;
    their ``start_time`` assumed 100 Hz, the logger ran at ~110 Hz, so the
    indices, not those times, are mapped onto the ``millis`` clock.
    """
    try:
        df = pd.read_csv(csv_path)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{csv_path}: cannot read ({err})") from None
    need = ["millis"] + [f"{s}_{k}{a}" for s in SQUAT_RT_SENSORS for k in "ag" for a in "xyz"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DatasetError(f"{csv_path}: missing column {missing[0]!r}")
    millis = _floats(df, ["millis"], csv_path, 2)[:, 0]
    t_s = (millis - millis[0]) / 1000.0
    _check_time(t_s, csv_path, first_data_line=2)
    seq = df["seq"].to_numpy() if "seq" in df.columns else None
    sensors = {}
    for col, (ours, _place) in SQUAT_RT_SENSORS.items():
        acc = _floats(df, [f"{col}_ax", f"{col}_ay", f"{col}_az"], csv_path, 2)
        gyr = _floats(df, [f"{col}_gx", f"{col}_gy", f"{col}_gz"], csv_path, 2)
        sensors[ours] = _stream(t_s, acc, gyr, seq)
    reps: list[tuple[float, float]] = []
    if labels_json is not None:
        for lo, hi in squat_rt_windows(labels_json):
            lo_i, hi_i = max(0, min(lo, len(t_s) - 1)), max(0, min(hi, len(t_s) - 1))
            reps.append((float(t_s[lo_i]), float(t_s[hi_i])))
    header = _header(
        "choijaeh01/Squat-Realtime-Classifier",
        [*(p for _c, (_o, p) in SQUAT_RT_SENSORS.items()), "thigh side not stated (right assumed)"],
        {"subject": csv_path.stem.split("_")[0], "side": "right"},
    )
    name = f"squat-rt/{csv_path.parent.name}/{csv_path.stem}"
    rec = Recording(sensors=sensors, header=header, source=name)
    first = reps[0][0] if reps else float("nan")
    return LabelledRecording(name, group, rec, tuple(reps), len(reps), 0, first)


def squat_rt_windows(labels_json: Path) -> list[tuple[int, int]]:
    """The hand-labelled rep windows of one set, raw sample indices ``[start, end)``."""
    try:
        meta = json.loads(labels_json.read_text(encoding="utf-8"))
        windows = [(int(w["start_sample"]), int(w["end_sample"])) for w in meta["windows"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DatasetError(f"{labels_json}: not a labels file ({err})") from None
    if len(windows) != int(meta.get("num_windows", len(windows))):
        raise DatasetError(f"{labels_json}: num_windows does not match the windows listed")
    return sorted(windows)


def squat_rt_sets(data_dir: Path) -> list[tuple[Path, Path | None, str]]:
    """Every (raw CSV, labels JSON or None, group) of a squat-rt ``data`` folder."""
    raw, labelled = data_dir / "raw", data_dir / "manually_labeled"
    if not raw.is_dir():
        raise DatasetError(f"{data_dir}: no raw/ folder (give squat_classifier_ssl/data)")
    out: list[tuple[Path, Path | None, str]] = []
    for csv in sorted(raw.glob("labeled/class*/*.csv")) + sorted(raw.glob("unlabeled/*.csv")):
        cls = csv.parent.name if csv.parent.name.startswith("class") else "ssl"
        meta = labelled / cls / f"{csv.stem}_metadata.json"
        out.append((csv, meta if meta.is_file() else None, SQUAT_RT_CLASSES.get(cls, cls)))
    return out


def _read_xsens_txt(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", skiprows=1)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot read ({err})") from None


def read_ipol_trial(gait_dir: Path, code: str) -> LabelledRecording:
    """One ipol-gait trial (``<subject>-<trial>``): lower back and right foot, no reps.

    Time comes from the Xsens ``PacketCounter`` at 100 Hz; a repeated packet
    (one trial has one) is dropped and the header says how many were.
    """
    sensors = {}
    dropped = 0
    for suffix, (ours, _place) in IPOL_SENSORS.items():
        path = gait_dir / f"{code}_{suffix}.txt"
        df = _read_xsens_txt(path)
        cols = ["PacketCounter", "Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z"]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DatasetError(f"{path}: missing column {missing[0]!r}")
        counter = _floats(df, ["PacketCounter"], path, 3)[:, 0]
        keep = drop_repeated(counter)
        dropped += int(np.sum(~keep))
        counter = counter[keep]
        t_s = (counter - counter[0]) / IPOL_RATE_HZ
        _check_time(t_s, path, first_data_line=3)
        sensors[ours] = _stream(
            t_s,
            _floats(df, ["Acc_X", "Acc_Y", "Acc_Z"], path, 3)[keep],
            _floats(df, ["Gyr_X", "Gyr_Y", "Gyr_Z"], path, 3)[keep],
            counter.astype(np.int64),
            IPOL_RATE_HZ,
        )
    meta_path = gait_dir / f"{code}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        steps = len(meta["LeftFootEvents"]) + len(meta["RightFootEvents"])
        first = float(meta["TrialBoundaries"][0]) / IPOL_RATE_HZ
    except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
        raise DatasetError(f"{meta_path}: not a trial metadata file ({err})") from None
    header = _header(
        "CyrilVoisard/ipol_dataset_1",
        [p for _s, (_o, p) in IPOL_SENSORS.items()],
        {
            "subject": str(meta.get("Subject", "")),
            "rate_hz.pelvis": "100",
            "rate_hz.foot": "100",
            "repeated_packets_dropped": str(dropped),
        },
    )
    name = f"ipol-gait/{code}"
    rec = Recording(sensors=sensors, header=header, source=name)
    return LabelledRecording(name, "walking", rec, (), 0, steps, first)


def ipol_trials(gait_dir: Path) -> list[str]:
    """The trial codes of an ipol-gait ``GaitData`` folder, in subject/trial order."""
    if not gait_dir.is_dir():
        raise DatasetError(f"{gait_dir}: not a folder (give the GaitData folder)")
    codes = [p.name[: -len("_lb.txt")] for p in gait_dir.glob("*_lb.txt")]

    def key(code: str) -> tuple[int, ...]:
        return tuple(int(x) if x.isdigit() else 0 for x in code.split("-"))

    return sorted(codes, key=key)


# What the data shows before any analysis (the benchmark's descriptors).


def rest_stats(lr: LabelledRecording) -> dict[str, Any]:
    """Gyro bias and jitter, and |acc|, before the first labelled movement.

    Bias is the length of the median rate, jitter the median distance from it
    (deg/s), both the largest over the sensors; ``rest_acc_g`` maps each sensor
    to its median magnitude, in g (1.0 for a true accelerometer at rest).
    """
    end = lr.first_motion_s if np.isfinite(lr.first_motion_s) else 0.0
    bias, jitter = [], []
    acc: dict[str, float] = {}
    for name, s in lr.recording.sensors.items():
        sel = s.t_s < end
        if sel.sum() < 5:
            continue
        g = s.gyr_dps[sel]
        b = np.median(g, axis=0)
        bias.append(float(np.linalg.norm(b)))
        jitter.append(float(np.median(np.linalg.norm(g - b, axis=1))))
        acc[name] = float(np.median(np.linalg.norm(s.acc_mps2[sel], axis=1)) / G_MPS2)
    nan = float("nan")
    return {
        "rest_bias_dps": max(bias, default=nan),
        "rest_jitter_dps": max(jitter, default=nan),
        "rest_acc_g": acc,
    }


def longest_still(lr: LabelledRecording) -> dict[str, float]:
    """Longest time anywhere that every sensor turns slower than each threshold, s.

    Our own simple test, independent of the analysis': each sensor's rate is
    its gyro minus a rough bias (median of the samples under 20 °/s), averaged
    over ``STILL_SMOOTH_S``; "still" is every sensor under the threshold at once.
    """
    rec = lr.recording
    t0 = max(float(s.t_s[0]) for s in rec.sensors.values())
    t1 = min(float(s.t_s[-1]) for s in rec.sensors.values())
    step_s = 0.01
    grid = np.arange(t0, t1, step_s)
    if grid.size < 2:
        return {f"still_{thr:g}": 0.0 for thr in STILL_DPS}
    n = max(1, round(STILL_SMOOTH_S / step_s))
    worst = np.zeros(grid.size)
    for s in rec.sensors.values():
        g = np.column_stack([np.interp(grid, s.t_s, s.gyr_dps[:, k]) for k in range(3)])
        quiet = np.linalg.norm(g, axis=1) < 20.0
        g = g - (np.median(g[quiet], axis=0) if quiet.any() else 0.0)
        kernel = np.ones(n) / n
        sm = np.column_stack([np.convolve(g[:, k], kernel, mode="same") for k in range(3)])
        worst = np.maximum(worst, np.linalg.norm(sm, axis=1))
    out = {}
    for thr in STILL_DPS:
        best = run = 0
        for still in worst < thr:
            run = run + 1 if still else 0
            best = max(best, run)
        out[f"still_{thr:g}"] = best * step_s
    return out
