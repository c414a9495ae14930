"""Decoder and encoder of the project's own ``hinge-v1`` protocol (profile ``custom``).

The format is specified byte by byte in ``firmware_config/README.md``::

    0      u8   version (1)
    1      u8   flags: bit 0 = 64-bit time stamp; other bits 0
    2..3   u16  index of the packet's first sample, mod 65536
    4..    u32  (or u64 with flag bit 0) time of the first sample, µs
    +0     u8   n, samples in the packet (1..19)
    +1     u8   accelerometer scale code (0..3 = ±2, 4, 8, 16 g)
    +2     u8   gyroscope scale code (0..4 = ±125, 250, 500, 1000, 2000 deg/s)
    then n × (acc x, y, z, gyro x, y, z) as int16; everything little-endian.
"""

from __future__ import annotations

import struct

import numpy as np

from hinge_imu.sensors.codec import (
    DecodedPacket,
    Decoder,
    Encoder,
    FloatArray,
    acc_lsb_to_mps2,
    coded_value,
    device_code,
    empty_packet,
    quantise,
)

FLAG_TS64 = 0x01


class HingeV1Decoder(Decoder):
    """Decoder of ``hinge-v1`` sample packets and command answers."""

    def _decode(self, packet: bytes) -> DecodedPacket:
        pk = self.profile.packet
        if packet[:1] == bytes([int(pk.get("response_opcode", 0xF0))]):
            return self._response(packet)
        if len(packet) < 2:
            raise self.error(packet, "too short for a header")
        version, flags = packet[0], packet[1]
        if version != int(pk.get("version", 1)):
            raise self.error(packet, f"protocol version {version}, this decoder reads 1")
        if flags & ~FLAG_TS64:
            raise self.error(packet, f"unknown flag bits 0x{flags & ~FLAG_TS64:02x}")
        ts64 = bool(flags & FLAG_TS64)
        hdr = int(pk["header_bytes_ts64"] if ts64 else pk["header_bytes_ts32"])
        if len(packet) < hdr:
            raise self.error(packet, f"shorter than its {hdr}-byte header")
        seq0 = struct.unpack_from("<H", packet, 2)[0]
        stamp = struct.unpack_from("<Q" if ts64 else "<I", packet, 4)[0]
        n, acc_code, gyr_code = packet[hdr - 3], packet[hdr - 2], packet[hdr - 1]
        expected = hdr + 12 * n
        if n == 0 or n > int(pk.get("max_samples", 19)):
            raise self.error(packet, f"sample count {n}, expected 1..{pk.get('max_samples', 19)}")
        if len(packet) != expected:
            raise self.error(
                packet, f"expected {hdr} + 12·n = {expected} bytes for n = {n} samples"
            )
        acc_g = _inverse(self.profile.acc_range_codes).get(acc_code)
        gyr_dps = _inverse(self.profile.gyr_range_codes).get(gyr_code)
        if acc_g is None:
            raise self.error(packet, f"unknown accelerometer scale code {acc_code}")
        if gyr_dps is None:
            raise self.error(packet, f"unknown gyroscope scale code {gyr_code}")
        raw = np.frombuffer(packet, dtype="<i2", offset=hdr).reshape(n, 6).astype(np.float64)
        seq = (seq0 + np.arange(n, dtype=np.int64)) % (self.seq_modulus or 65536)
        return DecodedPacket(
            acc_mps2=raw[:, :3] * acc_lsb_to_mps2(acc_g),
            gyr_dps=raw[:, 3:] * (gyr_dps / 32768.0),
            device_time_s=self.sample_times(stamp * self.profile.timestamp.unit_s, n),
            seq=seq,
            diagnostics=self.diag("samples"),
        )

    def _response(self, packet: bytes) -> DecodedPacket:
        if len(packet) != 3:
            raise self.error(packet, "a command answer is 3 bytes: F0 <opcode> <status>")
        status = packet[2]
        return empty_packet(self.diag("response", response_ok=status == 0, response_code=status))

    def check_response(self, command: bytes, response: bytes) -> str | None:
        if len(response) != 3 or response[0] != int(self.profile.packet["response_opcode"]):
            return f"not a command answer: {response.hex(' ')}"
        if command[:1] != response[1:2]:
            return f"answer to command 0x{response[1]:02x}, expected 0x{command[0]:02x}"
        if response[2] != 0:
            return f"command 0x{command[0]:02x} refused with status {response[2]}"
        return None


def _inverse(codes: object) -> dict[int, float]:
    return {int(v): float(k) for k, v in dict(codes).items()}  # type: ignore[call-overload]


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
                device_code(p.acc_range_codes, self.acc_range_g),
                device_code(p.gyr_range_codes, self.gyr_range_dps),
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
                acc = coded_value(self.profile.acc_range_codes, command[3])
                gyr = coded_value(self.profile.gyr_range_codes, command[4])
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
