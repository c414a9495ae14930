"""Device time → one host clock, per sensor: drift-aware, never in the future.

Each sensor counts time with its own crystal (tens of ppm off) and its
packets reach the host after a random, always positive, delay (radio
connection interval, stack, scheduler). :class:`SensorClock` maps the
device's sample times onto the host clock with a line
``t_host = offset + (1 + drift) · t_device`` that lies **below** every
packet's arrival (the last sample of a packet was measured before the
packet arrived), and touches the least-delayed packets: the lower envelope
of (device time, arrival). It is refitted online (once per ``bucket_s`` of
device time, or at once if a packet arrives earlier than the line
predicts) from the fastest packet of each bucket within the last
``window_s``: the slope (drift) by a least-squares line through the
minima that lie within ``envelope_tolerance_s`` of their lower convex hull
(held-up packets, which a busy host makes, are left out and never pull
it), the offset so that the line just touches the lowest of them.
Slowly changing drift is followed as the window moves.

So a sample's host time is its true instant plus the **minimum** link
delay (unobservable; a few ms, alike for sensors on one adapter), no
sample is ever placed after its own arrival, and random delay does not
shift the times.

Where samples come from (``source``):

* ``time``: device time stamps (unwrapped at ``time_wrap_s``); lost samples
  are found from gaps in the stamps, or exactly from an optional counter.
* ``seq``: a sample (or packet) counter (unwrapped at ``seq_modulus``);
  device time = counter / nominal rate; lost samples counted exactly.
* ``count``: nothing (MetaMotion streaming): device time = samples
  received / nominal rate; losses cannot be seen.

Lost samples stay gaps (their indices and times are skipped), never
interpolated.

This module is the per-packet bookkeeping (sources, unwrapping, loss
counting, placing samples under the line); the slope of the lower envelope
is fitted in :mod:`hinge_imu.sensors.lower_envelope`, and the report over
several clocks is :mod:`hinge_imu.sensors.clock_skew`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hinge_imu.errors import HingeImuError
from hinge_imu.sensors.lower_envelope import ENVELOPE_MIN_POINTS, envelope_slope
from hinge_imu.sensors.profiles import DeviceProfile

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SOURCES = ("time", "seq", "count")
#: Largest |drift| believed. Time stamps come from a crystal (±20…±50 ppm);
#: counters tick at the IMU's own output rate, which may be a few % off.
MAX_DRIFT = {"time": 300e-6, "seq": 0.05, "count": 0.05}
#: Below this span of device time the drift is not fitted (taken as 0):
#: long for crystal time (50 ppm × 10 s = 0.5 ms), short for counters.
MIN_SPAN_FOR_DRIFT_S = {"time": 10.0, "seq": 2.0, "count": 2.0}
#: A device's measured sample rate is used only within this fraction of its
#: nominal one; further off, the estimate is not trusted and the nominal stays.
MAX_ODR_OFF = 0.05


class ClockError(HingeImuError):
    """Inputs a clock cannot use (wrong source, negative sample count, …)."""


@dataclass(frozen=True)
class ClockedSamples:
    """Host times of the samples of one packet.

    Attributes:
        t_s: (n,) sample times on the host clock, s, increasing.
        index: (n,) sample index since the sensor's first sample; indices
            of lost samples are skipped.
        device_time_s: (n,) device time, unwrapped, s (counter / rate for
            ``seq`` and ``count`` sources).
        lost: samples missing just before this packet.
        delay_s: arrival − host time of the packet's last sample (≥ 0): the
            link delay beyond the minimum.
        offset_s, drift_ppm: the fit used (host = offset + (1+drift)·device).
    """

    t_s: FloatArray
    index: IntArray
    device_time_s: FloatArray
    lost: int
    delay_s: float
    offset_s: float
    drift_ppm: float

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


class SensorClock:
    """Maps one sensor's packets to host time; one ``update()`` per packet.

    Args:
        rate_hz: nominal sample rate, Hz.
        source: ``time``, ``seq`` or ``count`` (see the module docstring).
        time_wrap_s: device stamps wrap after this many seconds (None: never).
        seq_modulus: the counter wraps at this value (None: never).
        seq_counts: the counter counts ``samples`` or ``packets``.
        window_s: device-time span of packets the fit uses, s.
        bucket_s: one candidate point (the fastest packet) per bucket, s.
        envelope_tolerance_s: how far above the lower envelope a bucket's
            fastest packet may lie and still count for the drift, s (the
            scatter of quick packets; held-up ones lie further up).
    """

    def __init__(
        self,
        rate_hz: float,
        source: str = "time",
        *,
        time_wrap_s: float | None = None,
        seq_modulus: int | None = None,
        seq_counts: str = "samples",
        window_s: float = 120.0,
        bucket_s: float = 0.5,
        envelope_tolerance_s: float = 0.005,
    ) -> None:
        if source not in SOURCES:
            raise ClockError(f"clock source {source!r} unknown (one of {SOURCES})")
        if not rate_hz > 0:
            raise ClockError(f"sample rate must be positive, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.source = source
        self.time_wrap_s = time_wrap_s
        self.seq_modulus = seq_modulus
        self.seq_counts = seq_counts
        self.window_s = window_s
        self.bucket_s = bucket_s
        self.envelope_tolerance_s = envelope_tolerance_s
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new session; not needed after a reconnect)."""
        self.received = 0
        self.lost = 0
        self._next_index = 0  # index the next sample should have
        self._last_raw: float | None = None  # last raw time stamp (for unwrapping)
        self._wraps = 0
        self._last_seq: int | None = None  # counter value expected next
        self._restarted = False  # the counter may start again lower (reconnected)
        self._last_first_t = 0.0  # device time of the previous packet's first sample
        self._last_n = 0
        self._x0: float | None = None  # device time of the first sample (reference)
        self._y0 = 0.0  # arrival of the first packet (reference)
        self._rate_dev = self.rate_hz  # samples per device second (time source)
        self._rate_base: tuple[int, float] | None = None
        self._buckets: deque[tuple[int, float, float]] = deque()  # (bucket, x, y)
        self._a = 0.0  # fit: y = a + b·x in reference coordinates
        self._b = 1.0
        self._fitted = False
        self._last_t = -math.inf
        self.delays_s: deque[float] = deque(maxlen=2000)

    # ------------------------------------------------------------------ API

    def update(
        self,
        device_time_or_counter: float | int | None,
        host_arrival_s: float,
        n_samples: int,
        *,
        seq: int | None = None,
    ) -> ClockedSamples:
        """Host times for one packet of ``n_samples``.

        Args:
            device_time_or_counter: ``time`` source: device time of the
                packet's first sample, s, as the device counts it (wrapping);
                ``seq``: the counter of the first sample (or of the packet);
                ``count``: ignored (pass None).
            host_arrival_s: when the packet reached the host, s (any host
                clock, e.g. ``time.perf_counter()``).
            n_samples: samples in the packet (≥ 1).
            seq: with the ``time`` source, an optional sample counter of the
                first sample: lost samples are counted from it exactly, and a
                counter that goes back is a malformed packet, like a time
                stamp that goes back. After :meth:`restart` the time stamps
                measure the gap (devices restart their counter on reconnect).
        """
        if n_samples < 1:
            raise ClockError(f"a packet needs at least one sample, got {n_samples}")
        if self.source != "count" and device_time_or_counter is None:
            raise ClockError(f"the {self.source!r} clock needs a device time or counter")
        self._check_order(device_time_or_counter, seq)
        idx0, x_first = self._place(device_time_or_counter, n_samples, seq)
        self._restarted = False
        lost = idx0 - self._next_index if self.received else 0
        self.lost += lost
        self.received += n_samples
        self._next_index = idx0 + n_samples
        rate = self._rate_dev if self.source == "time" else self.rate_hz
        x_dev = x_first + np.arange(n_samples, dtype=np.float64) / rate
        if self._x0 is None:
            self._x0, self._y0 = float(x_dev[-1]), float(host_arrival_s)
        x = x_dev - self._x0
        y = float(host_arrival_s) - self._y0
        self._add_point(float(x[-1]), y)
        t = self._a + self._b * x
        # The fit lies below every arrival; guard the last ulp, and order.
        t -= max(0.0, float(t[-1]) - y)
        t_host = t + self._y0
        if t_host[0] <= self._last_t:
            t_host += self._last_t - t_host[0] + 1e-9
            if t_host[-1] > host_arrival_s:
                # The fit just dropped by more than a sample period (a much faster
                # packet): fit the samples between the last time and the arrival
                # rather than break either rule.
                frac = np.arange(1, n_samples + 1, dtype=np.float64) / n_samples
                t_host = self._last_t + (float(host_arrival_s) - self._last_t) * frac
        # Reference coordinates round: not even an ulp after the arrival.
        t_host[-1] = min(float(t_host[-1]), float(host_arrival_s))
        self._last_t = float(t_host[-1])
        delay = float(host_arrival_s) - self._last_t
        self.delays_s.append(delay)
        return ClockedSamples(
            t_s=t_host,
            index=np.arange(idx0, idx0 + n_samples, dtype=np.int64),
            device_time_s=x_dev,
            lost=int(lost),
            delay_s=delay,
            offset_s=self.offset_s,
            drift_ppm=self.drift_ppm,
        )

    @property
    def drift_ppm(self) -> float:
        """Host seconds per device second − 1, in ppm (sensor crystal vs host)."""
        return (self._b - 1.0) * 1e6

    @property
    def offset_s(self) -> float:
        """Host time at device time 0, s (host = offset + (1+drift)·device)."""
        x0 = self._x0 or 0.0
        return self._y0 + self._a - self._b * x0

    def host_time_s(self, device_time_s: FloatArray) -> FloatArray:
        """Host times of device times (``ClockedSamples.device_time_s``) by the current fit, s.

        For placing samples again once the fit has seen more packets; the
        caller keeps them before their arrival and in order.
        """
        x0 = self._x0 or 0.0
        out: FloatArray = self._y0 + self._a + self._b * (np.asarray(device_time_s) - x0)
        return out

    # ------------------------------------------------------------ internals

    def _place(self, value: float | int | None, n: int, seq: int | None) -> tuple[int, float]:
        """Index and device time (s, unwrapped) of the packet's first sample."""
        if self.source == "count":
            idx0 = self._next_index
            return idx0, idx0 / self.rate_hz
        if self.source == "seq":
            idx0 = self._index_from_seq(int(value), n)  # type: ignore[arg-type]
            return idx0, idx0 / self.rate_hz
        t = self._unwrap_time(float(value))  # type: ignore[arg-type]
        if seq is not None and not self._restarted:
            idx0 = self._index_from_seq(int(seq), n)
        else:
            idx0 = 0
            if self.received:
                expected_t = self._last_first_t + self._last_n / self._rate_dev
                gap = (t - expected_t) * self._rate_dev
                idx0 = self._next_index + (round(gap) if gap > 0.5 else 0)
            if seq is not None:  # restarted: the counter is followed from here on
                self._last_seq = None
                self._index_from_seq(int(seq), n)
        self._last_first_t, self._last_n = t, n
        self._update_device_rate(idx0, t)
        return idx0, t

    def restart(self) -> None:
        """The device restarts its counter (a reconnection): its next value may be lower.

        Otherwise a counter that goes back, or a time stamp that goes back
        by less than half its wrap, is a malformed packet: ``update`` raises
        :class:`ClockError` and keeps its state.
        """
        self._restarted = True

    def _check_order(self, value: float | int | None, seq: int | None) -> None:
        if self.source == "time" and self._last_raw is not None:
            raw, last, wrap = float(value), self._last_raw, self.time_wrap_s  # type: ignore[arg-type]
            if raw <= last and not (wrap and raw < last - wrap / 2):
                raise ClockError(f"device time went back from {last:.6f} s to {raw:.6f} s")
        counter = value if self.source == "seq" else seq if self.source == "time" else None
        if counter is not None and self._last_seq is not None and not self._restarted:
            step = int(counter) - self._last_seq
            mod = self.seq_modulus
            if (mod and step % mod > mod // 2) or (not mod and step < 0):
                raise ClockError(f"counter went back to {counter} (expected {self._last_seq})")

    def _unwrap_time(self, raw: float) -> float:
        wrap = self.time_wrap_s
        if self._last_raw is not None and wrap and raw < self._last_raw - wrap / 2:
            self._wraps += 1
        self._last_raw = raw
        return raw + self._wraps * (wrap or 0.0)

    def _index_from_seq(self, value: int, n: int) -> int:
        per = n if self.seq_counts == "packets" else 1
        if self._last_seq is None:
            step = 0
        else:
            mod = self.seq_modulus
            step = value - self._last_seq
            if mod:
                step %= mod
                if step > mod // 2:  # went back: a restarted device (see restart())
                    step = 0
            step = max(step, 0)
        self._last_seq = value + (1 if per > 1 else n)
        if self.seq_modulus:
            self._last_seq %= self.seq_modulus
        return self._next_index + step * per

    def _update_device_rate(self, idx0: int, t: float) -> None:
        """Samples per device second, from a long baseline of index vs stamp."""
        if self._rate_base is None:
            self._rate_base = (idx0, t)
            return
        i0, t0 = self._rate_base
        if t - t0 > MIN_SPAN_FOR_DRIFT_S["time"]:
            est = (idx0 - i0) / (t - t0)
            if abs(est / self.rate_hz - 1.0) < MAX_ODR_OFF:
                self._rate_dev = est

    def _add_point(self, x: float, y: float) -> None:
        bucket = math.floor(x / self.bucket_s)
        new_bucket = not self._buckets or bucket != self._buckets[-1][0]
        if new_bucket:
            self._buckets.append((bucket, x, y))
        elif y - x < self._buckets[-1][2] - self._buckets[-1][1]:
            self._buckets[-1] = (bucket, x, y)
        while self._buckets and self._buckets[0][1] < x - self.window_s:
            self._buckets.popleft()
        below = y < self._a + self._b * x
        if new_bucket or below or not self._fitted:
            self._refit()

    def _refit(self) -> None:
        xs = np.array([p[1] for p in self._buckets])
        ys = np.array([p[2] for p in self._buckets])
        b = 1.0
        if xs[-1] - xs[0] >= MIN_SPAN_FOR_DRIFT_S[self.source] and len(xs) >= ENVELOPE_MIN_POINTS:
            lim = MAX_DRIFT[self.source]
            slope = envelope_slope(xs, ys, self.envelope_tolerance_s, lim)
            b = min(max(slope, 1.0 - lim), 1.0 + lim)
        self._b = b
        self._a = float(np.min(ys - b * xs))  # the line under every point
        self._fitted = True

    def delay_summary_ms(self) -> tuple[float, float, float]:
        """(min, median, 95th percentile) of recent delays beyond the minimum, ms."""
        if not self.delays_s:
            return (math.nan, math.nan, math.nan)
        d = np.asarray(self.delays_s) * 1e3
        return float(d.min()), float(np.median(d)), float(np.percentile(d, 95))


def clock_for_profile(
    profile: DeviceProfile, rate_hz: float, *, window_s: float = 120.0, bucket_s: float = 0.5
) -> SensorClock:
    """A clock set up from a device profile.

    Device time stamps are preferred (the device's own crystal); without
    them a sample counter; without either, the count of samples received.
    With both (the custom protocol), pass the counter to ``update(seq=…)``:
    losses are counted from it exactly and a counter that goes back is
    refused like a time stamp that goes back.
    """
    if profile.timestamp.present:
        return SensorClock(
            rate_hz,
            "time",
            time_wrap_s=profile.timestamp.wrap_s,
            seq_modulus=profile.sequence.modulus if profile.sequence.present else None,
            seq_counts=profile.sequence.counts,
            window_s=window_s,
            bucket_s=bucket_s,
        )
    if profile.sequence.present:
        return SensorClock(
            rate_hz,
            "seq",
            seq_modulus=profile.sequence.modulus,
            seq_counts=profile.sequence.counts,
            window_s=window_s,
            bucket_s=bucket_s,
        )
    return SensorClock(rate_hz, "count", window_s=window_s, bucket_s=bucket_s)
