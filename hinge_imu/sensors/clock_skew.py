"""How the sensors' clocks sit against the host and each other: the skew report.

A summary over the :class:`~hinge_imu.sensors.clock.SensorClock` of each
sensor after (or during) a session, for ``hinge-imu record`` to print and
:meth:`~hinge_imu.sensors.ble_session.BleSession.clock_skew` to hand out.
It only reads the clocks, so it lives apart from the per-packet mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hinge_imu.sensors.clock import SensorClock


@dataclass(frozen=True)
class SkewRow:
    """How one sensor's clock sits against the host clock."""

    sensor: str
    source: str
    drift_ppm: float
    received: int
    lost: int
    delay_min_ms: float
    delay_median_ms: float
    delay_p95_ms: float


@dataclass(frozen=True)
class SkewReport:
    """Per-sensor clock fits and the drift between each pair of sensors.

    Attributes:
        rows: one per sensor.
        relative_drift_ppm: (a, b) → drift of a minus drift of b, ppm: how
            fast their device clocks walk apart (already corrected on the
            host clock).
    """

    rows: tuple[SkewRow, ...]
    relative_drift_ppm: Mapping[tuple[str, str], float]

    def format(self) -> str:
        """A plain-text table."""
        lines = [
            f"{'sensor':12s} {'source':6s} {'drift ppm':>10s} {'received':>9s} {'lost':>6s}"
            f" {'delay min/median/p95 ms':>24s}"
        ]
        for r in self.rows:
            lines.append(
                f"{r.sensor:12s} {r.source:6s} {r.drift_ppm:10.1f} {r.received:9d} {r.lost:6d}"
                f" {r.delay_min_ms:8.1f}/{r.delay_median_ms:.1f}/{r.delay_p95_ms:.1f}"
            )
        for (a, b), d in self.relative_drift_ppm.items():
            lines.append(f"{a} vs {b}: clocks drift apart by {d:+.1f} ppm (corrected)")
        return "\n".join(lines)


def skew_report(clocks: Mapping[str, SensorClock]) -> SkewReport:
    """Drift of each sensor against the host and between sensors."""
    rows = []
    for name, c in clocks.items():
        dmin, dmed, d95 = c.delay_summary_ms()
        rows.append(SkewRow(name, c.source, c.drift_ppm, c.received, c.lost, dmin, dmed, d95))
    names = list(clocks)
    rel = {
        (a, b): clocks[a].drift_ppm - clocks[b].drift_ppm
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }
    return SkewReport(tuple(rows), rel)
