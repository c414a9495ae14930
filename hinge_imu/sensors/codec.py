"""Packet bytes ⇄ samples: the types every device protocol shares.

A protocol (one module each in :mod:`hinge_imu.sensors.protocols`, decoder
and encoder together) subclasses :class:`Decoder` and :class:`Encoder`.

A :class:`Decoder`'s ``decode(packet)`` turns one BLE notification into a
:class:`DecodedPacket` (samples in m/s² and deg/s). Decoding is pure with
respect to its input; a decoder keeps only the state the protocol itself
needs (a Movesense message split over two notifications, a Polar delta
frame's reference, MetaMotion's separate accelerometer and gyroscope
packets). ``reset()`` forgets it (after a reconnect). Malformed packets
raise :class:`PacketError` (one line: which packet, what is wrong, what was
expected). Packets that are well formed but carry no samples yet (the first
half of a split message, a command answer) give an empty
:class:`DecodedPacket` whose ``diagnostics`` say why.

An :class:`Encoder` is the inverse, used by the BLE stand-in and by
round-trip tests: ``encode(acc_mps2, gyr_dps, device_time_s)`` buffers
samples and returns the packets that are complete, packed the way the
device packs them; ``command_response(command)`` gives the device's answer
to a command (None where the device answers nothing). Values are quantised
as the device would (int16 counts at the configured range, saturating at
full scale; float32 for Movesense), so a round trip reproduces the input to
within one count.
"""

from __future__ import annotations

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


def device_code(codes: object, value: float) -> int:
    """The device's code for a setting value (a profile's ``[codes.*]`` table)."""
    for k, v in dict(codes).items():  # type: ignore[call-overload]
        if abs(float(k) - value) < 1e-6:
            return int(v)
    raise ValueError(f"no device code for {value}")


def coded_value(codes: object, code: int) -> float | None:
    """The setting value a device code stands for, or None if unknown."""
    for k, v in dict(codes).items():  # type: ignore[call-overload]
        if int(v) == code:
            return float(k)
    return None
