"""``write_recording`` (atomic batch) and ``RecordingWriter`` (streaming, crash-safe)."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from hinge_imu.errors import RecordingError
from hinge_imu.recording import RecordingWriter, read_recording, write_recording
from hinge_imu.samples import Recording, SensorStream


def _stream(n: int, rate_hz: float, t0_s: float, seed: int, *, mag: bool = False) -> SensorStream:
    rng = np.random.default_rng(seed)
    t_s = t0_s + np.arange(n) / rate_hz + rng.uniform(0, 1e-4, n)  # irregular instants
    return SensorStream(
        t_s=t_s,
        acc_mps2=rng.normal(0, 4, (n, 3)) * 10.0 ** rng.integers(-3, 2, (n, 1)),
        gyr_dps=rng.normal(0, 150, (n, 3)),
        mag_ut=rng.normal(0, 40, (n, 3)) if mag else None,
        seq=np.arange(n, dtype=np.int64) + 65000 if mag else None,
        rate_hz=rate_hz,
    )


def _recording() -> Recording:
    return Recording(
        sensors={
            "pelvis": _stream(900, 100.0, 0.0, 1, mag=True),
            "thigh": _stream(470, 52.0, 0.004, 2),
            "head": _stream(300, 33.3, 0.1, 3),
        },
        header={"note": "simulated test data", "subject": "s01", "x.custom": "a b"},
    )


@pytest.mark.parametrize("name", ["rec.csv", "rec.csv.gz"])
def test_round_trip_keeps_values_to_stated_precision(tmp_path: Path, name: str) -> None:
    rec = _recording()
    path = tmp_path / name
    write_recording(path, rec)
    back = read_recording(path)
    assert list(back.sensors) == ["thigh", "pelvis", "head"]
    assert back.header == {
        **rec.header,
        "rate_hz.pelvis": "100",
        "rate_hz.thigh": "52",
        "rate_hz.head": "33.3",
    }
    for sensor, s in rec.sensors.items():
        b = back.sensors[sensor]
        np.testing.assert_allclose(b.t_s, s.t_s, rtol=0, atol=0.51e-6)
        np.testing.assert_allclose(b.acc_mps2, s.acc_mps2, rtol=1e-6, atol=0)
        np.testing.assert_allclose(b.gyr_dps, s.gyr_dps, rtol=1e-6, atol=0)
        assert b.rate_hz == s.rate_hz
        if s.mag_ut is None:
            assert b.mag_ut is None and b.seq is None
        else:
            np.testing.assert_allclose(b.mag_ut, s.mag_ut, rtol=1e-6)  # type: ignore[arg-type]
            np.testing.assert_array_equal(b.seq, s.seq)  # type: ignore[arg-type]
    if name.endswith(".gz"):
        assert gzip.decompress(path.read_bytes()).startswith(b"# hinge-imu recording v1\n")


def test_rows_are_in_time_order_across_sensors(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    write_recording(path, _recording())
    lines = path.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("t,"))
    t = np.array([float(line.split(",")[0]) for line in lines[first + 1 :]])
    assert t.size == 900 + 470 + 300
    assert (np.diff(t) >= 0).all()


def test_failure_mid_way_leaves_nothing_under_the_final_name(tmp_path: Path) -> None:
    n = 120_000  # more than one write chunk; the bad value is in the last chunk
    t = np.arange(n) / 100.0
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    acc[-3, 1] = np.inf
    rec = Recording({"pelvis": SensorStream(t, acc, np.zeros((n, 3)))})
    path = tmp_path / "rec.csv"
    path.write_text("previous good file\n")
    with pytest.raises(RecordingError, match="non-finite sample value"):
        write_recording(path, rec)
    assert path.read_text() == "previous good file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.csv"]


def test_write_recording_rejects_what_would_not_read_back(tmp_path: Path) -> None:
    ok = _stream(10, 100.0, 0.0, 1)
    back = SensorStream(ok.t_s[::-1].copy(), ok.acc_mps2, ok.gyr_dps)
    cases = [
        (Recording({"thigh": ok}), "no 'pelvis' stream"),
        (Recording({"pelvis": ok, "knee": ok}), "unknown sensor name 'knee'"),
        (Recording({"pelvis": back}), "time does not increase at sample 1"),
        (Recording({"pelvis": ok}, {"note": "two\nlines"}), "one '# key: value' line"),
    ]
    for rec, message in cases:
        with pytest.raises(RecordingError, match=message):
            write_recording(tmp_path / "r.csv", rec)
    assert not list(tmp_path.iterdir())


def test_streaming_writer_round_trip_single_samples_and_blocks(tmp_path: Path) -> None:
    path = tmp_path / "live.csv.gz"
    with RecordingWriter(path, {"side": "left"}, with_mag=True) as w:
        w.write("pelvis", 0.0, [0, 0, 9.81], [1, 2, 3], seq=1, mag_ut=[20, 0, 40])
        w.write("thigh", [0.0, 0.02], [[9.81, 0, 0]] * 2, [[0, 0, 0]] * 2, seq=[5, 6])
        w.write("pelvis", 0.01, [0, 0.5, 9.81], [1, 2, 3], seq=2, mag_ut=[21, 0, 40])
    rec = read_recording(path)
    assert rec.header == {"side": "left"}
    assert rec.warnings == ()
    np.testing.assert_array_equal(rec.sensors["pelvis"].acc_mps2[:, 1], [0, 0.5])
    np.testing.assert_array_equal(rec.sensors["pelvis"].seq, [1, 2])  # type: ignore[arg-type]
    np.testing.assert_array_equal(rec.sensors["thigh"].t_s, [0.0, 0.02])
    assert rec.sensors["thigh"].mag_ut is None


def test_streaming_writer_rejects_a_backwards_sample(tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    with RecordingWriter(path, {}) as w:
        w.write("pelvis", 1.0, [0, 0, 9.8], [0, 0, 0])
        w.write("thigh", 0.5, [0, 0, 9.8], [0, 0, 0])  # other sensor: earlier is fine
        with pytest.raises(RecordingError, match=r"backwards for sensor 'pelvis' \(0.990000 s"):
            w.write("pelvis", [1.01, 0.99], [[0, 0, 9.8]] * 2, [[0, 0, 0]] * 2)
        w.write("pelvis", 1.02, [0, 0, 9.8], [0, 0, 0])
    np.testing.assert_array_equal(read_recording(path).sensors["pelvis"].t_s, [1.0, 1.02])


def _data_lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln and ln[0].isdigit()]


def test_flush_interval_is_honoured_even_without_further_writes(tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    # the background thread may flush from half an interval on: 0.5 s of
    # scheduling slack before the first check on a busy machine
    with RecordingWriter(path, {"note": "x"}, flush_interval_s=1.0) as w:
        assert path.read_text().startswith("# hinge-imu recording v1\n# note: x\nt,sensor,")
        w.write("pelvis", 0.0, [0, 0, 9.8], [0, 0, 0])
        assert _data_lines(path) == []  # buffered, not written per sample
        time.sleep(1.2)  # no more writes: the background flush must still happen
        assert len(_data_lines(path)) == 1
    slow = tmp_path / "slow.csv"
    with RecordingWriter(slow, {}, flush_interval_s=60.0) as w:
        for i in range(50):
            w.write("pelvis", i / 100, [0, 0, 9.8], [0, 0, 0])
        assert _data_lines(slow) == []
    assert len(_data_lines(slow)) == 50  # close() writes the rest


_CHILD = textwrap.dedent(
    """
    import sys, time
    from hinge_imu.recording import RecordingWriter
    w = RecordingWriter(sys.argv[1], {"note": "simulated crash test"})
    i = 0
    start = time.monotonic()
    while True:
        t = i / 100
        for k, name in enumerate(("pelvis", "thigh", "upper_back")):
            w.write(name, t, [t, -t, 9.81 + k], [k, 2 * t, 0.5], seq=i)
        print(f"{t:.2f}", flush=True)
        i += 1
        time.sleep(max(0.0, start + i / 100 - time.monotonic()))
    """
)


@pytest.mark.parametrize("name", ["crash.csv", "crash.csv.gz"])
def test_killed_recorder_leaves_a_file_that_reads_back(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    t_sent = 0.0
    while t_sent < 2.3:
        line = child.stdout.readline()
        assert line, "child stopped early"
        t_sent = float(line)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    rec = read_recording(path)
    assert rec.header == {"note": "simulated crash test"}
    for k, sensor in enumerate(("pelvis", "thigh", "upper_back")):
        s = rec.sensors[sensor]
        t = np.arange(len(s)) / 100
        # lost at most the last second (default flush_interval_s=1.0), plus scheduling slack
        assert t[-1] >= t_sent - 1.0 - 0.5, (sensor, t[-1], t_sent)
        np.testing.assert_allclose(s.t_s, t, atol=1e-9)
        np.testing.assert_allclose(s.acc_mps2, np.c_[t, -t, np.full_like(t, 9.81 + k)])
        np.testing.assert_array_equal(s.seq, np.arange(len(s)))  # type: ignore[arg-type]


def test_written_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_recording(tmp_path / "r.csv", Recording({"pelvis": _stream(5, 100.0, 0.0, 1)}))
    finally:
        os.umask(old)
    assert (tmp_path / "r.csv").stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux /dev/full")
def test_streaming_writer_on_a_full_disk_gives_a_one_line_error() -> None:
    with pytest.raises(RecordingError) as info:
        RecordingWriter("/dev/full", {"note": "x"})
    assert str(info.value).startswith("/dev/full: cannot write the recording (")


def test_streaming_writer_in_an_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(RecordingError, match="cannot create the file"):
        RecordingWriter(blocker / "rec.csv", {})


def test_write_block_drops_columns_the_writer_does_not_have(tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    with RecordingWriter(path, {}, with_seq=False) as w:
        w.write_block(
            "pelvis", [0.0, 0.01], [[0, 0, 9.8]] * 2, [[0, 0, 0]] * 2, [[1, 2, 3]] * 2, [4, 5]
        )
    assert path.read_text().splitlines()[1] == "t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"
    rec = read_recording(path)
    assert rec.sensors["pelvis"].mag_ut is None and rec.sensors["pelvis"].seq is None
    with RecordingWriter(path, {}) as w, pytest.raises(RecordingError, match="no mag columns"):
        w.write("pelvis", 0.0, [0, 0, 9.8], [0, 0, 0], mag_ut=[1, 2, 3])
