"""The sounds of live coaching: generated tones, a non-blocking player, WAV rendering.

Each kind of feedback has its own sound (docs/live.md, "What you hear"):

* ``in_rep_warning`` — two short high beeps (1320 Hz): "fix it now", during the rep.
* ``bad_rep`` — one low buzz (220 Hz, 350 ms) at lockout of a bad rep.
* ``good_set`` — a rising three-note chime (523 → 659 → 784 Hz) at the end of a
  set without a bad rep.
* ``set_bad_count`` — at the end of a set (summary schedule): one 440 Hz pulse per
  bad rep (at most :data:`MAX_COUNT_PULSES`).

Sounds are played through ``sounddevice`` on a player thread, so the pipeline
never waits for audio. Without an output device (no PortAudio, no sound card)
a terminal bell is the fallback and one warning says so. ``WavRenderer`` places
every sound at the session time it was issued, so tests and physios can hear
(and measure) exactly what the user heard.
"""

from __future__ import annotations

import queue
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hinge_imu.atomic import atomic_write

FloatArray = npt.NDArray[np.float64]

SOUND_KINDS: Final = ("in_rep_warning", "bad_rep", "good_set", "set_bad_count")
#: The summary sound counts bad reps up to this many pulses.
MAX_COUNT_PULSES: Final = 8
DEFAULT_SAMPLE_RATE_HZ: Final = 22050
#: The WAV rendering's rate: ample for the highest tone (1320 Hz), small files.
WAV_SAMPLE_RATE_HZ: Final = 16000
#: Ramp at each tone's start and end, s (avoids clicks).
_RAMP_S: Final = 0.005


@dataclass(frozen=True)
class Tone:
    """One tone of a sound: ``frequency_hz`` for ``duration_s``, starting at ``offset_s``."""

    frequency_hz: float
    duration_s: float
    offset_s: float


def sound_pattern(kind: str, count: int = 0) -> tuple[Tone, ...]:
    """The tones of one kind of sound (``count``: bad reps, for ``set_bad_count``)."""
    if kind == "in_rep_warning":
        return (Tone(1320.0, 0.07, 0.0), Tone(1320.0, 0.07, 0.12))
    if kind == "bad_rep":
        return (Tone(220.0, 0.35, 0.0),)
    if kind == "good_set":
        return (Tone(523.25, 0.12, 0.0), Tone(659.25, 0.12, 0.14), Tone(783.99, 0.2, 0.28))
    if kind == "set_bad_count":
        n = max(1, min(int(count), MAX_COUNT_PULSES))
        return tuple(Tone(440.0, 0.15, 0.3 * i) for i in range(n))
    raise ValueError(f"unknown sound kind {kind!r} (known: {', '.join(SOUND_KINDS)})")


def render_sound(
    kind: str, count: int = 0, sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ
) -> FloatArray:
    """The waveform of one sound, mono, amplitude ≤ 0.5, at ``sample_rate_hz``."""
    tones = sound_pattern(kind, count)
    total_s = max(t.offset_s + t.duration_s for t in tones)
    out = np.zeros(round(total_s * sample_rate_hz) + 1)
    ramp_n = max(1, int(_RAMP_S * sample_rate_hz))
    for tone in tones:
        n = round(tone.duration_s * sample_rate_hz)
        t_s = np.arange(n) / sample_rate_hz
        wave_ = 0.5 * np.sin(2.0 * np.pi * tone.frequency_hz * t_s)
        env = np.ones(n)
        env[:ramp_n] = np.linspace(0.0, 1.0, ramp_n)
        env[-ramp_n:] = np.linspace(1.0, 0.0, ramp_n)
        i0 = round(tone.offset_s * sample_rate_hz)
        out[i0 : i0 + n] += wave_ * env
    return out


