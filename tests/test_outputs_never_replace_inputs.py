"""No output of any command replaces a file it reads (docs/recording-format.md, "Outputs").

Each case runs the real CLI on a real file and checks the one error line,
exit code 2, and that every input is byte for byte what it was.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hinge_imu.cli import main

REC = (
    "# hinge-imu recording v1\n"
    "t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
    "0.00,pelvis,0,0,9.8,0,0,0\n"
    "0.01,pelvis,0,0,9.8,0,0,0\n"
)


def _digest(*paths: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


@pytest.fixture
def rec(tmp_path: Path) -> Path:
    path = tmp_path / "session.csv"
    path.write_text(REC)
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("hinge-imu: error: ") and "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize(
    "spelling",
    [
        lambda p: str(p),
        lambda p: os.path.relpath(p),  # ./x against x
        lambda p: str(p.parent / "." / p.name),
        lambda p: str(p.parent / "link.csv"),  # a symbolic link to the input
    ],
    ids=["same", "relative", "dot", "symlink"],
)
@pytest.mark.parametrize("option", ["--reps-csv", "--angles-csv"])
def test_analyse_refuses_an_output_that_is_the_recording(
    rec: Path, option: str, spelling, capsys: pytest.CaptureFixture[str]
) -> None:
    (rec.parent / "link.csv").symlink_to(rec.name)
    before = _digest(rec)
    assert main(["analyse", str(rec), option, spelling(rec)]) == 2
    line = _one_error_line(capsys)
    assert f"{option} would replace the input {rec}" in line
    assert _digest(rec) == before


def test_analyse_refuses_writing_over_its_rules_file(
    rec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("# my rules\n")
    before = _digest(rec, rules)
    assert main(["analyse", str(rec), "--rules", str(rules), "--reps-csv", str(rules)]) == 2
    assert "--reps-csv would replace the input" in _one_error_line(capsys)
    assert _digest(rec, rules) == before


def test_analyse_refuses_two_outputs_on_one_file(
    rec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    argv = ["analyse", str(rec), "--reps-csv", str(out), "--angles-csv", str(out)]
    assert main(argv) == 2
    assert "--angles-csv and --reps-csv name the same file" in _one_error_line(capsys)
    assert not out.exists()


def test_folder_mode_refuses_an_output_linked_to_a_recording(
    rec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = rec.parent
    (folder / "session.reps.csv").symlink_to(rec.name)  # what --out would write through
    before = _digest(rec)
    assert main(["analyse", str(folder), "--out", str(folder)]) == 2
    assert "would replace the input" in _one_error_line(capsys)
    assert _digest(rec) == before
    assert not (folder / "session.angles.csv").exists()


def test_report_refuses_a_folder_where_it_would_replace_a_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    named_like_an_output = tmp_path / "reps.csv"
    named_like_an_output.write_text(REC)
    before = _digest(named_like_an_output)
    assert main(["report", str(named_like_an_output), "--out", str(tmp_path)]) == 2
    assert f"--out {tmp_path} would replace the input" in _one_error_line(capsys)
    assert _digest(named_like_an_output) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reps.csv"]


@pytest.mark.parametrize("option", ["--audio-file", "--events", "-o"])
def test_live_replay_refuses_an_output_that_is_the_replayed_file(
    rec: Path, tmp_path: Path, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["live", "--replay", str(rec), "--speed", "0", "--mute", "--plain"]
    argv += ["-o", str(tmp_path / "new.csv")] if option != "-o" else ["--overwrite"]
    before = _digest(rec)
    assert main([*argv, option, str(rec)]) == 2
    assert f"{option} would replace the input {rec}" in _one_error_line(capsys)
    assert _digest(rec) == before
    assert not (tmp_path / "new.csv").exists()


@pytest.mark.parametrize("command", ["record", "live"])
def test_an_existing_recording_is_kept_without_overwrite(
    rec: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(rec)
    assert main([command, "--pelvis", "AA:BB", "-o", str(rec)]) == 2
    line = _one_error_line(capsys)
    assert f"{rec}: exists already" in line and "--overwrite" in line
    assert _digest(rec) == before


def test_in_a_real_process_the_recording_survives_a_tab_key_slip(rec: Path) -> None:
    before = _digest(rec)
    proc = subprocess.run(
        [sys.executable, "-m", "hinge_imu", "analyse", rec.name, "--reps-csv", f"./{rec.name}"],
        cwd=rec.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"hinge-imu: error: {rec.name}: --reps-csv would replace the input {rec.name}; "
        "nothing written (choose another output name)"
    ]
    assert _digest(rec) == before


@pytest.mark.parametrize("option", ["--audio-file", "--events"])  # -o must end in .csv
def test_live_refuses_an_output_that_is_its_rules_file(
    rec: Path, tmp_path: Path, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("# my rules\n")
    before = _digest(rec, rules)
    argv = ["live", "--replay", str(rec), "--speed", "0", "--mute", "--plain", "--overwrite"]
    assert main([*argv, "--rules", str(rules), option, str(rules)]) == 2
    assert f"{option} would replace the input {rules}" in _one_error_line(capsys)
    assert _digest(rec, rules) == before


def test_live_refuses_the_sounds_and_the_events_in_one_file(
    rec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = tmp_path / "out.wav"
    before = _digest(rec)
    argv = ["live", "--replay", str(rec), "--speed", "0", "--mute", "--plain"]
    assert main([*argv, "--audio-file", str(both), "--events", str(both)]) == 2
    assert "name the same file" in _one_error_line(capsys)
    assert not both.exists() and _digest(rec) == before
