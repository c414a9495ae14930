"""Decoder and encoder of Movesense's GATT SensorData Protocol (profile ``movesense``).

Every notification starts with a message type and the client's 8-bit
reference::

    01 <ref> <status>                   answer to a command: "Hello" to HELLO,
                                        a big-endian u16 HTTP status (507 = no
                                        free subscription slot), or one byte 200
    02 <ref> <u32 ms> <float32 …>       DATA: time stamp of the first sample,
                                        then the whole acc array (n × xyz),
                                        then the whole gyro array (n × xyz)
    03 <ref> <bytes …>                  DATA_PART2: the rest of a DATA message
                                        too long for one notification

A DATA notification whose payload is not a whole number of samples (or that
fills a notification but holds fewer than the rate's samples per message)
is the first part of a split message; it is kept until its DATA_PART2
arrives.
"""

from __future__ import annotations

import struct

import numpy as np

from hinge_imu.sensors.codec import (
    DecodedPacket,
    Decoder,
    Encoder,
    FloatArray,
    PacketError,
    empty_packet,
)

BYTES_PER_SAMPLE = 24  # acc xyz + gyro xyz, float32


class GspDecoder(Decoder):
    """Decoder of GSP IMU6 data and command answers."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self._part1: bytes | None = None
        pk = self.profile.packet
        self.t_result = int(pk["type_command_result"])
        self.t_data = int(pk["type_data"])
        self.t_part2 = int(pk["type_data_part2"])
        self.header = int(pk["header_bytes"])
        self.expected_n = self.profile.samples_in_packet(self.rate_hz)

    def reset(self) -> None:
        super().reset()
        self._part1 = None

    def _decode(self, packet: bytes) -> DecodedPacket:
        if len(packet) < 2:
            raise self.error(packet, "shorter than the 2-byte GSP header (type, reference)")
        kind = packet[0]
        if kind == self.t_result:
            ok, status = self._status(packet)
            return empty_packet(self.diag("response", response_ok=ok, response_code=status))
        if kind == self.t_data:
            notes: tuple[str, ...] = ()
            if self._part1 is not None:
                notes = ("the previous message's second part never came; its samples are lost",)
                self._part1 = None
            if len(packet) < self.header:
                raise self.error(packet, f"a DATA message needs at least {self.header} bytes")
            if self._is_whole(len(packet)):
                return self._samples(packet, notes)
            if self.expected_n and len(packet) > self.header + BYTES_PER_SAMPLE * self.expected_n:
                raise self.error(packet, self._length_hint())
            self._part1 = packet
            return empty_packet(self.diag("partial", notes=notes))
        if kind == self.t_part2:
            if self._part1 is None:
                return empty_packet(
                    self.diag("dropped", notes=("second part of a message whose first was lost",))
                )
            whole = self._part1 + packet[2:]
            self._part1 = None
            if not self._is_whole(len(whole)):
                raise self.error(whole, "joined message: " + self._length_hint())
            return self._samples(whole, ())
        raise self.error(packet, f"unknown GSP message type {kind} (expected 1, 2 or 3)")

    def _is_whole(self, length: int) -> bool:
        payload = length - self.header
        if payload <= 0 or payload % BYTES_PER_SAMPLE:
            return False
        # A message that fits one notification is never split; a full-size one
        # is whole only if it holds the rate's samples (else it is a first part).
        fits = length < int(self.profile.packet["max_notification_bytes"])
        return fits or self.expected_n is None or payload // BYTES_PER_SAMPLE >= self.expected_n

    def _length_hint(self) -> str:
        n = self.expected_n
        want = f" = {self.header + BYTES_PER_SAMPLE * n} for n = {n}" if n else ""
        return f"expected {self.header} + 24·n bytes{want} (IMU6 float32 acc + gyro)"

    def _samples(self, msg: bytes, notes: tuple[str, ...]) -> DecodedPacket:
        n = (len(msg) - self.header) // BYTES_PER_SAMPLE
        stamp_ms = struct.unpack_from("<I", msg, 2)[0]
        vals = np.frombuffer(msg, dtype="<f4", offset=self.header).astype(np.float64)
        acc = vals[: 3 * n].reshape(n, 3) * float(self.profile.packet["acc_scale_to_mps2"])
        gyr = vals[3 * n :].reshape(n, 3) * float(self.profile.packet["gyr_scale_to_dps"])
        if not (np.isfinite(acc).all() and np.isfinite(gyr).all()):
            raise self.error(msg, "samples contain NaN or infinity")
        return DecodedPacket(
            acc_mps2=acc,
            gyr_dps=gyr,
            device_time_s=self.sample_times(stamp_ms * self.profile.timestamp.unit_s, n),
            seq=None,
            diagnostics=self.diag("samples", notes=notes),
        )

    def _status(self, packet: bytes) -> tuple[bool, int | None]:
        """(accepted, HTTP-like status) of a COMMAND_RESULT message."""
        body = packet[2:]
        if body == b"Hello":
            return True, None
        if len(body) == 1:
            status = body[0]
        elif len(body) == 2:
            status = struct.unpack(">H", body)[0]  # the firmware writes e.g. 01 fb = 507
        else:
            raise self.error(packet, "a command result is 01 <ref> and 1-2 status bytes or Hello")
        return status < 400, status

    def check_response(self, command: bytes, response: bytes) -> str | None:
        if len(response) < 3 or response[0] != self.t_result:
            return f"not a GSP command result: {response.hex(' ')}"
        if len(command) >= 2 and response[1] != command[1]:
            return f"answer to reference {response[1]}, expected {command[1]}"
        try:
            ok, status = self._status(response)
        except PacketError as err:
            return str(err)
        return None if ok else f"command refused with status {status}"


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
