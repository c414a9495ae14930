"""Property-based tests (hypothesis): odd bytes never crash the reader or the decoders,
and any valid recording survives write → read exactly.

``max_examples`` is kept small enough for the whole file to run in a few seconds.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hinge_imu.errors import RecordingError
from hinge_imu.recording import read_recording, write_recording
from hinge_imu.samples import Recording, SensorStream
from hinge_imu.sensors.codec import PacketError
from hinge_imu.sensors.profiles import list_profiles, load_profile
from hinge_imu.sensors.protocols import make_decoder

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOOD = (
    b"# hinge-imu recording v1\n# rate_hz.pelvis: 100\n"
    b"t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z,seq\n"
    b"0.00,pelvis,0.1,0.2,9.8,1,2,3,1\n0.01,thigh,9.8,0.1,0.2,1,2,3,1\n"
    b"0.01,pelvis,0.1,0.2,9.8,1,2,3,2\n0.02,pelvis,0.1,0.2,9.8,1,2,3,3\n"
)


def _read_bytes(data: bytes, suffix: str) -> Recording | RecordingError:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"r{suffix}"
        path.write_bytes(data)
        try:
            return read_recording(path)
        except RecordingError as err:
            assert "\n" not in str(err) and str(err).startswith(str(path))
            return err


def _mutated(data: bytes) -> st.SearchStrategy[bytes]:
    """A valid file with a few bytes replaced, inserted or cut: near misses find more paths."""
    edit = st.tuples(
        st.integers(0, len(data)),
        st.integers(0, 4),
        st.binary(max_size=4) | st.sampled_from([b",", b"\n", b"-", b"e9", b"nan", b"#", b'"']),
    )

    def apply(edits: list[tuple[int, int, bytes]]) -> bytes:
        out = data
        for at, cut, new in edits:
            out = out[:at] + new + out[at + cut :]
        return out

    return st.lists(edit, min_size=1, max_size=4).map(apply)


@FAST
@given(data=st.binary(max_size=400) | _mutated(GOOD), suffix=st.sampled_from([".csv", ".csv.gz"]))
# Found by hypothesis: a quoted field holding a newline, named in the message.
@example(
    data=b"#\x00\nt,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z,seq\n0,pelvis,0,0,0,0,1,7,\n"
    b'0,thigh,0,0,0,0,1,7,\n0,pelvis,0,0,0,0,1,7,"0\n0,pelvis,0,0,0,0,1,7,',
    suffix=".csv",
)
def test_any_bytes_give_a_recording_or_one_recording_error(data: bytes, suffix: str) -> None:
    got = _read_bytes(data, suffix)
    if isinstance(got, Recording):
        assert "pelvis" in got.sensors
        for s in got.sensors.values():
            assert (np.diff(s.t_s) > 0).all() and np.isfinite(s.acc_mps2).all()


@FAST
@given(data=_mutated(gzip.compress(GOOD, mtime=0)))
def test_any_damaged_gzip_gives_a_recording_or_one_recording_error(data: bytes) -> None:
    _read_bytes(data, ".csv.gz")


@pytest.mark.parametrize("profile", list_profiles())
@settings(max_examples=60, deadline=None)
@given(packets=st.lists(st.binary(max_size=260), min_size=1, max_size=6))
def test_any_bytes_to_a_decoder_give_samples_or_one_packet_error(
    profile: str, packets: list[bytes]
) -> None:
    decoder = make_decoder(load_profile(profile))
    for packet in packets:
        try:
            got = decoder.decode(packet)
        except PacketError as err:
            assert "\n" not in str(err)
            continue
        n = len(got)
        assert got.acc_mps2.shape == (n, 3) and got.gyr_dps.shape == (n, 3)
        assert np.isfinite(got.acc_mps2).all() and np.isfinite(got.gyr_dps).all()


# --- write → read is exact for any valid recording

_VALUE = st.floats(-1500.0, 1500.0, allow_nan=False).map(lambda x: float(f"{x:.7g}"))
_KEY = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="#"))


@st.composite
def _stream(draw: st.DrawFn, with_mag: bool, with_seq: bool) -> SensorStream:
    n = draw(st.integers(1, 12))
    start_us = draw(st.integers(0, 59_000_000))
    steps_us = draw(st.lists(st.integers(1, 2_000_000), min_size=n - 1, max_size=n - 1))
    t_s = (start_us + np.cumsum([0, *steps_us])) / 1e6
    arr = st.lists(_VALUE, min_size=3 * n, max_size=3 * n).map(lambda v: np.reshape(v, (n, 3)))
    mag = draw(arr) if with_mag and draw(st.booleans()) else None
    seq = np.cumsum(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))) if with_seq else None
    # all-zero acc is a sensor never started: left out or refused by the reader
    acc = draw(arr.filter(lambda a: n == 1 or a.any()))
    return SensorStream(t_s, acc, draw(arr), mag, seq)


@st.composite
def _recording(draw: st.DrawFn) -> Recording:
    with_mag, with_seq = draw(st.booleans()), draw(st.booleans())
    others = draw(st.sets(st.sampled_from(["thigh", "upper_back", "head", "shank", "foot"])))
    sensors = {name: draw(_stream(with_mag, with_seq)) for name in ["pelvis", *sorted(others)]}
    header = draw(st.dictionaries(_KEY, _TEXT.map(str.strip), max_size=4))
    return Recording(sensors=sensors, header=header)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rec=_recording(), suffix=st.sampled_from([".csv", ".csv.gz"]))
def test_write_then_read_is_exact_for_any_valid_recording(rec: Recording, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"r{suffix}"
        write_recording(path, rec)
        back = read_recording(path)
    assert dict(back.header) == dict(rec.header)
    assert set(back.sensors) == set(rec.sensors)
    for name, s in rec.sensors.items():
        b = back.sensors[name]
        for field in ("t_s", "acc_mps2", "gyr_dps", "mag_ut", "seq"):
            want, got = getattr(s, field), getattr(b, field)
            if want is None:
                assert got is None, (name, field)
            else:
                np.testing.assert_array_equal(got, want, err_msg=f"{name}.{field}")
