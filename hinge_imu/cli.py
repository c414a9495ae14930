"""The ``hinge-imu`` command line: parse, call, print.

Each sub-command lives in its own module under ``hinge_imu.commands`` and
exposes ``NAME``, ``HELP``, ``ORDER`` (int, for the help listing),
``add_arguments(parser)`` and ``run(args) -> int``. Modules are discovered,
so adding a command never touches this file; the module's name is its
``NAME``. A command line naming one imports only that module (the others
cost a run ~20 ms, and importing ``pkgutil`` another 5).

Every :class:`~hinge_imu.errors.HingeImuError` becomes one line on stderr
and exit code 2; Ctrl-C exits 130 without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from hinge_imu import commands
from hinge_imu.errors import HingeImuError

EXIT_USAGE = 2


def _command_modules() -> list[ModuleType]:
    import pkgutil

    mods = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


def _named_command(argv: Sequence[str]) -> list[ModuleType] | None:
    """The module of the command ``argv`` names (its first word), or None: all of them.

    None also for a word that names no command, so argparse lists the choices.
    """
    word = next((a for a in argv if not a.startswith("-")), None)
    if word is None or not word.isidentifier() or word.startswith("_"):
        return None
    try:
        mod = importlib.import_module(f"{commands.__name__}.{word}")
    except ModuleNotFoundError as err:
        if err.name != f"{commands.__name__}.{word}":
            raise  # the command's module is there but needs something missing
        return None
    return [mod] if getattr(mod, "NAME", None) == word else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of the one ``argv`` names (same help, same errors)."""
    from hinge_imu import __version__

    parser = argparse.ArgumentParser(
        prog="hinge-imu",
        description="Coach the hip hinge rep by rep from body-worn IMUs.",
    )
    parser.add_argument("--version", action="version", version=f"hinge-imu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = None if argv is None else _named_command(argv)
    for mod in named or _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
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
