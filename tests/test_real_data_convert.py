"""The real-data benchmark's converters (benchmarks/real_data_convert.py).

No third-party data here: tiny files laid out as each dataset lays them out,
checking what a conversion can get wrong — units, sensor names, the clock,
the hand labels' mapping onto it, and one clear line for a bad file.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import real_data_convert as conv


def _squat_rt_csv(path: Path, n: int = 40, step_ms: int = 9) -> None:
    cols = ["timestamp", "seq", "millis", "q0", "q1", "q2"]
    cols += [f"s{i}_{k}{a}" for i in range(3) for k in "ag" for a in "xyz"]
    rows = [",".join(cols)]
    for k in range(n):
        vals = []
        for i in range(3):
            # acc (m/s²): gravity on x; gyro (rad/s): sensor i turns at 0.1·(i+1) about z.
            vals += [9.81, 0.0, 0.0, 0.0, 0.0, 0.1 * (i + 1)]
        rows.append(
            ",".join(["2025-01-01T00:00:00", str(100 + k), str(5000 + step_ms * k)])
            + ",0,0,0,"
            + ",".join(f"{v:g}" for v in vals)
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_squat_rt_set_units_names_clock_and_labels(tmp_path: Path) -> None:
    csv = tmp_path / "subject3_set1.csv"
    _squat_rt_csv(csv)
    labels = tmp_path / "subject3_set1_metadata.json"
    # Windows as raw sample indices; their start_time (100 Hz) is deliberately wrong.
    windows = [
        {"start_sample": 20, "end_sample": 30, "start_time": 0.2},
        {"start_sample": 5, "end_sample": 15, "start_time": 0.05},
    ]
    labels.write_text(json.dumps({"num_windows": 2, "windows": windows}), encoding="utf-8")

    lr = conv.read_squat_rt_set(csv, labels, "correct squat")

    rec = lr.recording
    assert set(rec.sensors) == {"pelvis", "thigh", "shank"}
    thigh = rec.sensors["thigh"]
    # rad/s → deg/s, and s1 is the thigh (0.2 rad/s).
    assert thigh.gyr_dps[0, 2] == pytest.approx(0.2 * 180 / math.pi)
    assert rec.sensors["pelvis"].gyr_dps[0, 2] == pytest.approx(0.1 * 180 / math.pi)
    assert thigh.acc_mps2[0, 0] == pytest.approx(9.81)
    # Time from the logger's millis (9 ms steps, ~111 Hz), starting at 0.
    assert thigh.t_s[0] == 0.0
    assert thigh.t_s[1] == pytest.approx(0.009)
    assert thigh.seq is not None and thigh.seq[0] == 100
    # Labels: sorted, and placed by sample index on the millis clock.
    assert lr.reps_s == (
        (pytest.approx(0.045), pytest.approx(0.135)),
        (pytest.approx(0.180), pytest.approx(0.270)),
    )
    assert lr.expected_reps == 2
    assert lr.first_motion_s == pytest.approx(0.045)
    # Labelled as real, never simulated, with the substituted places named.
    assert not rec.is_simulated
    assert "real recording" in rec.header["note"]
    assert "simulated" not in " ".join(rec.header.values()).lower()
    assert "waist (허리) for pelvis" in rec.header["placement"]
    assert rec.side == "right"


def test_squat_rt_bad_files_give_one_line(tmp_path: Path) -> None:
    csv = tmp_path / "subject1_set1.csv"
    csv.write_text("timestamp,millis,s0_ax\n1,2,3\n", encoding="utf-8")
    with pytest.raises(
        conv.DatasetError,
        match=r"subject1_set1.csv: missing column 'seq'|"
        r"subject1_set1.csv: missing column 's0_ay'",
    ):
        conv.read_squat_rt_set(csv, None, "x")
    _squat_rt_csv(csv, n=5, step_ms=0)
    with pytest.raises(conv.DatasetError, match=r"subject1_set1.csv:3: time does not increase"):
        conv.read_squat_rt_set(csv, None, "x")
    _squat_rt_csv(csv)
    bad = tmp_path / "labels.json"
    bad.write_text(json.dumps({"num_windows": 3, "windows": []}), encoding="utf-8")
    with pytest.raises(conv.DatasetError, match="num_windows does not match"):
        conv.read_squat_rt_set(csv, bad, "x")


def _ipol_txt(path: Path, counters: list[int]) -> None:
    lines = [
        "Acquisition frequency: 100 Hz",
        "PacketCounter\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z\tMag_X\tMag_Y\tMag_Z",
    ]
    for c in counters:
        lines.append(f"{c:.1f}\t0\t0\t9.8\t0\t{c / 100:g}\t0\t0\t0\t0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_ipol_trial_drops_a_repeated_packet_and_keeps_the_clock(tmp_path: Path) -> None:
    counters = [0, 1, 2, 2, 3, 4]  # packet 2 sent twice, as in one real trial
    for side in ("lb", "rf"):
        _ipol_txt(tmp_path / f"7-2_{side}.txt", counters)
    meta = {
        "Subject": 7,
        "TrialBoundaries": [250, 900],
        "LeftFootEvents": [[1, 2]] * 3,
        "RightFootEvents": [[1, 2]] * 4,
    }
    (tmp_path / "7-2.json").write_text(json.dumps(meta), encoding="utf-8")

    lr = conv.read_ipol_trial(tmp_path, "7-2")

    pelvis = lr.recording.sensors["pelvis"]
    assert set(lr.recording.sensors) == {"pelvis", "foot"}
    np.testing.assert_allclose(pelvis.t_s, [0.0, 0.01, 0.02, 0.03, 0.04])
    # The copy is dropped, the original kept: gyro y is counter/100 rad/s.
    np.testing.assert_allclose(
        pelvis.gyr_dps[:, 1], np.array([0, 1, 2, 3, 4]) / 100 * 180 / math.pi
    )
    assert lr.recording.header["repeated_packets_dropped"] == "2"  # one per sensor file
    assert lr.expected_reps == 0 and lr.steps == 7
    assert lr.first_motion_s == pytest.approx(2.5)
    assert "lower back (L5) for pelvis" in lr.recording.header["placement"]
    assert conv.ipol_trials(tmp_path) == ["7-2"]


def test_drop_repeated_keeps_first_of_each_counter() -> None:
    keep = conv.drop_repeated(np.array([5.0, 6.0, 6.0, 7.0, 6.0, 8.0]))
    assert keep.tolist() == [True, True, False, True, False, True]


def test_a_non_numeric_value_names_its_line(tmp_path: Path) -> None:
    csv = tmp_path / "subject2_set2.csv"
    _squat_rt_csv(csv, n=6)
    lines = csv.read_text(encoding="utf-8").splitlines()
    cells = lines[4].split(",")
    cells[10] = "n/a"  # s0_gy on the 4th sample, line 5 of the file
    lines[4] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(conv.DatasetError, match=r"subject2_set2.csv:5: a value in s0_gx"):
        conv.read_squat_rt_set(csv, None, "x")


def test_longest_still_and_rest_stats_see_a_biased_still_start() -> None:
    from hinge_imu.samples import Recording, SensorStream

    t = np.arange(0, 5.0, 0.01)
    gyr = np.zeros((t.size, 3))
    gyr[:, 0] = 8.0  # an 8 °/s bias all along: still is judged after removing it
    gyr[t >= 2.0, 2] = 30.0 * np.sin(2 * np.pi * t[t >= 2.0])  # then reps
    acc = np.tile([12.5, 0.0, 0.0], (t.size, 1))  # an accelerometer reading 1.27 g
    rec = Recording(sensors={"pelvis": SensorStream(t_s=t, acc_mps2=acc, gyr_dps=gyr)})
    lr = conv.LabelledRecording("x", "g", rec, ((2.0, 3.0),), 1, 0, 2.0)

    still = conv.longest_still(lr)
    assert still["still_6"] == pytest.approx(2.0, abs=0.15)
    assert still["still_15"] >= still["still_6"]
    rest = conv.rest_stats(lr)
    assert rest["rest_bias_dps"] == pytest.approx(8.0)
    assert rest["rest_jitter_dps"] == pytest.approx(0.0)
    assert rest["rest_acc_g"]["pelvis"] == pytest.approx(12.5 / 9.80665)
