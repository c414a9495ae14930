"""hinge-imu: rep-by-rep coaching of the hip hinge from body-worn IMUs.

Public API (see README and docs/):

* :func:`read_recording`, :func:`write_recording`, :class:`RecordingWriter`
* :func:`analyse` → :class:`Session` (angles, reps, verdicts)
* :class:`Recording`, :class:`SensorStream`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Imported lazily so that `hinge-imu --help` and light commands start fast.
_LAZY = {
    "Recording": "hinge_imu.samples",
    "SensorStream": "hinge_imu.samples",
    "read_recording": "hinge_imu.recording",
    "write_recording": "hinge_imu.recording",
    "RecordingWriter": "hinge_imu.recording",
    "HingeImuError": "hinge_imu.errors",
    "RecordingError": "hinge_imu.errors",
    "analyse": "hinge_imu.core.pipeline",
    "Session": "hinge_imu.core.pipeline",
    "load_rules": "hinge_imu.core.rules",
}

if TYPE_CHECKING:
    # The same names as _LAZY, so that editors and mypy see real types.
    from hinge_imu.core.pipeline import Session, analyse
    from hinge_imu.core.rules import load_rules
    from hinge_imu.errors import HingeImuError, RecordingError
    from hinge_imu.recording import RecordingWriter, read_recording, write_recording
    from hinge_imu.samples import Recording, SensorStream


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hinge_imu' has no attribute {name!r}")


__all__ = [
    "HingeImuError",
    "Recording",
    "RecordingError",
    "RecordingWriter",
    "SensorStream",
    "Session",
    "__version__",
    "analyse",
    "load_rules",
    "read_recording",
    "write_recording",
]
