"""A sensor knocked past its range during a rep, through the real commands (SIMULATED session).

``analyse``, ``live --replay`` and ``report`` on the same file: the rep is
not judged, with the same reason everywhere; the stretches are shown (when,
how long, which channel at which limit); exit 0; the input is unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from core_sim_helpers import clipped, sim

from hinge_imu.cli import main
from hinge_imu.core.pipeline import analyse
from hinge_imu.events import read_events
from hinge_imu.recording import write_recording

REASON = "thigh saturated (readings held at the sensor's range limit)"
THIGH = "at 11.11 s for 0.05 s (gyr_z at +500 °/s)"
UPPER_BACK = "at 17.64 s for 0.06 s (acc_x at -156.9 m/s² (-16.0 g))"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def knocked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rep 2 rounds its back (an in-rep warning would sound) and the bar knocks the
    thigh sensor past its ±500 °/s just after it starts; the upper back's ±16 g
    accelerometer clips across rep 3's lockout."""
    s = sim("typical", reps=4, seed=12, mounting="arbitrary", mistakes=[{}, {"back_rounded": None}])
    reps = [r.metrics for r in analyse(s.recording).reps]
    rec = clipped(s.recording, "thigh", reps[1].t_start + 0.2, 0.05, "gyr_z", 500.0)
    rec = clipped(rec, "upper_back", reps[2].t_end - 0.02, 0.06, "acc_x", -156.9)
    path = tmp_path_factory.mktemp("knock") / "knock.csv"
    write_recording(path, rec)
    return path


def test_analyse_does_not_judge_the_knocked_reps_and_shows_each_stretch(
    knocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _sha(knocked)
    reps_csv = tmp_path / "reps.csv"
    assert main(["analyse", str(knocked), "--reps-csv", str(reps_csv)]) == 0
    out = capsys.readouterr().out
    assert f"saturated {THIGH}" in out and f"saturated {UPPER_BACK}" in out
    assert f"{knocked}: sensor 'thigh' is saturated (held at its range limit) 1 time(s)" in out
    assert f"   2  10.9–13.5            82°     –  not judged: {REASON}" in out
    reps = pd.read_csv(reps_csv, keep_default_na=False)
    assert list(reps["judged"]) == [True, False, False, True]
    assert reps["not_judged_reason"][1] == REASON
    assert reps["not_judged_reason"][2].startswith("upper_back saturated")
    assert _sha(knocked) == before


def test_live_replay_does_not_judge_or_warn_on_the_knocked_rep(
    knocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _sha(knocked)
    events = tmp_path / "e.jsonl"
    argv = ["live", "--replay", str(knocked), "--speed", "0", "--mute", "--plain"]
    assert main([*argv, "--events", str(events)]) == 0
    out, err = capsys.readouterr()
    assert f"{knocked}: sensor 'thigh' is saturated" in err  # the reader's warning
    ev = read_events(events)
    reps = [e for e in ev if e["event"] == "rep"]
    assert [e["judged"] for e in reps] == [True, False, False, True]
    assert reps[1]["not_judged_reason"] == REASON and reps[1]["feedback"] == []
    # the back rounds after the knock: the in-rep warning is held back, no sound
    (warned,) = [e for e in ev if e["event"] == "in_rep_warning" and e["rule"] == "back_rounded"]
    assert warned["suppressed"] == REASON and not warned["sounded"]
    said = [e["message"] for e in ev if e["event"] == "warning" and "saturated" in e["message"]]
    assert said == [
        f"thigh saturated (held at its range limit) {THIGH}; reps touching it not judged",
        f"upper_back saturated (held at its range limit) {UPPER_BACK}; reps touching it not judged",
    ]
    assert f"rep 2 at 13.74 s: not judged ({REASON})" in out
    assert _sha(knocked) == before


def test_report_lists_the_stretches_on_its_data_quality_page(
    knocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pypdf import PdfReader

    before = _sha(knocked)
    out = tmp_path / "rep"
    assert main(["report", str(knocked), "--out", str(out), "--no-png"]) == 0
    assert f"{knocked}: sensor 'upper_back' is saturated" in capsys.readouterr().err
    pages = PdfReader(out / "report.pdf").pages
    text = " ".join(" ".join(p.extract_text().split()) for p in pages)
    assert f"Rep 2 not judged: {REASON}" in text
    assert "saturated 1×" in text  # on the sensor's data-quality bar
    assert THIGH in text and "0.05 s in all" in text
    assert pd.read_csv(out / "reps.csv")["judged"].tolist() == [True, False, False, True]
    assert _sha(knocked) == before
