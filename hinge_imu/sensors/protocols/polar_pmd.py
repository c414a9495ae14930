"""Decoder and encoder of Polar Measurement Data frames (profile ``polar-verity``).

A data frame is ``<measurement type> <u64 ns> <frame type> <content>``; the
time stamp is the frame's **last** sample, ns since 2000-01-01. Frame type
bit 7 marks delta compression; the low bits select the sample format:

* ACC (type 2), raw: type 0/1/2 = int8/int16/int24 x, y, z in mG;
  compressed type 0: 16-bit counts × factor in g; compressed type 1:
  16-bit counts × factor in mG (factor 1 unless the start answer says).
* GYRO (type 5), compressed only: type 0 = 16-bit counts × factor in deg/s;
  type 1 = float32 bit patterns (deltas added to the bits) × factor.

Delta compression: a reference sample (3 channels at full width), then
blocks of ``<bit width> <sample count>`` and ``count × 3`` signed deltas of
that width, packed least significant bit first; each sample is the
previous plus its deltas.

The factor of each measurement comes from the device's answer to the
start command (setting type 5, float32); :meth:`check_response` records
it. Without one, gyro counts are scaled by ``gyr_range_dps / 32768``.

ACC and GYRO arrive in separate frames. They are paired by time stamp: a
sample is returned once its partner (within half a sample period) is in;
a sample whose partner's stream has moved past it is dropped.
"""

from __future__ import annotations

import struct
from collections import deque

import numpy as np

from hinge_imu.sensors.codec import (
    DecodedPacket,
    Decoder,
    Encoder,
    FloatArray,
    empty_packet,
)

INT_BITS = {0: 8, 1: 16, 2: 24}


class DeltaFrameError(ValueError):
    """Delta-compressed content that does not parse."""


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def parse_delta_frames(content: bytes, channels: int, ref_bits: int) -> list[list[int]]:
    """Samples (integers; float bit patterns for float frames) of delta content."""
    ref_bytes = channels * ref_bits // 8
    if len(content) < ref_bytes:
        raise DeltaFrameError(f"shorter than its {ref_bytes}-byte reference sample")
    step = ref_bits // 8
    ref = [
        _signed(int.from_bytes(content[i * step : (i + 1) * step], "little"), ref_bits)
        for i in range(channels)
    ]
    samples = [ref]
    offset = ref_bytes
    while offset < len(content):
        if offset + 2 > len(content):
            raise DeltaFrameError(f"block header cut short at byte {offset}")
        width, count = content[offset], content[offset + 1]
        offset += 2
        if width == 0 or width > 32:
            raise DeltaFrameError(f"delta width {width} bits at byte {offset - 2}")
        nbits = width * count * channels
        nbytes = (nbits + 7) // 8
        if offset + nbytes > len(content):
            raise DeltaFrameError(
                f"block of {count} samples × {width} bits needs {nbytes} bytes, "
                f"{len(content) - offset} left"
            )
        bitstream = int.from_bytes(content[offset : offset + nbytes], "little")
        offset += nbytes
        mask = (1 << width) - 1
        pos = 0
        for _ in range(count):
            prev = samples[-1]
            new = []
            for c in range(channels):
                delta = _signed((bitstream >> pos) & mask, width)
                pos += width
                new.append(prev[c] + delta)
            samples.append(new)
    return samples


