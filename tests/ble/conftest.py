"""Fixtures for the BLE tests: a private dbus-daemon and the BlueZ stand-in.

The daemon is a session-wide subprocess with a config that allows
everything; bleak finds it through ``DBUS_SYSTEM_BUS_ADDRESS``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ble.bluez_standin import BlueZStandIn

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
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
</busconfig>
"""


@pytest.fixture(scope="session")
def dbus_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("dbus-daemon") or (
        "/usr/bin/dbus-daemon" if Path("/usr/bin/dbus-daemon").exists() else None
    )
    if exe is None:
        pytest.skip("dbus-daemon not installed (Debian package 'dbus'); BLE stand-in tests need it")
    d = tmp_path_factory.mktemp("dbus")
    conf = d / "system.conf"
    conf.write_text(DBUS_CONFIG.format(socket=d / "bus.sock"))
    proc = subprocess.Popen(
        [exe, f"--config-file={conf}", "--nofork", "--print-address"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    old = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
    try:
        yield address
    finally:
        if old is None:
            os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = old
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def standin(dbus_address: str) -> Iterator[BlueZStandIn]:
    """A fresh stand-in per test; simulated time runs 10× real time."""
    with BlueZStandIn(dbus_address, speed=10.0) as s:
        yield s
