"""The event stream: one JSON object per line, one writer and one vocabulary.

``hinge-imu live`` writes it (to stdout or ``--events``) and ``hinge-imu
record`` writes its link events in the same form next to the recording
(``<REC>.events.jsonl``). Every event has ``event`` (its kind) and ``t``
(session time, s, on the recording's clock). Kinds and their fields are in
docs/live.md (Event stream): ``connected``, ``disconnected``,
``calibrated``, ``warning`` and ``rep`` (the public contract), and
``session``, ``battery``, ``bad_packet``, ``in_rep_warning``, ``feedback``,
``set_end``, ``health``, ``session_end``. Lines are flushed one by one so a
follower sees each event as it happens. Non-finite numbers become ``null``
(JSON has no NaN).
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import IO, Any

from hinge_imu.conventions import recording_stem
from hinge_imu.errors import HingeImuError
from hinge_imu.samples import LinkEvent

EVENT_KINDS = (
    "session",
    "connected",
    "disconnected",
    "battery",
    "bad_packet",
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
        self._target = target
        self._fh: IO[str] | None
        if target is None:
            self._fh = None
        elif target == "-":
            self._fh = sys.stdout
        elif isinstance(target, str | Path):
            try:
                self._fh = open(target, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
            except OSError as err:
                raise HingeImuError(
                    f"cannot create the events file ({err.strerror})", target
                ) from None
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
            try:
                self._fh.write(line + "\n")
                self._fh.flush()
            except BrokenPipeError:
                raise
            except OSError as err:
                self._fh = None  # a full disk: nothing more can go there
                raise self._failed(err) from None
        return event

    def link(self, ev: LinkEvent) -> dict[str, Any]:
        """Write a sensor's link event (:func:`link_event_fields`)."""
        kind, fields = link_event_fields(ev)
        return self.emit(kind, **fields)

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if self._own and fh is not None:
            try:
                fh.close()
            except OSError as err:
                raise self._failed(err) from None

    def _failed(self, err: OSError) -> HingeImuError:
        """One line for an events file that cannot be written (disk full, device gone)."""
        name = getattr(self._target, "name", self._target)
        return HingeImuError(
            f"cannot write the events ({err.strerror or err}); the events written before are kept",
            name if isinstance(name, str | Path) else None,
        )


def link_event_fields(ev: LinkEvent) -> tuple[str, dict[str, Any]]:
    """The event kind and fields of a link event.

    A reconnection is a ``connected`` event with ``reconnected: true`` (the
    message says how long the link was down: a gap in the data).
    """
    kind = "connected" if ev.kind == "reconnected" else ev.kind
    fields: dict[str, Any] = {"t": ev.t_s, "sensor": ev.sensor}
    if ev.kind == "reconnected":
        fields["reconnected"] = True
    if ev.battery_pct is not None:
        fields["battery_pct"] = ev.battery_pct
    if ev.count is not None:
        fields["count"] = ev.count
    if ev.message:
        fields["message"] = ev.message
    return kind, fields


def events_path_for(path: str | os.PathLike[str]) -> Path:
    """``REC.csv`` → ``REC.events.jsonl`` (also for ``.csv.gz``): a recording's link events."""
    p = Path(path)
    return p.with_name((recording_stem(p.name) or p.name) + ".events.jsonl")


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """All events of a JSON Lines file (for tests and notebooks)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
