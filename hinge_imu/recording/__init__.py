"""Read, validate and write recording files (docs/recording-format.md).

``read`` (the reader), ``check`` (line-exact diagnosis of bad files),
``tolerate`` (clock offsets and saturation, accepted with a warning),
``write`` (atomic batch writer), ``stream`` (streaming writer for a session
in progress) and ``summary`` (per-sensor counts and gaps for ``validate``).
Names are loaded on first use, so a command that only reads does not pay
for importing the writers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hinge_imu.recording.read import read_recording
    from hinge_imu.recording.stream import RecordingWriter
    from hinge_imu.recording.summary import StreamSummary, summarise_stream
    from hinge_imu.recording.write import write_recording

__all__ = [
    "RecordingWriter",
    "StreamSummary",
    "read_recording",
    "summarise_stream",
    "write_recording",
]

_HOME = {
    "read_recording": "read",
    "RecordingWriter": "stream",
    "StreamSummary": "summary",
    "summarise_stream": "summary",
    "write_recording": "write",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"hinge_imu.recording.{_HOME[name]}"), name)
    raise AttributeError(f"module 'hinge_imu.recording' has no attribute {name!r}")
