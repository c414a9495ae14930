"""Samples → the notifications a real device would send (for simulated sensors).

The inverse of :mod:`hinge_imu.sensors.decode`, used by the BLE stand-in
and by round-trip tests: ``make_encoder(profile, rate_hz=…)`` returns an
:class:`Encoder` whose ``encode(acc_mps2, gyr_dps, device_time_s)`` buffers
samples and returns the packets that are complete, packed the way the
device packs them (several samples a packet, split messages, separate
accelerometer and gyroscope packets, delta-compressed frames).
``command_response(command)`` gives the device's answer to a command on
its control or response characteristic (None where the device answers
nothing).

Values are quantised as the device would (int16 counts at the configured
range, saturating at full scale; float32 for Movesense), so a round trip
reproduces the input to within one count.
"""

from __future__ import annotations

import importlib

import numpy as np
import numpy.typing as npt

from hinge_imu.errors import HingeImuError
from hinge_imu.sensors.profiles import DeviceProfile

FloatArray = npt.NDArray[np.float64]


class EncodeError(HingeImuError):
    """Samples that cannot be encoded (shape mismatch, unsupported command)."""


class Encoder:
    """Base of the protocol encoders; build one with :func:`make_encoder`.

    Attributes:
        profile, rate_hz, acc_range_g, gyr_range_dps: the configuration.
        samples_per_packet: samples packed into one packet (or message).
        samples_sent: samples packed so far (the next sample's index).
        streaming: the device would be streaming now: set by an accepted start
            command, cleared by a stop command (see ``command_response``).
    """

    def __init__(
        self,
        profile: DeviceProfile,
        rate_hz: float,
        acc_range_g: float,
        gyr_range_dps: float,
        samples_per_packet: int,
    ) -> None:
        self.profile = profile
        self.rate_hz = rate_hz
        self.acc_range_g = acc_range_g
        self.gyr_range_dps = gyr_range_dps
        self.samples_per_packet = samples_per_packet
        self.samples_sent = 0
        self.streaming = False
        self._acc: list[FloatArray] = []
        self._gyr: list[FloatArray] = []
        self._t: list[FloatArray] = []

    def encode(
        self,
        acc_mps2: npt.ArrayLike,
        gyr_dps: npt.ArrayLike,
        device_time_s: npt.ArrayLike,
    ) -> list[bytes]:
        """Add samples ((m, 3), (m, 3), (m,) device clock s); return full packets."""
        acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
        gyr = np.asarray(gyr_dps, dtype=np.float64).reshape(-1, 3)
        t = np.asarray(device_time_s, dtype=np.float64).reshape(-1)
        if not (acc.shape[0] == gyr.shape[0] == t.shape[0]):
            raise EncodeError(
                f"encode: {acc.shape[0]} acc, {gyr.shape[0]} gyro, {t.shape[0]} time samples"
            )
        self._acc.append(acc)
        self._gyr.append(gyr)
        self._t.append(t)
        return self._drain(final=False)

    def flush(self) -> list[bytes]:
        """Pack what is left, even if fewer than ``samples_per_packet``."""
        return self._drain(final=True)

    def reset(self) -> None:
        """Drop buffered samples and restart counters (a re-subscription)."""
        self.samples_sent = 0
        self._acc, self._gyr, self._t = [], [], []

    def command_response(self, command: bytes) -> bytes | None:
        """The device's answer to ``command`` (None: it sends none)."""
        return None

    def _drain(self, final: bool) -> list[bytes]:
        if not self._t:
            return []
        acc, gyr, t = np.concatenate(self._acc), np.concatenate(self._gyr), np.concatenate(self._t)
        out: list[bytes] = []
        k = self.samples_per_packet
        i = 0
        while len(t) - i >= k or (final and i < len(t)):
            j = min(i + k, len(t))
            out += self._pack(acc[i:j], gyr[i:j], t[i:j])
            self.samples_sent += j - i
            i = j
        self._acc, self._gyr, self._t = [acc[i:]], [gyr[i:]], [t[i:]]
        return out

    def _pack(self, acc: FloatArray, gyr: FloatArray, t_s: FloatArray) -> list[bytes]:
        raise EncodeError(f"{self.profile.name}: no encoder")


def quantise(values: FloatArray, lsb: float) -> npt.NDArray[np.int16]:
    """Counts of a signed 16-bit sensor, saturating like the real one."""
    return np.clip(np.round(values / lsb), -32768, 32767).astype("<i2")


def make_encoder(
    profile: DeviceProfile,
    *,
    rate_hz: float | None = None,
    acc_range_g: float | None = None,
    gyr_range_dps: float | None = None,
    samples_per_packet: int | None = None,
) -> Encoder:
    """An encoder for ``profile`` at one configuration (defaults from the profile)."""
    rate, acc, gyr = profile.check_settings(rate_hz, acc_range_g, gyr_range_dps)
    n = samples_per_packet or profile.samples_in_packet(rate) or 1
    module, cls = _ENCODERS[profile.protocol]
    encoder: Encoder = getattr(importlib.import_module(module), cls)(profile, rate, acc, gyr, n)
    return encoder


#: protocol → (module, class) of its encoder.
_ENCODERS = {
    "hinge_v1": ("hinge_imu.sensors.encode_vendors", "HingeV1Encoder"),
    "gsp": ("hinge_imu.sensors.encode_vendors", "GspEncoder"),
    "metawear": ("hinge_imu.sensors.encode_vendors", "MetaWearEncoder"),
    "polar_pmd": ("hinge_imu.sensors.encode_polar", "PolarPmdEncoder"),
}
