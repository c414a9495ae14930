"""``hinge-imu decode``: decode sensor packets given in hex (for people adding a sensor)."""

from __future__ import annotations

import argparse
import re

NAME = "decode"
HELP = "decode BLE packets of a device profile (hex) into m/s² and deg/s"
ORDER = 80

_KIND_TEXT = {
    "partial": "no samples yet (first part of a message, or half of an acc/gyro pair)",
    "response": "an answer to a command",
    "dropped": "ignored",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("profile", metavar="PROFILE", help="device profile, e.g. custom, movesense")
    p.add_argument(
        "packets",
        metavar="HEX",
        nargs="+",
        help='one notification per argument, e.g. "02 63 e8 03 00 00 …" (spaces, colons optional)',
    )
    p.add_argument("--rate-hz", type=float, help="configured sample rate (default: the profile's)")
    p.add_argument(
        "--acc-range-g", type=float, help="accelerometer range, where packets do not carry it"
    )
    p.add_argument(
        "--gyr-range-dps", type=float, help="gyroscope range, where packets do not carry it"
    )


def parse_hex(text: str, which: int) -> bytes:
    """Bytes from hex text with optional spaces, colons, commas, dashes or 0x prefixes."""
    from hinge_imu.errors import HingeImuError

    compact = re.sub(r"0[xX]", "", text)
    compact = re.sub(r"[\s:,\-]", "", compact)
    if not compact:
        raise HingeImuError(f"packet {which}: empty")
    bad = re.search(r"[^0-9a-fA-F]", compact)
    if bad:
        raise HingeImuError(f"packet {which}: {bad.group()!r} is not a hex digit")
    if len(compact) % 2:
        raise HingeImuError(f"packet {which}: odd number of hex digits ({len(compact)})")
    return bytes.fromhex(compact)


def run(args: argparse.Namespace) -> int:
    from hinge_imu.sensors.profiles import load_profile
    from hinge_imu.sensors.protocols import make_decoder

    profile = load_profile(args.profile)
    packets = [parse_hex(h, i + 1) for i, h in enumerate(args.packets)]
    dec = make_decoder(
        profile,
        rate_hz=args.rate_hz,
        acc_range_g=args.acc_range_g,
        gyr_range_dps=args.gyr_range_dps,
    )
    # Decode everything first: a bad packet stops with one error line, no table.
    outputs = [dec.decode(pkt) for pkt in packets]
    print(
        f"profile {profile.name} ({profile.title}): {dec.rate_hz:g} Hz, "
        f"±{dec.acc_range_g:g} g, ±{dec.gyr_range_dps:g} deg/s"
    )
    header = (
        f"{'i':>3s} {'device_t_s':>14s} {'acc_x':>9s} {'acc_y':>9s} {'acc_z':>9s}"
        f" {'gyr_x':>9s} {'gyr_y':>9s} {'gyr_z':>9s} {'seq':>6s}"
    )
    index = 0
    for i, (pkt, out) in enumerate(zip(packets, outputs, strict=True), start=1):
        d = out.diagnostics
        what = _KIND_TEXT.get(d.kind, f"{len(out)} samples")
        if d.kind == "response":
            what += f" (code {d.response_code}, {'accepted' if d.response_ok else 'refused'})"
        print(f"packet {i} ({len(pkt)} bytes): {what}")
        for note in d.notes:
            print(f"  note: {note}")
        if len(out):
            print(header)
        for k in range(len(out)):
            t = "" if out.device_time_s is None else f"{out.device_time_s[k]:.6f}"
            seq = "" if out.seq is None else str(int(out.seq[k]))
            a, g = out.acc_mps2[k], out.gyr_dps[k]
            print(
                f"{index:3d} {t:>14s} {a[0]:9.4f} {a[1]:9.4f} {a[2]:9.4f}"
                f" {g[0]:9.3f} {g[1]:9.3f} {g[2]:9.3f} {seq:>6s}"
            )
            index += 1
    unpaired = getattr(dec, "unpaired", None)
    if unpaired is not None:
        acc, gyr = unpaired()
        for label, arr, unit in (("accelerometer", acc, "m/s²"), ("gyroscope", gyr, "deg/s")):
            for row in arr:
                print(f"unpaired {label} sample ({unit}): {row[0]:.4f} {row[1]:.4f} {row[2]:.4f}")
    print("units: acc m/s², gyr deg/s, device time s (as the device counts it)")
    return 0
