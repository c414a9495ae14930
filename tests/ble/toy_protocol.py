"""A small made-up sensor protocol for the BLE tests (SIMULATED device).

It stands in for a real profile where a test needs a protocol the project's
profiles do not have (for example one that refuses a configuration).

Commands on the control characteristic, answered on the response one:
``01 rate_lo rate_hi`` set rate (Hz), ``02`` start; answer ``80 cmd status``
(status 0 = ok, 1 = refused). A data notification is ``seq u32`` (index of
its first sample), ``n u8``, then ``n`` × 6 int16: acc in mm/s², gyr in
0.1 deg/s.
"""

from __future__ import annotations

import struct

import numpy as np

from hinge_imu.samples import FloatArray, SensorStream
from hinge_imu.sensors.clock import SensorClock
from hinge_imu.sensors.codec import DecodedPacket
from tests.ble.bluez_standin import GattChar, GattService, SimDevice

SERVICE = "0000aa00-0000-1000-8000-00805f9b34fb"
DATA = "0000aa01-0000-1000-8000-00805f9b34fb"
CONTROL = "0000aa02-0000-1000-8000-00805f9b34fb"
RESPONSE = "0000aa03-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
ACC_LSB_MPS2 = 0.001
GYR_LSB_DPS = 0.1
SUPPORTED_RATES_HZ = (50, 100, 200)


class ToyDriver:
    """Host side of the toy protocol (a :class:`~hinge_imu.sensors.ble.SensorDriver`)."""

    profile = "toy"
    data_uuids = (DATA,)
    control_uuid = CONTROL
    response_uuid = RESPONSE

    def __init__(self, rate_hz: float = 100.0) -> None:
        self.rate_hz = float(rate_hz)

    def commands(self) -> list[bytes]:
        return [b"\x01" + struct.pack("<H", int(self.rate_hz)), b"\x02"]

    def stop_commands(self) -> list[bytes]:
        return []

    def is_response(self, data: bytes) -> bool:
        return len(data) == 3 and data[0] == 0x80

    def check_response(self, command: bytes, response: bytes) -> str | None:
        if len(response) != 3 or response[0] != 0x80 or response[1] != command[0]:
            return f"unexpected answer {response.hex()} to {command.hex()}"
        if response[2] != 0:
            return f"device refused command {command.hex()} (status {response[2]})"
        return None

    def decode(self, char_uuid: str, data: bytes) -> DecodedPacket:
        seq0, n = struct.unpack_from("<IB", data)
        raw = np.frombuffer(data, dtype="<i2", count=6 * n, offset=5).reshape(n, 6)
        acc: FloatArray = raw[:, :3] * ACC_LSB_MPS2
        gyr: FloatArray = raw[:, 3:] * GYR_LSB_DPS
        return DecodedPacket(acc, gyr, None, np.arange(seq0, seq0 + n, dtype=np.int64))

    def clock_input(self, packet: DecodedPacket) -> int | None:
        return None if packet.seq is None else int(packet.seq[0])

    def reset(self) -> None:
        pass

    def make_clock(self) -> SensorClock:
        return SensorClock(self.rate_hz, "seq", seq_modulus=2**32)


def quantise(acc_mps2: FloatArray, gyr_dps: FloatArray) -> tuple[FloatArray, FloatArray]:
    """What the host decodes from these samples."""
    return (
        np.round(acc_mps2 / ACC_LSB_MPS2) * ACC_LSB_MPS2,
        np.round(gyr_dps / GYR_LSB_DPS) * GYR_LSB_DPS,
    )


class ToyDevice(SimDevice):
    """A SIMULATED toy-protocol sensor streaming the samples of ``stream`` (looped)."""

    def __init__(
        self,
        address: str,
        name: str,
        stream: SensorStream,
        samples_per_packet: int = 4,
        battery_pct: int = 87,
        rssi_dbm: int = -55,
    ) -> None:
        super().__init__(
            address,
            name,
            [
                GattService(
                    SERVICE,
                    [
                        GattChar(DATA, ["notify"]),
                        GattChar(CONTROL, ["write"]),
                        GattChar(RESPONSE, ["notify"]),
                    ],
                ),
                GattService(
                    BATTERY_SERVICE, [GattChar(BATTERY_LEVEL, ["read"], bytes([battery_pct]))]
                ),
            ],
            rssi_dbm=rssi_dbm,
            adv_uuids=[SERVICE],
        )
        self.stream = stream
        self.service_battery_pct = battery_pct
        self.samples_per_packet = samples_per_packet
        self.rate_hz = 0
        self.next_index = 0
        self._resume = False
        self.sent_index: list[int] = []  # sample indices sent, in order
        self.corrupt_next = False  # send one malformed packet next

    def on_connect(self) -> None:
        self.streaming = False

    def on_read(self, char_uuid: str) -> bytes | None:
        return bytes([self.service_battery_pct]) if char_uuid == BATTERY_LEVEL else None

    def on_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if char_uuid != CONTROL or not data:
            return []
        status = 0
        if data[0] == 0x01 and len(data) == 3:
            rate = struct.unpack("<H", data[1:])[0]
            if rate in SUPPORTED_RATES_HZ:
                self.rate_hz = rate
            else:
                status = 1
        elif data[0] == 0x02 and self.rate_hz:
            self.streaming = True
            self._resume = True
        else:
            status = 1
        return [(RESPONSE, bytes([0x80, data[0], status]))]

    def packets_until(self, device_t_s: float) -> list[tuple[str, bytes]]:
        due = int(device_t_s * self.rate_hz)
        if self._resume:  # samples taken while the link was down are lost
            self.next_index = max(self.next_index, due)
            self._resume = False
        out = []
        if self.corrupt_next:
            self.corrupt_next = False
            out.append((DATA, b"\x07"))
        k = self.samples_per_packet
        while self.next_index + k <= due:
            i = self.next_index
            idx = np.arange(i, i + k) % len(self.stream)
            acc = np.round(self.stream.acc_mps2[idx] / ACC_LSB_MPS2).astype("<i2")
            gyr = np.round(self.stream.gyr_dps[idx] / GYR_LSB_DPS).astype("<i2")
            body = np.hstack([acc, gyr]).astype("<i2").tobytes()
            out.append((DATA, struct.pack("<IB", i, k) + body))
            self.sent_index.extend(range(i, i + k))
            self.next_index += k
        return out
