"""In-memory form of a recording: per-sensor sample arrays on one clock.

These are the data types passed from the recording reader, the simulator and
the BLE recorder to the analysis. Arrays are not copied on construction;
treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import DEFAULT_SIDE, SENSOR_NAMES
from hinge_imu.saturation import Saturation

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SensorStream:
    """All samples of one sensor, in time order.

    Attributes:
        t_s: sample times (N,), s since recording start, strictly increasing.
        acc_mps2: specific force (N, 3), m/s², sensor frame.
        gyr_dps: angular rate (N, 3), deg/s, sensor frame, right-handed.
        mag_ut: magnetic field (N, 3), µT, or None without a magnetometer.
        seq: device packet/sample counter (N,), or None.
        rate_hz: nominal sample rate from the header, or None if not stated.
        saturated_s: stretches held at the sensor's range limit (``saturation``), in time order.
    """

    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_dps: FloatArray
    mag_ut: FloatArray | None = None
    seq: IntArray | None = None
    rate_hz: float | None = None
    saturated_s: tuple[Saturation, ...] = ()

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def estimated_rate_hz(self) -> float:
        """Median sample rate from the timestamps, Hz (nan with < 2 samples)."""
        if len(self) < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.t_s)))


@dataclass(frozen=True)
class Recording:
    """A whole recording: header keys and one stream per sensor.

    Attributes:
        sensors: sensor name (see ``conventions.SENSOR_NAMES``) → stream.
        header: every ``# key: value`` header line, unknown keys included,
            in file order.
        source: where it came from (a path, ``"simulated"``, ``"ble"``).
        warnings: problems the reader tolerated (e.g. a torn last line left
            by a crashed recorder, dropped), one sentence each.
    """

    sensors: Mapping[str, SensorStream]
    header: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def side(self) -> str:
        """Which thigh carries the thigh sensor (``left``/``right``)."""
        return self.header.get("side", DEFAULT_SIDE).strip().lower() or DEFAULT_SIDE

    @property
    def duration_s(self) -> float:
        """Time from 0 to the last sample of any sensor, s."""
        ends = [float(s.t_s[-1]) for s in self.sensors.values() if len(s)]
        return max(ends, default=0.0)

    @property
    def is_simulated(self) -> bool:
        return "simulated" in self.header.get("note", "").lower() or "simulator" in self.header

    def ordered_sensor_names(self) -> list[str]:
        return [n for n in SENSOR_NAMES if n in self.sensors]


@dataclass(frozen=True)
class SampleBlock:
    """Consecutive samples of one sensor, delivered together (one BLE notification,
    or one slice of a replayed recording): the one sample container from the
    sensor layer to the analysis core.

    Attributes:
        sensor: segment name (``pelvis``, …).
        t_s: (N,) sample times, s on the session clock.
        acc_mps2: (N, 3) specific force, m/s², sensor frame.
        gyr_dps: (N, 3) angular rate, deg/s, sensor frame.
        seq: (N,) device sample counter, or None.
        arrival_s: host ``time.perf_counter()`` when the samples were handed
            over, s: the start of every latency measurement.
        mag_ut: (N, 3) magnetic field, µT, or None.
    """

    sensor: str
    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_dps: FloatArray
    seq: IntArray | None
    arrival_s: float
    mag_ut: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


#: Kinds of :class:`LinkEvent` (docs/live.md, Event stream).
LINK_KINDS = ("connected", "disconnected", "reconnected", "battery", "bad_packet", "warning")


@dataclass(frozen=True)
class LinkEvent:
    """A change in a sensor's link: the one link-event type from sensors to the session.

    Attributes:
        sensor: segment name.
        kind: one of :data:`LINK_KINDS`.
        t_s: when, s on the session clock.
        battery_pct: for ``battery`` events, 0–100 %.
        message: human-readable detail (reason of a drop, length of a gap,
            what was wrong with a bad packet, …).
        count: for ``bad_packet`` events, the sensor's bad packets so far.
    """

    sensor: str
    kind: str
    t_s: float
    battery_pct: float | None = None
    message: str = ""
    count: int | None = None


@dataclass(frozen=True)
class SensorHealth:
    """How one sensor is doing: the one health record of the BLE layer and the live view.

    Attributes:
        sensor: segment name.
        connected: link up now.
        rate_hz: samples received per second lately, Hz (nan before any).
        received: samples received since the start.
        lost: samples missing since the start (:func:`count_lost`; gaps
            during link drops included).
        drops: how often the link dropped.
        battery_pct: last battery reading, %, or None if the device gives none.
        stale: no samples lately although connected.
        bad_packets: notifications that broke the device's protocol (wrong
            length, unknown header, a counter that jumped backwards);
            skipped, the session goes on.
    """

    sensor: str
    connected: bool = True
    rate_hz: float = float("nan")
    received: int = 0
    lost: int = 0
    drops: int = 0
    battery_pct: float | None = None
    stale: bool = False
    bad_packets: int = 0

    @property
    def lost_share(self) -> float:
        """Missing samples as a share of those expected (0–1)."""
        total = self.received + self.lost
        return self.lost / total if total else 0.0


#: A time step longer than this many nominal periods is a gap (lost samples).
GAP_FACTOR = 1.5


@dataclass(frozen=True)
class LostSamples:
    """Samples missing from a stream.

    Attributes:
        n_gaps: places where samples are missing.
        n_lost: samples missing in total.
        source: ``seq`` (counted exactly by the device counter), ``t`` (by
            the time steps) or ``none`` (neither could tell).
    """

    n_gaps: int
    n_lost: int
    source: str


def count_lost(
    seq: npt.ArrayLike | None,
    t_s: npt.ArrayLike,
    rate_hz: float | None,
    previous_seq: int | None = None,
) -> LostSamples:
    """The one lost-sample count (recordings, the analysis, the live view).

    With a device counter ``seq`` a jump of k > 1 is k − 1 lost samples (a
    backwards jump is a wrap-around or a restarted device, not a loss);
    ``previous_seq`` is the counter of the sample before these (for counting
    block by block). Without a counter, a time step longer than
    ``GAP_FACTOR`` nominal periods (``rate_hz``) is a gap of
    ``round(step · rate) − 1`` samples (at least one).
    """
    if seq is not None:
        s = np.asarray(seq, dtype=np.int64).reshape(-1)
        if previous_seq is not None:
            s = np.concatenate([[previous_seq], s])
        jumps = np.diff(s)
        lost = jumps[jumps > 1] - 1
        return LostSamples(int(lost.size), int(lost.sum()), "seq")
    t = np.asarray(t_s, dtype=np.float64).reshape(-1)
    if rate_hz is None or not (np.isfinite(rate_hz) and rate_hz > 0):
        return LostSamples(0, 0, "none")
    steps = np.diff(t) * rate_hz
    big = steps[steps > GAP_FACTOR]
    n_lost = int(np.maximum(np.round(big) - 1, 1).sum()) if big.size else 0
    return LostSamples(int(big.size), n_lost, "t")


def random_blocks(rec: Recording, seed: int, max_samples: int = 40) -> list[SampleBlock]:
    """``rec`` cut as a live source might deliver it, to replay into the live analysis.

    Every sensor in blocks of 1–``max_samples`` samples (random, from
    ``seed``), in the order their last samples arrive (tests, benchmarks).
    """
    rng = np.random.default_rng(seed)
    out = []
    for name in rec.ordered_sensor_names():
        st = rec.sensors[name]
        cuts = np.cumsum(rng.integers(1, max_samples + 1, size=len(st) // 10 + 2))
        while cuts[-1] < len(st):  # small blocks: as many more as cover every sample
            more = rng.integers(1, max_samples + 1, size=len(st) // 10 + 2)
            cuts = np.r_[cuts, cuts[-1] + np.cumsum(more)]
        for lo, hi in zip(np.r_[0, cuts[:-1]], cuts, strict=True):
            if lo >= len(st):
                break
            sl = slice(int(lo), int(hi))
            out.append(SampleBlock(name, st.t_s[sl], st.acc_mps2[sl], st.gyr_dps[sl], None, 0))
    out.sort(key=lambda b: float(b.t_s[-1]))
    return out
