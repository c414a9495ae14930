"""Device profiles (``firmware_config/*.toml``) as BLE session drivers.

:class:`ProfileDriver` wraps a profile and its packet decoder in the
:class:`~hinge_imu.sensors.ble.SensorDriver` interface the session uses. It
gives each sensor a :class:`~hinge_imu.sensors.clock.SensorClock` set up
from the profile (device time stamps, else the sample counter), which
places samples on the host clock, keeps lost samples as gaps and follows
crystal drift.
"""

from __future__ import annotations

from collections.abc import Sequence

from hinge_imu.sensors.clock import SensorClock, clock_for_profile
from hinge_imu.sensors.codec import DecodedPacket
from hinge_imu.sensors.profiles import DeviceProfile, load_profile, profile_for_advertisement
from hinge_imu.sensors.protocols import make_decoder


def match_advertisement(
    name: str,
    service_uuids: Sequence[str],
    manufacturer_data: dict[int, bytes],
    service_data: dict[str, bytes],
) -> str | None:
    """Profile name of an advertising device, or None if hinge-imu cannot use it."""
    prof = profile_for_advertisement(name, tuple(service_uuids), manufacturer_data)
    return None if prof is None else prof.name


def driver_for(
    profile: str | DeviceProfile,
    rate_hz: float | None = None,
    acc_range_g: float | None = None,
    gyr_range_dps: float | None = None,
) -> ProfileDriver:
    """A driver for a profile (by name or loaded) at one configuration."""
    prof = load_profile(profile) if isinstance(profile, str) else profile
    return ProfileDriver(prof, rate_hz, acc_range_g, gyr_range_dps)


class ProfileDriver:
    """The :class:`~hinge_imu.sensors.ble.SensorDriver` of one device profile."""

    def __init__(
        self,
        profile: DeviceProfile,
        rate_hz: float | None = None,
        acc_range_g: float | None = None,
        gyr_range_dps: float | None = None,
    ) -> None:
        rate, acc, gyr = profile.check_settings(rate_hz, acc_range_g, gyr_range_dps)
        self.device_profile = profile
        self.profile = profile.name
        self.rate_hz = rate
        self.acc_range_g = acc
        self.gyr_range_dps = gyr
        self.data_uuids = tuple(profile.gatt.data)
        self.control_uuid = profile.gatt.control or None
        self.response_uuid = profile.gatt.response or None
        self._decoder = make_decoder(profile, rate_hz=rate, acc_range_g=acc, gyr_range_dps=gyr)
        self._peeked: dict[bytes, DecodedPacket] = {}

    def commands(self) -> list[bytes]:
        return self.device_profile.command_bytes(
            "start", self.rate_hz, self.acc_range_g, self.gyr_range_dps
        )

    def stop_commands(self) -> list[bytes]:
        return self.device_profile.command_bytes(
            "stop", self.rate_hz, self.acc_range_g, self.gyr_range_dps
        )

    def reset(self) -> None:
        """Forget protocol state (a new connection)."""
        self._decoder.reset()
        self._peeked.clear()

    def _decode_once(self, data: bytes) -> DecodedPacket:
        got = self._peeked.pop(data, None)
        return got if got is not None else self._decoder.decode(data)

    def is_response(self, data: bytes) -> bool:
        # Decoded now, kept for decode() if it turns out to be samples.
        dec = self._decoder.decode(data)
        if dec.diagnostics.kind != "response":
            self._peeked[data] = dec
        return dec.diagnostics.kind == "response"

    def check_response(self, command: bytes, response: bytes) -> str | None:
        return self._decoder.check_response(command, response)

    def make_clock(self) -> SensorClock:
        """Device time stamps where sent, else the counter, else the count (clock.py)."""
        return clock_for_profile(self.device_profile, self.rate_hz)

    def decode(self, char_uuid: str, data: bytes) -> DecodedPacket:
        return self._decode_once(data)

    def clock_input(self, packet: DecodedPacket) -> float | int | None:
        """Device time of the first sample where sent, else its counter (clock_for_profile).

        With time stamps the counter goes to the clock as ``update(seq=…)``
        (BleSession): it counts losses and must not go back, but after a
        reconnect, when devices restart it, the time stamps measure the gap.
        """
        prof = self.device_profile
        if prof.timestamp.present and packet.device_time_s is not None:
            return float(packet.device_time_s[0])
        if prof.sequence.present and packet.seq is not None:
            return int(packet.seq[0])
        return None
