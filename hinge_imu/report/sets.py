"""Sets: runs of reps separated by a rest, and the stretch of time each set's page shows.

The recording does not say where a set ends, so the report finds it from
the reps: within a set people pause a few seconds between reps at most;
between sets they put the bar down, walk, rest.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hinge_imu.core.results import RepResult

#: A pause between two reps longer than this starts a new set, s (within a
#: set the pause from one lockout to the next descent is 0–3 s).
SET_BREAK_S = 10.0
#: Time shown before a set's first rep and after its last, at most, s.
SET_MARGIN_S = 4.0


@dataclass(frozen=True)
class RepSet:
    """One set: its number (1, 2, …), its reps and the stretch its page shows.

    Attributes:
        window_s: ``[from_s, to_s)`` on the recording clock, s: the set's reps
            with up to ``SET_MARGIN_S`` either side, never reaching into
            another set's reps.
    """

    number: int
    reps: tuple[RepResult, ...]
    window_s: tuple[float, float]

    @property
    def first_rep(self) -> int:
        return self.reps[0].rep

    @property
    def last_rep(self) -> int:
        return self.reps[-1].rep


def split_sets(
    reps: tuple[RepResult, ...] | list[RepResult],
    span_s: tuple[float, float],
    break_s: float = SET_BREAK_S,
    margin_s: float = SET_MARGIN_S,
) -> list[RepSet]:
    """The sets of ``reps`` (in time order) within a recording spanning ``span_s``, s."""
    groups: list[list[RepResult]] = []
    for rep in reps:
        if groups and rep.metrics.t_start - groups[-1][-1].metrics.t_end <= break_s:
            groups[-1].append(rep)
        else:
            groups.append([rep])
    # Window edges: the margin, but no further than halfway to the next set.
    edges = [span_s[0]]
    for a, b in itertools.pairwise(groups):
        gap_from, gap_to = a[-1].metrics.t_end, b[0].metrics.t_start
        edges.append((gap_from + gap_to) / 2)
    edges.append(span_s[1])
    out = []
    for k, group in enumerate(groups):
        lo = max(edges[k], group[0].metrics.t_start - margin_s)
        hi = min(edges[k + 1], group[-1].metrics.t_end + margin_s)
        out.append(RepSet(k + 1, tuple(group), (lo, hi)))
    return out
