"""Decoder and encoder of MbientLab MetaWear streaming packets (profile ``metamotion``).

Every notification is ``<module> <register> <payload>``. The accelerometer
(module 0x03) and the gyroscope (module 0x13) send separately, either one
sample (registers 0x04 / 0x05, 6 bytes) or three packed samples (0x1c /
0x07, 18 bytes) of int16 x, y, z little-endian. The packets carry neither
the range (the host chose it: ``acc_range_g``, ``gyr_range_dps``) nor time
stamps nor counters.

The decoder pairs accelerometer and gyroscope samples in arrival order and
returns a sample only once both halves are in; if one stream runs ahead
by more than ``max_unpaired_samples`` (a lost packet), its oldest surplus
samples are dropped so the pairs stay in step, and the diagnostics say so.
"""

from __future__ import annotations

import numpy as np

from hinge_imu.sensors.codec import (
    DecodedPacket,
    Decoder,
    Encoder,
    FloatArray,
    acc_lsb_to_mps2,
    coded_value,
    empty_packet,
    quantise,
)


class MetaWearDecoder(Decoder):
    """Decoder of BMI160 acceleration and rotation data, paired."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        pk = self.profile.packet
        self.acc_module, self.gyr_module = int(pk["acc_module"]), int(pk["gyr_module"])
        self.acc_regs = {int(pk["acc_data_register"]): 1, int(pk["acc_packed_register"]): 3}
        self.gyr_regs = {int(pk["gyr_data_register"]): 1, int(pk["gyr_packed_register"]): 3}
        self.acc_scale = acc_lsb_to_mps2(self.acc_range_g, float(pk["acc_lsb_per_g_times_range"]))
        self.gyr_scale = self.gyr_range_dps / float(pk["gyr_lsb_per_dps_times_range"])
        self.max_unpaired = int(pk.get("max_unpaired_samples", 6))
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))

    def reset(self) -> None:
        super().reset()
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))

    def _decode(self, packet: bytes) -> DecodedPacket:
        if len(packet) < 2:
            raise self.error(packet, "shorter than the 2-byte module/register header")
        module, register = packet[0], packet[1]
        if module == self.acc_module and register in self.acc_regs:
            self._acc = np.vstack([self._acc, self._xyz(packet, self.acc_regs[register])])
        elif module == self.gyr_module and register in self.gyr_regs:
            self._gyr = np.vstack([self._gyr, self._xyz(packet, self.gyr_regs[register])])
        else:
            note = f"not IMU data (module 0x{module:02x}, register 0x{register:02x}); ignored"
            return empty_packet(self.diag("dropped", notes=(note,)))
        return self._pairs()

    def _xyz(self, packet: bytes, n: int) -> FloatArray:
        if len(packet) != 2 + 6 * n:
            raise self.error(
                packet,
                f"expected 2 + 6·{n} = {2 + 6 * n} bytes (module, register, {n} × xyz int16)",
            )
        raw = np.frombuffer(packet, dtype="<i2", offset=2).reshape(n, 3).astype(np.float64)
        scale = self.acc_scale if packet[0] == self.acc_module else self.gyr_scale
        return raw * scale

    def _pairs(self) -> DecodedPacket:
        notes: tuple[str, ...] = ()
        surplus = len(self._acc) - len(self._gyr)
        if abs(surplus) > self.max_unpaired:
            drop = abs(surplus) - self.max_unpaired
            which = "accelerometer" if surplus > 0 else "gyroscope"
            if surplus > 0:
                self._acc = self._acc[drop:]
            else:
                self._gyr = self._gyr[drop:]
            notes = (f"{which} ran {abs(surplus)} samples ahead; dropped its {drop} oldest",)
        n = min(len(self._acc), len(self._gyr))
        if n == 0:
            return empty_packet(self.diag("partial", notes=notes))
        acc, gyr = self._acc[:n], self._gyr[:n]
        self._acc, self._gyr = self._acc[n:], self._gyr[n:]
        return DecodedPacket(acc, gyr, None, None, self.diag("samples", notes=notes))

    def unpaired(self) -> tuple[FloatArray, FloatArray]:
        """Samples still waiting for their other half: (acc m/s², gyro deg/s)."""
        return self._acc.copy(), self._gyr.copy()


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
            rate = coded_value(self.profile.rate_codes, command[2])
            if command[0] == int(pk["acc_module"]):
                acc = coded_value(self.profile.acc_range_codes, command[3])
                self.acc_range_g = acc if acc is not None else self.acc_range_g
            elif command[0] == int(pk["gyr_module"]):
                gyr = coded_value(self.profile.gyr_range_codes, command[3])
                self.gyr_range_dps = gyr if gyr is not None else self.gyr_range_dps
            self.rate_hz = rate if rate is not None else self.rate_hz
        if len(command) == 3 and command[1] == 0x01 and command[0] == int(pk["gyr_module"]):
            self.streaming = command[2] == 0x01  # the gyro starts last and stops first
        return None
