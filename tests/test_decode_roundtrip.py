"""Encoders and decoders of every profile: round trips, losses, bad packets."""

from __future__ import annotations

import numpy as np
import pytest

from hinge_imu.conventions import GRAVITY_MPS2
from hinge_imu.sensors.codec import DecodedPacket, EncodeError, PacketError
from hinge_imu.sensors.profiles import load_profile
from hinge_imu.sensors.protocols import make_decoder, make_encoder

PROFILES = ("custom", "movesense", "metamotion", "polar-verity")


def _samples(n: int, rate_hz: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    acc = rng.uniform(-3, 3, (n, 3)) * GRAVITY_MPS2  # within ±8 g
    gyr = rng.uniform(-1500, 1500, (n, 3))  # within ±2000 deg/s
    t = 100.0 + np.arange(n) / rate_hz
    return acc, gyr, t


def _decode_all(dec: object, packets: list[bytes]) -> list[DecodedPacket]:
    return [dec.decode(p) for p in packets]  # type: ignore[attr-defined]


def _cat(outs: list[DecodedPacket]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    acc = np.concatenate([o.acc_mps2 for o in outs])
    gyr = np.concatenate([o.gyr_dps for o in outs])
    times = [o.device_time_s for o in outs if len(o)]
    t = np.concatenate(times) if times and times[0] is not None else None  # type: ignore[arg-type]
    return acc, gyr, t


@pytest.mark.parametrize("name", PROFILES)
def test_round_trip_within_one_count(name: str) -> None:
    profile = load_profile(name)
    rate = profile.default_rate_hz
    acc, gyr, t = _samples(300, rate)
    enc = make_encoder(profile)
    packets = enc.encode(acc[:170], gyr[:170], t[:170]) + enc.encode(acc[170:], gyr[170:], t[170:])
    packets += enc.flush()
    got_acc, got_gyr, got_t = _cat(_decode_all(make_decoder(profile), packets))
    assert len(got_acc) == 300
    acc_lsb = 8 * GRAVITY_MPS2 / 32768 if name != "polar-verity" else GRAVITY_MPS2 / 1000
    gyr_lsb = 2000 / 32768 if name != "metamotion" else 2000 / 32800
    tol = 1e-5 if name == "movesense" else 0.51  # float32 vs half a count
    np.testing.assert_allclose(got_acc, acc, atol=tol * (1 if name == "movesense" else acc_lsb))
    np.testing.assert_allclose(got_gyr, gyr, atol=tol * (1 if name == "movesense" else gyr_lsb))
    if profile.timestamp.present:
        assert got_t is not None
        tick = profile.timestamp.unit_s
        np.testing.assert_allclose(got_t, t, atol=max(tick, 1e-6))


def test_values_beyond_the_range_saturate_like_the_sensor() -> None:
    profile = load_profile("custom")
    enc = make_encoder(profile, acc_range_g=2, samples_per_packet=1)
    (pkt,) = enc.encode([[50.0, -50.0, 0.0]], [[0.0, 0.0, 0.0]], [0.0])
    out = make_decoder(profile).decode(pkt)
    assert out.acc_mps2[0, 0] == pytest.approx(2 * GRAVITY_MPS2, rel=1e-4)
    assert out.acc_mps2[0, 1] == pytest.approx(-2 * GRAVITY_MPS2)


def test_custom_sequence_and_timestamp_wrap() -> None:
    profile = load_profile("custom")
    enc = make_encoder(profile, samples_per_packet=5)
    enc.samples_sent = 65533
    acc, gyr, _ = _samples(10, 100.0)
    t = 2**32 * 1e-6 - 0.02 + np.arange(10) / 100.0  # crosses the 32-bit µs wrap
    outs = _decode_all(make_decoder(profile), enc.encode(acc, gyr, t))
    assert np.concatenate([o.seq for o in outs]).tolist() == [  # type: ignore[misc]
        65533,
        65534,
        65535,
        0,
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert outs[1].device_time_s is not None and outs[1].device_time_s[0] < 0.04


def test_custom_64_bit_time_stamps() -> None:
    profile = load_profile("custom")
    enc = make_encoder(profile, samples_per_packet=2)
    enc.ts64 = True  # type: ignore[attr-defined]
    (pkt,) = enc.encode(np.zeros((2, 3)), np.zeros((2, 3)), [1e5, 1e5 + 0.01])
    assert pkt[1] == 1 and len(pkt) == 15 + 24
    out = make_decoder(profile).decode(pkt)
    np.testing.assert_allclose(out.device_time_s, [1e5, 1e5 + 0.01])  # type: ignore[arg-type]


def test_movesense_lost_first_part_is_reported_not_fatal() -> None:
    profile = load_profile("movesense")
    acc, gyr, t = _samples(16, 104.0)
    packets = make_encoder(profile).encode(acc, gyr, t)
    assert len(packets) == 4  # two messages of 8 samples, each split in two
    dec = make_decoder(profile)
    outs = _decode_all(dec, [packets[1], packets[2], packets[3]])  # part 1 of message 1 lost
    assert outs[0].diagnostics.kind == "dropped" and len(outs[0]) == 0
    assert len(outs[2]) == 8
    np.testing.assert_allclose(outs[2].acc_mps2, acc[8:], rtol=1e-6)
    # A lost second part: the next DATA message says its predecessor's samples are gone.
    dec.reset()
    outs = _decode_all(dec, [packets[0], packets[2], packets[3]])
    assert any("never came" in n for n in outs[1].diagnostics.notes)
    assert len(outs[2]) == 8


def test_metamotion_lost_packet_keeps_pairs_in_step() -> None:
    profile = load_profile("metamotion")
    acc, gyr, t = _samples(30, 100.0)
    packets = make_encoder(profile).encode(acc, gyr, t)  # acc, gyro, acc, gyro, …
    assert len(packets) == 20
    lost_acc_packets = {2, 4, 6}  # three accelerometer packets (9 samples) lost
    kept = [p for i, p in enumerate(packets) if i not in lost_acc_packets]
    outs = _decode_all(make_decoder(profile), kept)
    got_acc, got_gyr, _ = _cat(outs)
    assert any("ran" in n and "ahead" in n for o in outs for n in o.diagnostics.notes)
    # No counters: the surplus is dropped, so pairs stay within one packet
    # (3 samples) of each other instead of drifting apart by every loss.
    lsb = 8 * GRAVITY_MPS2 / 32768
    np.testing.assert_allclose(got_acc[-3:], acc[-3:], atol=lsb)
    shift = [
        k
        for k in range(0, 10)
        if np.allclose(got_gyr[-3:], gyr[len(gyr) - 3 - k : len(gyr) - k], atol=0.1)
    ]
    assert shift and shift[0] <= 3
    assert len(got_acc) == 30 - 9  # every accelerometer sample that arrived is paired


def test_polar_lost_frame_drops_unpartnered_samples() -> None:
    profile = load_profile("polar-verity")
    acc, gyr, t = _samples(54, 52.0)
    packets = make_encoder(profile).encode(acc, gyr, t)  # 3 × (ACC frame, GYRO frame)
    assert len(packets) == 6
    outs = _decode_all(make_decoder(profile), [p for i, p in enumerate(packets) if i != 3])
    got_acc, _, got_t = _cat(outs)
    assert len(got_acc) == 36 and got_t is not None  # the 18 samples of the lost GYRO frame go
    np.testing.assert_allclose(got_t, np.r_[t[:18], t[36:]], atol=1e-6)
    assert any("no partner" in n for o in outs for n in o.diagnostics.notes)


@pytest.mark.parametrize("name", PROFILES)
def test_every_start_command_is_accepted_by_the_simulated_device(name: str) -> None:
    profile = load_profile(name)
    enc, dec = make_encoder(profile), make_decoder(profile)
    for phase, streaming in (("start", True), ("stop", False)):
        for cmd in profile.command_bytes(phase):
            answer = enc.command_response(cmd)
            if profile.gatt.response:
                assert answer is not None and dec.check_response(cmd, answer) is None
            else:
                assert answer is None  # MetaWear and Movesense do not acknowledge
        assert enc.streaming is streaming


def test_simulated_devices_refuse_bad_configurations() -> None:
    custom = load_profile("custom")
    answer = make_encoder(custom).command_response(bytes([0x01, 77, 0, 0, 0]))
    assert answer is not None
    assert "refused" in str(make_decoder(custom).check_response(bytes([0x01]), answer))
    polar = load_profile("polar-verity")
    bad_rate = bytes.fromhex("02 02 00 01 0d 00 01 01 10 00 02 01 08 00 04 01 03")  # 13 Hz
    answer = make_encoder(polar).command_response(bad_rate)
    assert answer is not None and answer[3] == 8  # INVALID_SAMPLE_RATE
    ms = load_profile("movesense")
    enc = make_encoder(ms)
    assert enc.command_response(b"\x01\x63/Meas/IMU6/99") is None  # GSP: silence, no data
    assert enc.command_response(b"\x00\x63") == b"\x01\x63Hello"


def test_configure_command_changes_what_the_simulated_device_sends() -> None:
    profile = load_profile("custom")
    enc = make_encoder(profile)
    for cmd in profile.command_bytes("start", rate_hz=50, acc_range_g=2, gyr_range_dps=250):
        enc.command_response(cmd)
    (pkt,) = enc.encode(np.zeros((4, 3)), np.zeros((4, 3)), np.arange(4) / 50)
    assert len(pkt) == 11 + 4 * 12  # 50 Hz packs 4 samples
    assert pkt[8:11] == bytes([4, 0, 1])  # n, scale codes ±2 g, ±250 deg/s


@pytest.mark.parametrize(
    ("name", "hexstr", "msg"),
    [
        (
            "custom",
            "01 00 00 00 00 00 00 00 02 02 04" + " 00" * 13,
            "expected 11 \\+ 12·n = 35 bytes",
        ),
        ("custom", "07 00 00 00", "protocol version 7"),
        ("custom", "01 80 00 00", "unknown flag bits 0x80"),
        ("custom", "01 00 00 00 00 00 00 00 01 09 04" + " 00" * 12, "accelerometer scale code 9"),
        ("custom", "01 00 00 00 00 00 00 00 00 02 04", "sample count 0"),
        ("movesense", "09 63 00 00", "unknown GSP message type 9"),
        ("movesense", "02 63 00 00 00 00" + " 00" * 300, "expected 6 \\+ 24·n bytes"),
        ("metamotion", "03 1c 00 00 00", "expected 2 \\+ 6·3 = 20 bytes"),
        ("polar-verity", "02 00 00 00 00 00 00 00 00 81 01 00 02 00 03 00 06 09 ff", "delta frame"),
        ("polar-verity", "02 00 00 00 00 00 00 00 00 01 01 00 02", "expected 3·2·n"),
        (
            "polar-verity",
            "05 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00",
            "GYRO frames are delta",
        ),
    ],
)
def test_malformed_packets_raise_one_line_errors(name: str, hexstr: str, msg: str) -> None:
    dec = make_decoder(load_profile(name))
    with pytest.raises(PacketError, match=msg) as info:
        dec.decode(bytes.fromhex(hexstr))
    assert "\n" not in str(info.value) and str(info.value).startswith(f"{name} packet #1")


def test_encoder_rejects_mismatched_inputs() -> None:
    enc = make_encoder(load_profile("custom"))
    with pytest.raises(EncodeError, match="2 acc, 3 gyro, 2 time"):
        enc.encode(np.zeros((2, 3)), np.zeros((3, 3)), [0.0, 0.01])
