"""The sample recordings in recordings/ are readable, labelled SIMULATED and
hold what recordings/README.md says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hinge_imu.recording import read_recording

REC = Path(__file__).resolve().parent.parent / "recordings"
MISTAKE_ORDER = [
    "back_rounded", "back_arched", "no_lockout", "knees_locked", "knees_forward",
    "knees_caving", "shallow_hinge", "ribs_flared", "neck_extended", "squatting",
]  # fmt: skip
EXPECTED = {
    "sim_clean_set": [[]] * 10,
    "sim_mistakes_set": [[], *([m] for m in MISTAKE_ORDER), []],
    "sim_harsh_arbitrary": [
        [],
        [],
        ["back_rounded"],
        [],
        ["squatting"],
        [],
        [],
        [],
        ["back_rounded"],
        [],
        ["no_lockout"],
        [],
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_recording_matches_readme(name: str) -> None:
    rec = read_recording(REC / f"{name}.csv.gz")
    assert rec.is_simulated and rec.header["subject"] == "simulated"
    truth = json.loads((REC / f"{name}.truth.json").read_text())
    assert truth["simulated"] is True
    assert [r["mistakes"] for r in truth["reps"]] == EXPECTED[name]
    assert (REC / f"{name}.truth_angles.csv").exists()
