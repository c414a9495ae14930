"""Encoder of Polar PMD frames, as a Verity Sense in SDK mode sends them.

ACC goes out as delta-compressed type 1 frames (16-bit mG counts, factor
1), GYRO as delta-compressed type 0 frames (16-bit counts × factor, the
factor being ``range / 32768`` deg/s, announced in the start answer). Each
frame's time stamp is its last sample's, in ns since 2000-01-01.
"""

from __future__ import annotations

import struct

import numpy as np

from hinge_imu.sensors.decode_polar import pack_delta_frames
from hinge_imu.sensors.encode import Encoder, FloatArray

# PMD control point error codes (Polar BLE SDK, PmdControlPointResponseCode).
SUCCESS, INVALID_MEASUREMENT_TYPE, INVALID_PARAMETER = 0, 2, 5
INVALID_SAMPLE_RATE, INVALID_RANGE = 8, 9


class PolarPmdEncoder(Encoder):
    """ACC and GYRO frames of ``samples_per_packet`` samples each."""

    def _pack(self, acc: FloatArray, gyr: FloatArray, t_s: FloatArray) -> list[bytes]:
        pk = self.profile.packet
        ts_ns = round(float(t_s[-1]) / self.profile.timestamp.unit_s)
        full_mg = min(1000.0 * self.acc_range_g, 32767)  # saturates at its range
        acc_counts = np.clip(np.round(acc / float(pk["acc_mg_to_mps2"])), -full_mg, full_mg)
        gyr_counts = np.clip(np.round(gyr / self.gyr_factor), -32768, 32767)
        comp = int(pk["compressed_bit"])
        return [
            struct.pack("<BQB", int(pk["type_acc"]), ts_ns, comp | 1)
            + pack_delta_frames(acc_counts.astype(np.int64), 16),
            struct.pack("<BQB", int(pk["type_gyr"]), ts_ns, comp | 0)
            + pack_delta_frames(gyr_counts.astype(np.int64), 16),
        ]

    @property
    def gyr_factor(self) -> float:
        return self.gyr_range_dps / 32768.0

    def command_response(self, command: bytes) -> bytes | None:
        pk = self.profile.packet
        if len(command) < 2:
            return None
        op, kind = command[0], command[1]
        head = bytes([int(pk["response_code"]), op, kind])
        if op == int(pk["op_stop"]):
            if kind in (int(pk["type_acc"]), int(pk["type_gyr"])):
                self.streaming = False
            return head + bytes([SUCCESS, 0])
        if op != int(pk["op_start"]):
            return head + bytes([INVALID_PARAMETER, 0])
        if kind == int(pk["type_sdk_mode"]):
            return head + bytes([SUCCESS, 0])
        if kind not in (int(pk["type_acc"]), int(pk["type_gyr"])):
            return head + bytes([INVALID_MEASUREMENT_TYPE, 0])
        settings = _settings(command[2:], [int(x) for x in pk["setting_field_bytes"]])
        if settings is None:
            return head + bytes([INVALID_PARAMETER, 0])
        rate, rng = settings.get(0), settings.get(2)
        if rate is None or float(rate) not in self.profile.rates_hz:
            return head + bytes([INVALID_SAMPLE_RATE, 0])
        if kind == int(pk["type_acc"]):
            if rng is None or float(rng) not in self.profile.acc_ranges_g:
                return head + bytes([INVALID_RANGE, 0])
            self.acc_range_g, factor = float(rng), float(pk["default_acc_factor"])
        else:
            if rng is None or float(rng) not in self.profile.gyr_ranges_dps:
                return head + bytes([INVALID_RANGE, 0])
            self.gyr_range_dps = float(rng)
            factor = self.gyr_factor
        self.rate_hz = float(rate)
        self.samples_per_packet = self.profile.samples_in_packet(self.rate_hz) or 1
        if kind == int(pk["type_gyr"]):
            self.streaming = True  # ACC and GYRO both started (GYRO comes second)
        return head + bytes([SUCCESS, 0, 5, 1]) + struct.pack("<f", factor)


def _settings(data: bytes, sizes: list[int]) -> dict[int, int] | None:
    """Setting type → first value, from ``<type> <count> <values…>`` records."""
    out: dict[int, int] = {}
    i = 0
    while i < len(data):
        if i + 2 > len(data) or data[i] >= len(sizes):
            return None
        kind, count = data[i], data[i + 1]
        size = sizes[kind]
        if count < 1 or i + 2 + size * count > len(data):
            return None
        out[kind] = int.from_bytes(data[i + 2 : i + 2 + size], "little")
        i += 2 + size * count
    return out
