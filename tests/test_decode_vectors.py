"""Decoders against test vectors.

Vendor vectors (``*_vendor.json``) are packet bytes and decoded values copied
from the vendors' own SDK unit tests (MetaWear-SDK-Cpp, Polar BLE SDK); the
source file is named in each JSON. Our vectors (``*_ours.json``) pin the
custom protocol's documented worked example and a Movesense GSP message as
our encoder writes it (no vendor IMU6 vectors were found).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from hinge_imu.conventions import GRAVITY_MPS2
from hinge_imu.sensors.profiles import load_profile
from hinge_imu.sensors.protocols import make_decoder

VECTORS = Path(__file__).parent / "data" / "vectors"
MG = GRAVITY_MPS2 / 1000.0


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((VECTORS / name).read_text())


@pytest.mark.parametrize("case", _load("metamotion_vendor.json")["pairs"], ids=lambda c: c["what"])
def test_metamotion_vendor_packets(case: dict) -> None:  # type: ignore[type-arg]
    dec = make_decoder(
        load_profile("metamotion"),
        acc_range_g=case["acc_range_g"],
        gyr_range_dps=case["gyr_range_dps"],
    )
    acc_pkt, gyr_pkt = (bytes.fromhex(h) for h in case["packets"])
    first = dec.decode(acc_pkt)
    assert len(first) == 0 and first.diagnostics.kind == "partial"  # waits for the gyro half
    out = dec.decode(gyr_pkt)
    np.testing.assert_allclose(out.acc_mps2 / GRAVITY_MPS2, case["acc_g"], atol=1.5e-3)
    np.testing.assert_allclose(out.gyr_dps, case["gyr_dps"], atol=1.5e-3)
    assert out.device_time_s is None and out.seq is None


def _polar_frame(case: dict) -> tuple:  # type: ignore[type-arg]
    dec = make_decoder(load_profile("polar-verity"))
    pkt = bytes.fromhex(case["hex"])
    kind = pkt[0]
    # The factor reaches the decoder in the device's answer to the start command
    # (setting type 5, float32); build that answer for the factor the SDK test used.
    start = load_profile("polar-verity").command_bytes("start")[1 if kind == 2 else 2]
    answer = bytes([0xF0, 0x02, kind, 0, 0, 5, 1]) + struct.pack("<f", case["factor"])
    assert dec.check_response(start, answer) is None
    out = dec.decode(pkt)
    assert len(out) == 0  # an ACC or GYRO frame alone waits for its partner
    acc, gyr = dec.unpaired()  # type: ignore[attr-defined]
    return dec, acc, gyr


@pytest.mark.parametrize(
    "case",
    [c for c in _load("polar_vendor.json")["frames"] if c["hex"].startswith("02")],
    ids=lambda c: c["what"],
)
def test_polar_vendor_acc_frames(case: dict) -> None:  # type: ignore[type-arg]
    _, acc, _ = _polar_frame(case)
    if "acc_mg" in case:
        np.testing.assert_allclose(acc / MG, case["acc_mg"], atol=1e-6)
    else:
        assert len(acc) == case["n_samples"]
        want_mg = np.asarray(case["acc_counts"]) * case["factor"] * 1000.0
        np.testing.assert_allclose(acc[:2] / MG, want_mg, rtol=1e-6)
        assert np.all(np.abs(acc / MG) <= case["range_mg"])


@pytest.mark.parametrize(
    "case",
    [c for c in _load("polar_vendor.json")["frames"] if c["hex"].startswith("05")],
    ids=lambda c: c["what"],
)
def test_polar_vendor_gyro_frames(case: dict) -> None:  # type: ignore[type-arg]
    _, _, gyr = _polar_frame(case)
    if "gyr_dps" in case:
        np.testing.assert_allclose(gyr, case["gyr_dps"], atol=1e-9)
    else:
        bits = np.array([[int(b, 16) for b in row] for row in case["gyr_float_bits"]], dtype="<u4")
        want = bits.view("<f4").astype(np.float64) * case["factor"]
        np.testing.assert_allclose(gyr, want, rtol=1e-7)


def test_polar_frame_time_stamp_is_the_last_sample() -> None:
    profile = load_profile("polar-verity")
    dec = make_decoder(profile)
    case = _load("polar_vendor.json")["frames"][2]  # raw ACC frame, 2 samples, t = 2 s
    dec.decode(bytes.fromhex(case["hex"]))
    # A GYRO frame with the same stamp completes the pairs.
    gyr = (
        bytes.fromhex("05")
        + struct.pack("<Q", case["last_timestamp_ns"])
        + bytes.fromhex("80 00 00 00 00 00 00 01 01 00")
    )
    out = dec.decode(gyr)
    assert len(out) == 2
    assert out.device_time_s is not None
    assert out.device_time_s[-1] == pytest.approx(case["last_timestamp_ns"] * 1e-9)
    assert np.diff(out.device_time_s)[0] == pytest.approx(1 / 52)


@pytest.mark.parametrize(
    "case", _load("polar_vendor.json")["control_point"], ids=lambda c: c["what"]
)
def test_polar_vendor_control_point_answers(case: dict) -> None:  # type: ignore[type-arg]
    dec = make_decoder(load_profile("polar-verity"))
    resp = bytes.fromhex(case["hex"])
    out = dec.decode(resp)
    assert out.diagnostics.kind == "response" and out.diagnostics.response_ok == case["ok"]
    verdict = dec.check_response(resp[1:3], resp)
    if case["ok"]:
        assert verdict is None
    else:
        assert verdict is not None and f"error code {case['error_code']}" in verdict


def test_custom_worked_example() -> None:
    case = _load("custom_ours.json")
    out = make_decoder(load_profile("custom"), rate_hz=case["rate_hz"]).decode(
        bytes.fromhex(case["packets"][0])
    )
    acc_lsb = case["acc_range_g"] * GRAVITY_MPS2 / 32768
    np.testing.assert_allclose(out.acc_mps2, np.array(case["acc_counts"]) * acc_lsb)
    np.testing.assert_allclose(out.gyr_dps, np.array(case["gyr_counts"]) * 2000 / 32768)
    assert out.seq is not None and out.seq.tolist() == case["seq"]
    np.testing.assert_allclose(out.device_time_s, case["device_time_s"])


def test_movesense_split_message() -> None:
    case = _load("movesense_ours.json")
    profile = load_profile("movesense")
    dec = make_decoder(profile, rate_hz=case["rate_hz"])
    part1, part2 = (bytes.fromhex(h) for h in case["packets"])
    assert (
        part1[0] == 2 and part2[0] == 3 and len(part1) == profile.packet["max_notification_bytes"]
    )
    first = dec.decode(part1)
    assert len(first) == 0 and first.diagnostics.kind == "partial"
    out = dec.decode(part2)
    np.testing.assert_allclose(out.acc_mps2, case["acc_mps2"], rtol=1e-6)
    np.testing.assert_allclose(out.gyr_dps, case["gyr_dps"], rtol=1e-6)
    assert out.device_time_s is not None
    assert out.device_time_s[0] == pytest.approx(case["first_device_time_s"])
    cmd = case["command"]
    hello = bytes.fromhex(cmd["hello_answer"])
    assert dec.check_response(bytes.fromhex(cmd["hello"]), hello) is None
    assert dec.decode(hello).diagnostics.response_ok is True
    refused = bytes.fromhex(cmd["no_free_slot_answer"])
    verdict = dec.check_response(bytes.fromhex(cmd["subscribe"]), refused)
    assert verdict is not None and "status 507" in verdict
    assert dec.decode(refused).diagnostics.response_code == 507
