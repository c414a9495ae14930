"""``hinge-imu decode`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hinge_imu.cli import main

VECTORS = Path(__file__).parent / "data" / "vectors"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["decode", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if line[:3].strip().isdigit()]


def test_custom_worked_example_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    case = json.loads((VECTORS / "custom_ours.json").read_text())
    code, out, err = _run(capsys, "custom", case["packets"][0])
    assert code == 0 and err == ""
    rows = _rows(out)
    assert len(rows) == 2
    # index, device time, acc xyz (m/s²), gyr xyz (deg/s), seq
    assert rows[0][1] == "5.000000" and rows[1][1] == "5.010000"
    assert float(rows[0][4]) == pytest.approx(9.8066, abs=1e-4)
    assert float(rows[0][5]) == pytest.approx(10.010, abs=1e-3)
    assert rows[0][-1] == "1234" and rows[1][-1] == "1235"


def test_split_movesense_message_across_two_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    case = json.loads((VECTORS / "movesense_ours.json").read_text())
    code, out, _ = _run(capsys, "movesense", *case["packets"])
    assert code == 0
    assert "packet 1 (155 bytes): no samples yet" in out
    rows = _rows(out)
    assert len(rows) == 8
    assert [float(r[2]) for r in rows] == pytest.approx([a[0] for a in case["acc_mps2"]])


def test_range_options_stand_in_for_settings_packets_lack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    packets = ["03:04:16:c4:94:a2:2a:d0", "0x13 0x05 0x3e 0x43 0xff 0x7f 0x00 0x80"]
    code, out, _ = _run(
        capsys, "metamotion", *packets, "--acc-range-g", "4", "--gyr-range-dps", "500"
    )
    assert code == 0
    (row,) = _rows(out)
    assert float(row[1]) == pytest.approx(-1.872 * 9.80665, abs=0.01)  # no device time column
    assert float(row[4]) == pytest.approx(262.409, abs=1e-3)


def test_unpaired_half_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "metamotion", "03 04 16 c4 94 a2 2a d0", "--acc-range-g", "4")
    assert code == 0 and "unpaired accelerometer sample (m/s²): -18.3611" in out


@pytest.mark.parametrize(
    ("argv", "msg"),
    [
        (["custom", "01 0g"], "packet 1: 'g' is not a hex digit"),
        (["custom", "01 0"], "packet 1: odd number of hex digits (3)"),
        (["custom", "01 00 d2 04 40 4b 4c 00 02 02 04 9a 01 33"], "expected 11 + 12·n = 35 bytes"),
        (["movesense", "02 63", "--rate-hz", "50"], "rate 50 Hz not supported"),
        (["garmin", "00"], "unknown device profile 'garmin'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], msg: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""  # nothing half-printed
    assert err.count("\n") == 1 and msg in err and err.startswith("hinge-imu: error:")
