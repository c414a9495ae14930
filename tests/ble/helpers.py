"""Shared helpers of the BLE tests: simulated sensor streams and file checks."""

from __future__ import annotations

import functools

import numpy as np

from hinge_imu.samples import Recording, SensorStream


@functools.lru_cache(maxsize=1)
def simulated_recording() -> Recording:
    """A SIMULATED 5-rep session (clean preset, 100 Hz, ~35 s) from the simulator."""
    from hinge_imu.sim import SimConfig, simulate

    return simulate(SimConfig.preset("clean", reps=5, seed=3)).recording


def sim_stream(sensor: str) -> SensorStream:
    return simulated_recording().sensors[sensor]


def rows_of(rec: Recording, sensor: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    s = rec.sensors[sensor]
    assert s.seq is not None
    return s.t_s, s.acc_mps2, s.gyr_dps, s.seq
