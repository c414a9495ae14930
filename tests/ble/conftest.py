"""Fixtures for the BLE tests: the BlueZ stand-in at 10x real time.

The private dbus-daemon (``dbus_address``) and the real-time stand-in are
in ``tests/conftest.py``, shared with the live tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ble.bluez_standin import BlueZStandIn


@pytest.fixture
def standin(dbus_address: str) -> Iterator[BlueZStandIn]:
    """A fresh stand-in per test; simulated time runs 10× real time.

    Fast, but the sensors' clocks then run 10× the host's: sample times in
    the recording are not meaningful (the clock fit clamps the drift), so
    tests with this fixture check samples, counters and events, not times.
    """
    with BlueZStandIn(dbus_address, speed=10.0) as s:
        yield s
