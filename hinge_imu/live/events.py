"""The live event stream: one JSON object per line (docs/live.md (event stream), docs/live.md).

Every event has ``event`` (its kind) and ``t`` (session time, s, on the
recording's clock). Kinds: ``connected``, ``disconnected``, ``calibrated``,
``warning`` (the contract's) and ``session``, ``in_rep_warning``, ``rep``,
``feedback``, ``set_end``, ``health``, ``session_end`` (ours; fields in
docs/live.md). Lines are flushed one by one so a follower sees each event as
it happens. Non-finite numbers become ``null`` (JSON has no NaN).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import IO, Any

EVENT_KINDS = (
    "session",
    "connected",
    "disconnected",
    "calibrated",
    "warning",
    "in_rep_warning",
    "rep",
    "feedback",
    "set_end",
    "health",
    "session_end",
)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def event_line(kind: str, **fields: Any) -> str:
    """One event as a JSON line (no trailing newline); ``event`` comes first."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    return json.dumps({"event": kind, **_clean(fields)}, ensure_ascii=False)


class EventWriter:
    """Writes events to a stream (``-`` = stdout) or a file, one flushed line each.

    Also keeps every event in ``history`` (a list of dicts) for the display
    and for tests.
    """

    def __init__(self, target: str | Path | IO[str] | None, keep_history: bool = False) -> None:
        self._own = False
        self._fh: IO[str] | None
        if target is None:
            self._fh = None
        elif target == "-":
            self._fh = sys.stdout
        elif isinstance(target, str | Path):
            self._fh = open(target, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._own = True
        else:
            self._fh = target
        self.keep_history = keep_history
        self.history: list[dict[str, Any]] = []

    @property
    def to_stdout(self) -> bool:
        return self._fh is sys.stdout

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        line = event_line(kind, **fields)
        event: dict[str, Any] = json.loads(line)
        if self.keep_history:
            self.history.append(event)
        if self._fh is not None:
            self._fh.write(line + "\n")
            self._fh.flush()
        return event

    def close(self) -> None:
        if self._own and self._fh is not None:
            self._fh.close()
        self._fh = None


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """All events of a JSON Lines file (for tests and notebooks)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
