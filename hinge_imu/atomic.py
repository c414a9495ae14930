"""Outputs that never destroy data (docs/recording-format.md, "What every command guarantees").

:func:`atomic_write` makes a file appear complete under its final name, or
not at all. :func:`refuse_replacing_inputs` and friends are called by every
command, with what it reads and what it will write, before it writes
anything: a slip of the tab key (``analyse REC.csv --reps-csv REC.csv``)
costs one error line, not the recording.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from hinge_imu.errors import HingeImuError


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", **open_kwargs: object
) -> Iterator[IO[Any]]:
    """Open a temp file beside ``path``; on success fsync and rename it over ``path``.

    If the block raises, the temp file is removed and ``path`` is untouched,
    so no half-written output is ever left under the final name.
    A full disk or an unwritable folder raises :class:`HingeImuError` (one
    line naming ``path``), not a bare ``OSError``.
    """
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    except OSError as err:
        raise HingeImuError(f"cannot create the file ({err.strerror or err})", final) from None
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:  # type: ignore[call-overload]
            yield fh
            fh.flush()
            # mkstemp makes the file owner-only (0600); give it the mode a
            # plain open() would, so shared outputs stay readable by others
            os.chmod(fh.fileno(), 0o666 & ~_umask())
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError) and not isinstance(err, BrokenPipeError):
            raise HingeImuError(
                f"cannot write the file ({err.strerror or err}); nothing written", final
            ) from None
        raise


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


PathArg = str | os.PathLike[str] | None

#: Names the report writes into its folder (and into one subfolder per session
#: with several sessions), docs/reports.md; an input with one of them there is refused.
REPORT_FILE_NAMES = ("report.pdf", "reps.csv", "angles.csv", "summary.csv", "columns.csv")


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: links, ``./x`` and ``x``, hard links alike."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return a.resolve() == b.resolve()


def refuse_replacing_inputs(inputs: Iterable[PathArg], outputs: Mapping[str, PathArg]) -> None:
    """Raise :class:`HingeImuError` if an output is one of the inputs, or two outputs are one file.

    Args:
        inputs: files the command reads (``None`` and ``-`` are skipped).
        outputs: option (as the user typed it, e.g. ``--reps-csv``) → the
            file it names (``None`` and ``-`` for stdout are skipped).
    """
    ins = [Path(p) for p in inputs if p is not None and str(p) != "-"]
    seen: list[tuple[str, Path]] = []
    for option, value in outputs.items():
        if value is None or str(value) == "-":
            continue
        out = Path(value)
        for inp in ins:
            if same_file(out, inp):
                raise HingeImuError(
                    f"{option} would replace the input {inp}; nothing written "
                    "(choose another output name)",
                    out,
                )
        for other, earlier in seen:
            if same_file(out, earlier):
                raise HingeImuError(f"{option} and {other} name the same file", out)
        seen.append((option, out))


def refuse_report_over_inputs(out_dir: PathArg, inputs: Iterable[PathArg]) -> None:
    """Raise if an input lies where ``report --out DIR`` writes one of its files."""
    if out_dir is None:
        return
    root = Path(out_dir)
    for value in inputs:
        if value is None:
            continue
        inp = Path(value)
        in_dir = same_file(inp.parent, root) or same_file(inp.parent.parent, root)
        if in_dir and (inp.name in REPORT_FILE_NAMES or inp.name.endswith(".png")):
            raise HingeImuError(
                f"--out {root} would replace the input {inp}; nothing written "
                "(choose another folder)",
                inp,
            )


def refuse_existing_recording(path: Path, overwrite: bool) -> None:
    """A recording in progress is never replaced unless ``--overwrite`` says so."""
    if path.exists() and not overwrite:
        raise HingeImuError("exists already; nothing written (use --overwrite to replace it)", path)
