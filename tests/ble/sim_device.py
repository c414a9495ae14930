"""What a SIMULATED BLE peripheral offers the BlueZ stand-in: GATT table and protocol hooks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GattChar:
    """One characteristic a simulated device offers."""

    uuid: str
    flags: list[str]
    value: bytes = b""


@dataclass
class GattService:
    uuid: str
    chars: list[GattChar]


class SimDevice:
    """A simulated BLE peripheral. Subclasses speak a device's protocol.

    Override ``on_write`` (answer control writes), ``on_read`` and
    ``packets_until`` (the notifications due up to a device time).
    """

    def __init__(
        self,
        address: str,
        name: str,
        services: list[GattService],
        rssi_dbm: int = -60,
        adv_uuids: list[str] | None = None,
        manufacturer_data: dict[int, bytes] | None = None,
        service_data: dict[str, bytes] | None = None,
    ) -> None:
        self.address = address.upper()
        self.name = name
        self.services = services
        self.rssi_dbm = rssi_dbm
        self.adv_uuids = adv_uuids or []
        self.manufacturer_data = manufacturer_data or {}
        self.service_data = service_data or {}
        self.streaming = False

    # -- protocol hooks, called on the stand-in's loop --------------------
    def on_connect(self) -> None:
        """The central connected; a real device stops streaming until told."""
        self.streaming = False

    def on_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        """A write to ``char_uuid``; returns notifications to send (uuid, bytes)."""
        return []

    def on_read(self, char_uuid: str) -> bytes | None:
        """Value of a read, or None to serve the characteristic's stored value."""
        return None

    def packets_until(self, device_t_s: float) -> list[tuple[str, bytes]]:
        """Notifications due while streaming, up to ``device_t_s``.

        ``device_t_s`` is the stand-in's simulated time (s since the first
        device started streaming, times ``speed``), the same for every device.
        """
        return []


@dataclass
class SentPacket:
    """A notification the stand-in put on the bus (for tests and benchmarks)."""

    address: str
    char_uuid: str
    data: bytes
    sent_perf_s: float  # time.perf_counter() just before the signal was sent
