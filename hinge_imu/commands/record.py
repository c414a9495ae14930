"""``hinge-imu record``: stream BLE sensors into a recording file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

NAME = "record"
HELP = "record BLE sensors into a recording file (Ctrl-C stops and keeps the file)"
ORDER = 25

_SENSOR_FLAGS = ("pelvis", "thigh", "upper_back", "head", "shank", "foot")


def add_arguments(p: argparse.ArgumentParser) -> None:
    for s in _SENSOR_FLAGS:
        p.add_argument(
            "--" + s.replace("_", "-"),
            dest=s,
            metavar="NAME|ADDR",
            help=f"device on the {s.replace('_', ' ')} (address or advertised name)",
        )
    p.add_argument("-o", "--output", required=True, metavar="REC.csv", help="recording to write")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--rate", type=float, metavar="HZ", help="sample rate (default: profile's)")
    p.add_argument("--side", choices=("left", "right"), help="which thigh wears the thigh sensor")
    p.add_argument("--subject", help="free text for the header")
    p.add_argument("--session", dest="session_name", metavar="TEXT", help="free text")
    p.add_argument("--note", help="free text for the header")
    p.add_argument("--assignment", metavar="NAME", help="use a saved sensor assignment")
    p.add_argument(
        "--save-assignment", metavar="NAME", help="save the sensors given here under NAME"
    )
    p.add_argument(
        "--scan-timeout", type=float, default=10.0, metavar="S", help="look for sensors S s"
    )
    p.add_argument(
        "--overwrite",
        "--force",
        dest="force",
        action="store_true",
        help="replace an existing output file",
    )


def _devices(args: argparse.Namespace) -> dict[str, str]:
    from hinge_imu.errors import HingeImuError
    from hinge_imu.sensors.assignments import get_assignment, save_assignment

    chosen: dict[str, str] = {}
    if args.assignment:
        chosen.update(get_assignment(args.assignment))
    for s in _SENSOR_FLAGS:
        if getattr(args, s):
            chosen[s] = getattr(args, s)
    if args.side:
        chosen["side"] = args.side
    if "pelvis" not in chosen:
        raise HingeImuError("a pelvis sensor is required: --pelvis NAME|ADDR (or --assignment)")
    if args.save_assignment:
        path = save_assignment(args.save_assignment, chosen)
        print(f"saved sensor assignment '{args.save_assignment}' to {path}")
    return chosen


def run(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from hinge_imu.atomic import refuse_existing_recording
    from hinge_imu.errors import HingeImuError

    out = Path(args.output)
    if not (out.name.endswith(".csv") or out.name.endswith(".csv.gz")):
        raise HingeImuError("the output must end in .csv or .csv.gz", out)
    refuse_existing_recording(out, args.force)
    if args.duration is not None and not args.duration > 0:
        raise HingeImuError(f"--duration must be > 0, got {args.duration:g}")
    chosen = _devices(args)
    return asyncio.run(_record(args, chosen, out))


async def _record(args: argparse.Namespace, chosen: Mapping[str, str], out: Any) -> int:
    import asyncio

    from hinge_imu.sensors.ble_link import find_targets
    from hinge_imu.sensors.ble_session import BleSession
    from hinge_imu.sensors.record import install_stop_signal, record_session, recording_header

    stop = asyncio.Event()
    undo = install_stop_signal(stop)
    try:
        wanted = {s: d for s, d in chosen.items() if s in _SENSOR_FLAGS}
        print(f"looking for {len(wanted)} sensors …", flush=True)
        targets = await find_targets(wanted, args.scan_timeout, rate_hz=args.rate)
        if stop.is_set():  # Ctrl-C while looking: nothing recorded, no file
            raise KeyboardInterrupt
        for t in targets:
            print(f"  {t.sensor:<11} {t.driver.profile:<10} {t.device} ({wanted[t.sensor]})")
        extra = {"side": chosen.get("side", "right")}
        for key, value in (
            ("subject", args.subject),
            ("session", args.session_name),
            ("note", args.note),
        ):
            if value:
                extra[key] = value
        header = recording_header(targets, extra)
        session = BleSession(targets, scan_timeout_s=args.scan_timeout)
        view = _View(list(wanted))
        try:
            summary = await record_session(
                session, out, header, args.duration, stop, on_status=view.update
            )
        finally:
            view.close()
    finally:
        undo()
    how = {"duration": "duration reached", "interrupt": "stopped by Ctrl-C"}.get(
        summary.stopped_by, "stopped"
    )
    print(f"{how}: {summary.duration_s:.1f} s written to {summary.path}")
    for h in summary.health.values():
        battery = "" if h.battery_pct is None else f", battery {h.battery_pct:.0f} %"
        print(
            f"  {h.sensor:<11} {h.received} samples, {h.lost} lost ({100 * h.lost_share:.1f} %),"
            f" {h.drops} drops, {h.bad_packets} bad packets{battery}"
        )
    gaps = [e for e in summary.events if e.kind == "reconnected"]
    if gaps:
        print(f"  {len(gaps)} reconnects; gaps are listed in {summary.events_path}")
    if summary.skew is not None:
        print("clocks (sample times are corrected for this drift):")
        print(summary.skew.format())
    return 0


class _View:
    """Live per-sensor table on a terminal; plain lines otherwise."""

    def __init__(self, sensors: list[str]) -> None:
        self.sensors = sensors
        self.live: Any = None
        self.last_plain_s = -1e9
        if sys.stdout.isatty():
            from rich.live import Live

            self.live = Live(self._table(0.0, {}), refresh_per_second=4, transient=False)
            self.live.start()

    def _table(self, now_s: float, health: Mapping[str, Any]) -> Any:
        from rich.table import Table

        t = Table(title=f"recording  {now_s:6.1f} s   (Ctrl-C to stop)")
        for col in ("sensor", "link", "rate Hz", "loss %", "drops", "bad packets", "battery"):
            t.add_column(col, justify="left" if col in ("sensor", "link") else "right")
        for s in self.sensors:
            h = health.get(s)
            if h is None:
                t.add_row(s, "…", "", "", "", "", "")
                continue
            battery = "" if h.battery_pct is None else f"{h.battery_pct:.0f} %"
            link = "[green]up[/]" if h.connected else "[red]down[/]"
            loss = f"{100 * h.lost_share:.1f}"
            t.add_row(s, link, f"{h.rate_hz:.1f}", loss, str(h.drops), str(h.bad_packets), battery)
        return t

    def update(self, now_s: float, health: Mapping[str, Any], event: Any) -> None:
        if event is not None and event.kind != "battery":
            text = f"{event.t_s:7.1f} s  {event.sensor}: {event.kind}"
            text += f" ({event.message})" if event.message else ""
            if self.live is not None:
                self.live.console.print(text, markup=False, highlight=False)
            else:
                print(text, flush=True)
        if self.live is not None:
            self.live.update(self._table(now_s, health))
        elif event is None and now_s - self.last_plain_s >= 5.0:
            self.last_plain_s = now_s
            parts = [
                f"{h.sensor} {h.rate_hz:.0f} Hz loss {100 * h.lost_share:.1f} %"
                + (f" bad packets {h.bad_packets}" if h.bad_packets else "")
                + ("" if h.battery_pct is None else f" bat {h.battery_pct:.0f} %")
                + ("" if h.connected else " DOWN")
                for h in health.values()
            ]
            print(f"{now_s:7.1f} s  " + "; ".join(parts), flush=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
