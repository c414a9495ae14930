"""Saved sensor assignments: which device sits on which segment, by name.

Stored as TOML in the user config dir, ``~/.config/hinge-imu/assignments.toml``
(``$XDG_CONFIG_HOME`` respected; ``%APPDATA%\\hinge-imu`` on Windows;
overridden by ``$HINGE_IMU_CONFIG_DIR``)::

    [gym-left]
    pelvis = "D4:3A:11:22:33:44"
    thigh = "Movesense 2134A1"
    upper_back = "D4:3A:11:22:33:46"
    side = "left"

Keys are sensor names (``conventions.SENSOR_NAMES``) mapping to a device
address or name, plus optional ``side``. The file is rewritten atomically.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from hinge_imu.conventions import SENSOR_NAMES
from hinge_imu.errors import HingeImuError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ASSIGNMENTS_FILE = "assignments.toml"
_EXTRA_KEYS = ("side",)


def config_dir() -> Path:
    """The user config dir of hinge-imu (not created)."""
    env = os.environ.get("HINGE_IMU_CONFIG_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "hinge-imu"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hinge-imu"


def assignments_path() -> Path:
    return config_dir() / ASSIGNMENTS_FILE


def load_assignments(path: Path | None = None) -> dict[str, dict[str, str]]:
    """All saved assignments, ``{name: {sensor: device, "side": …}}`` ({} if no file)."""
    path = path or assignments_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        # Python < 3.14 has the line only in the message: "… (at line 3, column 5)".
        found = re.search(r"\(at line (\d+), column \d+\)", str(err))
        line = int(found.group(1)) if found else getattr(err, "lineno", None)
        text = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
        raise HingeImuError(f"not valid TOML: {text}", path, line) from err
    except OSError as err:
        raise HingeImuError(f"cannot read: {err.strerror}", path) from err
    out: dict[str, dict[str, str]] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise HingeImuError(f"'{name}' must be a table [{name}]", path)
        entry: dict[str, str] = {}
        for key, value in table.items():
            if key not in SENSOR_NAMES and key not in _EXTRA_KEYS:
                raise HingeImuError(
                    f"[{name}] unknown key '{key}' (sensors: {', '.join(SENSOR_NAMES)}; or side)",
                    path,
                )
            if not isinstance(value, str) or not value.strip():
                raise HingeImuError(f"[{name}] {key} must be a non-empty string", path)
            entry[key] = value.strip()
        out[name] = entry
    return out


def get_assignment(name: str, path: Path | None = None) -> dict[str, str]:
    path = path or assignments_path()
    saved = load_assignments(path)
    if name not in saved:
        known = ", ".join(sorted(saved)) or "none saved yet"
        raise HingeImuError(f"no sensor assignment named '{name}' (saved: {known})", path)
    return saved[name]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def save_assignment(name: str, entry: Mapping[str, str], path: Path | None = None) -> Path:
    """Add or replace assignment ``name``; returns the file written."""
    from hinge_imu.atomic import atomic_write

    if not name or any(c in name for c in '[]."\n'):
        raise HingeImuError(f"assignment name '{name}' must not contain [ ] . or quotes")
    path = path or assignments_path()
    saved = load_assignments(path)
    saved[name] = {k: v for k, v in entry.items() if k in SENSOR_NAMES or k in _EXTRA_KEYS}
    lines = ["# hinge-imu sensor assignments (hinge-imu record --save-assignment NAME)", ""]
    for n, e in saved.items():
        lines.append(f"[{_quote(n)}]")
        lines.extend(f"{k} = {_quote(v)}" for k, v in e.items())
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w") as f:
        f.write("\n".join(lines))
    return path
