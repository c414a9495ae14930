"""The hip-hinge simulator: a forward model of the body whose sensor signals
are derived by physics. Everything it produces is SIMULATED data.

Entry point: ``simulate(SimConfig.preset("typical", reps=10, seed=1))``.
See docs/simulator.md.
"""

from __future__ import annotations

from hinge_imu.sim.config import IMPERFECTION_PRESETS, PRESETS, Imperfections, SimConfig
from hinge_imu.sim.generate import Simulation, simulate
from hinge_imu.sim.mistakes import MISTAKES

__all__ = [
    "IMPERFECTION_PRESETS",
    "MISTAKES",
    "PRESETS",
    "Imperfections",
    "SimConfig",
    "Simulation",
    "simulate",
]
