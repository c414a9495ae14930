"""A disk that fills up, or a folder that cannot be written, during ``live`` (SIMULATED data).

One clear line, exit 2, the session stops, and what was written reads back.
``record`` on a full filesystem is tested against the BlueZ stand-in
(tests/ble/test_record_disk_full.py).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
from core_sim_helpers import sim

from hinge_imu.cli import main
from hinge_imu.recording import read_recording, stream, write_recording


class _SmallDisk(io.FileIO):
    """A file on a disk with ``ROOM`` bytes left: a write reaching it is cut, the next fails."""

    ROOM = 40_000

    def write(self, b: object) -> int:  # type: ignore[override]
        left = self.ROOM - self.tell()
        if left <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(bytes(b)[:left])  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "session.csv"
    rec = sim(
        "typical", reps=3, seed=21, mounting="arbitrary", mistakes=[{}, {"back_rounded": 26.0}, {}]
    ).recording
    write_recording(path, rec)
    return path


@pytest.mark.parametrize("name", ["live.csv", "live.csv.gz"])
def test_live_on_a_disk_that_fills_up_stops_with_one_line_and_keeps_what_it_wrote(
    replayed: Path,
    tmp_path: Path,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(
        stream, "open", lambda p, mode, buffering: _SmallDisk(p, "wb"), raising=False
    )
    before = hashlib.sha256(replayed.read_bytes()).hexdigest()
    out = tmp_path / name
    argv = ["live", "--replay", str(replayed), "--speed", "0", "--mute", "--plain", "-o", str(out)]
    assert main([*argv, "--events", str(tmp_path / "ev.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("hinge-imu: error:")]
    assert errors == [
        f"hinge-imu: error: {out}: cannot write the recording (No space left on device); "
        "recording stopped, the samples written before are in the file and read back"
    ]
    assert 0 < out.stat().st_size <= _SmallDisk.ROOM
    kept = read_recording(out)
    source = read_recording(replayed)
    n = len(kept.sensors["pelvis"])
    assert n > 50
    np.testing.assert_allclose(
        kept.sensors["pelvis"].acc_mps2, source.sensors["pelvis"].acc_mps2[:n], rtol=1e-6
    )
    assert hashlib.sha256(replayed.read_bytes()).hexdigest() == before


def test_live_into_a_folder_that_cannot_be_written_is_one_line_before_the_session(
    replayed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")  # as root, permissions stop nothing: a file where the folder is
    out = blocker / "live.csv"
    argv = ["live", "--replay", str(replayed), "--speed", "0", "--mute", "--plain", "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("hinge-imu: error: ") and str(out) in err[-1]
    assert not out.exists()


def test_live_whose_events_file_hits_a_full_disk_stops_with_one_line(
    replayed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/dev/full answers every write with ENOSPC: the events file, not the recording, is full."""
    out = tmp_path / "live.csv"
    argv = ["live", "--replay", str(replayed), "--speed", "0", "--mute", "--plain", "-o", str(out)]
    assert main([*argv, "--events", "/dev/full"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("hinge-imu: error:")]
    assert len(errors) == 1 and "cannot write the events (No space left on device)" in errors[0]
    assert out.read_text().startswith("# hinge-imu recording v1")  # closed, header complete


def test_an_output_on_a_full_disk_is_one_line_and_leaves_nothing(
    replayed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hinge_imu import atomic

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    out = tmp_path / "reps.csv"
    assert main(["analyse", str(replayed), "--reps-csv", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"hinge-imu: error: {out}: cannot write the file (No space left on device); nothing written"
    )
    assert list(tmp_path.iterdir()) == []  # no output, no temp file
