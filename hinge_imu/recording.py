"""Read, validate and write recording files (formats.md §1).

The user-facing description is ``docs/recording-format.md``. The work is
split over ``recording_read`` (reader), ``recording_check`` (line-exact
diagnosis of bad files), ``recording_write`` (atomic batch writer),
``recording_stream`` (streaming writer) and ``recording_summary``
(per-sensor counts and gaps for ``validate``).
"""

from __future__ import annotations

from hinge_imu.recording_read import read_recording
from hinge_imu.recording_stream import RecordingWriter
from hinge_imu.recording_summary import StreamSummary, summarise_stream
from hinge_imu.recording_write import write_recording

__all__ = [
    "RecordingWriter",
    "StreamSummary",
    "read_recording",
    "summarise_stream",
    "write_recording",
]
