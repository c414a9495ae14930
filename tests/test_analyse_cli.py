"""``hinge-imu analyse`` end to end on files (SIMULATED recordings)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from core_sim_helpers import sim

from hinge_imu.cli import main
from hinge_imu.commands.analyse import write_reps_csv
from hinge_imu.conventions import REP_METRICS
from hinge_imu.core.pipeline import analyse
from hinge_imu.core.rules import default_rules_text, judge_rep, load_rules
from hinge_imu.recording import write_recording

#: docs/outputs.md, in order.
CONTRACT_COLUMNS = [
    "rep",
    "t_start",
    "t_bottom",
    "t_end",
    *REP_METRICS,
    "score",
    "mistakes",
    *load_rules().ids,
]


@pytest.fixture(scope="module")
def rec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    s = sim(
        "typical", reps=3, seed=21, mounting="arbitrary", mistakes=[{}, {"back_rounded": 26.0}, {}]
    )
    path = tmp_path_factory.mktemp("rec") / "session.csv.gz"
    write_recording(path, s.recording)
    return path


def test_prints_the_table_and_writes_contract_columns(
    rec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reps_csv, angles_csv = tmp_path / "r.csv", tmp_path / "a.csv"
    rc = main(
        ["analyse", str(rec_file), "--reps-csv", str(reps_csv), "--angles-csv", str(angles_csv)]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "SIMULATED" in out
    assert "back_rounded +" in out  # the mistake and by how much
    assert "3 reps, 3 judged" in out
    df = pd.read_csv(reps_csv, dtype=str, keep_default_na=False)
    assert list(df.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert list(df["rep"]) == ["1", "2", "3"]
    assert list(df["back_rounded"]) == ["false", "true", "false"]
    assert list(df["tripod_foot"]) == ["", "", ""]
    assert df.loc[1, "mistakes"] == "back_rounded"
    ang = pd.read_csv(angles_csv)
    assert list(ang.columns) == [
        "t_s",
        "hip_flexion_deg",
        "trunk_inclination_deg",
        "pelvic_tilt_deg",
        "lumbar_flexion_deg",
        "thigh_inclination_deg",
        "knee_cave_deg",
        "head_extension_deg",
    ]
    assert ang["hip_flexion_deg"].max() > 45


def test_rules_override_changes_verdicts(rec_file: Path, tmp_path: Path) -> None:
    text = default_rules_text().replace(
        '{ metric = "lumbar_flexion_max", op = ">", threshold = 20.0 }',
        '{ metric = "lumbar_flexion_max", op = ">", threshold = 40.0 }',
    )
    rules = tmp_path / "mine.toml"
    rules.write_text(text, encoding="utf-8")
    out = tmp_path / "r.csv"
    assert main(["analyse", str(rec_file), "--rules", str(rules), "--reps-csv", str(out)]) == 0
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df["back_rounded"]) == ["false", "false", "false"]


def test_bad_file_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n0.0,pelvis,1,2,x,0,0,0\n")
    out = tmp_path / "r.csv"
    rc = main(["analyse", str(bad), "--reps-csv", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "bad.csv" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_folder_mode_skips_a_broken_file(
    rec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.csv.gz").write_bytes(rec_file.read_bytes())
    (src / "broken.csv").write_text("not,a,recording\n")
    (src / "old.reps.csv").write_text("rep,score\n1,100\n")  # an output: skipped
    out = tmp_path / "out"
    rc = main(["analyse", str(src), "--out", str(out), "--jobs", "2"])
    captured = capsys.readouterr()
    assert rc != 0
    assert len([ln for ln in captured.err.splitlines() if "broken.csv" in ln]) == 1
    assert (out / "good.reps.csv").exists() and (out / "good.angles.csv").exists()
    assert not (out / "broken.reps.csv").exists()
    assert "old.reps.csv" not in captured.err + captured.out
    assert "1 of 2 recordings analysed" in captured.out
    assert len(pd.read_csv(out / "good.reps.csv")) == 3


def test_folder_mode_prints_what_the_reader_tolerated(
    rec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A torn last line is dropped with a FILE:LINE warning in folder mode too (issue 13)."""
    import gzip

    src = tmp_path / "in"
    src.mkdir()
    text = gzip.decompress(rec_file.read_bytes())
    torn = src / "torn.csv"
    torn.write_bytes(text[: text.rindex(b"\n", 0, len(text) - 1) + 12])  # cut mid-line
    n_lines = torn.read_bytes().count(b"\n") + 1
    rc = main(["analyse", str(src), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 0
    hits = [ln for ln in err.splitlines() if f"torn.csv:{n_lines}:" in ln]
    assert len(hits) == 1 and "warning" in hits[0], err


def test_folder_mode_in_parallel_writes_what_one_process_writes(
    rec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.csv.gz", "b.csv.gz", "c.csv.gz"):
        (src / name).write_bytes(rec_file.read_bytes())
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["analyse", str(src), "--out", str(one), "--jobs", "1"]) == 0
    assert main(["analyse", str(src), "--out", str(two), "--jobs", "2"]) == 0
    assert "3 of 3 recordings analysed" in capsys.readouterr().out
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    assert len(names) == 6 and not [n for n in names if n.startswith(".")]  # no temp files
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_folder_workers_run_their_thread_pools_at_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hinge_imu.commands import analyse as cmd

    for var in cmd._WORKER_THREAD_VARS:
        monkeypatch.setenv(var, "8")
    cmd._start_worker()
    assert {os.environ[v] for v in cmd._WORKER_THREAD_VARS} == {"1"}


def test_a_valid_recording_is_analysed_without_importing_pandas(
    rec_file: Path, tmp_path: Path
) -> None:
    # pandas takes ~0.3 s to import: as long as reading the whole file
    reps, angles = str(tmp_path / "r.csv"), str(tmp_path / "a.csv")
    args = ["analyse", str(rec_file), "--reps-csv", reps, "--angles-csv", angles]
    code = (
        f"import sys; from hinge_imu.cli import main; rc = main({args!r}); "
        "print(rc, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["0", "False"]
    # ... and the angles are still what pandas writes of Session.angles
    expected = analyse(rec_file).angles.to_csv(index=False, float_format="%.3f")
    assert Path(angles).read_text() == expected


def test_piped_output_is_whole_plain_lines_and_data_is_never_markup(rec_file: Path) -> None:
    # Piped (a log file, grep): no rich import (0.05 s), every line whole
    # (rich wrapped the calibration line at 80 columns), and a warning's
    # brackets printed as they are, not read as rich markup.
    session = analyse(rec_file)
    odd = replace(session, warnings=("data[1]: [bold]not[/bold] markup [/x]",))
    code = (
        "import pickle, sys\n"
        "from hinge_imu.commands._analyse_table import print_session\n"
        "print_session(pickle.loads(sys.stdin.buffer.read()))\n"
        "print('rich' in sys.modules)\n"
    )
    import pickle

    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(odd), capture_output=True, check=True
    ).stdout.decode()
    lines = out.splitlines()
    assert lines[-1] == "False"
    assert "  warning: data[1]: [bold]not[/bold] markup [/x]" in lines
    cal = [ln for ln in lines if "calibration ok" in ln]
    assert len(cal) == len(session.calibration)
    assert all("gyro bias" in ln and "accelerometer" in ln for ln in cal)
    assert "[bold" not in out.replace("[bold]not[/bold]", "")


def test_the_reps_csv_is_what_pandas_writes(rec_file: Path, tmp_path: Path) -> None:
    session = analyse(rec_file)
    # a rep not judged: empty cells, and a reason needing quotes
    first = session.reps[0]
    why = 'pelvis lost, "twice"'
    unjudged = replace(
        first, not_judged_reason=why, judgement=judge_rep(first.metrics, session.rules, why)
    )
    session = replace(session, reps=(unjudged, *session.reps[1:]))
    write_reps_csv(session, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text() == session.reps_frame().to_csv(index=False)
