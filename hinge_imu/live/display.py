"""Terminal view of a live session (rich), or plain lines when stdout is not a TTY.

On a terminal: a panel refreshed a few times a second with the current
angles, the rep count, the last rep's score and mistakes, and each sensor's
health (rate, loss, battery). A bad-rep sound is also shown as a flash, so a
session without a sound device still gives feedback. Not on a terminal (a
pipe, a log file, CI): one plain line per event worth reading.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any

from hinge_imu.conventions import ANGLE_NAMES
from hinge_imu.samples import SensorHealth

#: Fastest refresh of the terminal view, s (a refresh costs ~5 ms of CPU).
REFRESH_S = 0.5


@dataclass
class LiveState:
    """Everything the display shows; the session updates it, the display reads it."""

    source: str = ""
    schedule: str = "every"
    t_s: float = 0.0
    calibrated: bool = False
    #: Not calibrated yet: why (``AnalysisStep.waiting``; "" not known yet).
    waiting: str = ""
    angles_deg: dict[str, float] = field(default_factory=dict)
    reps: int = 0
    bad_reps: int = 0
    last_rep: int | None = None
    last_score: float | None = None
    last_mistakes: tuple[str, ...] = ()
    last_not_judged: str = ""
    last_feedback: str = ""
    last_feedback_wall_s: float = -1e9
    health: dict[str, SensorHealth] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def _fmt(x: float | None, spec: str = ".0f") -> str:
    return "–" if x is None or not math.isfinite(x) else format(x, spec)


def rep_line(state: LiveState) -> str:
    """The last rep in one plain line."""
    if state.last_not_judged:
        verdict = f"not judged ({state.last_not_judged})"
    else:
        verdict = f"score {_fmt(state.last_score)}"
        verdict += f", mistakes: {', '.join(state.last_mistakes)}" if state.last_mistakes else ""
    return f"rep {state.last_rep} at {state.t_s:.2f} s: {verdict}"


def waiting_line(state: LiveState) -> str:
    """What the view says before the calibration: what to do, and why live still waits."""
    why = f" (not calibrated: {state.waiting})" if state.waiting else ""
    return f"stand tall and still to calibrate{why}"


class LiveDisplay:
    """Shows a :class:`LiveState`.

    Args:
        stream: where to write (default stdout).
        rich_view: True for the refreshed terminal panel, False for plain lines;
            None decides from ``stream.isatty()``.
    """

    def __init__(self, stream: IO[str] | None = None, rich_view: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        if rich_view is None:
            rich_view = bool(getattr(self.stream, "isatty", lambda: False)())
        self.rich_view = rich_view
        self._live: Any = None
        self._last_refresh = 0.0

    def start(self, state: LiveState) -> None:
        if self.rich_view:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream)
            self._live = Live(self.render(state), console=console, auto_refresh=False)
            self._live.start()

    def line(self, text: str) -> None:
        """A plain line (above the panel on a terminal)."""
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def refresh(self, state: LiveState, force: bool = False) -> None:
        if self._live is None:
            return
        now = time.perf_counter()
        if force or now - self._last_refresh >= REFRESH_S:
            self._last_refresh = now
            self._live.update(self.render(state), refresh=True)

    def stop(self, state: LiveState) -> None:
        if self._live is not None:
            self._live.update(self.render(state), refresh=True)
            self._live.stop()
            self._live = None

    def render(self, state: LiveState) -> Any:
        """The panel as a rich renderable."""
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        angles = Table(title="angles (deg, 0 = standing tall)", expand=True)
        shown = [a for a in ANGLE_NAMES if a in state.angles_deg]
        for a in shown:
            angles.add_column(a.replace("_", " "), justify="right")
        angles.add_row(*[_fmt(state.angles_deg.get(a), "+.0f") for a in shown])

        health = Table(title="sensors", expand=True)
        for col in ("sensor", "state", "rate Hz", "lost", "bad packets", "battery"):
            health.add_column(col, justify="right" if col != "sensor" else "left")
        for h in state.health.values():
            st = "stale" if h.stale else ("ok" if h.connected else "DISCONNECTED")
            batt = "–" if h.battery_pct is None else f"{h.battery_pct:.0f} %"
            lost = f"{100 * h.lost_share:.1f} %"
            health.add_row(h.sensor, st, _fmt(h.rate_hz), lost, str(h.bad_packets), batt)

        flash = time.perf_counter() - state.last_feedback_wall_s < 1.0
        head = Text(
            f"{state.source}  t = {state.t_s:7.1f} s   reps {state.reps}  (bad {state.bad_reps})"
            f"   schedule: {state.schedule}"
            + ("" if state.calibrated else f"   — {waiting_line(state)}"),
            style="bold",
        )
        last = Text(rep_line(state) if state.last_rep is not None else "no rep yet")
        if state.last_mistakes and not state.last_not_judged:
            last.stylize("red")
        parts: list[Any] = [head, last, angles, health]
        if flash and state.last_feedback:
            parts.insert(1, Text(f"  ▶ {state.last_feedback}", style="bold white on red"))
        for m in state.messages[-3:]:
            parts.append(Text(m, style="yellow"))
        return Panel(Group(*parts), title="hinge-imu live")
