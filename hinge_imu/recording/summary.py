"""Per-sensor counts, rates and gaps of a recording (what ``validate`` prints)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hinge_imu.samples import SensorStream

#: A step longer than this many nominal periods counts as a gap (lost samples).
GAP_FACTOR = 1.5


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

    With a ``seq`` column a jump of k > 1 is k − 1 lost samples (a backwards
    jump is a counter wrap-around, not a loss). Without it, a time step
    longer than ``GAP_FACTOR`` nominal periods is a gap of
    ``round(step / period) − 1`` samples.
    """
    n = len(stream)
    rate = stream.rate_hz if stream.rate_hz is not None else stream.estimated_rate_hz
    t_first = float(stream.t_s[0]) if n else float("nan")
    t_last = float(stream.t_s[-1]) if n else float("nan")
    if stream.seq is not None and n > 1:
        jumps = np.diff(stream.seq)
        lost = jumps[jumps > 1] - 1
        return StreamSummary(
            n,
            rate,
            stream.rate_hz is not None,
            t_first,
            t_last,
            int(lost.size),
            int(lost.sum()),
            "seq",
        )
    n_gaps = n_lost = 0
    if n > 1 and np.isfinite(rate) and rate > 0:
        steps = np.diff(stream.t_s) * rate
        big = steps[steps > GAP_FACTOR]
        n_gaps = int(big.size)
        n_lost = int(np.maximum(np.round(big) - 1, 1).sum()) if n_gaps else 0
    return StreamSummary(n, rate, stream.rate_hz is not None, t_first, t_last, n_gaps, n_lost, "t")
