"""Per-sensor counts, rates and gaps of a recording (what ``validate`` prints)."""

from __future__ import annotations

from dataclasses import dataclass

from hinge_imu.samples import SensorStream, count_lost


@dataclass(frozen=True)
class StreamSummary:
    """What one sensor's stream holds.

    Attributes:
        n_samples: samples in the file.
        rate_hz: nominal rate from the header, or the median rate from t.
        rate_from_header: whether ``rate_hz`` came from the header.
        t_first_s, t_last_s: first and last sample time, s.
        n_gaps: places where samples are missing.
        n_lost: samples missing in total (from ``seq`` if present, else from t).
        lost_from: ``"seq"`` or ``"t"``.
    """

    n_samples: int
    rate_hz: float
    rate_from_header: bool
    t_first_s: float
    t_last_s: float
    n_gaps: int
    n_lost: int
    lost_from: str


def summarise_stream(stream: SensorStream) -> StreamSummary:
    """Count samples and lost samples of one stream.

    Lost samples are :func:`hinge_imu.samples.count_lost`'s: by ``seq`` if
    present, else by time steps longer than ``samples.GAP_FACTOR`` nominal periods.
    """
    n = len(stream)
    rate = stream.rate_hz if stream.rate_hz is not None else stream.estimated_rate_hz
    t_first = float(stream.t_s[0]) if n else float("nan")
    t_last = float(stream.t_s[-1]) if n else float("nan")
    lost = count_lost(stream.seq, stream.t_s, rate)
    n_gaps, n_lost, lost_from = lost.n_gaps, lost.n_lost, "seq" if lost.source == "seq" else "t"
    return StreamSummary(
        n, rate, stream.rate_hz is not None, t_first, t_last, n_gaps, n_lost, lost_from
    )
