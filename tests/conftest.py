"""Shared by every test folder: the hypothesis profile, the private dbus-daemon, the BlueZ stand-in.

They live here, not in ``tests/ble/conftest.py``, so that the BLE tests of
``tests/`` and of ``tests/ble/`` share one session-wide daemon whatever
order pytest runs them in (two daemons would repoint the bus address under
the tests started first).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.ble.bluez_standin import BlueZStandIn, start_private_bus

# CI (CI=true) runs the property tests on a fixed sequence of examples, so a
# submission passes or fails on its code, not on the draw; a developer's run
# keeps drawing new examples (and hypothesis's database replays old failures).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def dbus_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("dbus-daemon") or (
        "/usr/bin/dbus-daemon" if Path("/usr/bin/dbus-daemon").exists() else None
    )
    if exe is None:
        pytest.skip("dbus-daemon not installed (Debian package 'dbus'); BLE stand-in tests need it")
    proc, address = start_private_bus(exe, tmp_path_factory.mktemp("dbus"))
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
def realtime_standin(dbus_address: str) -> Iterator[BlueZStandIn]:
    """A fresh stand-in whose simulated sensors run in real time (times are checked)."""
    with BlueZStandIn(dbus_address, speed=1.0) as s:
        yield s
