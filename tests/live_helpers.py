"""Helpers for the live tests: hear tones in a WAV file (Goertzel on short frames)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def tone_power(x: npt.NDArray[np.float64], fs: int, freq_hz: float, frame_s: float = 0.02):
    """Per-frame power of one frequency (Goertzel), and the frames' start times (s)."""
    n = int(frame_s * fs)
    frames = len(x) // n
    k = 2.0 * np.cos(2.0 * np.pi * freq_hz / fs)
    blocks = x[: frames * n].reshape(frames, n)
    s1 = np.zeros(frames)
    s2 = np.zeros(frames)
    for i in range(n):
        s0 = blocks[:, i] + k * s1 - s2
        s2, s1 = s1, s0
    power = (s1**2 + s2**2 - k * s1 * s2) / (n * n / 4)
    return power, np.arange(frames) * frame_s


def tone_onsets_s(
    x: npt.NDArray[np.float64], fs: int, freq_hz: float, min_gap_s: float = 0.5
) -> list[float]:
    """Start times (s) of bursts of ``freq_hz``; bursts closer than ``min_gap_s`` merge."""
    power, t = tone_power(x, fs, freq_hz)
    on = power > 0.02  # a 0.5-amplitude tone gives ≈ 0.25
    onsets: list[float] = []
    last_on = -1e9
    for ti, o in zip(t, on, strict=True):
        if o:
            if ti - last_on > min_gap_s:
                onsets.append(float(ti))
            last_on = ti
    return onsets
