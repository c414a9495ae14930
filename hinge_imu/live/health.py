"""Per-sensor health for the view and the ``health`` events: rate, loss, staleness."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from hinge_imu.live.display import SensorHealth
from hinge_imu.live.quality_gate import QualityGate
from hinge_imu.samples import SampleBlock


class HealthTracker:
    """Counts received and lost samples (by the device counter) per sensor.

    Rates and staleness come from the :class:`QualityGate`, which already
    watches every sample time.
    """

    def __init__(self, gate: QualityGate) -> None:
        self.gate = gate
        self.reset()

    def reset(self) -> None:
        self._lost: dict[str, int] = {}
        self._count: dict[str, int] = {}
        self._last_seq: dict[str, int] = {}

    def count(self, block: SampleBlock, view: MutableMapping[str, SensorHealth]) -> None:
        """Account for one block; updates the sensor's lost share in ``view``."""
        s = block.sensor
        n = len(block)
        self._count[s] = self._count.get(s, 0) + n
        if block.seq is not None and n:
            # Counters increase by one per sample: what the block skipped was lost.
            first, last = int(block.seq[0]), int(block.seq[-1])
            prev = self._last_seq.get(s, first - 1)
            self._lost[s] = self._lost.get(s, 0) + max(0, (last - prev) - n)
            self._last_seq[s] = last
        h = view.get(s)
        if h is None:
            h = view[s] = SensorHealth(s)
        lost = self._lost.get(s, 0)
        h.lost_share = lost / (self._count[s] + lost)

    def refresh(self, view: MutableMapping[str, SensorHealth]) -> dict[str, dict[str, Any]]:
        """Measured rate and staleness into ``view``; returns the ``health`` event's fields."""
        stale = set(self.gate.stale_sensors())
        out = {}
        for name in self.gate.sensors:
            h = view.get(name)
            if h is None:
                h = view[name] = SensorHealth(name)
            h.rate_hz = self.gate.measured_rate_hz(name)
            h.stale = name in stale
            out[name] = {
                "rate_hz": h.rate_hz,
                "lost_share": h.lost_share,
                "battery_pct": h.battery_pct,
                "connected": h.connected,
                "stale": h.stale,
            }
        return out
