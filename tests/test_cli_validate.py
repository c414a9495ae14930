"""``hinge-imu validate`` on real malformed files (tests/data/malformed/) and good ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hinge_imu.cli import main
from hinge_imu.recording import write_recording
from hinge_imu.samples import Recording, SensorStream

BAD = Path(__file__).parent / "data" / "malformed"

# file, line (None: the problem is the whole file), what the message must say
MALFORMED = [
    ("missing_column.csv", 3, "missing required column 'gyr_z'"),
    ("unknown_sensor.csv", 6, "unknown sensor name 'knee'"),
    ("non_numeric.csv", 5, "'abc' in column 'acc_y' is not a number"),
    (
        "time_backwards.csv",
        8,
        "time goes backwards for sensor 'thigh' (12.340 s after 12.350 s)",
    ),
    ("time_repeats.csv", 6, "time repeats for sensor 'pelvis'"),
    ("no_pelvis.csv", None, "no 'pelvis' sensor (found: thigh, upper_back)"),
    ("empty.csv", 1, "file is empty"),
    ("header_only.csv", 3, "no samples"),
    ("comments_only.csv", 3, "no column line"),
    ("duplicate_column.csv", 2, "duplicate column 'acc_x'"),
    ("too_many_fields.csv", 4, "expected 8 fields"),
    ("too_few_fields.csv", 4, "found 6"),
    ("non_finite.csv", 5, "non-finite value 'inf' in column 'acc_z'"),
    ("missing_value.csv", 4, "missing value in column 'acc_y'"),
    ("not_gzip.csv.gz", None, "not a gzip file"),
    ("corrupt_gzip.csv.gz", None, "corrupt gzip data"),
    ("truncated_gzip_header.csv.gz", None, "gzip stream cut short"),
    ("not_utf8.csv", 2, "not UTF-8"),
    ("bad_rate.csv", 2, "header 'rate_hz.pelvis' must be a positive number"),
    ("wrong_version.csv", 1, "unsupported format version"),
    ("mag_partly_missing.csv", 4, "mag values empty here"),
]


@pytest.mark.parametrize(("name", "line", "problem"), MALFORMED)
def test_malformed_file_gives_one_line_error(
    name: str, line: int | None, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = BAD / name
    assert path.exists()
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert lines[0].startswith(f"hinge-imu: error: {where}"), lines[0]
    assert problem in lines[0]


def test_every_malformed_file_is_covered() -> None:
    assert {p.name for p in BAD.iterdir()} == {m[0] for m in MALFORMED}


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "nope.csv")]) == 2
    assert (
        capsys.readouterr().err.strip() == f"hinge-imu: error: {tmp_path}/nope.csv: file not found"
    )


def _good(path: Path) -> Path:
    n = 300
    t = np.arange(n) / 100.0
    keep = np.r_[0:100, 105:n]  # 5 lost samples
    streams = {
        "pelvis": SensorStream(
            t[keep],
            np.tile([0.0, 0.0, 9.81], (keep.size, 1)),
            np.zeros((keep.size, 3)),
            seq=keep.astype(np.int64),
            rate_hz=100.0,
        ),
        "thigh": SensorStream(t[::2], np.tile([9.81, 0, 0], (150, 1)), np.zeros((150, 3))),
    }
    write_recording(path, Recording(streams, {"subject": "s01", "note": "simulated"}))
    return path


def test_summary_of_a_good_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = _good(tmp_path / "good.csv.gz")
    assert main(["validate", str(good)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"{good}: ok, 2.99 s, 445 samples")
    assert "pelvis 295 @ 100 Hz, 5 lost in 1 gaps (from seq)" in out
    assert "thigh 150 @ 50 Hz (from t), no gaps (from t)" in out
    assert out.endswith("header: subject, note, rate_hz.pelvis")


def test_several_files_reports_every_bad_one_in_a_real_process(tmp_path: Path) -> None:
    good = _good(tmp_path / "good.csv")
    files = [str(BAD / "unknown_sensor.csv"), str(good), str(BAD / "empty.csv")]
    proc = subprocess.run(
        [sys.executable, "-m", "hinge_imu", "validate", *files],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errs = proc.stderr.strip().splitlines()
    assert errs[0].startswith(f"hinge-imu: error: {files[0]}:6: unknown sensor name")
    assert errs[1].startswith(f"hinge-imu: error: {files[2]}:1: file is empty")
    assert errs[2] == "hinge-imu: 2 of 3 files are not valid"
    assert proc.stdout.startswith(f"{good}: ok")


def test_crash_left_file_is_valid_with_a_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "crashed.csv"
    path.write_text(
        "t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
        "0,pelvis,0,0,9.8,0,0,0\n0.01,pelvis,0,0,9.8,0,0,0\n0.02,pelvis,0,0"
    )
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}: ok, 0.01 s, 2 samples")
    assert err.startswith(f"hinge-imu: warning: {path}:4: dropped an incomplete last line")
