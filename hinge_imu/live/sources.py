"""Where a live session's samples come from: a replayed recording (or sensors, see ble_source).

A source yields, in arrival order, :class:`~hinge_imu.samples.SampleBlock` (some samples of one
sensor, stamped with the wall-clock moment they were delivered) and
:class:`~hinge_imu.samples.LinkEvent` (a sensor connected, disconnected, or
reported its battery), the same types the BLE layer hands out.
The session treats both sources the same way.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from hinge_imu.samples import LinkEvent, Recording, SampleBlock

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ReplaySource:
    """Replays a recording as if its sensors were sending now.

    Args:
        recording: what to replay.
        speed: 1 = real time, 2 = twice as fast, 0 = as fast as possible.
        block_s: samples of one sensor are delivered in blocks of this
            length, s, like BLE notifications (default 0.05 s: the custom
            firmware profile sends 10 samples a notification at 200 Hz,
            Movesense 8 at 104 Hz).
        block_sizes: instead of ``block_s``, an iterator of block sizes in
            samples (the parity test uses random sizes).
        together_s: blocks that fall due within this long (s of session
            time, default 0.01) of each other are delivered together, after
            one wait: one wake-up per round of the sensors' notifications
            rather than one per sensor. It delays only the blocks that are
            not the last of their round, and the analysis needs the last one
            anyway (a grid row is complete only once every sensor reached it).
    """

    def __init__(
        self,
        recording: Recording,
        speed: float = 1.0,
        block_s: float = 0.05,
        block_sizes: Iterator[int] | None = None,
        together_s: float = 0.01,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be ≥ 0")
        self.recording = recording
        self.speed = float(speed)
        self.block_s = float(block_s)
        self.block_sizes = block_sizes
        self.together_s = float(together_s)
        self.delivered_until_s = 0.0
        #: ``perf_counter`` at session time 0 of the replay, s (set when iteration starts).
        self.wall0_s = float("nan")

    def _cuts(self, t_s: FloatArray) -> list[int] | IntArray:
        n = len(t_s)
        if self.block_sizes is not None:
            cuts, i = [0], 0
            while i < n:
                i = min(n, i + max(1, int(next(self.block_sizes))))
                cuts.append(i)
            return cuts
        edges = np.arange(0.0, float(t_s[-1]) + self.block_s, self.block_s) + self.block_s
        inner = np.searchsorted(t_s, edges, "right")
        inner = inner[(inner > 0) & (inner < n)]
        return np.unique(np.concatenate(([0], inner, [n]))).astype(np.int64)

    def _due_together(
        self, merged: Iterator[tuple[float, str, int, int]]
    ) -> Iterator[list[tuple[float, str, int, int]]]:
        """The blocks in groups that fall due within ``together_s`` of the group's first."""
        group: list[tuple[float, str, int, int]] = []
        for item in merged:
            if group and item[0] > group[0][0] + self.together_s:
                yield group
                group = []
            group.append(item)
        if group:
            yield group

    def __iter__(self) -> Iterator[SampleBlock | LinkEvent]:
        names = self.recording.ordered_sensor_names()
        for name in names:
            yield LinkEvent(name, "connected", 0.0, message="replay")

        # Each block becomes available when its last sample has been "measured";
        # the sensors' blocks are merged lazily so memory does not grow with length.
        def blocks(name: str) -> Iterator[tuple[float, str, int, int]]:
            t = self.recording.sensors[name].t_s
            if len(t) == 0:
                return
            cuts = self._cuts(t)
            for a, b in itertools.pairwise(cuts):
                yield float(t[b - 1]), name, int(a), int(b)

        merged = heapq.merge(*(blocks(n) for n in names))
        wall0 = self.wall0_s = time.perf_counter()
        for group in self._due_together(merged):
            t_last = group[-1][0]
            if self.speed > 0:
                delay = wall0 + t_last / self.speed - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            arrival_s = time.perf_counter()
            self.delivered_until_s = max(self.delivered_until_s, t_last)
            for _, name, a, b in group:
                s = self.recording.sensors[name]
                yield SampleBlock(
                    name,
                    s.t_s[a:b],
                    s.acc_mps2[a:b],
                    s.gyr_dps[a:b],
                    None if s.seq is None else s.seq[a:b],
                    arrival_s,
                    None if s.mag_ut is None else s.mag_ut[a:b],
                )
        for name in names:
            yield LinkEvent(name, "disconnected", self.delivered_until_s, message="end of replay")
