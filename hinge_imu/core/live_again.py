"""Calibrating again, live: when ``LiveAnalyser`` does, and what the swap of stages tells.

Once calibrated the live analyser calibrates again on every tick kept: at
rep counts (``recalibrate_after_reps``), at rests, after each rep on rough
opening-cycle biases, and during a long movement to look for a strap slip
(docs/analysis.md, "Live"). The analyser does the calibrating and swaps
its stages; the decisions (which counters say a calibration again is due)
and what the new stages' first step says are here, apart from it, so that
each reads in one sitting. Offline calibrates once on the whole recording
and needs none of this.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hinge_imu.core.calibration import Calibration
from hinge_imu.core.live_settings import LiveSettings
from hinge_imu.core.rep_events import RepEvent
from hinge_imu.core.short_stance import CALIBRATION_WORDS
from hinge_imu.core.step import AnalysisStep


class AgainSchedule:
    """When to calibrate again: the reps, rests and movements seen since the last time.

    Grid indices are of the session's angle rows; the analyser counts the
    reps and rows across its stages and hands them in.
    """

    def __init__(self, live: LiveSettings, rate_hz: float) -> None:
        #: Reps seen at which to calibrate again (the first due first).
        self.at = sorted(live.recalibrate_after_reps)
        #: Grid index of the last try at a rest (on upright moments).
        self.rest_try_k = 0
        #: … and of the last look for a slip during a movement.
        self.slip_try_k = 0
        #: Reps seen at the last calibration (again) on rough opening-cycle biases.
        self.rough_at = 0
        #: Rows of a rest (or of a movement) that are worth a try, ``rest_again_s``.
        self.rest_k = round(live.rest_again_s * rate_hz)

    def seen(self, reps_seen: int) -> None:
        """A calibration took in ``reps_seen`` reps: a re-calibration due at their count is it."""
        self.at = [n for n in self.at if n > reps_seen]

    def calibrated(self, reps_seen: int) -> None:
        """A calibration (again) was tried with ``reps_seen`` reps seen, on all of them."""
        self.seen(reps_seen)
        self.rough_at = reps_seen

    def taking(self, due: str, reps_seen: int, row_k: int) -> None:
        """A calibration again is tried now for ``due`` (:meth:`due`), the next row ``row_k``."""
        if due != "slip":  # a look for a slip is not the re-calibration due at a rep count
            self.calibrated(reps_seen)
        if due == "rest":
            self.rest_try_k = row_k
        if due == "slip":
            self.slip_try_k = row_k

    def due(
        self,
        step: AnalysisStep,
        cal: Calibration | None,
        reps_seen: int,
        row_k: int,
        rep_from_k: int | None,
        last_end_k: int,
    ) -> str:
        """Why to calibrate again now ("" if not): reps seen, a rest, or a long movement.

        ``row_k``: grid index of the next angle row; ``rep_from_k``: of the
        next row when the rep detector entered the movement it is in (None:
        not in one); ``last_end_k``: of the last rep's end.

        A strap that slips at a rest turns its sensor's angles by the slip:
        the rep detector takes that for a rep, and stays in it, so no rest
        comes to find the slip before the "rep" ends and is buzzed. So every
        ``rest_again_s`` of a movement the slips are looked for too ("slip":
        taken only if a new one is found; the new stages, knowing it, then
        see no rep there, as offline).

        A rest (a pause between sets) may hold a still stance to calibrate
        on (on upright moments the lockout rules are not assessed), or show
        that a strap slipped (``calibrate_grid`` finds it as offline, and the
        mounting after it; the stages then use that from here on).
        """
        rest_k = self.rest_k
        rough = cal is not None and cal.opening_cycles and reps_seen > self.rough_at
        if rough and not step.events:  # a rep's feedback (its bottom) must not wait for this
            # Biases from the cycles since the opening are off by the pose a fast
            # lockout misses over the cycles' length: each rep told lengthens them
            # (back to back, no rep count would ever find the detector between reps).
            return "reps"
        if step.in_rep:
            if step.events:
                return ""
            since_k = max(rep_from_k or 0, self.slip_try_k)
            return "slip" if row_k - since_k >= rest_k else ""
        if self.at and reps_seen >= self.at[0]:
            return "reps"
        since_k = max(last_end_k, self.rest_try_k)
        rested = reps_seen > 0 and row_k - since_k >= rest_k
        return "rest" if rested else ""


def told_from(step: AnalysisStep, row_k: int, rate_hz: float, slip: bool) -> AnalysisStep:
    """The new stages' first step from row ``row_k`` on (``slip``: they came for a slip).

    What the new stages found before the next row was told already; the
    movement told started ends here for whoever followed it, if the new
    stages see no rep there (a slip's; a rep a slip hit goes on, unjudged).
    A rep told already is left out where every step's reps are numbered
    (``LiveAnalyser._counted``).
    """
    ended = RepEvent("rejected", row_k, row_k / rate_hz, reason="a strap slip, not a rep")
    moved = (ended,) if slip and not step.in_rep else ()
    keep = step.t_s >= (row_k - 0.5) / rate_hz
    return replace(
        step,
        t_s=step.t_s[keep],
        angles_deg={a: v[keep] for a, v in step.angles_deg.items()},
        events=(*moved, *(e for e in step.events if e.index >= row_k)),
    )


def again_warnings(
    old: Calibration | None, cal: Calibration, newest_s: float, reps_seen: int
) -> tuple[str, ...]:
    """What a calibration again says: its news over ``old``'s, and that it was taken."""
    what = CALIBRATION_WORDS.get(cal.kind, cal.kind)
    why: tuple[str, ...] = (
        f"calibrated again at {newest_s:.2f} s on the {reps_seen} reps "
        f"seen so far ({what}): the reps from now on use it",
    )
    said = {_wording(m) for m in (old.messages if old else ())}
    news = tuple(m for m in cal.messages if _wording(m) not in said)
    if old is not None and old.opening_cycles and cal.opening_cycles:
        why = ()  # again on every rep of such a set: said at the first only
    return (*news, *why)


def _wording(message: str) -> str:
    """A message without its numbers: one that only says new times or lengths is no news."""
    return re.sub(r"[-+]?\d+(\.\d+)?", "#", message)


__all__ = ["AgainSchedule", "again_warnings", "told_from"]
