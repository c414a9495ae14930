"""``hinge-imu record`` onto a filesystem that fills up, or is read-only (SIMULATED sensors).

A real tmpfs of a few kB (skipped where ``mount`` is not allowed): one clear
line, exit 2, the session stops, and what was written reads back.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hinge_imu.cli import main
from hinge_imu.recording import read_recording
from tests.ble.bluez_standin import BlueZStandIn
from tests.ble.helpers import sim_stream
from tests.ble.profile_devices import ProfileDevice

pytestmark = pytest.mark.ble

PELVIS = "D4:CA:6E:00:00:21"


@contextlib.contextmanager
def _tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


FULL = (
    "cannot write the recording (No space left on device); "
    "recording stopped, the samples written before are in the file and read back"
)


@pytest.mark.parametrize(
    ("options", "message"),
    [("size=24k", FULL), ("ro,size=24k", "cannot create the file (Read-only file system)")],
    ids=["full", "read-only"],
)
def test_record_on_a_disk_that_fails_is_one_line_and_keeps_what_it_wrote(
    standin: BlueZStandIn,
    tmp_path: Path,
    options: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    standin.add_device(ProfileDevice(PELVIS, "HingeIMU-P", "custom", sim_stream("pelvis")))
    with _tmpfs(tmp_path / "disk", options) as disk:
        out = disk / "rec.csv"
        assert main(["record", "--pelvis", PELVIS, "--duration", "8", "-o", str(out)]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"hinge-imu: error: {out}: {message}"
        ]
        if message == FULL:
            assert len(read_recording(out).sensors["pelvis"]) > 50
        else:
            assert not out.exists()
