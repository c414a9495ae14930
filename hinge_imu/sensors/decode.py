"""Packet bytes → samples in m/s² and deg/s, one decoder per device profile.

``make_decoder(profile, rate_hz=…)`` returns a :class:`Decoder` whose
``decode(packet)`` turns one BLE notification into a :class:`DecodedPacket`.
Decoding is pure with respect to its input; a decoder keeps only the state
the protocol itself needs (a Movesense message split over two
notifications, a Polar delta frame's reference, MetaMotion's separate
accelerometer and gyroscope packets). ``reset()`` forgets it (after a
reconnect).

Malformed packets raise :class:`PacketError` (one line: which packet, what
is wrong, what was expected). Packets that are well formed but carry no
samples yet (the first half of a split message, a command answer) give an
empty :class:`DecodedPacket` whose ``diagnostics`` say why.

The vendor decoders live in ``decode_<protocol>.py``; this module holds the
data types, the base class and the dispatch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import GRAVITY_MPS2
from hinge_imu.errors import HingeImuError
from hinge_imu.sensors.profiles import DeviceProfile

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Kinds of packet a decoder reports in ``diagnostics.kind``.
PACKET_KINDS = ("samples", "partial", "response", "dropped")


class PacketError(HingeImuError):
    """A packet that breaks its protocol (wrong length, unknown type, …)."""


@dataclass(frozen=True)
class PacketDiagnostics:
    """What the decoder noticed about one packet.

    Attributes:
        kind: ``samples`` (samples decoded), ``partial`` (first part of a
            message, or half of an acc/gyro pair: samples follow with a
            later packet), ``response`` (an answer to a command),
            ``dropped`` (an orphan part whose partner was lost).
        packet_index: 1-based count of packets this decoder has seen.
        response_ok: for responses, whether the device accepted the command.
        response_code: for responses, the device's status code.
        notes: anything else worth knowing, one sentence each.
    """

    kind: str
    packet_index: int
    response_ok: bool | None = None
    response_code: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecodedPacket:
    """Samples decoded from one notification (may be none).

    Attributes:
        acc_mps2: (n, 3) specific force, m/s², sensor frame.
        gyr_dps: (n, 3) angular rate, deg/s, sensor frame.
        device_time_s: (n,) sample times on the device's clock, s, as the
            device counts them (not unwrapped), or None without time stamps.
        seq: (n,) the device's sample counter (wrapping), or None.
        diagnostics: see :class:`PacketDiagnostics`.
    """

    acc_mps2: FloatArray
    gyr_dps: FloatArray
    device_time_s: FloatArray | None
    seq: IntArray | None
    diagnostics: PacketDiagnostics = field(default_factory=lambda: PacketDiagnostics("samples", 0))

    def __len__(self) -> int:
        return int(self.acc_mps2.shape[0])


def empty_packet(diag: PacketDiagnostics) -> DecodedPacket:
    z = np.zeros((0, 3))
    return DecodedPacket(z, z.copy(), None, None, diag)


class Decoder:
    """Base of the protocol decoders; build one with :func:`make_decoder`.

    Attributes:
        profile: the device profile.
        rate_hz: the configured sample rate, Hz.
        acc_range_g, gyr_range_dps: the configured ranges (used where the
            packets do not say which range they were measured with).
        time_wrap_s: the device time stamp wraps after this many seconds
            (None: no stamps, or never in practice).
        seq_modulus: the sample counter wraps at this value (None: none).
    """

    def __init__(
        self,
        profile: DeviceProfile,
        rate_hz: float,
        acc_range_g: float,
        gyr_range_dps: float,
    ) -> None:
        self.profile = profile
        self.rate_hz = rate_hz
        self.acc_range_g = acc_range_g
        self.gyr_range_dps = gyr_range_dps
        self.time_wrap_s = profile.timestamp.wrap_s
        self.seq_modulus = profile.sequence.modulus
        self.packets_seen = 0

    def decode(self, packet: bytes) -> DecodedPacket:
        """Decode one notification (see the module docstring)."""
        self.packets_seen += 1
        return self._decode(bytes(packet))

    def reset(self) -> None:
        """Forget protocol state (split parts, references); keep settings."""
        self.packets_seen = 0

    def check_response(self, command: bytes, response: bytes) -> str | None:
        """None if ``response`` accepts ``command``, otherwise why not."""
        return None

    # --- helpers for subclasses

    def _decode(self, packet: bytes) -> DecodedPacket:
        raise PacketError(f"{self.profile.name}: no decoder")

    def error(self, packet: bytes, what: str) -> PacketError:
        return PacketError(
            f"{self.profile.name} packet #{self.packets_seen} ({len(packet)} bytes): {what}"
        )

    def diag(self, kind: str, **kw: object) -> PacketDiagnostics:
        return PacketDiagnostics(kind, self.packets_seen, **kw)  # type: ignore[arg-type]

    def sample_times(self, stamp_s: float, n: int) -> FloatArray:
        """Per-sample device times from a packet stamp (first or last sample)."""
        i = np.arange(n, dtype=np.float64)
        if self.profile.timestamp.refers_to == "last":
            i -= n - 1
        return stamp_s + i / self.rate_hz


def acc_lsb_to_mps2(range_g: float, full_scale_lsb: float = 32768.0) -> float:
    """m/s² per LSB of a signed 16-bit accelerometer at ±``range_g``."""
    return range_g * GRAVITY_MPS2 / full_scale_lsb


def make_decoder(
    profile: DeviceProfile,
    *,
    rate_hz: float | None = None,
    acc_range_g: float | None = None,
    gyr_range_dps: float | None = None,
) -> Decoder:
    """A decoder for ``profile`` at one configuration (defaults from the profile)."""
    rate, acc, gyr = profile.check_settings(rate_hz, acc_range_g, gyr_range_dps)
    module, cls = _DECODERS[profile.protocol]
    decoder: Decoder = getattr(importlib.import_module(module), cls)(profile, rate, acc, gyr)
    return decoder


#: protocol → (module, class) of its decoder.
_DECODERS = {
    "hinge_v1": ("hinge_imu.sensors.decode_hinge", "HingeV1Decoder"),
    "gsp": ("hinge_imu.sensors.decode_gsp", "GspDecoder"),
    "metawear": ("hinge_imu.sensors.decode_metawear", "MetaWearDecoder"),
    "polar_pmd": ("hinge_imu.sensors.decode_polar", "PolarPmdDecoder"),
}
