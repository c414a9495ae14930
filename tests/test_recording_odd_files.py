"""Odd files as users record them, through the real CLI (SIMULATED sessions).

Each case checks the message, the exit code, and that the input did not
change (docs/recording-format.md, "What the reader accepts" / "rejects").
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from core_sim_helpers import clipped, sim

from hinge_imu.cli import main
from hinge_imu.core.pipeline import analyse
from hinge_imu.recording import read_recording, write_recording
from hinge_imu.samples import Recording

UNIX_T0 = 1733000000.0


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def session_rec() -> Recording:
    # the same arguments as test_analyse_cli's recording: simulated once per run
    return sim(
        "typical", reps=3, seed=21, mounting="arbitrary", mistakes=[{}, {"back_rounded": 26.0}, {}]
    ).recording


def _shifted(rec: Recording, offset_s: float, only: str | None = None) -> Recording:
    sensors = {
        n: replace(s, t_s=s.t_s + offset_s) if only in (None, n) else s
        for n, s in rec.sensors.items()
    }
    return replace(rec, sensors=sensors)


def test_unix_time_is_shifted_to_zero_with_a_warning_and_kept_in_the_header(
    session_rec: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "logger.csv"
    write_recording(path, _shifted(session_rec, UNIX_T0))
    before = _sha(path)
    reps_csv = tmp_path / "reps.csv"
    assert main(["analyse", str(path), "--reps-csv", str(reps_csv)]) == 0
    out = capsys.readouterr().out
    first_row = next(i for i, ln in enumerate(path.read_text().splitlines()) if ln[0] != "#") + 2
    t_first = UNIX_T0 + min(float(s.t_s[0]) for s in session_rec.sensors.values())
    assert f"{path}:{first_row}: times start at {t_first:.6f} s" in out
    got = pd.read_csv(reps_csv)
    expected = analyse(session_rec).reps_frame()
    # on the shifted clock; the analysis grid is 100 Hz
    shift_s = t_first - UNIX_T0
    np.testing.assert_allclose(got["t_start"] + shift_s, expected["t_start"], atol=0.011)
    assert _sha(path) == before
    rec = read_recording(path)
    assert float(rec.header["t_offset_s"]) == pytest.approx(t_first, abs=1e-5)
    assert min(float(s.t_s[0]) for s in rec.sensors.values()) == 0.0
    # written back, the start stays known and the times stay at 0
    again = tmp_path / "again.csv"
    write_recording(again, rec)
    assert read_recording(again).header["t_offset_s"] == rec.header["t_offset_s"]
    assert read_recording(again).warnings == ()


def test_a_short_lead_in_is_kept_on_the_file_clock(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
        "5.00,pelvis,0,0,9.8,0,0,0\n5.01,pelvis,0,0,9.8,0,0,0\n"
    )
    rec = read_recording(path)
    assert rec.sensors["pelvis"].t_s[0] == 5.0 and rec.warnings == ()


def test_a_first_sample_stamped_just_before_zero_is_shifted_without_a_warning(
    tmp_path: Path,
) -> None:
    # Host clock jitter stamps a first packet a fraction of a millisecond
    # before the recording's start: not a clock offset worth a warning.
    path = tmp_path / "r.csv"
    path.write_text(
        "t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
        "-0.0004,pelvis,0,0,9.8,0,0,0\n0.0096,pelvis,0,0,9.8,0,0,0\n"
    )
    rec = read_recording(path)
    assert rec.warnings == ()
    assert rec.sensors["pelvis"].t_s[0] == 0.0
    assert float(rec.header["t_offset_s"]) == pytest.approx(-0.0004)
    # two seconds early is no jitter: said
    path.write_text(path.read_text().replace("-0.0004", "-2.0"))
    assert "times start at -2.000000 s" in read_recording(path).warnings[0]


def test_sensors_on_different_clocks_are_refused_at_the_line(
    session_rec: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.csv"
    write_recording(path, _shifted(session_rec, UNIX_T0, only="thigh"))
    before = _sha(path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    line_no = int(err[0].split(":")[3])
    bad_line = path.read_text().splitlines()[line_no - 1]
    assert bad_line.split(",")[1] == "thigh"  # the first thigh row, after pelvis at 0
    assert "more than 24 h away" in err[0] and "different clocks" in err[0]
    assert _sha(path) == before


@pytest.mark.parametrize(
    ("column", "value"), [("acc_x", "1e308"), ("gyr_z", "-25000"), ("acc_y", "-1.7e4")]
)
def test_a_value_no_imu_reports_is_an_error_naming_line_and_column(
    tmp_path: Path, column: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cols = ["t", "sensor", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    rows = [[f"{i / 100:.2f}", "pelvis", "0", "0", "9.8", "0", "0", "0"] for i in range(50)]
    rows[30][cols.index(column)] = value
    path = tmp_path / "overflow.csv"
    path.write_text(",".join(cols) + "\n" + "".join(",".join(r) + "\n" for r in rows))
    before = _sha(path)
    out = tmp_path / "reps.csv"
    assert main(["analyse", str(path), "--reps-csv", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"hinge-imu: error: {path}:32: '{value}' in column '{column}' is beyond what any IMU "
        f"reports (±{2000 if column.startswith('acc') else 10000} "
        f"{'m/s²' if column.startswith('acc') else 'deg/s'}); the file is damaged or in other units"
    ]
    assert not out.exists() and _sha(path) == before


@pytest.mark.parametrize("dead", ["pelvis", "thigh"])
def test_a_sensor_that_was_never_started_is_refused_or_left_out(
    dead: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"]
    for i in range(300):
        for k, sensor in enumerate(("pelvis", "thigh")):
            acc = "0,0,0" if sensor == dead else f"0.1,{0.01 * (i % 7)},9.8"
            rows.append(f"{i / 100 + k * 0.003:.3f},{sensor},{acc},0.5,0.1,0.2")
    path = tmp_path / "zeros.csv"
    path.write_text("\n".join(rows) + "\n")
    before = _sha(path)
    what = f"{path}: sensor '{dead}' reads exactly 0 m/s² on every sample: it was never started"
    if dead == "pelvis":
        assert main(["validate", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"hinge-imu: error: {what}")
    else:
        assert main(["validate", str(path)]) == 0
        out, err = capsys.readouterr()
        assert f"hinge-imu: warning: {what}" in err and "thigh" not in out.split(";", 1)[1]
    assert _sha(path) == before


def test_reps_touching_saturated_readings_are_not_judged(
    session_rec: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reps = analyse(session_rec).reps
    bottom = reps[1].metrics.t_bottom
    thigh = session_rec.sensors["thigh"]
    gyr = thigh.gyr_dps.copy()
    near = np.flatnonzero(np.abs(thigh.t_s - bottom) < 0.05)
    gyr[near, 2] = 2000.0  # the bar knocks the thigh sensor past its range
    sensors = {**session_rec.sensors, "thigh": replace(thigh, gyr_dps=gyr)}
    path = tmp_path / "knock.csv"
    write_recording(path, replace(session_rec, sensors=sensors))
    session = analyse(path)
    assert [r.judged for r in session.reps] == [True, False, True]
    assert "thigh saturated" in session.reps[1].not_judged_reason
    first, *_ = session.quality["thigh"].saturated_s
    assert first.start_s <= bottom < first.end_s and first.channels == ("gyr_z",)
    before = _sha(path)
    assert main(["analyse", str(path)]) == 0
    assert f"{path}: sensor 'thigh' is saturated" in capsys.readouterr().out
    assert _sha(path) == before


def _cut_gzip(session_rec: Recording, tmp_path: Path) -> Path:
    whole = tmp_path / "whole.csv.gz"
    write_recording(whole, session_rec)
    raw = whole.read_bytes()
    cut = tmp_path / "copy.csv.gz"
    cut.write_bytes(raw[: len(raw) * 2 // 3])  # a copy that did not finish
    return cut


def test_a_cut_off_gzip_is_analysed_up_to_where_it_ends_with_the_line(
    session_rec: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = _cut_gzip(session_rec, tmp_path)
    before = _sha(cut)
    with gzip.open(cut, "rb") as fh, pytest.raises(EOFError):
        fh.read()  # cut short indeed
    kept = zlib.decompressobj(wbits=31).decompress(cut.read_bytes())
    lines_there = kept.count(b"\n") + 1
    assert main(["validate", str(cut)]) == 0
    err = capsys.readouterr().err
    assert f"hinge-imu: warning: {cut}:{lines_there}: the compressed stream ends early" in err
    assert main(["analyse", str(cut)]) == 0
    assert f"{cut}:{lines_there}: the compressed stream ends early" in capsys.readouterr().out
    assert _sha(cut) == before


def _torn(session_rec: Recording, tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "killed.csv"
    write_recording(path, session_rec)
    text = path.read_text()
    path.write_text(text[:-20])  # a recorder killed mid-line
    return path, text.count("\n")


def _odd_file(kind: str, session_rec: Recording, tmp_path: Path) -> tuple[Path, str]:
    """A file the reader accepts with a warning, and the start of that warning."""
    if kind == "torn":
        path, last_line = _torn(session_rec, tmp_path)
        return path, f"{path}:{last_line}: dropped an incomplete last line"
    if kind == "cut_gzip":
        cut = _cut_gzip(session_rec, tmp_path)
        lines = zlib.decompressobj(wbits=31).decompress(cut.read_bytes()).count(b"\n") + 1
        return cut, f"{cut}:{lines}: the compressed stream ends early"
    path = tmp_path / f"{kind}.csv"
    if kind == "unix_time":
        write_recording(path, _shifted(session_rec, UNIX_T0))
        first_row = next(i for i, ln in enumerate(path.read_text().splitlines()) if ln[0] != "#")
        return path, f"{path}:{first_row + 2}: times start at 17330000"
    thigh = session_rec.sensors["thigh"]
    knocked = clipped(session_rec, "thigh", float(thigh.t_s[900]), 0.05, "gyr_z", 2000.0)
    write_recording(path, knocked)
    return path, f"{path}: sensor 'thigh' is saturated (held at its range limit) 1 time(s)"


@pytest.mark.parametrize("kind", ["torn", "cut_gzip", "unix_time", "saturated"])
@pytest.mark.parametrize("command", ["analyse", "report", "validate", "live"])
def test_every_command_that_reads_shows_what_the_reader_tolerated(
    session_rec: Recording,
    tmp_path: Path,
    command: str,
    kind: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 13 item 5: each tolerated oddity reaches the user of every reading command."""
    path, warning = _odd_file(kind, session_rec, tmp_path)
    before = _sha(path)
    live_out = ["-o", str(tmp_path / "again.csv"), "--events", str(tmp_path / "ev.jsonl")]
    argv = {
        "analyse": ["analyse", str(path)],
        "report": ["report", str(path), "--out", str(tmp_path / "rep"), "--no-png"],
        "validate": ["validate", str(path)],
        "live": ["live", "--replay", str(path), "--speed", "0", "--mute", "--plain", *live_out],
    }[command]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    if command == "analyse":  # among its warnings, on stdout
        assert f"warning: {warning}" in out
    else:
        assert f"hinge-imu: warning: {warning}" in err
    assert "Traceback" not in out + err
    assert _sha(path) == before
    if command == "live" and kind == "unix_time":  # the copy keeps where the clock started
        copy = read_recording(tmp_path / "again.csv")
        assert float(copy.header["t_offset_s"]) > UNIX_T0 and copy.warnings == ()
    if command == "report":  # and on the report's data-quality page
        from pypdf import PdfReader

        pages = PdfReader(tmp_path / "rep" / "report.pdf").pages
        assert warning in " ".join(" ".join(p.extract_text().split()) for p in pages)
