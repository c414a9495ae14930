"""Packet decoding speed per profile, and SensorClock accuracy (SIMULATED data).

1. Decoding: samples → each profile's encoder (the notifications the real
   device sends) → decoder; µs per notification and per sample.
2. Clock: simulated sensors (device clock drift, random positive BLE delays
   = a uniform connection-event wait plus an exponential stack delay, packet
   loss) through :class:`SensorClock`; error of the host times against the
   true sample instants, after the first 5 s and overall, drift found,
   samples lost vs counted, cost per update; also with a busy host (spells
   in which every packet is held up by tens of ms more).

Usage::

    .venv/bin/python benchmarks/sensors_clock.py

Prints tables; asserts nothing.
"""

from __future__ import annotations

import time

import numpy as np

from hinge_imu.sensors.clock import SensorClock
from hinge_imu.sensors.profiles import load_profile
from hinge_imu.sensors.protocols import make_decoder, make_encoder


def bench_decode() -> None:
    print("Decoding (SIMULATED samples through each profile's encoder)")
    print(f"{'profile':14s} {'rate Hz':>8s} {'packets':>8s} {'µs/packet':>10s} {'µs/sample':>10s}")
    rng = np.random.default_rng(0)
    for name in ("custom", "movesense", "metamotion", "polar-verity"):
        p = load_profile(name)
        n = int(p.default_rate_hz * 60)
        acc = rng.normal(0, 5, (n, 3))
        gyr = rng.normal(0, 200, (n, 3))
        t = np.arange(n) / p.default_rate_hz
        packets = make_encoder(p).encode(acc, gyr, t)
        dec = make_decoder(p)
        t0 = time.perf_counter()
        got = sum(len(dec.decode(pkt)) for pkt in packets)
        dt = time.perf_counter() - t0
        print(
            f"{name:14s} {p.default_rate_hz:8g} {len(packets):8d}"
            f" {dt / len(packets) * 1e6:10.1f} {dt / max(got, 1) * 1e6:10.2f}"
        )


#: Busy-host spells: every BUSY_EVERY_S, for BUSY_FOR_S, packets are held up
#: by up to BUSY_EXTRA_S more (live analysis, plotting, other programs).
BUSY_EVERY_S = 60.0
BUSY_FOR_S = 20.0
BUSY_EXTRA_S = 0.060


def bench_clock() -> None:
    print()
    print("SensorClock (SIMULATED: 100 Hz, 5 samples/packet, 10 min)")
    head = (
        f"{'source':7s} {'drift ppm':>9s} {'delay ms':>12s} {'busy':>4s} {'loss':>5s} "
        f"{'err>5s p50/p99/max ms':>22s} {'err all max':>11s} {'found ppm':>9s} "
        f"{'lost/counted':>13s} {'late':>5s} {'µs/update':>9s}"
    )
    print(head)
    rate, per = 100.0, 5
    for source, drift_ppm, conn_ms, loss, busy in (
        ("time", 50.0, 15.0, 0.03, False),
        ("time", -30.0, 30.0, 0.10, False),
        ("seq", 50.0, 15.0, 0.03, False),
        ("count", 0.0, 15.0, 0.0, False),
        ("time", 50.0, 15.0, 0.03, True),
        ("seq", 50.0, 15.0, 0.03, True),
    ):
        rng = np.random.default_rng(7)
        true_t = 2.0 + np.arange(int(600 * rate)) / rate
        dev_t = (true_t - 2.0) * (1 + drift_ppm * 1e-6) + 100.0
        clock = SensorClock(rate, source, time_wrap_s=2**32 * 1e-6, seq_modulus=65536)
        errs, since, late, lost = [], [], 0, 0
        t0 = time.perf_counter()
        updates = 0
        for k in range(0, len(true_t), per):
            if k and rng.random() < loss:
                lost += per
                continue
            arrival = true_t[k + per - 1] + rng.uniform(0, conn_ms / 1e3) + rng.exponential(0.005)
            if busy and (true_t[k] - 2.0) % BUSY_EVERY_S < BUSY_FOR_S:
                arrival += rng.uniform(0.0, BUSY_EXTRA_S)  # a loaded host: later, never earlier
            value = {"time": dev_t[k] % (2**32 * 1e-6), "seq": k % 65536, "count": None}[source]
            out = clock.update(value, arrival, per)
            updates += 1
            errs.append(out.t_s - true_t[k : k + per])
            since.append(true_t[k : k + per] - 2.0)
            late += int(out.t_s[-1] > arrival)
        cost = (time.perf_counter() - t0) / updates * 1e6
        e = np.abs(np.concatenate(errs)) * 1e3
        s = np.concatenate(since) > 5.0
        p50, p99, mx = np.percentile(e[s], 50), np.percentile(e[s], 99), e[s].max()
        print(
            f"{source:7s} {drift_ppm:9.0f} {f'0-{conn_ms:.0f}+exp5':>12s}"
            f" {'yes' if busy else 'no':>4s}"
            f" {loss:5.0%} "
            f"{f'{p50:.2f}/{p99:.2f}/{mx:.2f}':>22s} {e.max():11.2f} {clock.drift_ppm:9.1f} "
            f"{f'{lost}/{clock.lost}':>13s} {late:5d} {cost:9.1f}"
        )
    print("(err = host time − true sample instant; the smallest link delay, 0 here,")
    print(" would add a constant. 'found ppm' is host s per device s − 1: −drift.")
    print(
        f" busy: the host holds every packet up by 0-{BUSY_EXTRA_S * 1e3:.0f} ms more for"
        f" {BUSY_FOR_S:.0f} s of every {BUSY_EVERY_S:.0f} s.)"
    )


if __name__ == "__main__":
    bench_decode()
    bench_clock()
