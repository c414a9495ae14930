"""Encoders of the custom (hinge-v1), Movesense (GSP) and MetaWear protocols.

See :mod:`hinge_imu.sensors.encode` for the interface and the decoders in
``decode_*.py`` for the byte layouts.
"""

from __future__ import annotations

import struct

import numpy as np

from hinge_imu.sensors.decode import acc_lsb_to_mps2
from hinge_imu.sensors.encode import Encoder, FloatArray, quantise


class HingeV1Encoder(Encoder):
    """hinge-v1 packets; ``ts64=True`` sends 64-bit time stamps."""

    ts64 = False

    def _pack(self, acc: FloatArray, gyr: FloatArray, t_s: FloatArray) -> list[bytes]:
        p = self.profile
        stamp = round(float(t_s[0]) / p.timestamp.unit_s)
        n = len(t_s)
        head = struct.pack(
            "<BBH", int(p.packet["version"]), int(self.ts64), self.samples_sent % 65536
        )
        head += struct.pack("<Q", stamp % 2**64) if self.ts64 else struct.pack("<I", stamp % 2**32)
        head += bytes(
            [
                n,
                _code(p.acc_range_codes, self.acc_range_g),
                _code(p.gyr_range_codes, self.gyr_range_dps),
            ]
        )
        counts = np.empty((n, 6), dtype="<i2")
        counts[:, :3] = quantise(acc, acc_lsb_to_mps2(self.acc_range_g))
        counts[:, 3:] = quantise(gyr, self.gyr_range_dps / 32768.0)
        return [head + counts.tobytes()]

    def command_response(self, command: bytes) -> bytes | None:
        op = int(self.profile.packet["response_opcode"])
        if not command:
            return None
        if command[0] == 0x01:
            status = 1
            if len(command) == 5:
                rate = struct.unpack_from("<H", command, 1)[0]
                acc = _decode_code(self.profile.acc_range_codes, command[3])
                gyr = _decode_code(self.profile.gyr_range_codes, command[4])
                if rate in {int(r) for r in self.profile.rates_hz} and acc and gyr:
                    self.rate_hz, self.acc_range_g, self.gyr_range_dps = float(rate), acc, gyr
                    self.samples_per_packet = self.profile.samples_in_packet(rate) or 1
                    status = 0
            return bytes([op, 0x01, status])
        if command[0] in (0x02, 0x03) and len(command) == 1:
            if command[0] == 0x02:
                self.reset()
            self.streaming = command[0] == 0x02
            return bytes([op, command[0], 0])
        return bytes([op, command[0], 2])


class GspEncoder(Encoder):
    """Movesense GSP IMU6 DATA messages, split in two where too long."""

    ref = 99

    def _pack(self, acc: FloatArray, gyr: FloatArray, t_s: FloatArray) -> list[bytes]:
        p = self.profile
        stamp = round(float(t_s[0]) / p.timestamp.unit_s) % 2**32
        body = np.concatenate([acc.reshape(-1), gyr.reshape(-1)]).astype("<f4").tobytes()
        msg = struct.pack("<BBI", int(p.packet["type_data"]), self.ref, stamp) + body
        limit = int(p.packet["max_notification_bytes"])
        if len(msg) <= limit:
            return [msg]
        part2 = bytes([int(p.packet["type_data_part2"]), self.ref]) + msg[limit:]
        return [msg[:limit], part2]

    def command_response(self, command: bytes) -> bytes | None:
        """As the vendor firmware: HELLO answers "Hello"; (un)subscribing is silent."""
        if len(command) < 2:
            return None
        kind, ref = command[0], command[1]
        result = int(self.profile.packet["type_command_result"])
        if kind == 0x00:
            return bytes([result, ref]) + b"Hello"
        if kind == 0x01:
            path = command[2:].decode("ascii", "replace")
            prefix = "/Meas/IMU6/"
            rate = path[len(prefix) :] if path.startswith(prefix) else ""
            if rate.isdigit() and float(rate) in self.profile.rates_hz:
                self.ref, self.rate_hz = ref, float(rate)
                self.samples_per_packet = self.profile.samples_in_packet(self.rate_hz) or 1
                self.reset()
                self.streaming = True
        elif kind == 0x02 and ref == self.ref:
            self.streaming = False
        return None


def _code(codes: object, value: float) -> int:
    for k, v in dict(codes).items():  # type: ignore[call-overload]
        if abs(float(k) - value) < 1e-6:
            return int(v)
    raise ValueError(f"no device code for {value}")


def _decode_code(codes: object, code: int) -> float | None:
    for k, v in dict(codes).items():  # type: ignore[call-overload]
        if int(v) == code:
            return float(k)
    return None


class MetaWearEncoder(Encoder):
    """MetaWear packed acceleration and rotation packets (3 samples each).

    Each call packs whole groups; a leftover of 1 or 2 samples at ``flush``
    goes out as single-sample packets, as the device's unpacked registers.
    """

    def _pack(self, acc: FloatArray, gyr: FloatArray, t_s: FloatArray) -> list[bytes]:
        pk = self.profile.packet
        acc_lsb = acc_lsb_to_mps2(self.acc_range_g, float(pk["acc_lsb_per_g_times_range"]))
        gyr_lsb = self.gyr_range_dps / float(pk["gyr_lsb_per_dps_times_range"])
        a, g = quantise(acc, acc_lsb), quantise(gyr, gyr_lsb)
        am, gm = int(pk["acc_module"]), int(pk["gyr_module"])
        if len(t_s) == 3:
            return [
                bytes([am, int(pk["acc_packed_register"])]) + a.tobytes(),
                bytes([gm, int(pk["gyr_packed_register"])]) + g.tobytes(),
            ]
        out: list[bytes] = []
        for i in range(len(t_s)):
            out.append(bytes([am, int(pk["acc_data_register"])]) + a[i].tobytes())
            out.append(bytes([gm, int(pk["gyr_data_register"])]) + g[i].tobytes())
        return out

    def command_response(self, command: bytes) -> bytes | None:
        """MetaWear acknowledges nothing; config writes still set the ranges used."""
        pk = self.profile.packet
        if len(command) == 4 and command[1] == 0x03:
            rate = _decode_code(self.profile.rate_codes, command[2])
            if command[0] == int(pk["acc_module"]):
                acc = _decode_code(self.profile.acc_range_codes, command[3])
                self.acc_range_g = acc if acc is not None else self.acc_range_g
            elif command[0] == int(pk["gyr_module"]):
                gyr = _decode_code(self.profile.gyr_range_codes, command[3])
                self.gyr_range_dps = gyr if gyr is not None else self.gyr_range_dps
            self.rate_hz = rate if rate is not None else self.rate_hz
        if len(command) == 3 and command[1] == 0x01 and command[0] == int(pk["gyr_module"]):
            self.streaming = command[2] == 0x01  # the gyro starts last and stops first
        return None
