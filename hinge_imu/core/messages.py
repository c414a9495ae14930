"""Warnings told once: repeats of one message merged into a line with a count and the times.

A foot sensor that "slipped on its strap" at every other step would
otherwise fill a session's warnings with the same line, once a step. Two
lines are repeats when they read the same once their numbers are masked;
the merged line keeps the first one's words, lists the times (numbers
written ``at T s``; each distinct one once, the middle ones of a long list
left out) after how many times it happened, and gives each other
number that differs as its range.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
#: A time in a message: "at 12.3 s".
_AT_TIME = re.compile(r"\bat (-?\d+(?:\.\d+)?) s\b")
#: At most this many distinct times are listed (the first ones and the last), count.
MAX_TIMES_LISTED = 6


def merge_repeats(messages: Sequence[str]) -> tuple[str, ...]:
    """The messages in order, each set of repeats as one line at its first place.

    ``["foot: strap slipped at 3.1 s (40°); …", "foot: strap slipped at
    5.2 s (95°); …"]`` becomes ``("foot: strap slipped 2 times, at 3.1, 5.2 s
    (40–95°); …",)``.
    """
    groups: dict[str, list[str]] = {}
    for m in messages:
        groups.setdefault(_NUMBER.sub("#", m), []).append(m)
    return tuple(_merged(lines) for lines in groups.values())


def _merged(lines: list[str]) -> str:
    first = lines[0]
    if len(lines) == 1:
        return first
    numbers = [_NUMBER.findall(m) for m in lines]
    times = [_AT_TIME.search(m) for m in lines]
    time_at = times[0].start(1) if all(times) and times[0] else -1
    parts: list[str] = []
    pos = 0
    for slot, hit in enumerate(_NUMBER.finditer(first)):
        parts.append(first[pos : hit.start()])
        values = [float(ns[slot]) for ns in numbers]
        if hit.start() == time_at:
            parts[-1] = parts[-1][: -len("at ")] + f"{len(lines)} times, at "
            text = _times(list(dict.fromkeys(ns[slot] for ns in numbers)))
        elif min(values) == max(values):
            text = hit.group()
        else:
            lo = min(range(len(values)), key=values.__getitem__)
            hi = max(range(len(values)), key=values.__getitem__)
            text = f"{numbers[lo][slot]}–{numbers[hi][slot]}"
        parts.append(text)
        pos = hit.end()
    parts.append(first[pos:])
    text = "".join(parts)
    return text if time_at >= 0 else f"{text} ({len(lines)} times)"


def _times(distinct: list[str]) -> str:
    """The times as written, the middle ones left out (…) past ``MAX_TIMES_LISTED``."""
    if len(distinct) > MAX_TIMES_LISTED:
        distinct = [*distinct[: MAX_TIMES_LISTED - 1], "…", distinct[-1]]
    return ", ".join(distinct)
