"""What rep detection reads, is tuned by and reports (``reps.RepDetector``).

The tilt a rep needs, the detector's thresholds and its events; apart from
the detector so that what uses its events (the analysis steps, live
in-rep cues) need not read the detector itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hinge_imu.core.rep_metrics import RepBounds

FloatArray = npt.NDArray[np.float64]


def tilt_angle_deg(angles_deg: Mapping[str, FloatArray]) -> FloatArray:
    """The tilt a rep needs (docs/rules.md "A rep"), deg: trunk inclination, else pelvic tilt.

    The trunk where it is read: its sensor is not one hip flexion is made of,
    so one sensor's error cannot make both a "rep"'s hip flexion and its tilt
    (a pelvis reading 15° for seconds after a turn between sets: a walking
    step then had 34° of hip flexion and 17° of pelvic tilt). Pelvic tilt
    where the trunk is not read (no upper back, or lost samples).
    """
    trunk = np.asarray(angles_deg["trunk_inclination"], dtype=np.float64)
    return np.where(np.isfinite(trunk), trunk, np.asarray(angles_deg["pelvic_tilt"], np.float64))


@dataclass(frozen=True)
class RepSettings:
    """Thresholds of rep detection (degrees and seconds)."""

    start_above_deg: float = 5.0
    min_peak_deg: float = 20.0
    min_tilt_deg: float = 15.0
    bottom_confirm_deg: float = 5.0
    lockout_drop_deg: float = 10.0
    #: A settle (or the lowest point before a next rise) is the lockout only
    #: at most this share of the peak's height above the standing level,
    #: fraction 0–1 (1: anywhere ``lockout_drop_deg`` below the peak).
    lockout_max_share: float = 0.6
    settle_s: float = 0.3
    settle_range_deg: float = 2.0
    settle_tol_deg: float = 0.4
    rise_again_deg: float = 5.0
    min_duration_s: float = 0.6
    max_rep_s: float = 30.0
    #: The standing level follows settled poses (and lockouts) within this of
    #: the stance, deg (0: the standing level is always the calibration stance).
    max_standing_drift_deg: float = 45.0


@dataclass(frozen=True)
class RepEvent:
    """Something the rep detector found.

    Attributes:
        kind: ``started``, ``bottom``, ``finished`` or ``rejected``.
        index: grid index the event refers to (start, bottom, or lockout).
        t_s: time of that index, s.
        bounds: the rep's bounds for ``finished`` (and ``rejected``), else None.
        reason: why a movement was rejected.
        settled: grid indices [a, b) of the settled pose after the lockout,
            for a rep that ended by settling (None: it ran into the next one).
    """

    kind: str
    index: int
    t_s: float
    bounds: RepBounds | None = None
    reason: str = ""
    settled: tuple[int, int] | None = None


__all__ = ["RepEvent", "RepSettings", "tilt_angle_deg"]
