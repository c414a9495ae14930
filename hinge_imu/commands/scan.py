"""``hinge-imu scan``: list supported sensors nearby with profile, RSSI and battery."""

from __future__ import annotations

import argparse

NAME = "scan"
HELP = "list supported BLE sensors nearby (profile, signal strength, battery)"
ORDER = 20


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="scan for S seconds (default 5)"
    )
    p.add_argument(
        "--battery",
        action="store_true",
        help="connect briefly to each sensor that does not advertise its battery to read it",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from hinge_imu.errors import HingeImuError
    from hinge_imu.sensors.ble import scan
    from hinge_imu.sensors.ble_drivers import match_advertisement

    if not args.timeout > 0:
        raise HingeImuError(f"--timeout must be > 0, got {args.timeout:g}")
    found = asyncio.run(scan(match_advertisement, args.timeout, read_battery=args.battery))
    if not found:
        print(f"no supported sensors found in {args.timeout:g} s")
        print("(switched on? connected to another app? see docs/recording-sessions.md)")
        return 0
    print(f"{'address':<38} {'name':<22} {'profile':<14} {'RSSI':>8} {'battery':>8}")
    for d in found:
        battery = "" if d.battery_pct is None else f"{d.battery_pct:.0f} %"
        print(f"{d.address:<38} {d.name:<22} {d.profile:<14} {d.rssi_dbm:>4} dBm {battery:>8}")
    return 0
