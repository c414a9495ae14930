"""Per-sensor health for the view and the ``health`` events: rate, loss, bad packets, staleness."""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping
from typing import Any

from hinge_imu.live.quality_gate import QualityGate
from hinge_imu.samples import LinkEvent, SampleBlock, SensorHealth, count_lost


class HealthTracker:
    """Keeps each sensor's :class:`~hinge_imu.samples.SensorHealth` in a view.

    Samples received and lost (:func:`~hinge_imu.samples.count_lost`, by the
    device counter) come from the blocks; link state, battery and bad
    packets from the link events; rates and staleness from the
    :class:`QualityGate`, which already watches every sample time.
    """

    def __init__(self, gate: QualityGate) -> None:
        self.gate = gate
        self.reset()

    def reset(self) -> None:
        self._last_seq: dict[str, int] = {}

    def count(self, block: SampleBlock, view: MutableMapping[str, SensorHealth]) -> None:
        """Account for one block's samples (received, lost) in ``view``."""
        s = block.sensor
        n = len(block)
        lost = 0
        if block.seq is not None and n:
            lost = count_lost(block.seq, block.t_s, None, self._last_seq.get(s)).n_lost
            self._last_seq[s] = int(block.seq[-1])
        h = view.get(s) or SensorHealth(s)
        view[s] = dataclasses.replace(h, received=h.received + n, lost=h.lost + lost)

    def link(self, ev: LinkEvent, view: MutableMapping[str, SensorHealth]) -> None:
        """Account for a link event: connected or not, battery, bad packets."""
        h = view.get(ev.sensor) or SensorHealth(ev.sensor)
        if ev.kind == "battery":
            h = dataclasses.replace(h, battery_pct=ev.battery_pct)
        elif ev.kind == "bad_packet" and ev.count is not None:
            h = dataclasses.replace(h, bad_packets=max(h.bad_packets, ev.count))
        elif ev.kind in ("connected", "reconnected", "disconnected"):
            h = dataclasses.replace(h, connected=ev.kind != "disconnected")
            if ev.kind == "reconnected":
                self._last_seq.pop(ev.sensor, None)  # devices may restart their counter
        view[ev.sensor] = h

    def refresh(self, view: MutableMapping[str, SensorHealth]) -> dict[str, dict[str, Any]]:
        """Measured rate and staleness into ``view``; returns the ``health`` event's fields."""
        stale = set(self.gate.stale_sensors())
        out = {}
        for name in self.gate.sensors:
            h = view.get(name) or SensorHealth(name)
            h = view[name] = dataclasses.replace(
                h, rate_hz=self.gate.measured_rate_hz(name), stale=name in stale
            )
            out[name] = {
                "rate_hz": h.rate_hz,
                "lost_share": h.lost_share,
                "battery_pct": h.battery_pct,
                "connected": h.connected,
                "stale": h.stale,
                "bad_packets": h.bad_packets,
            }
        return out
