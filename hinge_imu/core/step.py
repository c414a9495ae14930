"""What the analysis stages hand back per update: :class:`AnalysisStep`.

One step type for the offline analysis and live coaching alike. Besides the
new angle rows, rep events and judged reps it carries flags in the manner of
x-io Fusion's ``FusionAhrsFlags`` (``calibrated``, ``in_rep``, and live's
``waiting``: why not calibrated yet), so a caller never reaches into a
stage to know where the analysis stands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import ANGLE_NAMES
from hinge_imu.core.calibration import Calibration
from hinge_imu.core.rep_events import RepEvent
from hinge_imu.core.results import RepResult

__all__ = ["AnalysisStep", "merge_steps"]

FloatArray = npt.NDArray[np.float64]
_EMPTY = np.zeros(0)


@dataclass(frozen=True)
class AnalysisStep:
    """What one update produced.

    Attributes:
        t_s: times of the new angle rows on the analysis grid (M,), s.
        angles_deg: angle name → the new values (M,), deg (NaN: not
            measurable); every name of ``conventions.ANGLE_NAMES`` when
            ``t_s`` is not empty.
        events: rep events (started, bottom, finished, rejected), in order;
            their ``index`` is a grid index (``t = index / rate_hz``).
        reps: reps completed in this step (lockout confirmed), judged, in order.
        calibrated: the analysis is calibrated (angles and reps flow).
        in_rep: the rep detector is inside a movement at the end of the step.
        calibration: the calibration, only in the step that completed it.
        warnings: things the user should know, one line each.
        waiting: live, not calibrated yet: why its newest try was refused, in words
            (``live_ready.WAIT_WORDS``; "" calibrated, or offline).
    """

    t_s: FloatArray = field(default_factory=lambda: _EMPTY)
    angles_deg: Mapping[str, FloatArray] = field(default_factory=dict)
    events: tuple[RepEvent, ...] = ()
    reps: tuple[RepResult, ...] = ()
    calibrated: bool = False
    in_rep: bool = False
    calibration: Calibration | None = None
    warnings: tuple[str, ...] = ()
    waiting: str = ""

    @property
    def empty(self) -> bool:
        """Nothing to tell: no rows, events, reps, warnings or new calibration."""
        return not (self.t_s.size or self.events or self.reps or self.warnings or self.calibration)


def merge_steps(steps: Sequence[AnalysisStep]) -> AnalysisStep:
    """Consecutive steps as one (rows concatenated in time order; flags of the last)."""
    if len(steps) == 1:
        return steps[0]
    if not steps:
        return AnalysisStep()
    full = [s for s in steps if not s.empty]
    rows = [s for s in full if s.t_s.size]
    t = np.concatenate([s.t_s for s in rows]) if rows else _EMPTY
    angles = (
        {a: np.concatenate([s.angles_deg[a] for s in rows]) for a in ANGLE_NAMES} if rows else {}
    )
    return AnalysisStep(
        t_s=t,
        angles_deg=angles,
        events=tuple(e for s in full for e in s.events),
        reps=tuple(r for s in full for r in s.reps),
        calibrated=steps[-1].calibrated,
        in_rep=steps[-1].in_rep,
        calibration=next((s.calibration for s in full if s.calibration is not None), None),
        warnings=tuple(w for s in full for w in s.warnings),
        waiting=steps[-1].waiting,
    )