def pack_delta_frames(samples: np.ndarray, ref_bits: int, block: int = 255) -> bytes:
    """Inverse of :func:`parse_delta_frames` for integer samples (n, channels)."""
    s = np.asarray(samples, dtype=np.int64)
    step = ref_bits // 8
    out = bytearray()
    for v in s[0]:
        out += int(v % (1 << ref_bits)).to_bytes(step, "little")
    deltas = np.diff(s, axis=0)
    for start in range(0, len(deltas), block):
        d = deltas[start : start + block]
        peak = int(max(np.max(d), -np.min(d) - 1, 0))
        width = max(1, peak.bit_length() + 1)
        bits = 0
        pos = 0
        for v in d.reshape(-1).tolist():
            bits |= (v & ((1 << width) - 1)) << pos
            pos += width
        out += bytes([width, len(d)]) + bits.to_bytes((pos + 7) // 8, "little")
    return bytes(out)


class PolarPmdDecoder(Decoder):
    """Decoder of Verity Sense ACC and GYRO frames, paired by time."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        pk = self.profile.packet
        self.t_acc, self.t_gyr = int(pk["type_acc"]), int(pk["type_gyr"])
        self.acc_factor = float(pk.get("default_acc_factor", 1.0))
        self.gyr_factor = self.gyr_range_dps / 32768.0
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._prev_ts: dict[int, int] = {}
        self._acc: deque[tuple[float, FloatArray]] = deque()
        self._gyr: deque[tuple[float, FloatArray]] = deque()

    # --- control point

    def check_response(self, command: bytes, response: bytes) -> str | None:
        pk = self.profile.packet
        if len(response) < 5 or response[0] != int(pk["response_code"]):
            return f"not a PMD control point answer: {response.hex(' ')}"
        if response[1:3] != command[0:2]:
            return f"answer to {response[1:3].hex(' ')}, expected {command[0:2].hex(' ')}"
        if response[3] != 0:
            return f"command {command[:2].hex(' ')} refused: PMD error code {response[3]}"
        factor = self._factor_from(response[5:])
        if factor is not None and response[1] == int(pk["op_start"]):
            if response[2] == self.t_acc:
                self.acc_factor = factor
            elif response[2] == self.t_gyr:
                self.gyr_factor = factor
        return None

    def _factor_from(self, params: bytes) -> float | None:
        sizes = [int(x) for x in self.profile.packet["setting_field_bytes"]]
        i = 0
        while i + 2 <= len(params):
            kind, count = params[i], params[i + 1]
            i += 2
            if kind >= len(sizes):
                return None
            if kind == 5 and count >= 1 and i + 4 <= len(params):
                return float(struct.unpack_from("<f", params, i)[0])
            i += sizes[kind] * count
        return None

    # --- data frames

    def _decode(self, packet: bytes) -> DecodedPacket:
        pk = self.profile.packet
        if packet[:1] == bytes([int(pk["response_code"])]):
            ok = len(packet) >= 4 and packet[3] == 0
            code = packet[3] if len(packet) >= 4 else None
            return empty_packet(self.diag("response", response_ok=ok, response_code=code))
        hdr = int(pk["header_bytes"])
        if len(packet) <= hdr:
            raise self.error(packet, f"a PMD frame needs a {hdr}-byte header and samples")
        kind = packet[0]
        ts_ns = struct.unpack_from("<Q", packet, 1)[0]
        ftype = packet[9]
        compressed = bool(ftype & int(pk["compressed_bit"]))
        sub = ftype & 0x7F
        content = packet[hdr:]
        if kind == self.t_acc:
            xyz = self._acc_values(packet, content, compressed, sub)
            unit = float(pk["acc_mg_to_mps2"])
            self._queue(self._acc, kind, ts_ns, xyz * unit)
        elif kind == self.t_gyr:
            xyz = self._gyr_values(packet, content, compressed, sub)
            self._queue(self._gyr, kind, ts_ns, xyz)
        else:
            note = f"measurement type {kind} is not ACC (2) or GYRO (5); ignored"
            return empty_packet(self.diag("dropped", notes=(note,)))
        return self._pairs()

    def _acc_values(self, packet: bytes, content: bytes, compressed: bool, sub: int) -> FloatArray:
        if not compressed:
            if sub not in INT_BITS:
                raise self.error(packet, f"raw ACC frame type {sub} unknown (0, 1 or 2)")
            step = INT_BITS[sub] // 8
            if len(content) % (3 * step):
                raise self.error(
                    packet, f"raw ACC content {len(content)} bytes, expected 3·{step}·n"
                )
            raw = [
                _signed(int.from_bytes(content[i : i + step], "little"), 8 * step)
                for i in range(0, len(content), step)
            ]
            return np.asarray(raw, dtype=np.float64).reshape(-1, 3)
        if sub not in (0, 1):
            raise self.error(packet, f"compressed ACC frame type {sub} unknown (0 or 1)")
        counts = self._delta(packet, content, 16)
        return counts * (self.acc_factor * (1000.0 if sub == 0 else 1.0))

    def _gyr_values(self, packet: bytes, content: bytes, compressed: bool, sub: int) -> FloatArray:
        if not compressed or sub not in (0, 1):
            raise self.error(packet, "GYRO frames are delta compressed type 0 or 1")
        if sub == 0:
            return self._delta(packet, content, 16) * self.gyr_factor
        bits = self._delta(packet, content, 32).astype(np.int64) & 0xFFFFFFFF
        floats = bits.astype("<u4").view("<f4").astype(np.float64)
        return floats * self.gyr_factor

    def _delta(self, packet: bytes, content: bytes, ref_bits: int) -> FloatArray:
        try:
            return np.asarray(parse_delta_frames(content, 3, ref_bits), dtype=np.float64)
        except DeltaFrameError as err:
            raise self.error(packet, f"delta frame: {err}") from err

    def _queue(
        self, q: deque[tuple[float, FloatArray]], kind: int, ts_ns: int, xyz: FloatArray
    ) -> None:
        n = len(xyz)
        spacing_ns = 1e9 / self.rate_hz
        prev = self._prev_ts.get(kind)
        # Spread samples back to the previous frame's stamp, as the Polar SDK
        # does, unless frames were lost in between (then use the nominal rate).
        if prev is not None and 0 < ts_ns - prev < 1.5 * n * spacing_ns:
            spacing_ns = (ts_ns - prev) / n
        self._prev_ts[kind] = ts_ns
        t = (ts_ns - (n - 1 - np.arange(n)) * spacing_ns) * self.profile.timestamp.unit_s
        for i in range(n):
            q.append((float(t[i]), xyz[i]))

    def _pairs(self) -> DecodedPacket:
        half = 0.5 / self.rate_hz
        t_out: list[float] = []
        acc: list[FloatArray] = []
        gyr: list[FloatArray] = []
        dropped = 0
        while self._acc and self._gyr:
            ta, tg = self._acc[0][0], self._gyr[0][0]
            if abs(ta - tg) <= half:
                t_out.append(ta)
                acc.append(self._acc.popleft()[1])
                gyr.append(self._gyr.popleft()[1])
            elif ta < tg:
                self._acc.popleft()
                dropped += 1
            else:
                self._gyr.popleft()
                dropped += 1
        notes = (f"{dropped} samples had no partner (lost frame); dropped",) if dropped else ()
        if not t_out:
            return empty_packet(self.diag("partial", notes=notes))
        return DecodedPacket(
            acc_mps2=np.vstack(acc),
            gyr_dps=np.vstack(gyr),
            device_time_s=np.asarray(t_out),
            seq=None,
            diagnostics=self.diag("samples", notes=notes),
        )

    def unpaired(self) -> tuple[FloatArray, FloatArray]:
        """Samples waiting for their partner: (acc m/s², gyro deg/s)."""
        a = np.array([v for _, v in self._acc]).reshape(-1, 3)
        g = np.array([v for _, v in self._gyr]).reshape(-1, 3)
        return a, g


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
