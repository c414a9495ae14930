"""The streaming analysis as the live session sees it: blocks in, angles and reps out.

:class:`StreamingAnalyser` is the small interface the session needs;
:class:`CoreAnalyser` implements it with the analysis core's streaming
stages (``hinge_imu.core.pipeline``), the same stages ``hinge_imu.analyse``
runs over a whole recording — so a replay gives the reps of the offline
analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from hinge_imu.core.results import RepResult, SensorCalibration
from hinge_imu.samples import SampleBlock

FloatArray = npt.NDArray[np.float64]
_EMPTY = np.zeros(0)


@dataclass(frozen=True)
class AnalysisStep:
    """What one block of samples produced.

    Attributes:
        t_s: times of the new angle samples on the analysis grid (M,), s.
        angles_deg: angle name → new values (M,), deg; NaN where not measurable.
        reps: reps completed by this block (lockout confirmed), in order.
        calibrated: the calibration, in the step that completed it (else None).
        in_rep: True while the rep detector is inside a rep.
        warnings: things the user should know, one line each.
    """

    t_s: FloatArray = field(default_factory=lambda: _EMPTY)
    angles_deg: Mapping[str, FloatArray] = field(default_factory=dict)
    reps: tuple[RepResult, ...] = ()
    calibrated: Mapping[str, SensorCalibration] | None = None
    in_rep: bool = False
    warnings: tuple[str, ...] = ()


class StreamingAnalyser(Protocol):
    """Causal analysis: ``update()`` per block, ``finish()`` at the end, ``reset()``."""

    def update(self, block: SampleBlock) -> AnalysisStep: ...

    def finish(self) -> AnalysisStep: ...

    def reset(self) -> None: ...
