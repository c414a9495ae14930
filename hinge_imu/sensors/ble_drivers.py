"""Device profiles (``firmware_config/*.toml``) as BLE session drivers.

:class:`ProfileDriver` wraps a profile and its packet decoder in the
:class:`~hinge_imu.sensors.ble.SensorDriver` interface the session uses. It
also turns the device's wrapping counters into a running sample index: from
the sample counter where the device sends one, else from its time stamps
(at the nominal rate), so lost packets show as gaps either way. Across a
reconnect, where counters often restart, the device clock bridges the gap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hinge_imu.sensors.ble import Decoded, IntArray
from hinge_imu.sensors.decode import DecodedPacket, make_decoder
from hinge_imu.sensors.profiles import DeviceProfile, load_profile, profile_for_advertisement


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
        self._last_seq: int | None = None
        self._last_index: int | None = None
        self._last_t_dev: float | None = None
        self._dev_offset_s = 0.0
        self._fresh = True

    def commands(self) -> list[bytes]:
        return self.device_profile.command_bytes(
            "start", self.rate_hz, self.acc_range_g, self.gyr_range_dps
        )

    def stop_commands(self) -> list[bytes]:
        return self.device_profile.command_bytes(
            "stop", self.rate_hz, self.acc_range_g, self.gyr_range_dps
        )

    def reset(self) -> None:
        """Forget protocol state (a new connection).

        The sample index keeps counting from the device's counters, so the
        samples missed while the link was down count as lost.
        """
        self._decoder.reset()
        self._peeked.clear()
        self._fresh = True

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

    def decode(self, char_uuid: str, data: bytes) -> Decoded | None:
        dec = self._decode_once(data)
        n = len(dec)
        if n == 0:
            return None
        t_dev = None
        if dec.device_time_s is not None:
            t_dev = self._unwrap_time(np.asarray(dec.device_time_s, dtype=np.float64))
        seq: IntArray | None = None
        if dec.seq is not None and self.device_profile.sequence.counts == "samples":
            seq = np.asarray(dec.seq, dtype=np.int64)
        if self._last_index is None:
            start = 0 if seq is None else int(seq[0])
        elif self._fresh and t_dev is not None and self._last_t_dev is not None:
            # First packet after a reconnect: counters may have restarted,
            # the device clock has not; it says how many samples were missed.
            start = self._last_index + max(1, round((t_dev[0] - self._last_t_dev) * self.rate_hz))
        elif seq is not None and self._last_seq is not None:
            mod = self.device_profile.sequence.modulus or (1 << 62)
            step = (int(seq[0]) - self._last_seq) % mod
            # More than half the counter range back: the device restarted counting.
            start = self._last_index + (step if step < mod // 2 else 1)
        elif t_dev is not None and self._last_t_dev is not None:
            start = self._last_index + max(1, round((t_dev[0] - self._last_t_dev) * self.rate_hz))
        else:
            start = self._last_index + 1
        self._fresh = False
        self._last_index = start + n - 1
        self._last_seq = None if seq is None else int(seq[-1])
        self._last_t_dev = None if t_dev is None else float(t_dev[-1])
        return Decoded(
            np.asarray(dec.acc_mps2, dtype=np.float64),
            np.asarray(dec.gyr_dps, dtype=np.float64),
            seq,
            np.arange(start, start + n, dtype=np.int64),
        )

    def _unwrap_time(self, t_dev_s: np.ndarray) -> np.ndarray:
        wrap = self._decoder.time_wrap_s
        last = self._last_t_dev
        if last is not None and wrap and t_dev_s[0] + self._dev_offset_s < last - wrap / 2:
            self._dev_offset_s += wrap
        return t_dev_s + self._dev_offset_s
