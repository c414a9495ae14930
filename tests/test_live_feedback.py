"""Sounds of live coaching: distinct tones, WAV on the session clock, a non-blocking player."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest

from hinge_imu.live.feedback import (
    SOUND_KINDS,
    AudioPlayer,
    WavRenderer,
    bell_play_fn,
    open_sound_device,
    read_wav,
    render_sound,
    sound_pattern,
)
from tests.live_helpers import tone_onsets_s

FREQS = {"in_rep_warning": 1320.0, "bad_rep": 220.0, "good_set": 523.25, "set_bad_count": 440.0}


def test_each_kind_sounds_at_its_own_frequency_only() -> None:
    fs = 22050
    for kind in SOUND_KINDS:
        x = render_sound(kind, count=2, sample_rate_hz=fs)
        for other, f in FREQS.items():
            heard = tone_onsets_s(x, fs, f)
            assert bool(heard) == (other == kind), (kind, other, heard)


def test_patterns_differ_in_rhythm() -> None:
    # in-rep warning: two beeps; bad rep: one; summary: one pulse per bad rep (capped)
    assert len(sound_pattern("in_rep_warning")) == 2
    assert len(sound_pattern("bad_rep")) == 1
    assert len(sound_pattern("set_bad_count", 3)) == 3
    assert len(sound_pattern("set_bad_count", 50)) == 8
    with pytest.raises(ValueError):
        sound_pattern("fanfare")


def test_wav_places_sounds_at_session_time(tmp_path) -> None:
    out = tmp_path / "a.wav"
    r = WavRenderer(out, sample_rate_hz=16000)
    r.add(1.25, "in_rep_warning")
    r.add(3.5, "bad_rep")
    r.add(7.0, "good_set")
    r.extend_to(10.0)
    r.write()
    x, fs = read_wav(out)
    assert fs == 16000
    assert len(x) / fs == pytest.approx(10.0, abs=0.01)
    assert tone_onsets_s(x, fs, 1320.0) == pytest.approx([1.24], abs=0.03)
    assert tone_onsets_s(x, fs, 220.0) == pytest.approx([3.5], abs=0.03)
    assert tone_onsets_s(x, fs, 523.25) == pytest.approx([7.0], abs=0.03)
    assert not list(tmp_path.glob(".*part"))


def test_wav_write_is_atomic_and_streams_long_sessions(tmp_path, monkeypatch) -> None:
    out = tmp_path / "a.wav"
    r = WavRenderer(out, sample_rate_hz=8000)
    r.add(0.5, "bad_rep")
    r.add(3600.0, "good_set")
    r.extend_to(3601.0)  # an hour: written in pieces, never all in memory
    calls = []
    real_piece = WavRenderer._piece

    def failing_piece(self, a, b):  # the disk fills up half-way through
        calls.append(b - a)
        if len(calls) == 50:
            raise OSError("disk full")
        return real_piece(self, a, b)

    monkeypatch.setattr(WavRenderer, "_piece", failing_piece)
    from hinge_imu.errors import HingeImuError

    written = r"cannot write the file \(disk full\); nothing written"
    with pytest.raises(HingeImuError, match=written):
        r.write()  # one line for the user, not a bare OSError
    assert list(tmp_path.iterdir()) == []  # nothing under the final name, no temp file
    assert max(calls) <= WavRenderer.PIECE_SAMPLES
    monkeypatch.setattr(WavRenderer, "_piece", real_piece)
    r.write()
    x, fs = read_wav(out)
    assert len(x) == 3601 * 8000
    assert tone_onsets_s(x[-16000:], fs, 523.25) == pytest.approx([1.0], abs=0.03)


def test_player_never_blocks_the_caller() -> None:
    played: list[int] = []
    gate = threading.Event()

    def slow_device(waveform, fs):  # a sound card that takes its time
        gate.wait(2.0)
        played.append(len(waveform))

    player = AudioPlayer(slow_device, sample_rate_hz=8000)
    t0 = time.perf_counter()
    for _ in range(5):
        player.play("bad_rep")
    assert time.perf_counter() - t0 < 0.05
    gate.set()
    player.close()
    assert len(played) == 5


def test_no_portaudio_means_no_device_and_bell_fallback() -> None:
    sd, why = open_sound_device()
    try:
        import sounddevice  # noqa: F401

        has_portaudio = True
    except OSError:
        has_portaudio = False
    if not has_portaudio:
        assert sd is None and "no audio output" in why

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term, log = Terminal(), io.StringIO()
    for stream in (term, log):
        player = AudioPlayer(bell_play_fn(stream), sample_rate_hz=8000)
        player.play("in_rep_warning")
        player.play("set_bad_count", 3)
        player.close()
    assert term.getvalue() == "\a\a"
    assert log.getvalue() == ""  # no bell characters in a log file
    assert np.isfinite(render_sound("good_set")).all()
