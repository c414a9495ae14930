"""The device protocols, one module each holding its decoder and its encoder.

``make_decoder(profile, rate_hz=…)`` and ``make_encoder(profile, …)`` build
them for a profile (``firmware_config/*.toml``) by its ``protocol`` name;
the shared types are in :mod:`hinge_imu.sensors.codec`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hinge_imu.sensors.codec import Decoder, Encoder
from hinge_imu.sensors.profiles import DeviceProfile
from hinge_imu.sensors.protocols.gsp import GspDecoder, GspEncoder
from hinge_imu.sensors.protocols.hinge_v1 import HingeV1Decoder, HingeV1Encoder
from hinge_imu.sensors.protocols.metawear import MetaWearDecoder, MetaWearEncoder
from hinge_imu.sensors.protocols.polar_pmd import PolarPmdDecoder, PolarPmdEncoder

__all__ = ["PROTOCOLS", "Protocol", "make_decoder", "make_encoder"]


@dataclass(frozen=True)
class Protocol:
    """The two directions of one device protocol."""

    decoder: type[Decoder]
    encoder: type[Encoder]


#: A profile's ``protocol`` name → its decoder and encoder.
PROTOCOLS = {
    "hinge_v1": Protocol(HingeV1Decoder, HingeV1Encoder),
    "gsp": Protocol(GspDecoder, GspEncoder),
    "metawear": Protocol(MetaWearDecoder, MetaWearEncoder),
    "polar_pmd": Protocol(PolarPmdDecoder, PolarPmdEncoder),
}


def make_decoder(
    profile: DeviceProfile,
    *,
    rate_hz: float | None = None,
    acc_range_g: float | None = None,
    gyr_range_dps: float | None = None,
) -> Decoder:
    """A decoder for ``profile`` at one configuration (defaults from the profile)."""
    rate, acc, gyr = profile.check_settings(rate_hz, acc_range_g, gyr_range_dps)
    return PROTOCOLS[profile.protocol].decoder(profile, rate, acc, gyr)


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
    return PROTOCOLS[profile.protocol].encoder(profile, rate, acc, gyr, n)