class WavRenderer:
    """Collects sounds on the session clock and writes them as one WAV file.

    ``add(t_s, kind)`` places a sound at session time ``t_s`` (s); ``write()``
    writes 16-bit mono PCM atomically (complete or not at all), silence
    between sounds, and the file lasts at least until ``end_s``. Only the
    sounds' times are kept and the file is written in pieces, so a
    two-hour session costs little memory (the file itself is ~115 MB per
    hour at the default 16 kHz).
    """

    #: Samples rendered and written at a time.
    PIECE_SAMPLES = 1 << 18

    def __init__(self, path: str | Path, sample_rate_hz: int = WAV_SAMPLE_RATE_HZ) -> None:
        self.path = Path(path)
        self.sample_rate_hz = int(sample_rate_hz)
        self._placed: list[tuple[int, str, int]] = []  # (first sample, kind, count)
        self._waves: dict[tuple[str, int], FloatArray] = {}
        self.end_s = 0.0

    def _wave(self, kind: str, count: int) -> FloatArray:
        key = (kind, count)
        if key not in self._waves:
            self._waves[key] = render_sound(kind, count, self.sample_rate_hz)
        return self._waves[key]

    def add(self, t_s: float, kind: str, count: int = 0) -> None:
        self._wave(kind, count)  # unknown kinds fail here, not at the end
        self._placed.append((round(max(0.0, float(t_s)) * self.sample_rate_hz), kind, count))

    def extend_to(self, t_s: float) -> None:
        """Make the file last at least until session time ``t_s`` (s)."""
        self.end_s = max(self.end_s, float(t_s))

    def _length(self) -> int:
        ends = [i0 + len(self._wave(k, c)) for i0, k, c in self._placed]
        return max([round(self.end_s * self.sample_rate_hz), *ends])

    def _piece(self, a: int, b: int) -> FloatArray:
        """Samples [a, b) of the track, floats in [-1, 1]."""
        out = np.zeros(b - a)
        for i0, kind, count in self._placed:
            w = self._wave(kind, count)
            lo, hi = max(a, i0), min(b, i0 + len(w))
            if lo < hi:
                out[lo - a : hi - a] += w[lo - i0 : hi - i0]
        return np.clip(out, -1.0, 1.0)

    def samples(self) -> FloatArray:
        """The whole rendered track, floats in [-1, 1]."""
        return self._piece(0, self._length())

    def write(self) -> Path:
        n = self._length()
        with atomic_write(self.path, "wb") as fh, wave.open(fh, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate_hz)
            for a in range(0, n, self.PIECE_SAMPLES):
                piece = self._piece(a, min(n, a + self.PIECE_SAMPLES))
                wav.writeframes((piece * 32767.0).astype("<i2").tobytes())
        return self.path


def read_wav(path: str | Path) -> tuple[FloatArray, int]:
    """A mono 16-bit WAV as floats in [-1, 1] and its sample rate (Hz)."""
    with wave.open(str(path), "rb") as wav:
        fs = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32767.0, fs


def open_sound_device() -> tuple[Any, str]:
    """``(sounddevice module, "")`` if an output device exists, else ``(None, why)``."""
    try:
        import sounddevice as sd
    except OSError as err:  # PortAudio library missing: the "no device" case
        return None, f"no audio output ({err})"
    except ImportError as err:
        return None, f"no audio output (sounddevice not installed: {err})"
    try:
        sd.query_devices(kind="output")
    except Exception as err:  # PortAudioError and friends: no usable output device
        return None, f"no audio output device ({err})"
    return sd, ""


class AudioPlayer:
    """Plays sounds on a background thread so that ``play()`` returns at once.

    ``play_fn(waveform, sample_rate_hz)`` does the actual output (``sounddevice.play``
    when a device exists, otherwise a terminal bell). ``close()`` drains the
    queue and stops the thread.
    """

    def __init__(
        self,
        play_fn: Callable[[FloatArray, int], None],
        sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self._play_fn = play_fn
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._cache: dict[tuple[str, int], FloatArray] = {}
        for kind in ("in_rep_warning", "bad_rep", "good_set"):
            self._cache[(kind, 0)] = render_sound(kind, 0, sample_rate_hz)
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="hinge-imu-audio", daemon=True)
        self._thread.start()

    def play(self, kind: str, count: int = 0) -> float:
        """Queue a sound; returns the wall-clock time it was handed over (``perf_counter``, s)."""
        self._queue.put((kind, count))
        return time.perf_counter()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            kind, count = item
            key = (kind, count if kind == "set_bad_count" else 0)
            if key not in self._cache:
                self._cache[key] = render_sound(kind, count, self.sample_rate_hz)
            try:
                self._play_fn(self._cache[key], self.sample_rate_hz)
            except Exception as err:  # audio trouble must never stop coaching
                self.errors.append(str(err))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5.0)


def sounddevice_play_fn(sd: Any) -> Callable[[FloatArray, int], None]:
    """Play a waveform to the end on the default output device."""

    def play(waveform: FloatArray, sample_rate_hz: int) -> None:
        sd.play(waveform.astype(np.float32), sample_rate_hz)
        sd.wait()

    return play


def bell_play_fn(stream: Any) -> Callable[[FloatArray, int], None]:
    """The fallback without a sound device: the terminal bell (``\\a``) on ``stream``.

    Only on a terminal: in a pipe or a log file a bell character is noise (the
    view's feedback line is the fallback there).
    """
    is_tty = bool(getattr(stream, "isatty", lambda: False)())

    def play(waveform: FloatArray, sample_rate_hz: int) -> None:
        if not is_tty:
            return
        try:
            stream.write("\a")
            stream.flush()
        except (OSError, ValueError):
            pass

    return play
