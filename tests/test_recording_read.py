"""What ``read_recording`` accepts and tolerates (docs/recording-format.md)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hinge_imu.errors import RecordingError
from hinge_imu.recording import read_recording
from hinge_imu.recording.read import _read_slow

COLS = "t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_interleaving_rates_and_gaps_are_accepted(tmp_path: Path) -> None:
    # thigh at 50 Hz, pelvis at 100 Hz with a gap, rows in an odd order across sensors
    rows = [
        "0.000,thigh,1,0,9,0,0,0",
        "0.005,pelvis,2,0,9,1,0,0",
        "0.015,pelvis,3,0,9,2,0,0",
        "0.020,thigh,4,0,9,0,0,0",
        "0.001,upper_back,5,0,9,0,0,0",  # earlier than rows above: other sensor, fine
        "0.065,pelvis,6,0,9,3,0,0",  # gap of 5 samples
        "0.040,thigh,7,0,9,0,0,0",
    ]
    rec = read_recording(_write(tmp_path / "r.csv", COLS + "\n" + "\n".join(rows) + "\n"))
    assert list(rec.sensors) == ["thigh", "pelvis", "upper_back"]
    np.testing.assert_array_equal(rec.sensors["pelvis"].t_s, [0.005, 0.015, 0.065])
    np.testing.assert_array_equal(rec.sensors["pelvis"].acc_mps2[:, 0], [2, 3, 6])
    np.testing.assert_array_equal(rec.sensors["pelvis"].gyr_dps[:, 0], [1, 2, 3])
    np.testing.assert_array_equal(rec.sensors["thigh"].acc_mps2[:, 0], [1, 4, 7])
    assert rec.sensors["thigh"].estimated_rate_hz == pytest.approx(50.0)
    assert rec.header == {}
    assert rec.warnings == ()


def test_header_keys_kept_in_order_and_rates_parsed(tmp_path: Path) -> None:
    text = (
        "# hinge-imu recording v1\n"
        "# subject: s07\n"
        "# rate_hz.pelvis: 104\n"
        "# a plain comment without a key\n"
        "# my_own_key: kept: colons and all\n"
        "# side: left\n"
        f"{COLS}\n0,pelvis,0,0,9.8,0,0,0\n"
    )
    rec = read_recording(_write(tmp_path / "r.csv", text))
    assert list(rec.header.items()) == [
        ("subject", "s07"),
        ("rate_hz.pelvis", "104"),
        ("my_own_key", "kept: colons and all"),
        ("side", "left"),
    ]
    assert rec.sensors["pelvis"].rate_hz == 104.0
    assert rec.side == "left"


def test_optional_mag_and_seq_columns(tmp_path: Path) -> None:
    text = (
        f"{COLS},mag_x,mag_y,mag_z,seq\n"
        "0.00,pelvis,0,0,9.8,0,0,0,20,-3,41,7\n"
        "0.00,thigh,0,0,9.8,0,0,0,,,,\n"
        "0.01,pelvis,0,0,9.8,0,0,0,21,-3,40,9\n"
        "0.01,thigh,0,0,9.8,0,0,0,,,,\n"
    )
    rec = read_recording(_write(tmp_path / "r.csv", text))
    pelvis, thigh = rec.sensors["pelvis"], rec.sensors["thigh"]
    assert pelvis.mag_ut is not None
    np.testing.assert_array_equal(pelvis.mag_ut[:, 2], [41, 40])
    assert pelvis.seq is not None and pelvis.seq.dtype == np.int64
    np.testing.assert_array_equal(pelvis.seq, [7, 9])
    assert thigh.mag_ut is None and thigh.seq is None


def test_spreadsheet_quirks_crlf_bom_blank_lines_unknown_column(tmp_path: Path) -> None:
    text = (
        "\ufeff# hinge-imu recording v1\r\n# side: right\r\n"
        f"{COLS},comment\r\n0,pelvis,0,0,9.8,0,0,0,ok\r\n\r\n0.01, pelvis ,0,0,9.7,0,0,0,fine\r\n"
    )
    rec = read_recording(_write(tmp_path / "r.csv", text))
    np.testing.assert_array_equal(rec.sensors["pelvis"].acc_mps2[:, 2], [9.8, 9.7])
    assert rec.header == {"side": "right"}
    assert rec.warnings == (f"{tmp_path / 'r.csv'}:3: ignored unknown column 'comment'",)


def test_fast_and_slow_paths_agree(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    lines = [f"# rate_hz.thigh: 100\n{COLS},seq"]
    for i in range(500):
        for s, name in enumerate(("pelvis", "thigh")):
            v = rng.normal(size=6)
            lines.append(
                f"{i / 100 + s / 1000:.6f},{name}," + ",".join(f"{x:.7g}" for x in v) + f",{i}"
            )
    path = _write(tmp_path / "r.csv", "\n".join(lines) + "\n")
    fast, slow = read_recording(path), _read_slow(path, str(path))
    assert fast.header == slow.header
    for name in ("pelvis", "thigh"):
        a, b = fast.sensors[name], slow.sensors[name]
        np.testing.assert_array_equal(a.t_s, b.t_s)
        np.testing.assert_array_equal(a.acc_mps2, b.acc_mps2)
        np.testing.assert_array_equal(a.gyr_dps, b.gyr_dps)
        np.testing.assert_array_equal(a.seq, b.seq)  # type: ignore[arg-type]
        assert a.rate_hz == b.rate_hz


def test_torn_last_line_is_dropped_with_a_warning(tmp_path: Path) -> None:
    text = f"{COLS}\n0,pelvis,0,0,9.8,0,0,0\n0.01,pelvis,0,0,9.8,0,0,0\n0.02,pelvis,0,0,9."
    rec = read_recording(_write(tmp_path / "r.csv", text))
    np.testing.assert_array_equal(rec.sensors["pelvis"].t_s, [0.0, 0.01])
    assert len(rec.warnings) == 1
    assert rec.warnings[0].startswith(f"{tmp_path / 'r.csv'}:4: dropped an incomplete last line")


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    text = f"{COLS}\n0,pelvis,0,0,9.8,0,0,0\n0.01,pelvis,0,0,9.8,0,0,0"
    rec = read_recording(_write(tmp_path / "r.csv", text))
    assert len(rec.sensors["pelvis"]) == 2
    assert rec.warnings == ()


def test_torn_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    text = f"{COLS}\n0,pelvis,0,0,9.8,0,0,0\n0.01,pelvis,0,0,9.\n0.02,pelvis,0,0,9.8,0,0,0\n"
    with pytest.raises(RecordingError) as info:
        read_recording(_write(tmp_path / "r.csv", text))
    assert info.value.line == 3
    assert "expected 8 fields" in info.value.message


def test_gzip_cut_short_reads_what_is_there(tmp_path: Path) -> None:
    body = COLS + "\n" + "".join(f"{i / 100:.2f},pelvis,0,0,9.8,0,0,0\n" for i in range(2000))
    whole = gzip.compress(body.encode(), mtime=0)
    path = tmp_path / "r.csv.gz"
    path.write_bytes(whole[: len(whole) * 3 // 4])
    rec = read_recording(path)
    n = len(rec.sensors["pelvis"])
    assert 100 < n < 2000
    np.testing.assert_allclose(rec.sensors["pelvis"].t_s, np.arange(n) / 100)
    assert any("compressed stream ends early" in w for w in rec.warnings)


def test_gzip_content_detected_without_gz_name(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(gzip.compress(f"{COLS}\n0,pelvis,0,0,9.8,0,0,0\n".encode()))
    assert len(read_recording(path).sensors["pelvis"]) == 1


def test_unknown_sensor_found_on_its_line_among_many(tmp_path: Path) -> None:
    rows = [f"{i / 100:.2f},pelvis,0,0,9.8,0,0,0" for i in range(5000)]
    rows[4321] = "43.21,Pelvis,0,0,9.8,0,0,0"
    path = _write(
        tmp_path / "big.csv", "# hinge-imu recording v1\n" + COLS + "\n" + "\n".join(rows)
    )
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    assert info.value.line == 4321 + 3
    assert "unknown sensor name 'Pelvis'" in info.value.message


def test_semicolon_separated_file_gets_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", COLS.replace(",", ";") + "\n0;pelvis;0;0;9,8;0;0;0\n")
    with pytest.raises(RecordingError, match="seems to use ';' between fields") as info:
        read_recording(path)
    assert info.value.line == 1


def test_repeated_header_key_keeps_the_later_value_with_a_warning(tmp_path: Path) -> None:
    text = f"# side: left\n# side: right\n{COLS}\n0,pelvis,0,0,9.8,0,0,0\n"
    rec = read_recording(_write(tmp_path / "r.csv", text))
    assert rec.side == "right"
    assert rec.warnings == (
        f"{tmp_path / 'r.csv'}:2: header key 'side' given again; this later value is used",
    )


def test_line_numbers_count_blank_lines_in_the_table(tmp_path: Path) -> None:
    text = f"# side: left\n{COLS}\n0,pelvis,0,0,9.8,0,0,0\n\n\n0.01,pelvis,0,0,x,0,0,0\n"
    with pytest.raises(RecordingError) as info:
        read_recording(_write(tmp_path / "r.csv", text))
    assert (info.value.line, info.value.message) == (6, "'x' in column 'acc_z' is not a number")


@pytest.mark.parametrize("chunk_bytes", [97, 1 << 20])
def test_bad_line_found_across_diagnosis_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    # the slow path checks the table in chunks, carrying each sensor's state over
    monkeypatch.setattr("hinge_imu.recording.read._DIAGNOSE_CHUNK_BYTES", chunk_bytes)
    rows = []
    for i in range(300):
        rows.append(f"{i / 100:.2f},pelvis,0,0,9.8,0,0,0,1,2,3,{i}")
        rows.append(f"{i / 100 + 0.005:.3f},thigh,0,0,9.8,0,0,0,,,,")
    cases = {
        401: ("1.00,pelvis,0,0,9.8,0,0,0,1,2,3,200", "time goes backwards for sensor 'pelvis'"),
        501: ("2.505,thigh,0,0,9.8,0,0,0,1,,3,", "mag values partly empty"),
        503: ("2.515,thigh,0,0,9.8,0,0,0,4,5,6,", "mag values present here but not on earlier"),
        552: ("2.76,pelvis,0,0,9.8,0,0,0,1,2,3,", "seq values empty here"),
    }
    for index, (row, message) in cases.items():
        bad = rows.copy()
        bad[index] = row
        path = _write(tmp_path / "r.csv", f"{COLS},mag_x,mag_y,mag_z,seq\n" + "\n".join(bad) + "\n")
        with pytest.raises(RecordingError) as info:
            read_recording(path)
        assert info.value.line == index + 2
        assert message in info.value.message


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
@pytest.mark.parametrize(
    ("last", "message"),
    [
        ("300.00,pelvis,0,0,9.8,0,0,0", "time repeats for sensor 'pelvis'"),
        ("300.01,pelvis,0,0,2500,0,0,0", "'2500' in column 'acc_z' is beyond what any IMU"),
        ("300.01,pelvis,0,0,9.8,0,0", "expected 8 fields"),
    ],
)
def test_a_bad_last_line_of_a_big_file_is_named(
    tmp_path: Path, suffix: str, last: str, message: str
) -> None:
    # more than one block of the fast parser and of the diagnosis (1 MB each)
    rows = [
        f"{i / 100:.2f},pelvis,0.1234567,-0.1234567,9.806650,1.234567,-1.234567,0.1234567"
        for i in range(30_001)
    ]
    text = COLS + "\n" + "\n".join([*rows, last]) + "\n"
    path = tmp_path / f"big{suffix}"
    path.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    assert info.value.line == len(rows) + 2
    assert message in info.value.message
