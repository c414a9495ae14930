"""The package's floors (docs/architecture.md): nothing imports a module above it.

conventions/errors/samples/saturation/atomic/events/csv_table ← recording ← core,
sensors ← sim, live, report ← commands/cli. A violation makes the data flow circular and the
live/offline core no longer reusable on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "hinge_imu"
BASE = {
    "conventions",
    "errors",
    "samples",
    "saturation",
    "atomic",
    "events",
    "csv_table",
    "data",
}
FLOOR = {
    **dict.fromkeys(BASE, 0),
    "recording": 1,
    "core": 2,
    "sensors": 2,
    "sim": 3,
    "live": 3,
    "report": 3,
    "commands": 4,
    "cli": 4,
    "__main__": 4,
    "__init__": 4,
}


def _unit(module: str) -> str:
    head = module.split(".")[0]
    return head


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("hinge_imu.")
        ):
            found.add(node.module.removeprefix("hinge_imu."))
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("hinge_imu.")
                for a in node.names
                if a.name.startswith("hinge_imu.")
            }
    return found


SOURCES = sorted(p for p in PKG.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_module_imports_from_a_floor_above_it(path: Path) -> None:
    own = _unit(str(path.relative_to(PKG).with_suffix("")).replace("/", "."))
    for target in _imports(path):
        other = _unit(target)
        assert FLOOR[other] <= FLOOR[own], f"{own} (floor {FLOOR[own]}) imports {target}"
        if FLOOR[other] == FLOOR[own] in (2, 3) and own != other:
            pytest.fail(f"{own} imports its sibling {target}; move the shared part down")
