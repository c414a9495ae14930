"""The one exception type users see, rendered as a single line by the CLI."""

from __future__ import annotations

from os import PathLike


class HingeImuError(Exception):
    """A problem with the user's input or setup, shown as one line.

    ``str(err)`` is ``"FILE:LINE: message"`` (``LINE`` omitted when it does
    not apply, ``FILE`` omitted when there is no file).
    """

    def __init__(
        self, message: str, path: str | PathLike[str] | None = None, line: int | None = None
    ) -> None:
        # One line whatever the file held: a quoted CSV field may carry a
        # newline into the message (the value it quotes), so escape them.
        self.message = message.replace("\r", "\\r").replace("\n", "\\n")
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return where + self.message


class RecordingError(HingeImuError):
    """A recording file breaks the contract of docs/recording-format.md."""


class RulesError(HingeImuError):
    """A rules TOML file is malformed."""
