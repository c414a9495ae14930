"""A private system-type D-Bus daemon for the BLE tests (allows everything)."""

from __future__ import annotations

import subprocess
from pathlib import Path

DBUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""


def start_private_bus(dbus_daemon: str, workdir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start a private system-type bus that allows everything; returns (process, address)."""
    conf = workdir / "system.conf"
    conf.write_text(DBUS_CONFIG.format(socket=workdir / "bus.sock"))
    proc = subprocess.Popen(
        [dbus_daemon, f"--config-file={conf}", "--nofork", "--print-address"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()
