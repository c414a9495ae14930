"""Repeated warnings told once, with a count and the times (core/messages.py)."""

from __future__ import annotations

from hinge_imu.core.messages import merge_repeats

SLIP = "foot: strap slipped at {t} s ({d}°); mounting re-estimated from then on"


def test_repeats_merge_into_one_line_with_the_count_and_every_time() -> None:
    msgs = [
        "pelvis: too little movement (7°) to find its flexion axis",
        *(SLIP.format(t=t, d=d) for t, d in (("3.1", 40), ("5.2", 95), ("12.0", 61))),
        "thigh: flexion axis from the reps",
        "pelvis: too little movement (7°) to find its flexion axis",
    ]
    assert merge_repeats(msgs) == (
        "pelvis: too little movement (7°) to find its flexion axis (2 times)",
        "foot: strap slipped 3 times, at 3.1, 5.2, 12.0 s (40–95°); mounting re-estimated "
        "from then on",
        "thigh: flexion axis from the reps",
    )


def test_different_messages_and_sensors_stay_apart() -> None:
    msgs = [
        SLIP.format(t="3.1", d=40),
        SLIP.format(t="3.1", d=40).replace("foot", "thigh"),
        SLIP.format(t="4.0", d=20).replace("slipped", "slipped during lost data"),
    ]
    assert merge_repeats(msgs) == tuple(msgs)


def test_a_long_run_of_repeats_lists_distinct_times_and_stays_short() -> None:
    times = [f"{5 + 0.5 * (k // 2):.1f}" for k in range(100)]  # each time twice
    merged = merge_repeats([SLIP.format(t=t, d=10 + k % 30) for k, t in enumerate(times)])
    assert merged == (
        "foot: strap slipped 100 times, at 5.0, 5.5, 6.0, 6.5, 7.0, …, 29.5 s (10–39°); "
        "mounting re-estimated from then on",
    )
