"""SIMULATED sensors that speak a real profile's protocol, through the project's encoders.

A :class:`ProfileDevice` lays out its GATT table from the profile, answers
commands with ``Encoder.command_response`` and, once started, streams the
samples of a simulator stream packed by ``Encoder.encode``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np

from hinge_imu.samples import SensorStream
from hinge_imu.sensors.profiles import DeviceProfile, load_profile
from hinge_imu.sensors.protocols import make_encoder
from tests.ble.bluez_standin import BlueZStandIn, GattChar, GattService, SimDevice

#: Device clock at the first sample, s: not zero, like a sensor that booted a while ago.
BOOT_S = 1234.5


class ProfileDevice(SimDevice):
    """A SIMULATED device of ``profile`` streaming ``stream`` (looped) once started."""

    def __init__(
        self,
        address: str,
        name: str,
        profile: str | DeviceProfile,
        stream: SensorStream,
        battery_pct: int | None = 77,
        rssi_dbm: int = -58,
        samples_per_packet: int | None = None,
    ) -> None:
        prof = load_profile(profile) if isinstance(profile, str) else profile
        g = prof.gatt
        chars: dict[str, set[str]] = {}
        for u in g.data:
            chars.setdefault(u, set()).add("notify")
        if g.control:
            chars.setdefault(g.control, set()).add("write")
        if g.response:
            chars.setdefault(g.response, set()).add("notify")
        services = [GattService(g.service, [GattChar(u, sorted(f)) for u, f in chars.items()])]
        if battery_pct is not None:
            services.append(
                GattService(
                    g.battery_service, [GattChar(g.battery_level, ["read"], bytes([battery_pct]))]
                )
            )
        super().__init__(
            address,
            name,
            services,
            rssi_dbm=rssi_dbm,
            adv_uuids=list(prof.advertisement.service_uuids[:1]),
        )
        self.profile = prof
        self.stream = stream
        self.battery_pct = battery_pct
        self.encoder = make_encoder(prof, samples_per_packet=samples_per_packet)
        self._forced_spp = samples_per_packet
        self.next_index = 0
        self._resume = False
        self._fifo: list[int] = []
        self.sent_index: list[int] = []  # sample indices sent, in order
        self.last_packet = b""  # the last sample packet sent

    @property
    def rate_hz(self) -> float:
        return self.encoder.rate_hz

    def on_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if char_uuid != self.profile.gatt.control:
            return []
        was_streaming = self.encoder.streaming
        answer = self.encoder.command_response(data)
        if self._forced_spp:  # configuring sets the profile's packing; keep the forced one
            self.encoder.samples_per_packet = self._forced_spp
        # The encoder knows whether the device accepted a start (or a stop).
        self.streaming = self.encoder.streaming
        if self.streaming and not was_streaming:
            self.encoder.reset()
            self._fifo.clear()
            self._resume = True
        if answer is None:
            return []
        # Answers come on the response characteristic, or on the data one.
        return [(self.profile.gatt.response or self.profile.gatt.data[0], answer)]

    def packets_until(self, device_t_s: float) -> list[tuple[str, bytes]]:
        due = int(device_t_s * self.rate_hz)
        if self._resume:  # samples taken while the link was down are lost
            self.next_index = max(self.next_index, due)
            self._resume = False
        if due <= self.next_index:
            return []
        idx = np.arange(self.next_index, due)
        self.next_index = due
        rows = idx % len(self.stream)
        before = self.encoder.samples_sent
        packets = self.encoder.encode(
            self.stream.acc_mps2[rows], self.stream.gyr_dps[rows], BOOT_S + idx / self.rate_hz
        )
        self._fifo.extend(idx.tolist())
        done = self.encoder.samples_sent - before
        self.sent_index.extend(self._fifo[:done])
        del self._fifo[:done]
        data = self.profile.gatt.data[0]
        if packets:
            self.last_packet = packets[-1]
        return [(data, p) for p in packets]


def _counter_back(packet: bytes) -> bytes:
    """The counter 1000 samples back, the time stamp 1 µs on: only the counter is wrong."""
    seq, stamp = struct.unpack_from("<HI", packet, 2)
    return packet[:2] + struct.pack("<HI", (seq - 1000) % 65536, stamp + 1) + packet[8:]


#: Malformed hinge-v1 packets (issue 13 item 7), each made from the device's last good one.
MALFORMED_HINGE_V1: dict[str, Callable[[bytes], bytes]] = {
    "wrong length": lambda p: p[:-1],
    "unknown header": lambda p: b"\x09" + p[1:],  # protocol version 9
    "counter back": _counter_back,
}


def send_malformed(standin: BlueZStandIn, dev: ProfileDevice) -> int:
    """Make ``dev`` (profile ``custom``) send one of each :data:`MALFORMED_HINGE_V1`.

    Returns how many samples it had sent before them.
    """
    assert dev.profile.name == "custom" and dev.last_packet[1] == 0  # 32-bit time stamps
    sent = len(dev.sent_index)
    for make in MALFORMED_HINGE_V1.values():
        standin.inject(
            dev.address, dev.profile.gatt.data[0], lambda make=make: make(dev.last_packet)
        )
    return sent
