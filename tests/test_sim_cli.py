"""``hinge-imu simulate`` writes a contract-valid SIMULATED recording and its truth."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hinge_imu.cli import main
from hinge_imu.conventions import ANGLE_NAMES
from hinge_imu.recording import read_recording


def test_simulate_writes_recording_truth_and_angles(tmp_path: Path) -> None:
    out = tmp_path / "sim_x.csv"
    rc = main(
        [
            "simulate",
            "--reps",
            "4",
            "--mistake",
            "back_rounded=28",
            "--mistake-reps",
            "2,4",
            "--seed",
            "1",
            "--truth-angles",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    rec = read_recording(out)
    assert rec.is_simulated and set(rec.sensors) == {"thigh", "pelvis", "upper_back"}
    truth = json.loads((tmp_path / "sim_x.truth.json").read_text())
    assert [r["mistakes"] for r in truth["reps"]] == [[], ["back_rounded"], [], ["back_rounded"]]
    assert truth["reps"][1]["injected"] == {"back_rounded": 28.0}
    assert truth["seed"] == 1 and truth["simulated"] is True
    angles = pd.read_csv(tmp_path / "sim_x.truth_angles.csv", comment="#")
    assert list(angles.columns) == ["t", *ANGLE_NAMES]
    assert angles["head_extension"].isna().all()  # no head sensor
    assert angles["hip_flexion"].max() > 45.0


def test_mistakes_on_chosen_reps(tmp_path: Path) -> None:
    out = tmp_path / "sim_z.csv"
    args = [
        "simulate",
        "--reps",
        "3",
        "--mistake",
        "back_rounded@2",
        "--mistake",
        "knees_caving=12",
    ]
    assert main([*args, "-o", str(out)]) == 0
    truth = json.loads((tmp_path / "sim_z.truth.json").read_text())
    assert [r["injected"] for r in truth["reps"]] == [
        {"knees_caving": 12.0},
        {"knees_caving": 12.0, "back_rounded": 32.0},
        {"knees_caving": 12.0},
    ]
    assert [sorted(r["mistakes"]) for r in truth["reps"]] == [
        ["knees_caving"],
        ["back_rounded", "knees_caving"],
        ["knees_caving"],
    ]


def test_simulate_gz_rates_head_and_side(tmp_path: Path) -> None:
    out = tmp_path / "sim_y.csv.gz"
    rc = main(
        [
            "simulate",
            "--reps",
            "2",
            "--sensors",
            "typical",
            "--mounting",
            "arbitrary",
            "--rates",
            "52,104,208,52",
            "--head",
            "--side",
            "left",
            "--stance-s",
            "1",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    rec = read_recording(out)
    assert rec.side == "left"
    assert {n: round(s.estimated_rate_hz) for n, s in rec.sensors.items()} == {
        "thigh": 52,
        "pelvis": 104,
        "upper_back": 208,
        "head": 52,
    }
    truth = json.loads((tmp_path / "sim_y.truth.json").read_text())
    assert truth["calibration_stance"]["t_end_s"] == 1.0
    assert not (tmp_path / "sim_y.truth_angles.csv").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--mistake", "bogus"],
        ["--mistake", "back_rounded=abc"],
        ["--mistake-reps", "2"],
        ["--rates", "52,x,208"],
        ["--reps", "0"],
        ["--reps", "3", "--mistake", "squatting@4"],
    ],
)
def test_bad_options_exit_2_and_write_nothing(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bad.csv"
    assert main(["simulate", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hinge-imu: error:") and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_output_name_must_be_csv(tmp_path: Path) -> None:
    assert main(["simulate", "-o", str(tmp_path / "x.txt")]) == 2
    assert list(tmp_path.iterdir()) == []
