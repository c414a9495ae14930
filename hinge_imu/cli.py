"""The ``hinge-imu`` command line: parse, call, print.

Each sub-command lives in its own module under ``hinge_imu.commands`` and
exposes ``NAME``, ``HELP``, ``ORDER`` (int, for the help listing),
``add_arguments(parser)`` and ``run(args) -> int``. Modules are discovered,
so adding a command never touches this file.

Every :class:`~hinge_imu.errors.HingeImuError` becomes one line on stderr
and exit code 2; Ctrl-C exits 130 without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from hinge_imu import commands
from hinge_imu.errors import HingeImuError

EXIT_USAGE = 2


def _command_modules() -> list[ModuleType]:
    mods = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


def build_parser() -> argparse.ArgumentParser:
    from hinge_imu import __version__

    parser = argparse.ArgumentParser(
        prog="hinge-imu",
        description="Coach the hip hinge rep by rep from body-worn IMUs.",
    )
    parser.add_argument("--version", action="version", version=f"hinge-imu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except HingeImuError as err:
        print(f"hinge-imu: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hinge-imu: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
